//! The one table of routes.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, patch, post};

use crate::AppState;
use crate::error::ApiError;
use crate::handlers::{
    audit, complaints, consents, health, inbound, messages, phones, portal, reports,
    sender_consents, senders, suspension, unsubscribe,
};

/// The whole API. Usable without a socket (`tower::ServiceExt::oneshot`) or served.
pub fn app(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/v1/senders", post(senders::create).get(senders::list))
        .route("/v1/senders/{id}", patch(senders::edit))
        .route("/v1/senders/{id}/key", post(senders::rotate_key))
        .route(
            "/v1/senders/{id}/smpp-password",
            post(senders::smpp_password),
        )
        .route("/v1/senders/{id}/cmpp-secret", post(senders::cmpp_secret))
        .route("/v1/senders/{id}/consents", get(sender_consents::summary))
        .route("/v1/consents", post(consents::record))
        .route("/v1/consents/{phone}", get(consents::show))
        .route("/v1/messages", post(messages::send).get(messages::search))
        .route("/v1/messages/batch", post(messages::send_batch))
        .route("/v1/messages/{id}", get(messages::show))
        .route("/v1/messages/{id}/cancel", post(messages::cancel))
        .route("/v1/phones/{phone}/inbox", get(phones::inbox))
        .route("/v1/inbound", post(inbound::receive))
        .route(
            "/u/{token}",
            get(unsubscribe::show).post(unsubscribe::confirm),
        )
        .route("/v1/audit/head", get(audit::head))
        .route("/v1/portal/code", post(portal::send_code))
        .route("/v1/portal/session", post(portal::login))
        .route(
            "/v1/portal/consents",
            get(portal::consents).post(portal::choose),
        )
        .route("/v1/portal/messages", get(portal::messages))
        .route("/v1/portal/complaints", post(portal::complain))
        .route(
            "/v1/portal/complaints/pasted",
            post(portal::complain_pasted),
        )
        .route(
            "/v1/complaints",
            post(complaints::file).get(complaints::list),
        )
        .route("/v1/complaints/{id}", get(complaints::show))
        .route("/v1/complaints/{id}/evidence", get(complaints::evidence))
        .route(
            "/v1/senders/{id}/suspension",
            get(suspension::show).post(suspension::change),
        )
        .route("/v1/reports/senders", get(reports::senders))
        .route("/reports/senders", get(reports::page))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi))
        .merge(crate::console::routes())
        .merge(crate::portal::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn openapi() -> impl IntoResponse {
    axum::Json(crate::openapi::document())
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "the route exists but not with this method",
    )
}
