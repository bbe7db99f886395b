//! `/console`: the operator's, auditor's and merchant's web console.
//!
//! Pages are rendered on the server with [maud] — templates are Rust expressions, so a typo in
//! a field or a missing value is a compile error, and every interpolated value is HTML-escaped
//! unless marked otherwise — and embedded in the binary with their one stylesheet. No script
//! runs: every action is a plain form, so the console works with JavaScript off, and the CSP
//! allows no script at all. Charts are SVG drawn here ([`charts`]).
//!
//! Security in one place ([`session`]): a session cookie (HttpOnly, SameSite=Strict, Secure
//! behind TLS) names a session stored in the shared store; every form carries the session's
//! CSRF token and is refused with 403 without it; auditors are refused every form but
//! sign-out; a merchant's requests run as that sender, so another merchant's ids read as 404.

mod accounts;
mod audit;
mod charts;
mod complaints;
mod consents;
mod dashboard;
pub mod i18n;
pub(crate) mod layout;
mod merchant_consents;
mod messages;
mod reports;
mod sender_edits;
mod senders;
pub(crate) mod session;
mod signin;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// The console's routes, merged into the one router table ([`crate::router::app`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard::show))
        .route("/console/static/console.css", get(layout::stylesheet))
        .route("/console/signin", get(signin::form).post(signin::submit))
        .route("/console/signout", post(signin::sign_out))
        .route(
            "/console/setup",
            get(signin::setup_form).post(signin::setup),
        )
        .route("/console/lang/{lang}", get(signin::language))
        .route("/console/senders", get(senders::list).post(senders::create))
        .route("/console/senders/{id}", get(senders::show))
        .route(
            "/console/senders/{id}/suspension",
            post(senders::suspension),
        )
        .route("/console/senders/{id}/key", post(senders::rotate_key))
        .route("/console/senders/{id}/edit", post(sender_edits::edit))
        .route(
            "/console/senders/{id}/smpp-password",
            post(sender_edits::smpp_password),
        )
        .route(
            "/console/senders/{id}/cmpp-secret",
            post(sender_edits::cmpp_secret),
        )
        .route(
            "/console/senders/{id}/consents",
            get(merchant_consents::show),
        )
        .route("/console/accounts", get(accounts::list))
        .route(
            "/console/accounts/{id}/disabled",
            post(accounts::set_disabled),
        )
        .route("/console/messages", get(messages::list))
        .route("/console/messages/{id}", get(messages::show))
        .route("/console/consents", get(consents::timeline))
        .route("/console/complaints", get(complaints::list))
        .route("/console/complaints/{id}", get(complaints::show))
        .route(
            "/console/complaints/{id}/evidence",
            get(complaints::evidence),
        )
        .route("/console/reports", get(reports::show))
        .route("/console/reports/csv", get(reports::csv))
        .route("/console/audit", get(audit::page_get))
        .route("/console/audit/verify", post(audit::verify))
}
