//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::handlers::{
    audit, complaints, consents, health, inbound, messages, phones, portal, reports, senders,
    suspension, unsubscribe,
};

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API description served at `/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(title = "consentry", description = "Consent-enforcing SMS gateway"),
    paths(
        senders::create, senders::list, senders::rotate_key,
        consents::record, consents::show,
        messages::send, messages::send_batch, messages::show, messages::search,
        phones::inbox,
        inbound::receive, unsubscribe::show, unsubscribe::confirm,
        audit::head,
        portal::send_code, portal::login, portal::consents, portal::choose,
        portal::messages, portal::complain,
        complaints::file, complaints::list, complaints::show, complaints::evidence,
        suspension::show, suspension::change,
        reports::senders,
        health::healthz, health::metrics,
    ),
    modifiers(&Bearer)
)]
pub struct ApiDoc;
