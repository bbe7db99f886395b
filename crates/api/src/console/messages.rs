//! `/console/messages`: search by phone, sender, status, reason, category and day; newest first
//! a page at a time (by id, so a page stays put while new messages arrive), or sorted by a
//! column header's link (sender, phone, status, either way; paged by offset); a message's page shows its decision
//! with every reason, the classifier's scores and its delivery. A merchant searches and opens
//! its own messages only; another merchant's id is 404.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use domain::{Category, Msisdn, SenderId};
use maud::{Markup, html};
use policy::{ReasonCode, Verdict};
use serde::Deserialize;
use store::{MAX_OFFSET, MessageColumn, MessageQuery, MessageRecord, MessageSort};

use super::i18n::Lang;
use super::layout::{Failure, Page, page, verdict, when};
use super::senders::urlencode;
use super::session::User;
use crate::AppState;
use crate::listing;
use crate::path::{ApiPath, id_or_not_found};

const PER_PAGE: u32 = 25;

/// The search form's fields (all optional; empty means any) and the order.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Search {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    sender: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    dir: String,
    before: Option<u64>,
    offset: Option<u32>,
}

impl Search {
    /// The query string of these filters (not the order, not the page).
    fn filters(&self) -> String {
        [
            ("phone", self.phone.trim()),
            ("sender", self.sender.trim()),
            ("status", self.status.trim()),
            ("reason", self.reason.trim()),
            ("category", self.category.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

fn status_tag(lang: Lang, v: Verdict) -> Markup {
    html! { span.tag.(v.as_str()) { (verdict(lang, v)) } }
}

fn bad(lang: Lang) -> Failure {
    Failure::new(lang, StatusCode::UNPROCESSABLE_ENTITY, "error")
}

/// `GET /console/messages?phone=&sender=&status=&reason=&category=&from=&to=&sort=&dir=&before=&offset=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: User,
    q: Result<Query<Search>, QueryRejection>,
) -> Result<Page, Failure> {
    let lang = user.lang;
    let Query(s) = q.map_err(|_| bad(lang))?;
    let staff = user.user.account.role.sender().is_none();
    let region = state.gateway.policy().region();
    let api = |e| Failure::from_api(lang, e);
    let phone = match s.phone.trim() {
        "" => None,
        p => Some(Msisdn::parse(p, region).map_err(|e| {
            Failure::from_api(
                lang,
                crate::error::ApiError::from(gateway::GatewayError::from(e)),
            )
        })?),
    };
    let sender = match s.sender.trim() {
        "" => None,
        v => Some(SenderId(v.parse().map_err(|_| bad(lang))?)),
    };
    let status = match s.status.as_str() {
        "" => None,
        "accepted" => Some(Verdict::Accepted),
        "deferred" => Some(Verdict::Deferred),
        "rejected" => Some(Verdict::Rejected),
        _ => return Err(bad(lang)),
    };
    let sort = listing::message_sort(Some(&s.sort), Some(&s.dir)).map_err(api)?;
    let offset = listing::offset(s.offset).map_err(api)?;
    let query = MessageQuery {
        phone,
        sender,
        status,
        reason: listing::reason(Some(&s.reason)).map_err(api)?,
        category: listing::category(Some(&s.category)).map_err(api)?,
        from: listing::bound("from", Some(&s.from)).map_err(api)?,
        to: listing::bound("to", Some(&s.to)).map_err(api)?,
        before: s.before,
        sort,
        offset,
        limit: PER_PAGE + 1,
    };
    let by = user.user.principal();
    let mut found = state
        .run(move |gw| gw.search_messages(by, query))
        .await
        .map_err(api)?;
    let more = found.len() > PER_PAGE as usize;
    found.truncate(PER_PAGE as usize);
    let filters = s.filters();
    let ordered = format!(
        "/console/messages?{filters}&sort={}&dir={}",
        sort.column.as_str(),
        if sort.descending { "desc" } else { "asc" }
    );
    // Newest first pages by id (a page stays put while messages arrive); other orders by
    // offset.
    let by_id = sort == MessageSort::default() && s.offset.is_none();
    let next = if !more {
        None
    } else if by_id {
        found
            .last()
            .map(|last| format!("{ordered}&before={}", last.id))
    } else {
        let n = offset.saturating_add(PER_PAGE);
        (n <= MAX_OFFSET).then(|| format!("{ordered}&offset={n}"))
    };
    let first_page = s.before.is_none() && offset == 0;
    let body = html! {
        form.filters method="get" action="/console/messages" role="search" {
            div { label for="phone" { (lang.t("phone")) } input #phone name="phone" value=(s.phone) inputmode="tel" maxlength="32"; }
            @if staff {
                div { label for="sender" { (lang.t("sender")) " " (lang.t("id")) } input #sender name="sender" value=(s.sender) inputmode="numeric" size="6" maxlength="10"; }
            }
            div {
                label for="status" { (lang.t("status")) }
                select #status name="status" {
                    option value="" { (lang.t("any")) }
                    @for v in [Verdict::Accepted, Verdict::Deferred, Verdict::Rejected] {
                        option value=(v.as_str()) selected[s.status == v.as_str()] { (verdict(lang, v)) }
                    }
                }
            }
            div {
                label for="reason" { (lang.t("reason")) }
                select #reason name="reason" {
                    option value="" { (lang.t("any")) }
                    @for r in ReasonCode::ALL {
                        option value=(r.as_str()) selected[s.reason == r.as_str()] { (r.as_str()) }
                    }
                }
            }
            div {
                label for="category" { (lang.t("category")) }
                select #category name="category" {
                    option value="" { (lang.t("any")) }
                    @for c in Category::ALL {
                        option value=(c.as_str()) selected[s.category == c.as_str()] { (c.as_str()) }
                    }
                }
            }
            div { label for="from" { (lang.t("from")) } input #from name="from" type="date" value=(s.from) maxlength="40"; }
            div { label for="to" { (lang.t("to")) } input #to name="to" type="date" value=(s.to) maxlength="40"; }
            input type="hidden" name="sort" value=(sort.column.as_str());
            input type="hidden" name="dir" value=(if sort.descending { "desc" } else { "asc" });
            button type="submit" { (lang.t("search")) }
        }
        (table(lang, &found, staff, sort, &filters))
        @if found.is_empty() { p { (lang.t("no_results")) } }
        nav.pager aria-label=(lang.t("page")) {
            @if !first_page { a href=(ordered) { (lang.t("first_page")) } }
            @if let Some(next) = next { a rel="next" href=(next) { (lang.t("next_page")) } }
        }
    };
    Ok(page(&user, lang.t("messages"), body))
}

/// A column header that sorts by `column`: a link to the same search ordered by it, largest
/// first, or the other way when it is already the order; `aria-sort` says the current order.
fn sort_header(
    lang: Lang,
    label: &'static str,
    column: MessageColumn,
    current: MessageSort,
    filters: &str,
    class: Option<&str>,
) -> Markup {
    let active = current.column == column;
    let next_desc = !(active && current.descending);
    let aria = match (active, current.descending) {
        (false, _) => "none",
        (true, true) => "descending",
        (true, false) => "ascending",
    };
    let arrow = match (active, current.descending) {
        (false, _) => "",
        (true, true) => " ▼",
        (true, false) => " ▲",
    };
    html! {
        th class=[class] aria-sort=(aria) {
            a href={ "/console/messages?" (filters) "&sort=" (column.as_str()) "&dir=" (if next_desc { "desc" } else { "asc" }) }
                title=(lang.t("sort_by")) { (lang.t(label)) (arrow) }
        }
    }
}

fn table(
    lang: Lang,
    found: &[MessageRecord],
    staff: bool,
    sort: MessageSort,
    filters: &str,
) -> Markup {
    html! {
        table {
            thead { tr {
                (sort_header(lang, "id", MessageColumn::Id, sort, filters, Some("num")))
                th { (lang.t("time")) }
                @if staff { (sort_header(lang, "sender", MessageColumn::Sender, sort, filters, Some("num"))) }
                (sort_header(lang, "phone", MessageColumn::Phone, sort, filters, None))
                th { (lang.t("category")) }
                (sort_header(lang, "status", MessageColumn::Status, sort, filters, None))
                th { (lang.t("reasons")) } th { (lang.t("delivery")) }
            } }
            tbody {
                @for m in found {
                    tr {
                        td.num { a href={ "/console/messages/" (m.id) } { (m.id) } }
                        td { (when(m.submitted_at)) }
                        @if staff { td.num { a href={ "/console/senders/" (m.sender) } { (m.sender) } } }
                        td { (m.to) }
                        td { (m.category.as_str()) }
                        td { (status_tag(lang, m.status)) }
                        td { @for r in &m.reasons { code { (r.code.as_str()) } " " } }
                        td { (m.delivery.as_str()) }
                    }
                }
            }
        }
    }
}

/// `GET /console/messages/{id}`: the decision with every reason and its detail, the content
/// scores stored with it, and the delivery state.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
) -> Result<Page, Failure> {
    let lang = user.lang;
    let id: u64 = id_or_not_found("message", &id).map_err(|e| Failure::from_api(lang, e))?;
    let by = user.user.principal();
    let m = state
        .run(move |gw| gw.message(by, id))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let staff = user.user.account.role.sender().is_none();
    let scores = m.content_scores.as_ref().and_then(|v| {
        let category = v
            .get("category")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_string();
        let mut rows: Vec<(String, f64)> = v
            .get("scores")?
            .as_object()?
            .iter()
            .filter_map(|(k, p)| Some((k.clone(), p.as_f64()?)))
            .collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        Some((category, rows))
    });
    let body = html! {
        table {
            tr { th { (lang.t("sender")) } td {
                @if staff { a href={ "/console/senders/" (m.sender) } { "#" (m.sender) } } @else { "#" (m.sender) }
                @if let Some(s) = state.gateway.sender(m.sender) { " " (s.name) }
            } }
            tr { th { (lang.t("phone")) } td {
                @if staff && m.phone.is_some() {
                    a href={ "/console/consents?phone=" (urlencode(&m.to)) "&at=" (urlencode(&m.decided_at.to_string())) } { (m.to) }
                } @else { (m.to) }
            } }
            tr { th { (lang.t("category")) } td { (m.category.as_str()) } }
            tr { th { (lang.t("text")) } td { (m.text) } }
            tr { th { (lang.t("submitted_at")) } td { (when(m.submitted_at)) } }
        }
        h2 { (lang.t("decision")) }
        p { (status_tag(lang, m.status)) " " (lang.t("decided_at")) " " (when(m.decided_at))
            @if let Some(r) = m.release_at { " · " (lang.t("release_at")) " " (when(r)) } }
        @if m.reasons.is_empty() { p { (lang.t("no_reasons")) } }
        @else {
            table {
                thead { tr { th { (lang.t("reason")) } th { "" } } }
                tbody { @for r in &m.reasons { tr { td { code { (r.code.as_str()) } } td { (r.detail) } } } }
            }
        }
        h2 { (lang.t("content_scores")) }
        @match &scores {
            None => p { (lang.t("no_scores")) },
            Some((category, rows)) => {
                p { (lang.t("category")) ": " strong { (category) } }
                table {
                    tbody { @for (label, p) in rows { tr { td { (label) } td.num { (format!("{p:.3}")) } } } }
                }
            }
        }
        h2 { (lang.t("delivery")) }
        p { (m.delivery.as_str()) @if let Some(t) = m.delivery_at { " · " (when(t)) } }
        p { a href="/console/messages" { (lang.t("back")) } }
    };
    Ok(page(
        &user,
        &format!("{} #{}", lang.t("message"), m.id),
        body,
    ))
}
