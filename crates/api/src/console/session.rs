//! Who is asking: the session cookie, the CSRF check on forms, the client's address and
//! language.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gateway::ConsoleUser;

use super::i18n::Lang;
use super::layout::Failure;
use crate::AppState;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "cs_session";
/// The sign-in form's CSRF cookie (there is no session yet to hold its token).
pub(crate) const SIGNIN_COOKIE: &str = "cs_signin";
/// The language cookie.
pub(crate) const LANG_COOKIE: &str = "cs_lang";

/// The value of cookie `name`, if sent.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the browser reached us over TLS: a TLS-terminating proxy says so in
/// `X-Forwarded-Proto` (consentry itself serves plain HTTP), and only then can a cookie be
/// marked `Secure` without the browser dropping it.
pub(crate) fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value scoped to the console: HttpOnly, SameSite=Strict (a cross-site form
/// post arrives without it), Secure behind TLS. `max_age` 0 deletes it; `None` lasts for the
/// browser session.
pub(crate) fn set_cookie(
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age: Option<u32>,
) -> String {
    let mut c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if over_tls(headers) {
        c.push_str("; Secure");
    }
    c
}

/// The language: the cookie, else the browser's first preference, else Chinese.
pub(crate) fn lang(headers: &HeaderMap) -> Lang {
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
        return l;
    }
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.trim_start().to_ascii_lowercase().starts_with("en") {
        Lang::En
    } else {
        Lang::Zh
    }
}

/// The client's address for the sign-in limits: the peer, or — when the peer is a proxy on
/// this machine — the last address it appended to `X-Forwarded-For` (the one it saw; earlier
/// entries are the client's own claims).
pub(crate) fn client_address(parts: &Parts) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(|s| s.trim().chars().take(64).collect::<String>());
    match (peer, forwarded) {
        (Some(ip), Some(f)) if ip.is_loopback() && !f.is_empty() => f,
        (Some(ip), _) => ip.to_string(),
        (None, _) => "unknown".into(),
    }
}

/// A signed-in person with the request's language. Taking it makes a page need a session;
/// without one the browser is sent to the sign-in page.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) user: ConsoleUser,
    pub(crate) lang: Lang,
    /// The session cookie's token (to sign out).
    pub(crate) token: String,
}

impl FromRequestParts<AppState> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = lang(&parts.headers);
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
        let Some(token) = token else {
            return Err(Redirect::to("/console/signin").into_response());
        };
        let t = token.clone();
        match state.run(move |gw| gw.console_user(&t)).await {
            Ok(Some(user)) => Ok(User { user, lang, token }),
            Ok(None) => Err(Redirect::to("/console/signin").into_response()),
            Err(e) => Err(Failure::from_api(lang, e).into_response()),
        }
    }
}

impl User {
    /// Checks a submitted form: it must carry this session's CSRF token (else 403), and a form
    /// that changes something is refused to auditors (403).
    pub(crate) fn check(&self, form: &Fields, changes: bool) -> Result<(), Failure> {
        let sent = form.get("csrf").unwrap_or("");
        if !constant_time_eq(sent.as_bytes(), self.user.session.csrf.as_bytes()) {
            return Err(Failure::new(
                self.lang,
                StatusCode::FORBIDDEN,
                "csrf_failed",
            ));
        }
        if changes && !self.user.may_change() {
            return Err(Failure::new(self.lang, StatusCode::FORBIDDEN, "forbidden"));
        }
        Ok(())
    }

    /// Operators and auditors only (merchants get 404: the page does not exist for them).
    pub(crate) fn staff(&self) -> Result<(), Failure> {
        if self.user.account.role.sender().is_some() {
            Err(Failure::new(self.lang, StatusCode::NOT_FOUND, "not_found"))
        } else {
            Ok(())
        }
    }
}

/// Compares without stopping at the first difference, so timing does not reveal how much of a
/// guessed token was right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A submitted form's fields, in order (`application/x-www-form-urlencoded`). An unreadable body
/// is a 400 page.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fields(pub(crate) Vec<(String, String)>);

impl Fields {
    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let lang = lang(req.headers());
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(v)) => Ok(Fields(v)),
            Err(_) => Err(Failure::new(lang, StatusCode::BAD_REQUEST, "error").into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; cs_session=tok; cs_session_x=no".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }

    #[test]
    fn cookies_are_secure_only_behind_tls() {
        let mut h = HeaderMap::new();
        assert!(!set_cookie(&h, "a", "b", None).contains("Secure"));
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        let c = set_cookie(&h, "a", "b", Some(0));
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"),
            "{c}"
        );
    }
}
