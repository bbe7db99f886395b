//! `/console/senders`: the list (search, pages), registering a sender (its key and SMPP
//! password shown once), a sender's page with its standing, suspending and lifting with a
//! reason, rotating its API key (shown once), and (staff) editing its name and signature and
//! setting new SMPP and CMPP secrets ([`super::sender_edits`]). A merchant reaches only its own page, to
//! rotate its own key.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use complaints::SuspensionAction;
use domain::SenderId;
use maud::{Markup, html};
use serde::Deserialize;
use store::{SenderColumn, SenderQuery};

use super::i18n::Lang;
use super::layout::{Failure, Page, page, when};
use super::session::{Fields, User};
use crate::AppState;
use crate::path::{ApiPath, id_or_not_found};

const PER_PAGE: usize = 20;

/// The list's query: free text over id, name, signature and number; a page number from 1.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<usize>,
    /// `id` (default), `name` or `created`.
    #[serde(default)]
    sort: String,
    /// `asc` (default) or `desc`.
    #[serde(default)]
    dir: String,
}

/// The list's sort column: `id` (default), `name` or `created`.
fn sender_column(s: &str) -> Result<SenderColumn, crate::error::ApiError> {
    match s.trim() {
        "" => Ok(SenderColumn::Id),
        other => SenderColumn::parse(other).ok_or_else(|| {
            crate::listing::invalid_sort(format!(
                "sort {:?}: expected id, name or created",
                other.chars().take(32).collect::<String>()
            ))
        }),
    }
}

/// A query string that does not read (a page number that is not a number) is a 422 page.
pub(crate) fn bad_query(lang: Lang) -> Failure {
    Failure::new(lang, StatusCode::UNPROCESSABLE_ENTITY, "error")
}

fn status_tag(lang: Lang, suspended: bool) -> Markup {
    let key = if suspended { "suspended" } else { "active" };
    html! { span.tag.(key) { (lang.t(key)) } }
}

fn new_sender_form(user: &User) -> Markup {
    let lang = user.lang;
    html! {
        @if user.user.may_change() {
            h2 { (lang.t("new_sender")) }
            form.card method="post" action="/console/senders" {
                input type="hidden" name="csrf" value=(user.user.session.csrf);
                label for="new-name" { (lang.t("name")) }
                input #new-name name="name" required maxlength="100";
                label for="new-signature" { (lang.t("signature")) }
                input #new-signature name="signature" maxlength="40" placeholder="【】";
                p { button type="submit" { (lang.t("create")) } }
            }
        }
    }
}

/// `GET /console/senders?q=&page=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: User,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Page, Failure> {
    user.staff()?;
    let lang = user.lang;
    let Query(ListQuery {
        q,
        page: n,
        sort,
        dir,
    }) = q.map_err(|_| bad_query(lang))?;
    let column = sender_column(&sort).map_err(|e| Failure::from_api(lang, e))?;
    let desc =
        crate::listing::descending(Some(&dir), false).map_err(|e| Failure::from_api(lang, e))?;
    let q: String = q.trim().chars().take(100).collect();
    // Pages beyond the deepest offset are not offered (narrow the search instead).
    let deepest = store::MAX_OFFSET as usize / PER_PAGE + 1;
    let mut n = n.unwrap_or(1).clamp(1, deepest);
    let mut query = SenderQuery {
        text: q.clone(),
        column,
        descending: desc,
        offset: 0,
        limit: u32::try_from(PER_PAGE).unwrap_or(20),
    };
    let (shown, total) = loop {
        query.offset = u32::try_from((n - 1) * PER_PAGE).unwrap_or(store::MAX_OFFSET);
        let wanted = query.clone();
        let (found, total) = state
            .run(move |gw| gw.sender_page(&wanted))
            .await
            .map_err(|e| Failure::from_api(lang, e))?;
        // A page past the end shows the last one.
        let last = usize::try_from(total)
            .unwrap_or(usize::MAX)
            .div_ceil(PER_PAGE)
            .clamp(1, deepest);
        if found.is_empty() && n > last {
            n = last;
            continue;
        }
        break (found, total);
    };
    let pages = usize::try_from(total)
        .unwrap_or(usize::MAX)
        .div_ceil(PER_PAGE)
        .clamp(1, deepest);
    let dir_word = |d: bool| if d { "desc" } else { "asc" };
    let link = |p: usize| {
        format!(
            "/console/senders?q={}&sort={}&dir={}&page={p}",
            urlencode(&q),
            column.as_str(),
            dir_word(desc)
        )
    };
    // A header link sorts by its column, the other way when it is already the order.
    let header = |c: SenderColumn, label: &'static str| {
        let active = c == column;
        let next = if active { !desc } else { false };
        let aria = match (active, desc) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        };
        html! {
            th aria-sort=(aria) {
                a href={ "/console/senders?q=" (urlencode(&q)) "&sort=" (c.as_str()) "&dir=" (dir_word(next)) }
                    title=(lang.t("sort_by")) {
                    (lang.t(label))
                    @if active { (if desc { " ▼" } else { " ▲" }) }
                }
            }
        }
    };
    let body = html! {
        form.filters method="get" action="/console/senders" role="search" {
            div { label for="q" { (lang.t("search")) } input #q name="q" value=(q) maxlength="100"; }
            button type="submit" { (lang.t("search")) }
        }
        table {
            thead { tr {
                (header(SenderColumn::Id, "id")) (header(SenderColumn::Name, "name"))
                th { (lang.t("signature")) }
                th { (lang.t("source_number")) } th { (lang.t("status")) }
                (header(SenderColumn::Created, "created"))
            } }
            tbody {
                @for s in &shown {
                    tr {
                        td.num { (s.id) }
                        td { a href={ "/console/senders/" (s.id) } { (s.name) } }
                        td { (s.signature) }
                        td { (s.source_number) }
                        td { (status_tag(lang, s.suspended)) }
                        td { (when(s.created_at)) }
                    }
                }
            }
        }
        @if shown.is_empty() { p { (lang.t("no_results")) } }
        nav.pager aria-label=(lang.t("page")) {
            @if n > 1 { a rel="prev" href=(link(n - 1)) { (lang.t("prev_page")) } }
            span { (lang.t("page")) " " (n) " / " (pages) }
            @if n < pages { a rel="next" href=(link(n + 1)) { (lang.t("next_page")) } }
        }
        (new_sender_form(&user))
    };
    Ok(page(&user, lang.t("senders"), body))
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn secret_rows(lang: Lang, rows: &[(&str, &str)]) -> Markup {
    html! {
        div.card role="status" {
            p.ok { (lang.t("shown_once")) }
            @for (label, value) in rows {
                p { strong { (label) } br; span.secret data-secret=(label) { (value) } }
            }
        }
    }
}

/// `POST /console/senders`: registers a sender and shows its key and SMPP password once.
pub(crate) async fn create(
    State(state): State<AppState>,
    user: User,
    form: Fields,
) -> Result<Page, Failure> {
    user.staff()?;
    user.check(&form, true)?;
    let lang = user.lang;
    let name = form.get("name").unwrap_or("").to_string();
    let signature = form.get("signature").unwrap_or("").to_string();
    let (sender, key, smpp) = state
        .run(move |gw| {
            let (sender, key) = gw.create_sender(&name, &signature)?;
            let smpp = gw.issue_smpp_credentials(sender.id)?;
            Ok((sender, key, smpp))
        })
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let body = html! {
        p { a href={ "/console/senders/" (sender.id) } { "#" (sender.id) " " (sender.name) } }
        (secret_rows(lang, &[
            (lang.t("api_key"), &key),
            (lang.t("smpp_system_id"), &smpp.system_id),
            (lang.t("smpp_password"), &smpp.password),
        ]))
    };
    Ok(page(&user, lang.t("new_sender"), body))
}

pub(crate) async fn sender_page(
    state: &AppState,
    user: &User,
    id: SenderId,
    notice: Option<Markup>,
) -> Result<Page, Failure> {
    let lang = user.lang;
    let by = user.user.principal();
    let view = state
        .run(move |gw| gw.suspension(by, id))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let Some(s) = state.gateway.sender(id) else {
        return Err(Failure::new(lang, StatusCode::NOT_FOUND, "not_found"));
    };
    let staff = user.user.account.role.sender().is_none();
    let csrf = &user.user.session.csrf;
    let body = html! {
        @if let Some(n) = notice { (n) }
        table {
            tr { th { (lang.t("id")) } td { (s.id) } }
            tr { th { (lang.t("name")) } td { (s.name) } }
            tr { th { (lang.t("signature")) } td { (s.signature) } }
            tr { th { (lang.t("source_number")) } td { (s.source_number) } }
            tr { th { (lang.t("status")) } td {
                (status_tag(lang, view.suspended))
                @if let Some(t) = view.since { " " (lang.t("suspended_since")) " " (when(t)) }
            } }
            tr { th { (lang.t("created")) } td { (when(s.created_at)) } }
        }
        // What staff look at next about this shop: its consents, messages and complaints.
        nav.related aria-label=(lang.t("related")) {
            a href={ "/console/senders/" (s.id) "/consents" } { (lang.t("shop_consents")) }
            " · "
            a href={ "/console/messages?sender=" (s.id) } { (lang.t("shop_messages")) }
            " · "
            a href={ "/console/complaints?sender=" (s.id) } { (lang.t("shop_complaints")) }
        }
        @if staff && user.user.may_change() {
            h2 { (lang.t("suspension")) }
            form.card method="post" action={ "/console/senders/" (s.id) "/suspension" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="action" value=(if view.suspended { "lift" } else { "suspend" });
                label for="reason" { (lang.t("reason")) }
                input #reason name="reason" required maxlength="500" size="50";
                p {
                    @if view.suspended {
                        button type="submit" { (lang.t("lift")) }
                    } @else {
                        button.danger type="submit" { (lang.t("suspend")) }
                    }
                }
            }
        }
        @if staff && user.user.may_change() {
            (super::sender_edits::forms(user, &s))
        }
        @if user.user.may_change() {
            h2 { (lang.t("rotate_key")) }
            form.card method="post" action={ "/console/senders/" (s.id) "/key" } {
                input type="hidden" name="csrf" value=(csrf);
                p { (lang.t("rotate_warning")) }
                button.danger type="submit" { (lang.t("rotate_key")) }
            }
        }
        h2 { (lang.t("history")) }
        @if view.history.is_empty() { p { "—" } }
        @else {
            table {
                thead { tr { th { (lang.t("time")) } th { (lang.t("action")) } th { (lang.t("reason")) } th { (lang.t("actor")) } } }
                tbody {
                    @for h in &view.history {
                        tr { td { (when(h.at)) } td { (h.action.as_str()) } td { (h.reason) } td { (h.actor) } }
                    }
                }
            }
        }
    };
    Ok(page(user, &format!("#{} {}", s.id, s.name), body))
}

/// `GET /console/senders/{id}` (a merchant: its own only; another id is 404).
pub(crate) async fn show(
    State(state): State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
) -> Result<Page, Failure> {
    let id = SenderId(id_or_not_found("sender", &id).map_err(|e| Failure::from_api(user.lang, e))?);
    sender_page(&state, &user, id, None).await
}

/// `POST /console/senders/{id}/suspension`: suspend or lift, with the reason recorded (and
/// chained in the audit log by the gateway).
pub(crate) async fn suspension(
    State(state): State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
    form: Fields,
) -> Result<Page, Failure> {
    user.staff()?;
    user.check(&form, true)?;
    let lang = user.lang;
    let id = SenderId(id_or_not_found("sender", &id).map_err(|e| Failure::from_api(lang, e))?);
    let action: SuspensionAction = form
        .get("action")
        .unwrap_or("")
        .parse()
        .map_err(|_| Failure::new(lang, StatusCode::UNPROCESSABLE_ENTITY, "error"))?;
    let reason = form.get("reason").unwrap_or("").to_string();
    let by = user.user.principal();
    let actor = format!("console:{}", user.user.account.name);
    state
        .run(move |gw| gw.change_suspension_as(by, &actor, id, action, &reason))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    sender_page(&state, &user, id, None).await
}

/// `POST /console/senders/{id}/key`: a new API key, shown once; the old one stops working.
pub(crate) async fn rotate_key(
    State(state): State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
    form: Fields,
) -> Result<Page, Failure> {
    user.check(&form, true)?;
    let lang = user.lang;
    let id = SenderId(id_or_not_found("sender", &id).map_err(|e| Failure::from_api(lang, e))?);
    let by = user.user.principal();
    let key = state
        .run(move |gw| gw.rotate_key(by, id))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let notice = secret_rows(lang, &[(lang.t("new_key"), &key)]);
    sender_page(&state, &user, id, Some(notice)).await
}
