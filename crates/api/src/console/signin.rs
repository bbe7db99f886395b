//! Signing in and out, the merchant's first sign-in with its API key, and the language switch.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::layout::{Failure, Page, document};
use super::session::{
    Fields, LANG_COOKIE, SESSION_COOKIE, SIGNIN_COOKIE, User, client_address, constant_time_eq,
    cookie, lang, set_cookie,
};
use crate::AppState;
use crate::path::ApiPath;

/// The sign-in form's token: a random value in a cookie and in the form. A cross-site page can
/// neither read the cookie nor, with SameSite=Strict, send it.
fn form_token(headers: &HeaderMap) -> (String, Option<String>) {
    match cookie(headers, SIGNIN_COOKIE).filter(|c| c.len() == 64) {
        Some(c) => (c.to_string(), None),
        None => {
            let t = gateway::access::new_key("");
            let set = set_cookie(headers, SIGNIN_COOKIE, &t, None);
            (t, Some(set))
        }
    }
}

fn signin_body(lang: Lang, token: &str, error: Option<&str>, notice: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error { p.error role="alert" { (e) } }
        @if let Some(n) = notice { p.ok role="status" { (n) } }
        form.card method="post" action="/console/signin" {
            input type="hidden" name="csrf" value=(token);
            label for="name" { (lang.t("account")) }
            input #name name="name" autocomplete="username" required maxlength="64" autofocus;
            label for="password" { (lang.t("password")) }
            input #password name="password" type="password" autocomplete="current-password" required maxlength="200";
            p { button type="submit" { (lang.t("sign_in")) } }
        }
        p { a href="/console/setup" { (lang.t("merchant_setup")) } }
    }
}

fn signin_page(
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
    notice: Option<&str>,
) -> Page {
    let lang = lang(headers);
    let (token, set) = form_token(headers);
    Page {
        status,
        markup: document(
            lang,
            None,
            lang.t("sign_in"),
            signin_body(lang, &token, error, notice),
        ),
        cookies: set.into_iter().collect(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Notice {
    created: Option<String>,
}

/// `GET /console/signin`.
pub(crate) async fn form(headers: HeaderMap, q: Result<Query<Notice>, QueryRejection>) -> Page {
    let created = q.ok().and_then(|Query(n)| n.created).is_some();
    let lang = lang(&headers);
    signin_page(
        &headers,
        StatusCode::OK,
        None,
        created.then(|| lang.t("account_created")),
    )
}

/// The form token matches the cookie (else the post did not come from our form: 403).
fn check_form_token(headers: &HeaderMap, form: &Fields) -> Result<(), Failure> {
    let sent = form.get("csrf").unwrap_or("");
    let expected = cookie(headers, SIGNIN_COOKIE).unwrap_or("");
    if constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(Failure::new(
            lang(headers),
            StatusCode::FORBIDDEN,
            "csrf_failed",
        ))
    }
}

/// `POST /console/signin`: opens a session and sets its cookie; a wrong name or password is
/// 401, too many failures 429 — both on the form again.
pub(crate) async fn submit(State(state): State<AppState>, parts: Parts, form: Fields) -> Response {
    let headers = &parts.headers;
    if let Err(f) = check_form_token(headers, &form) {
        return f.into_response();
    }
    let lang = lang(headers);
    let name = form.get("name").unwrap_or("").to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let address = client_address(&parts);
    match state
        .run(move |gw| gw.sign_in(&name, &password, &address))
        .await
    {
        Ok(signed) => {
            let mut resp = Redirect::to("/console").into_response();
            let h = resp.headers_mut();
            for c in [
                set_cookie(headers, SESSION_COOKIE, &signed.token, None),
                set_cookie(headers, SIGNIN_COOKIE, "", Some(0)),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    h.append(header::SET_COOKIE, v);
                }
            }
            resp
        }
        Err(e) if e.code == "invalid_credentials" => signin_page(
            headers,
            StatusCode::UNAUTHORIZED,
            Some(lang.t("bad_credentials")),
            None,
        )
        .into_response(),
        // The right password for an account an operator disabled.
        Err(e) if e.code == "forbidden" => signin_page(
            headers,
            StatusCode::FORBIDDEN,
            Some(lang.t("account_disabled")),
            None,
        )
        .into_response(),
        Err(e) if e.code == "too_many_attempts" => signin_page(
            headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some(lang.t("too_many_attempts")),
            None,
        )
        .into_response(),
        Err(e) => Failure::from_api(lang, e).into_response(),
    }
}

/// `POST /console/signout`: ends the session everywhere (it is a row in the shared store) and
/// clears the cookie.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: User,
    form: Fields,
) -> Response {
    if let Err(f) = user.check(&form, false) {
        return f.into_response();
    }
    let token = user.token.clone();
    if let Err(e) = state.run(move |gw| gw.sign_out(&token)).await {
        return Failure::from_api(user.lang, e).into_response();
    }
    let mut resp = Redirect::to("/console/signin").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(&headers, SESSION_COOKIE, "", Some(0))) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /console/lang/{zh|en}`: sets the language cookie and goes back to the console. A GET
/// because it changes only a display preference (and works as a plain link).
pub(crate) async fn language(headers: HeaderMap, ApiPath(to): ApiPath<String>) -> Response {
    let Some(to) = Lang::parse(&to) else {
        return Failure::new(lang(&headers), StatusCode::NOT_FOUND, "not_found").into_response();
    };
    let code = match to {
        Lang::Zh => "zh",
        Lang::En => "en",
    };
    let mut resp = Redirect::to("/console").into_response();
    let c = set_cookie(&headers, LANG_COOKIE, code, Some(365 * 24 * 3600));
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

fn setup_page(headers: &HeaderMap, status: StatusCode, error: Option<&str>) -> Page {
    let lang = lang(headers);
    let (token, set) = form_token(headers);
    let body = html! {
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.card method="post" action="/console/setup" {
            input type="hidden" name="csrf" value=(token);
            label for="api_key" { (lang.t("api_key")) }
            input #api_key name="api_key" type="password" autocomplete="off" required maxlength="256";
            label for="name" { (lang.t("account")) }
            input #name name="name" autocomplete="username" required maxlength="64";
            label for="password" { (lang.t("password")) }
            input #password name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="200";
            p { button type="submit" { (lang.t("create_account")) } }
        }
    };
    Page {
        status,
        markup: document(lang, None, lang.t("merchant_setup"), body),
        cookies: set.into_iter().collect(),
    }
}

/// `GET /console/setup`.
pub(crate) async fn setup_form(headers: HeaderMap) -> Page {
    setup_page(&headers, StatusCode::OK, None)
}

/// `POST /console/setup`: a merchant proves itself with its API key, once, and chooses a name
/// and password. A wrong key counts as a failed sign-in from this address.
pub(crate) async fn setup(State(state): State<AppState>, parts: Parts, form: Fields) -> Response {
    let headers = &parts.headers;
    if let Err(f) = check_form_token(headers, &form) {
        return f.into_response();
    }
    let lang = lang(headers);
    let key = form.get("api_key").unwrap_or("").to_string();
    let name = form.get("name").unwrap_or("").to_string();
    let password = form.get("password").unwrap_or("").to_string();
    let address = client_address(&parts);
    let claimed = state
        .run(move |gw| gw.claim_merchant_account_from(&key, &name, &password, &address))
        .await;
    match claimed {
        Ok(_) => Redirect::to("/console/signin?created=1").into_response(),
        Err(e) => {
            let status = e.status;
            let message = if e.code == "invalid_credentials" {
                lang.t("bad_credentials").to_string()
            } else if e.code == "too_many_attempts" {
                lang.t("too_many_attempts").to_string()
            } else {
                format!("{} ({})", e.message, e.code)
            };
            setup_page(headers, status, Some(&message)).into_response()
        }
    }
}
