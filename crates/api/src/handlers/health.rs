//! Liveness and metrics.

use std::fmt::Write;

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::AppState;

/// Liveness: the process answers and the store is reachable. In cluster mode it also names
/// the partitions this node serves now (`partitions`).
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Object)))]
pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let stats = state.gateway.stats();
    match state.gateway.owned_partitions() {
        Some(parts) => Json(json!({ "status": "ok", "stats": stats, "partitions": parts })),
        None => Json(json!({ "status": "ok", "stats": stats })),
    }
}

/// Prometheus metrics: counters from the send path plus live gauges.
#[utoipa::path(get, path = "/metrics", responses((status = 200, body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut text = state.metrics.render();
    let s = state.gateway.stats();
    let portal = state.gateway.portal_tables();
    let gauges = [
        (
            "consentry_portal_phones",
            "Phones the consumer portal sent a code today (bounded by the overall code cap).",
            portal.phones as f64,
        ),
        (
            "consentry_portal_sessions",
            "Live consumer portal sessions.",
            portal.sessions as f64,
        ),
        (
            "consentry_consent_events",
            "Consent events in the ledger.",
            s.consent_events as f64,
        ),
        (
            "consentry_phones",
            "Phones with consent state in memory.",
            s.phones as f64,
        ),
        (
            "consentry_deferred_messages",
            "Messages held for quiet hours.",
            s.deferred as f64,
        ),
        (
            "consentry_cancelled_at_handoff",
            "Marketing cancelled at hand-off since start.",
            s.cancelled as f64,
        ),
    ];
    for (name, help, v) in gauges {
        let _ = write!(
            text,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
        );
    }
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
