//! `/portal`: the consumer portal, rendered on the server with no script at all.
//!
//! A consumer proves their number with a one-time code sent to it by SMS (the gateway's
//! portal sessions, the same as `POST /v1/portal/session`), then sees every shop that recorded
//! their consent or wrote to them — its state in words ("已同意 / 已退订 / 从未同意"), its full
//! history with whose word each event was — refuses one shop or every shop, allows one again
//! (their own consent), and reports a message they received, picked from the list or pasted.
//!
//! Like the console ([`crate::console`]): every action is a plain form, pages are maud
//! templates checked at compile time, the one stylesheet is embedded, and the CSP allows no
//! script. Chinese by default, English by `?lang=en` (remembered in a cookie), every string and
//! every error from one table ([`i18n`]). The session cookie is HttpOnly, SameSite=Strict,
//! Path=/portal; every form carries a CSRF token and is refused (403) without it.

mod actions;
mod history;
pub(crate) mod i18n;
mod pages;
pub(crate) mod session;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

/// The portal's routes, merged into the one router table ([`crate::router::app`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/portal", get(actions::home))
        .route("/portal/static/portal.css", get(actions::stylesheet))
        .route(
            "/portal/code",
            get(actions::code_form).post(actions::send_code),
        )
        .route("/portal/session", post(actions::sign_in))
        .route("/portal/signout", post(actions::sign_out))
        .route("/portal/consents", post(actions::choose))
        .route("/portal/complaints", post(actions::complain))
        .route("/portal/complaints/pasted", post(actions::complain_pasted))
}
