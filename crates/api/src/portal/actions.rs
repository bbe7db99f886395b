//! What the portal's pages and forms do: each reads the form, checks its token, calls the
//! gateway as the JSON API does (`/v1/portal/*`), and answers with a page — a redirect after
//! a change, so reloading does not repeat it.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use complaints::{ComplaintKind, ComplaintVerdict};
use domain::{ConsentAction, SenderId};
use serde::Deserialize;

use super::i18n::t;
use super::pages::{Notice, Own, code_page, message_page, own_page, phone_page};
use super::session::{
    Consumer, SESSION_COOKIE, SIGNIN_COOKIE, failure, lang, lang_cookie, set_cookie,
    signin_token_ok, with_cookies,
};
use crate::AppState;
use crate::console::i18n::Lang;

const STYLESHEET: &str = include_str!("portal.css");

/// `/portal/static/portal.css`, embedded in the binary.
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

/// Percent-encodes a value for a query string (letters and digits kept).
pub(crate) fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A submitted form's fields; an unreadable body is `None`.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn read(form: Result<Form<Vec<(String, String)>>, FormRejection>) -> Option<Self> {
        form.ok().map(|Form(v)| Fields(v))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What `GET /portal` and `GET /portal/code` read from the address.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Shown {
    lang: Option<String>,
    /// What was just done (`refused`, `allowed`, `refused_all`, `allowed_all`, `filed`,
    /// `signed_out`).
    done: Option<String>,
    /// The complaint filed.
    id: Option<u64>,
    /// Its verdict.
    verdict: Option<String>,
    /// The number a code was sent to.
    phone: Option<String>,
}

impl Shown {
    fn read(q: Result<Query<Shown>, axum::extract::rejection::QueryRejection>) -> Self {
        q.map(|Query(s)| s).unwrap_or_default()
    }

    /// The cookie remembering `?lang=`, if asked for.
    fn lang_cookie(&self, headers: &HeaderMap) -> Option<String> {
        self.lang
            .as_deref()
            .and_then(Lang::parse)
            .map(|l| lang_cookie(headers, l))
    }

    /// The line for what was just done, worded from known keys only (the address is not
    /// trusted to say anything else).
    fn notice(&self, lang: Lang) -> Option<Notice> {
        let key = match self.done.as_deref()? {
            "refused" => "done_refused",
            "allowed" => "done_allowed",
            "refused_all" => "done_refused_all",
            "allowed_all" => "done_allowed_all",
            "signed_out" => "signed_out",
            "filed" => {
                let verdict = match self.verdict.as_deref()? {
                    "violation" => "violation",
                    "no_violation" => "no_violation",
                    _ => "unverified",
                };
                let head = t(lang, "done_filed").replace("{id}", &self.id?.to_string());
                return Some(Notice::Done(format!("{head}{}", t(lang, verdict))));
            }
            _ => return None,
        };
        Some(Notice::Done(t(lang, key).to_string()))
    }
}

/// Reads what the consumer's own page shows.
async fn own(state: &AppState, c: &Consumer) -> Result<Own, crate::error::ApiError> {
    let phone = c.phone;
    state
        .run(move |gw| {
            Ok::<_, gateway::GatewayError>(Own {
                view: gw.portal_consents(phone, None)?,
                received: gw.portal_messages(phone)?,
            })
        })
        .await
}

/// The consumer's page with `notice` at `status`, or an error page if it cannot be read.
async fn own_response(
    state: &AppState,
    c: &Consumer,
    status: StatusCode,
    notice: Option<Notice>,
) -> Response {
    match own(state, c).await {
        Ok(own) => own_page(c, &own, status, notice).into_response(),
        Err(e) => {
            let (status, _) = failure(&e);
            message_page(c.lang, status, super::session::error_key(&e)).into_response()
        }
    }
}

/// `GET /portal`: the consumer's page when signed in, else the number form.
pub(crate) async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<Shown>, axum::extract::rejection::QueryRejection>,
    consumer: Result<Consumer, Response>,
) -> Response {
    let shown = Shown::read(q);
    let cookies: Vec<String> = shown.lang_cookie(&headers).into_iter().collect();
    let resp = match consumer {
        Ok(c) => {
            let notice = shown.notice(c.lang);
            own_response(&state, &c, StatusCode::OK, notice).await
        }
        Err(signed_out) => {
            let lang = lang(&headers, shown.lang.as_deref());
            match shown.done.as_deref() {
                // The signed-out page with its own notice (the extractor's has none for a
                // consumer who never signed in).
                Some("signed_out") => {
                    phone_page(&headers, lang, StatusCode::OK, shown.notice(lang), "")
                        .into_response()
                }
                _ => return signed_out,
            }
        }
    };
    with_cookies(resp, &cookies)
}

/// `GET /portal/code?phone=`: the code form for a number a code was sent to.
pub(crate) async fn code_form(
    headers: HeaderMap,
    q: Result<Query<Shown>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let shown = Shown::read(q);
    let lang = lang(&headers, shown.lang.as_deref());
    let cookies: Vec<String> = shown.lang_cookie(&headers).into_iter().collect();
    let resp = match shown
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(phone) => {
            let phone: String = phone.chars().take(32).collect();
            code_page(&headers, lang, StatusCode::OK, None, &phone).into_response()
        }
        None => Redirect::to("/portal").into_response(),
    };
    with_cookies(resp, &cookies)
}

/// A form that did not come from our page: 403, nothing done.
fn forged(lang: Lang) -> Response {
    message_page(lang, StatusCode::FORBIDDEN, "csrf_failed").into_response()
}

/// An unreadable form body.
fn unreadable(lang: Lang) -> Response {
    message_page(lang, StatusCode::BAD_REQUEST, "invalid_field").into_response()
}

/// `POST /portal/code`: sends a code to the number, then shows the code form.
pub(crate) async fn send_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let lang = lang(&headers, None);
    let Some(form) = Fields::read(form) else {
        return unreadable(lang);
    };
    if !signin_token_ok(&headers, form.get("csrf")) {
        return forged(lang);
    }
    let phone: String = form
        .get("phone")
        .unwrap_or("")
        .trim()
        .chars()
        .take(32)
        .collect();
    let p = phone.clone();
    match state.run(move |gw| gw.portal_send_code(&p)).await {
        Ok(()) => Redirect::to(&format!("/portal/code?phone={}", encode(&phone))).into_response(),
        Err(e) => {
            let (status, notice) = failure(&e);
            phone_page(&headers, lang, status, Some(notice), &phone).into_response()
        }
    }
}

/// `POST /portal/session`: exchanges the code for a session cookie.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let lang = lang(&headers, None);
    let Some(form) = Fields::read(form) else {
        return unreadable(lang);
    };
    if !signin_token_ok(&headers, form.get("csrf")) {
        return forged(lang);
    }
    let phone: String = form
        .get("phone")
        .unwrap_or("")
        .trim()
        .chars()
        .take(32)
        .collect();
    let code: String = form
        .get("code")
        .unwrap_or("")
        .trim()
        .chars()
        .take(16)
        .collect();
    let p = phone.clone();
    match state.run(move |gw| gw.portal_login(&p, &code)).await {
        Ok((_, token)) => {
            let mut resp = Redirect::to("/portal").into_response();
            for c in [
                set_cookie(&headers, SESSION_COOKIE, &token, None),
                set_cookie(&headers, SIGNIN_COOKIE, "", Some(0)),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            resp
        }
        Err(e) => {
            let (status, notice) = failure(&e);
            code_page(&headers, lang, status, Some(notice), &phone).into_response()
        }
    }
}

/// `POST /portal/signout`: ends the session and clears the cookie.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    c: Consumer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Some(form) = Fields::read(form) else {
        return unreadable(c.lang);
    };
    if !c.form_ok(form.get("csrf")) {
        return forged(c.lang);
    }
    state.gateway.portal_sign_out(&c.token);
    let resp = Redirect::to("/portal?done=signed_out").into_response();
    with_cookies(resp, &[set_cookie(&headers, SESSION_COOKIE, "", Some(0))])
}

/// `POST /portal/consents`: refuse or allow one shop (`sender_id`), or every shop.
pub(crate) async fn choose(
    State(state): State<AppState>,
    c: Consumer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Some(form) = Fields::read(form) else {
        return unreadable(c.lang);
    };
    if !c.form_ok(form.get("csrf")) {
        return forged(c.lang);
    }
    let action = match form.get("action") {
        Some("opt_out") => ConsentAction::OptOut,
        Some("opt_in") => ConsentAction::OptIn,
        _ => return unreadable(c.lang),
    };
    let sender = match form.get("sender_id").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<u32>() {
            Ok(id) => Some(SenderId(id)),
            Err(_) => return unreadable(c.lang),
        },
    };
    let phone = c.phone;
    match state
        .run(move |gw| gw.portal_record(phone, action, sender))
        .await
    {
        Ok(_) => {
            let done = match (action, sender) {
                (ConsentAction::OptOut, Some(_)) => "refused",
                (ConsentAction::OptIn, Some(_)) => "allowed",
                (ConsentAction::OptOut, None) => "refused_all",
                (ConsentAction::OptIn, None) => "allowed_all",
            };
            Redirect::to(&format!("/portal?done={done}")).into_response()
        }
        Err(e) => {
            let (status, notice) = failure(&e);
            own_response(&state, &c, status, Some(notice)).await
        }
    }
}

/// The kind field of a complaint form.
fn kind_of(form: &Fields) -> Option<ComplaintKind> {
    form.get("kind")?.parse().ok()
}

/// The optional note of a complaint form.
fn note_of(form: &Fields) -> Option<String> {
    form.get("note")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
}

/// After filing: the consumer's page says the complaint's number and verdict at its top (no
/// anchor further down: the notice would be out of sight).
fn filed(id: u64, verdict: ComplaintVerdict) -> Response {
    Redirect::to(&format!(
        "/portal?done=filed&id={id}&verdict={}",
        verdict.as_str()
    ))
    .into_response()
}

/// `POST /portal/complaints`: a complaint about a message picked from the list.
pub(crate) async fn complain(
    State(state): State<AppState>,
    c: Consumer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Some(form) = Fields::read(form) else {
        return unreadable(c.lang);
    };
    if !c.form_ok(form.get("csrf")) {
        return forged(c.lang);
    }
    let (Some(message), Some(kind)) = (
        form.get("message_id").and_then(|m| m.parse::<u64>().ok()),
        kind_of(&form),
    ) else {
        return own_response(
            &state,
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(Notice::Error("invalid_field")),
        )
        .await;
    };
    let note = note_of(&form);
    let phone = c.phone;
    match state
        .run(move |gw| gw.portal_complaint(phone, message, kind, note))
        .await
    {
        Ok(f) => filed(f.complaint.id, f.complaint.adjudication.verdict),
        Err(e) => {
            let (status, notice) = failure(&e);
            own_response(&state, &c, status, Some(notice)).await
        }
    }
}

/// `POST /portal/complaints/pasted`: a complaint about a pasted message.
pub(crate) async fn complain_pasted(
    State(state): State<AppState>,
    c: Consumer,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Some(form) = Fields::read(form) else {
        return unreadable(c.lang);
    };
    if !c.form_ok(form.get("csrf")) {
        return forged(c.lang);
    }
    let Some(kind) = kind_of(&form) else {
        return own_response(
            &state,
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(Notice::Error("invalid_field")),
        )
        .await;
    };
    let text = form.get("text").unwrap_or("").to_string();
    let note = note_of(&form);
    let phone = c.phone;
    match state
        .run(move |gw| gw.portal_pasted_complaint(phone, &text, kind, note))
        .await
    {
        Ok(f) => filed(f.complaint.id, f.complaint.adjudication.verdict),
        Err(e) => {
            let (status, notice) = failure(&e);
            own_response(&state, &c, status, Some(notice)).await
        }
    }
}
