//! `/console/complaints`: the complaints queue (filter by verdict and sender; newest first a
//! page at a time by id, or sorted by a column header's link — filed, sender, verdict, either
//! way, paged by offset), a complaint's page with its verdict, findings and the consent that
//! decided it, and its evidence bundle as a download. Operators and auditors read every
//! complaint; a merchant reads the complaints against it only (never the unverified ones, and
//! without the complainant's note) — another's id is 404, as on `/v1/complaints/{id}`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use complaints::{ComplaintVerdict, MatchOutcome};
use domain::SenderId;
use maud::{Markup, html};
use serde::Deserialize;
use store::{ComplaintColumn, ComplaintQuery, ComplaintRecord, ComplaintSort};

use super::i18n::Lang;
use super::layout::{Failure, Page, page, when};
use super::senders::urlencode;
use super::session::User;
use crate::AppState;
use crate::path::{ApiPath, id_or_not_found};

const PER_PAGE: u32 = 25;
const VERDICTS: [ComplaintVerdict; 3] = [
    ComplaintVerdict::Violation,
    ComplaintVerdict::NoViolation,
    ComplaintVerdict::Unverified,
];

/// The queue's filters (all optional; empty means any).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Filter {
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    sender: String,
    /// `filed` (default), `sender` or `verdict`.
    #[serde(default)]
    sort: String,
    /// `desc` (default) or `asc`.
    #[serde(default)]
    dir: String,
    before: Option<u64>,
    offset: Option<u32>,
}

/// A filter the page cannot read: 422 with the stable code `invalid_query` and what was wrong.
fn bad(lang: Lang, message: String) -> Failure {
    Failure::from_api(
        lang,
        crate::error::ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message),
    )
}

/// A verdict as a coloured tag (the words, not only the colour, carry the meaning).
fn verdict_tag(lang: Lang, v: ComplaintVerdict) -> Markup {
    html! { span.tag.(v.as_str()) { (lang.t(v.as_str())) } }
}

/// A stable code for a serde-named enum (a finding's ground), as the API spells it.
fn code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `GET /console/complaints?verdict=&sender=&sort=&dir=&before=&offset=`.
pub(crate) async fn list(
    State(state): State<AppState>,
    user: User,
    q: Result<Query<Filter>, QueryRejection>,
) -> Result<Page, Failure> {
    let lang = user.lang;
    let Query(f) = q.map_err(|e| bad(lang, e.body_text()))?;
    let staff = user.user.account.role.sender().is_none();
    let verdict = match f.verdict.as_str() {
        "" => None,
        v => Some(v.parse::<ComplaintVerdict>().map_err(|_| {
            bad(
                lang,
                "verdict: expected violation, no_violation or unverified".into(),
            )
        })?),
    };
    // A merchant's queue is its own whatever the address says: the field is not offered.
    let sender = match f.sender.trim() {
        "" => None,
        _ if !staff => None,
        v => Some(SenderId(v.parse().map_err(|_| {
            bad(lang, "sender: expected a sender id (digits)".into())
        })?)),
    };
    let api = |e| Failure::from_api(lang, e);
    let sort = crate::listing::complaint_sort(Some(&f.sort), Some(&f.dir)).map_err(api)?;
    let offset = crate::listing::offset(f.offset).map_err(api)?;
    let by = user.user.principal();
    let before = f.before;
    let query = ComplaintQuery {
        sender,
        verdict,
        hide_unverified: false,
        before,
        sort,
        offset,
        limit: PER_PAGE,
    };
    let found = state
        .run(move |gw| gw.complaint_page(by, query))
        .await
        .map_err(api)?;
    let filters = format!(
        "verdict={}&sender={}",
        urlencode(&f.verdict),
        urlencode(f.sender.trim())
    );
    let base = format!(
        "/console/complaints?{filters}&sort={}&dir={}",
        sort.column.as_str(),
        if sort.descending { "desc" } else { "asc" }
    );
    // Newest first pages by id (a page stays put while complaints arrive); other orders by
    // offset.
    let next = match (found.next_before, found.next_offset) {
        (Some(b), _) if f.offset.is_none() => Some(format!("{base}&before={b}")),
        (_, Some(n)) => Some(format!("{base}&offset={n}")),
        _ => None,
    };
    let first_page = before.is_none() && offset == 0;
    let body = html! {
        form.filters method="get" action="/console/complaints" role="search" {
            div {
                label for="verdict" { (lang.t("verdict")) }
                select #verdict name="verdict" {
                    option value="" { (lang.t("any")) }
                    @for v in VERDICTS {
                        @if staff || v != ComplaintVerdict::Unverified {
                            option value=(v.as_str()) selected[f.verdict == v.as_str()] { (lang.t(v.as_str())) }
                        }
                    }
                }
            }
            @if staff {
                div { label for="sender" { (lang.t("sender")) " " (lang.t("id")) } input #sender name="sender" value=(f.sender) inputmode="numeric" size="6" maxlength="10"; }
            }
            input type="hidden" name="sort" value=(sort.column.as_str());
            input type="hidden" name="dir" value=(if sort.descending { "desc" } else { "asc" });
            button type="submit" { (lang.t("search")) }
        }
        (table(lang, &found.complaints, staff, sort, &filters))
        @if found.complaints.is_empty() { p { (lang.t("no_results")) } }
        nav.pager aria-label=(lang.t("page")) {
            @if !first_page { a href=(base) { (lang.t("first_page")) } }
            @if let Some(next) = next { a rel="next" href=(next) { (lang.t("next_page")) } }
        }
    };
    Ok(page(&user, lang.t("complaints_title"), body))
}

/// A column header that sorts by `column`: a link to the same queue ordered by it, largest
/// first, or the other way when it is already the order; `aria-sort` says the current order.
fn sort_header(
    lang: Lang,
    label: &'static str,
    column: ComplaintColumn,
    current: ComplaintSort,
    filters: &str,
    class: Option<&str>,
) -> Markup {
    let active = current.column == column;
    let next_desc = !(active && current.descending);
    let (aria, arrow) = match (active, current.descending) {
        (false, _) => ("none", ""),
        (true, true) => ("descending", " ▼"),
        (true, false) => ("ascending", " ▲"),
    };
    html! {
        th class=[class] aria-sort=(aria) {
            a href={ "/console/complaints?" (filters) "&sort=" (column.as_str()) "&dir=" (if next_desc { "desc" } else { "asc" }) }
                title=(lang.t("sort_by")) { (lang.t(label)) (arrow) }
        }
    }
}

fn table(
    lang: Lang,
    found: &[ComplaintRecord],
    staff: bool,
    sort: ComplaintSort,
    filters: &str,
) -> Markup {
    html! {
        table {
            thead { tr {
                th.num { (lang.t("id")) }
                (sort_header(lang, "filed_at", ComplaintColumn::Filed, sort, filters, None))
                @if staff {
                    (sort_header(lang, "sender", ComplaintColumn::Sender, sort, filters, Some("num")))
                    th { (lang.t("phone")) }
                }
                th { (lang.t("kind")) }
                (sort_header(lang, "verdict", ComplaintColumn::Verdict, sort, filters, None))
                th { (lang.t("findings")) }
                th.num { (lang.t("message")) }
            } }
            tbody {
                @for c in found {
                    tr {
                        td.num { a href={ "/console/complaints/" (c.id) } { (c.id) } }
                        td { (when(c.filed_at)) }
                        @if staff {
                            td.num { @if let Some(s) = c.sender { a href={ "/console/senders/" (s) } { (s) } } @else { "—" } }
                            td { (c.phone) }
                        }
                        td { (lang.t(c.kind.as_str())) }
                        td { (verdict_tag(lang, c.verdict())) }
                        td { @for f in &c.adjudication.findings { code { (code(&f.ground)) } " " } }
                        td.num { @if let Some(m) = c.message_id { a href={ "/console/messages/" (m) } { (m) } } @else { "—" } }
                    }
                }
            }
        }
    }
}

fn matched(lang: Lang, m: &MatchOutcome) -> Markup {
    html! {
        @match m {
            MatchOutcome::Matched { message_id, by, similarity } => {
                (lang.t("matched")) " #" (message_id) " (" (code(by))
                @if let Some(s) = similarity { ", " (format!("{s:.2}")) }
                ")"
            }
            MatchOutcome::NoCandidate => { (lang.t("no_candidate")) }
            MatchOutcome::Ambiguous { candidates } => { (lang.t("ambiguous")) " (" (candidates) ")" }
        }
    }
}

/// `GET /console/complaints/{id}`: the verdict with every finding, what the complaint says, the
/// message it was matched to, the consent at the hand-off with its deciding event, and the
/// evidence bundle's download link.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
) -> Result<Page, Failure> {
    let lang = user.lang;
    let id: u64 = id_or_not_found("complaint", &id).map_err(|e| Failure::from_api(lang, e))?;
    let by = user.user.principal();
    let c = state
        .run(move |gw| gw.complaint(by, id))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let staff = user.user.account.role.sender().is_none();
    let a = &c.adjudication;
    let body = html! {
        p #verdict { (lang.t("verdict")) ": " (verdict_tag(lang, a.verdict))
            @if a.treated_as_marketing { " · " (lang.t("treated_as_marketing")) } }
        table {
            tr { th { (lang.t("kind")) } td { (lang.t(c.kind.as_str())) } }
            tr { th { (lang.t("sender")) } td {
                @match c.sender {
                    Some(s) => {
                        @if staff { a href={ "/console/senders/" (s) } { "#" (s) } } @else { "#" (s) }
                        @if let Some(r) = state.gateway.sender(s) { " " (r.name) }
                    }
                    None => { "—" }
                }
            } }
            @if staff { tr { th { (lang.t("phone")) } td { (c.phone) } } }
            tr { th { (lang.t("message")) } td {
                @if let Some(m) = c.message_id { a href={ "/console/messages/" (m) } { "#" (m) } " · " }
                (matched(lang, &c.matched))
            } }
            @if let Some(t) = &c.text { tr { th { (lang.t("text")) } td { (t) } } }
            @if let Some(n) = &c.source_number { tr { th { (lang.t("source_number")) } td { (n) } } }
            tr { th { (lang.t("received_at")) } td { (when(c.received_at)) } }
            tr { th { (lang.t("filed_at")) } td { (when(c.filed_at)) " · " (lang.t("filed_by")) " " code { (c.filed_by) } } }
            @if let Some(n) = &c.note { tr { th { (lang.t("note")) } td { (n) } } }
        }
        h2 { (lang.t("findings")) }
        table #findings {
            thead { tr { th { (lang.t("ground")) } th { "" } } }
            tbody { @for f in &a.findings { tr { td { code { (code(&f.ground)) } } td { (f.detail) } } } }
        }
        @if let Some(cs) = &a.consent {
            h2 { (lang.t("consent_at_send")) }
            p { (when(cs.at)) ": " span.tag.(cs.state) { (lang.t(consent_key(&cs.state))) } }
            @if let Some(e) = &cs.event {
                p { (lang.t("deciding_event")) ": #" (e.seq) " " code { (e.action.as_str()) } " "
                    (e.source.as_str()) " · " (when(e.at)) " · " (e.evidence) }
            }
        }
        p {
            a.button #evidence href={ "/console/complaints/" (c.id) "/evidence" } download={ "complaint-" (c.id) "-evidence.json" } {
                (lang.t("download_evidence"))
            }
        }
        p { a href="/console/complaints" { (lang.t("back")) } }
    };
    Ok(page(
        &user,
        &format!("{} #{}", lang.t("complaint"), c.id),
        body,
    ))
}

/// A consent state's table key (an unknown one shows as itself).
fn consent_key(state: &str) -> &'static str {
    match state {
        "consented" => "consented",
        "opted_out" => "opted_out",
        _ => "no_consent",
    }
}

/// `GET /console/complaints/{id}/evidence`: the bundle of `/v1/complaints/{id}/evidence` as a
/// JSON file download, so a regulator in the console need not hold an API key.
pub(crate) async fn evidence(
    State(state): State<AppState>,
    user: User,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, Failure> {
    let lang = user.lang;
    let id: u64 = id_or_not_found("complaint", &id).map_err(|e| Failure::from_api(lang, e))?;
    let by = user.user.principal();
    let bundle = state
        .run(move |gw| gw.complaint_evidence_json(by, id))
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    let json = serde_json::to_vec_pretty(&bundle)
        .map_err(|_| Failure::new(lang, StatusCode::INTERNAL_SERVER_ERROR, "error"))?;
    let mut resp = json.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"complaint-{id}-evidence.json\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}
