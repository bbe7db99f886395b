//! The OpenAPI document, generated from the handlers' annotations, then completed with the
//! error answers every route shares (so no handler can forget one): schemathesis
//! (`crates/consentry/tests/openapi_conformance.rs`) checks the server against it.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::handlers::{
    audit, complaints, consents, health, inbound, messages, phones, portal, reports,
    sender_consents, senders, suspension, unsubscribe,
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

/// The error answers that come from the shared layers rather than from one handler: the
/// bearer-key extractor, the JSON body extractor, the HTTP limits, path and query parsing,
/// and storage. Each is added to every operation it can happen on, unless the handler
/// documented that status itself (with its own codes).
struct SharedErrors;

/// (status, when it applies, the codes it carries).
const AUTHENTICATED: &[(&str, &str)] = &[
    (
        "401",
        "`unauthorized`: no key, an unknown key, or (portal) no valid session",
    ),
    (
        "403",
        "`forbidden`: the key's role may not do this (an admin route with a sender's key, a \
         sender's route with the carrier key)",
    ),
];
const WITH_BODY: &[(&str, &str)] = &[
    (
        "400",
        "`invalid_json`: the body is not JSON; `invalid_body`: it could not be read",
    ),
    (
        "408",
        "`body_timeout`: the body did not arrive within `[http] body_timeout_secs`",
    ),
    (
        "413",
        "`body_too_large`: the body is larger than `[http] max_body_bytes`",
    ),
    (
        "415",
        "`unsupported_media_type`: the body is not sent as `application/json`",
    ),
    (
        "422",
        "`invalid_body`: a field is missing, unknown or of the wrong type; `invalid_field`, \
         `invalid_number`, `date_out_of_range`: a value the server refuses",
    ),
];
const WITH_PATH: &[(&str, &str)] = &[
    ("400", "`invalid_path`: the path is not valid UTF-8"),
    (
        "404",
        "`not_found`: no such resource, or not the caller's to see",
    ),
];
const WITH_QUERY: &[(&str, &str)] = &[(
    "422",
    "`invalid_query`: an unknown or unreadable query parameter; `invalid_number`: a phone \
     number that is not valid for its country",
)];
const PHONE_IN_PATH: &[(&str, &str)] = &[(
    "422",
    "`invalid_number`: the phone number is not valid for its country",
)];
const ALWAYS: &[(&str, &str)] = &[(
    "503",
    "`storage_unavailable`: nothing was recorded, retry; `busy`: the dispatch queue is full; \
     `partition_unavailable` (cluster): the phone's partition is not served here right now",
)];

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .into()
}

fn complete(op: &mut Operation) {
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| {
        params
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    };
    let mut shared: Vec<&(&str, &str)> = ALWAYS.iter().collect();
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        shared.extend(AUTHENTICATED);
    }
    if op.request_body.is_some() {
        shared.extend(WITH_BODY);
    }
    if has(ParameterIn::Path) {
        shared.extend(WITH_PATH);
    }
    if has(ParameterIn::Query) {
        shared.extend(WITH_QUERY);
    }
    let phone_in_path = params.iter().any(
        |p| matches!(p, RefOr::T(p) if p.name == "phone" && p.parameter_in == ParameterIn::Path),
    );
    if phone_in_path {
        shared.extend(PHONE_IN_PATH);
    }
    for (status, description) in shared {
        op.responses
            .responses
            .entry((*status).to_string())
            .or_insert_with(|| error_response(description));
    }
    // Path parameters named `phone` are read as phone numbers, like the bodies' `phone`.
    if let Some(params) = op.parameters.as_mut() {
        for p in params.iter_mut() {
            if let RefOr::T(p) = p
                && p.name == "phone"
                && p.parameter_in == ParameterIn::Path
            {
                p.schema = Some(crate::schema::phone().into());
            }
        }
    }
}

impl Modify for SharedErrors {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        for item in api.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                complete(op);
            }
        }
    }
}

/// The document as served: [`ApiDoc`] with unsigned integers given their real range.
///
/// utoipa writes Rust's `u32`/`u64` as `int32`/`int64` with `minimum: 0`, and OpenAPI's
/// `int32` stops at 2^31 − 1 while the server reads up to 2^32 − 1: a tester then sends
/// 2,147,483,648 as "invalid" and the server rightly accepts it. The format is replaced by
/// the type's maximum.
#[must_use]
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    widen_unsigned(&mut doc);
    doc
}

fn widen_unsigned(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            let unsigned = map.get("minimum").and_then(serde_json::Value::as_u64) == Some(0);
            let max = match map.get("format").and_then(serde_json::Value::as_str) {
                Some("int32") if unsigned => Some(u64::from(u32::MAX)),
                Some("int64") if unsigned => Some(u64::MAX),
                _ => None,
            };
            if let Some(max) = max {
                map.remove("format");
                map.insert("maximum".into(), max.into());
            }
            map.values_mut().for_each(widen_unsigned);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(widen_unsigned),
        _ => {}
    }
}

/// The API description served at `/openapi.json` (through [`document`]).
#[derive(OpenApi)]
#[openapi(
    info(title = "consentry", description = "Consent-enforcing SMS gateway"),
    paths(
        senders::create, senders::list, senders::rotate_key, senders::edit,
        senders::smpp_password, senders::cmpp_secret,
        sender_consents::summary,
        consents::record, consents::show,
        messages::send, messages::send_batch, messages::show, messages::cancel, messages::search,
        phones::inbox,
        inbound::receive, unsubscribe::show, unsubscribe::confirm,
        audit::head,
        portal::send_code, portal::login, portal::consents, portal::choose,
        portal::messages, portal::complain, portal::complain_pasted,
        complaints::file, complaints::list, complaints::show, complaints::evidence,
        suspension::show, suspension::change,
        reports::senders,
        health::healthz, health::metrics,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&Bearer, &SharedErrors)
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_the_shared_errors_it_can_answer() {
        let doc = document();
        let consents = &doc["paths"]["/v1/consents"]["post"]["responses"];
        for status in ["400", "401", "403", "408", "413", "415", "422", "503"] {
            assert!(consents.get(status).is_some(), "POST /v1/consents {status}");
        }
        // Query parameters are in the query, not the path (issue #14, item 8).
        let params = doc["paths"]["/v1/messages"]["get"]["parameters"]
            .as_array()
            .expect("parameters");
        assert!(params.iter().all(|p| p["in"] == "query"), "{params:?}");
        // A public route documents no 401.
        assert!(doc["paths"]["/healthz"]["get"]["responses"]["401"].is_null());
    }

    #[test]
    fn enumerations_and_lengths_are_as_strict_as_the_server() {
        let doc = document();
        // A u32 is read up to 2^32 − 1, not int32's 2^31 − 1.
        let sender = &doc["paths"]["/v1/complaints"]["get"]["parameters"][0];
        assert_eq!(sender["schema"]["maximum"], u64::from(u32::MAX), "{sender}");
        assert!(sender["schema"]["format"].is_null());
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["FileComplaint"]["properties"]["kind"]["enum"],
            serde_json::json!(["unwanted_marketing", "after_optout", "fraud", "other"])
        );
        assert_eq!(schemas["SendOne"]["properties"]["to"]["minLength"], 1);
        assert_eq!(schemas["SendBatch"]["properties"]["to"]["maxItems"], 10_000);
        assert!(
            schemas["ErrorDetail"]["properties"]["code"]["enum"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c == "consumer_refused"))
        );
    }
}
