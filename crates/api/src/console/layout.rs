//! The frame every console page shares, its headers, the stylesheet, and error pages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use store::AccountRole;

use super::i18n::Lang;
use super::session::User;
use crate::error::ApiError;

/// Nothing may load or run but this origin's stylesheet; inline SVG needs no source. Forms post
/// only here; no framing (a console page in someone else's frame is a clickjacking target).
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLESHEET: &str = include_str!("console.css");

/// `/console/static/console.css`, embedded in the binary.
pub(crate) async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// A rendered page with the console's headers.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) markup: Markup,
    pub(crate) cookies: Vec<String>,
}

impl Page {
    pub(crate) fn ok(markup: Markup) -> Self {
        Page {
            status: StatusCode::OK,
            markup,
            cookies: Vec::new(),
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.markup).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        // Pages show keys once and people's numbers: never cached.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        for c in self.cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                h.append(header::SET_COOKIE, v);
            }
        }
        resp
    }
}

/// The whole document around `body`. `user` is `None` on the sign-in pages.
pub(crate) fn document(lang: Lang, user: Option<&User>, title: &str, body: Markup) -> Markup {
    let other = match lang {
        Lang::Zh => "en",
        Lang::En => "zh",
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · " (lang.t("app")) }
                link rel="stylesheet" href="/console/static/console.css";
            }
            body {
                a.skip href="#main" { (lang.t("skip_to_content")) }
                header {
                    strong.brand { (lang.t("app")) }
                    @if let Some(u) = user {
                        nav aria-label=(lang.t("app")) {
                            a href="/console" { (lang.t("dashboard")) }
                            @match u.user.account.role {
                                AccountRole::Merchant(s) => {
                                    a href="/console/messages" { (lang.t("messages")) }
                                    a href="/console/complaints" { (lang.t("complaints_title")) }
                                    a href="/console/reports" { (lang.t("reports")) }
                                    a href={ "/console/senders/" (s) } { (lang.t("my_key")) }
                                    a href={ "/console/senders/" (s) "/consents" } { (lang.t("consents_summary")) }
                                }
                                _ => {
                                    a href="/console/senders" { (lang.t("senders")) }
                                    a href="/console/messages" { (lang.t("messages")) }
                                    a href="/console/consents" { (lang.t("timeline")) }
                                    a href="/console/complaints" { (lang.t("complaints_title")) }
                                    a href="/console/reports" { (lang.t("reports")) }
                                    a href="/console/audit" { (lang.t("audit")) }
                                    @if u.user.account.role == AccountRole::Operator {
                                        a href="/console/accounts" { (lang.t("accounts")) }
                                    }
                                }
                            }
                        }
                        span.who {
                            (lang.t("signed_in_as")) " " strong { (u.user.account.name) }
                            " (" (role_name(lang, u.user.account.role)) ")"
                        }
                        form.inline method="post" action="/console/signout" {
                            input type="hidden" name="csrf" value=(u.user.session.csrf);
                            button type="submit" { (lang.t("sign_out")) }
                        }
                    }
                    a.lang href={ "/console/lang/" (other) } hreflang=(other) { (lang.t("other_lang")) }
                }
                main #main { h1 { (title) } (body) }
            }
        }
    }
}

/// A role as the page names it.
pub(crate) fn role_name(lang: Lang, role: AccountRole) -> &'static str {
    match role {
        AccountRole::Operator => lang.t("role_operator"),
        AccountRole::Auditor => lang.t("role_auditor"),
        AccountRole::Merchant(_) => lang.t("role_merchant"),
    }
}

/// A page for a signed-in person.
pub(crate) fn page(user: &User, title: &str, body: Markup) -> Page {
    Page::ok(document(user.lang, Some(user), title, body))
}

/// An error shown as a page, with the right status: the title in the page's language, the
/// detail (from the gateway, in English) below it.
#[derive(Debug)]
pub(crate) struct Failure {
    lang: Lang,
    status: StatusCode,
    key: &'static str,
    detail: Option<String>,
}

impl Failure {
    pub(crate) fn new(lang: Lang, status: StatusCode, key: &'static str) -> Self {
        Failure {
            lang,
            status,
            key,
            detail: None,
        }
    }

    /// An API error as a page; its stable code is shown so support can look it up.
    pub(crate) fn from_api(lang: Lang, e: ApiError) -> Self {
        let key = match e.status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::FORBIDDEN => "forbidden",
            _ => "error",
        };
        Failure {
            lang,
            status: e.status,
            key,
            detail: Some(format!("{} ({})", e.message, e.code)),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let title = self.lang.t(self.key);
        let body = html! {
            p.error role="alert" { (title) }
            @if let Some(d) = &self.detail { p { code { (d) } } }
            p { a href="/console" { (self.lang.t("back")) } }
        };
        Page {
            status: self.status,
            markup: document(self.lang, None, title, body),
            cookies: Vec::new(),
        }
        .into_response()
    }
}

/// A time as pages show it: UTC to the second.
pub(crate) fn when(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A verdict's label.
pub(crate) fn verdict(lang: Lang, v: policy::Verdict) -> &'static str {
    lang.t(v.as_str())
}
