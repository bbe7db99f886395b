//! Who is asking: the consumer's session cookie, the CSRF token its forms carry, the sign-in
//! forms' token, the language, and which message an API error shows.
//!
//! The session is the one `POST /v1/portal/session` issues (the gateway keeps its hash for an
//! hour), carried in an HttpOnly cookie instead of a header. The forms' CSRF token is derived
//! from it (SHA-256 under a fixed label): a page can only be rendered for someone holding the
//! cookie, a cross-site page can neither read the cookie nor (SameSite=Strict) send it, and the
//! token cannot be turned back into the session. Nothing more is stored per session.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::Msisdn;
use sha2::{Digest, Sha256};

use super::pages::{Notice, signed_out_page};
use crate::AppState;
use crate::console::i18n::Lang;
use crate::console::session::{constant_time_eq, cookie, over_tls};
use crate::error::ApiError;

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "cp_session";
/// The sign-in forms' token (there is no session yet to derive one from).
pub(crate) const SIGNIN_COOKIE: &str = "cp_signin";
/// The language cookie.
pub(crate) const LANG_COOKIE: &str = "cp_lang";

/// A `Set-Cookie` value scoped to the portal: HttpOnly, SameSite=Strict, Path=/portal, Secure
/// behind TLS. `max_age` 0 deletes it; `None` lasts for the browser session.
pub(crate) fn set_cookie(
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: Option<u32>,
) -> String {
    let mut c = format!("{name}={value}; Path=/portal; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if over_tls(headers) {
        c.push_str("; Secure");
    }
    c
}

/// Appends cookies to a response.
pub(crate) fn with_cookies(mut resp: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The language: `?lang=` when the page was asked for with it, else the cookie, else Chinese
/// (the portal's readers are consumers of a Chinese platform; the switch is one tap away).
pub(crate) fn lang(headers: &HeaderMap, asked: Option<&str>) -> Lang {
    asked
        .and_then(Lang::parse)
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or(Lang::Zh)
}

/// The cookie that remembers a language asked for with `?lang=`.
pub(crate) fn lang_cookie(headers: &HeaderMap, lang: Lang) -> String {
    let code = match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    };
    set_cookie(headers, LANG_COOKIE, code, Some(365 * 24 * 3600))
}

/// The CSRF token of the session `token`.
pub(crate) fn csrf_of(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"consentry portal csrf\0");
    h.update(token.as_bytes());
    format!("{:x}", h.finalize())
}

/// The sign-in forms' token: the cookie's, or a new one with the cookie to set.
pub(crate) fn signin_token(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, SIGNIN_COOKIE).filter(|c| c.len() == 64) {
        Some(c) => (c.to_string(), None),
        None => {
            let t = gateway::access::new_key("");
            let set = set_cookie(headers, SIGNIN_COOKIE, &t, None);
            (t, Some(set))
        }
    }
}

/// Whether a sign-in form's token matches its cookie.
pub(crate) fn signin_token_ok(headers: &HeaderMap, sent: Option<&str>) -> bool {
    let expected = cookie(headers, SIGNIN_COOKIE).unwrap_or("");
    constant_time_eq(sent.unwrap_or("").as_bytes(), expected.as_bytes())
}

/// A consumer with a live session, and the request's language. A page that takes it needs a
/// session: without one (or an expired one) the sign-in page answers, 401 for a form.
#[derive(Debug, Clone)]
pub(crate) struct Consumer {
    pub(crate) phone: Msisdn,
    pub(crate) token: String,
    pub(crate) lang: Lang,
}

impl Consumer {
    /// The token this consumer's forms carry.
    pub(crate) fn csrf(&self) -> String {
        csrf_of(&self.token)
    }

    /// Whether a submitted form carries this session's token.
    pub(crate) fn form_ok(&self, sent: Option<&str>) -> bool {
        constant_time_eq(sent.unwrap_or("").as_bytes(), self.csrf().as_bytes())
    }
}

impl FromRequestParts<AppState> for Consumer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let asked = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("lang="))
                .map(str::to_string)
        });
        let lang = lang(&parts.headers, asked.as_deref());
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
        let phone = token
            .as_deref()
            .and_then(|t| state.gateway.portal_session(t));
        match (token, phone) {
            (Some(token), Some(phone)) => Ok(Consumer { phone, token, lang }),
            (had, _) => {
                // A form is refused (401); a page shows the sign-in form. Either way a stale
                // cookie is cleared.
                let status = if parts.method == axum::http::Method::GET {
                    StatusCode::OK
                } else {
                    StatusCode::UNAUTHORIZED
                };
                let notice = had.is_some().then_some(Notice::Error("session_expired"));
                let mut cookies = Vec::new();
                if had.is_some() {
                    cookies.push(set_cookie(&parts.headers, SESSION_COOKIE, "", Some(0)));
                }
                if let Some(l) = asked.as_deref().and_then(Lang::parse) {
                    cookies.push(lang_cookie(&parts.headers, l));
                }
                let resp = signed_out_page(&parts.headers, lang, status, notice);
                Err(with_cookies(resp.into_response(), &cookies))
            }
        }
    }
}

/// Every error key an API error can be shown as (see [`error_key`]).
pub(crate) const ERROR_KEYS: &[&str] = &[
    "invalid_number",
    "forbidden",
    "too_many_requests",
    "invalid_code",
    "duplicate_complaint",
    "too_many_complaints",
    "unknown_message",
    "unattributed_complaint",
    "unknown_sender",
    "invalid_field",
    "consumer_refused",
    "unavailable",
    "error",
];

/// The message an API error is shown as, in the page's language: the portal never shows the
/// gateway's English detail on a Chinese page.
pub(crate) fn error_key(e: &ApiError) -> &'static str {
    match e.code {
        "storage_unavailable" | "partition_unavailable" | "busy" => "unavailable",
        "invalid_json" | "invalid_body" | "date_out_of_range" => "invalid_field",
        code => ERROR_KEYS
            .iter()
            .find(|k| **k == code)
            .copied()
            .unwrap_or("error"),
    }
}

/// The notice for an error, with its status.
pub(crate) fn failure(e: &ApiError) -> (StatusCode, Notice) {
    (e.status, Notice::Error(error_key(e)))
}
