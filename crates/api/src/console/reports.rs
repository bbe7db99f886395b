//! `/console/reports`: per-sender figures for a period (the `/v1/reports/senders` data) as a
//! table with charts, and the same as CSV for a spreadsheet. Operators and auditors see every
//! sender; a merchant sees its own row only (the gateway's [`gateway::Gateway::sender_report`]
//! scopes it).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use complaints::PeriodReport;
use complaints::report::parse_bound;
use jiff::SignedDuration;
use maud::{Markup, html};
use serde::Deserialize;

use super::charts::bars;
use super::i18n::Lang;
use super::layout::{Failure, Page, page, when};
use super::senders::urlencode;
use super::session::User;
use crate::AppState;
use crate::error::ApiError;

/// Most senders drawn in a chart (the table lists them all).
const CHART_ROWS: usize = 15;

/// The period: `from` inclusive, `to` exclusive; RFC 3339, `YYYY-MM-DDTHH:MM` (UTC, what a
/// `datetime-local` field sends) or `YYYY-MM-DD`. Default: the 30 days before now.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Period {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message)
}

async fn build(
    state: &AppState,
    user: &User,
    q: Result<Query<Period>, QueryRejection>,
) -> Result<(PeriodReport, Period), Failure> {
    let lang = user.lang;
    let Query(p) = q.map_err(|e| Failure::from_api(lang, invalid(e.body_text())))?;
    let bound = |s: &str| -> Result<Option<jiff::Timestamp>, Failure> {
        match s.trim() {
            "" => Ok(None),
            v => parse_bound(v)
                .map(Some)
                .map_err(|e| Failure::from_api(lang, invalid(e))),
        }
    };
    let (from, to) = (bound(&p.from)?, bound(&p.to)?);
    let by = user.user.principal();
    let report = state
        .run(move |gw| {
            let to = to.unwrap_or_else(|| gw.clock().now());
            let from = from.unwrap_or_else(|| {
                to.saturating_sub(SignedDuration::from_hours(24 * 30))
                    .unwrap_or(to)
            });
            gw.sender_report(by, from, to)
        })
        .await
        .map_err(|e| Failure::from_api(lang, e))?;
    Ok((report, p))
}

/// The `n` largest `(label, value)` rows of `f` over the senders, largest first.
fn top(r: &PeriodReport, f: impl Fn(&complaints::SenderFigures) -> u64) -> Vec<(String, u64)> {
    let mut rows: Vec<(String, u64)> = r
        .senders
        .iter()
        .map(|s| (format!("#{} {}", s.sender_id, s.name), f(s)))
        .filter(|(_, v)| *v > 0)
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(CHART_ROWS);
    rows
}

fn body(lang: Lang, r: &PeriodReport, p: &Period, staff: bool) -> Markup {
    let csv = format!(
        "/console/reports/csv?from={}&to={}",
        urlencode(p.from.trim()),
        urlencode(p.to.trim())
    );
    html! {
        form.filters method="get" action="/console/reports" {
            div { label for="from" { (lang.t("from")) } input #from name="from" type="datetime-local" value=(p.from); }
            div { label for="to" { (lang.t("to")) } input #to name="to" type="datetime-local" value=(p.to); }
            button type="submit" { (lang.t("show")) }
            a.button #csv href=(csv) download="senders-report.csv" { (lang.t("export_csv")) }
        }
        p { (lang.t("period")) ": " (when(r.from)) " — " (when(r.to)) }
        div.charts {
            (bars(lang.t("sent_by_sender"), &top(r, |s| s.sent)))
            (bars(lang.t("blocked_by_sender"), &top(r, |s| s.blocked)))
            (bars(lang.t("complaints_by_sender"), &top(r, |s| s.complaints)))
        }
        table #report {
            thead { tr {
                th.num { (lang.t("id")) } th { (lang.t("name")) } th.num { (lang.t("sent")) }
                th.num { (lang.t("marketing_sent")) } th.num { (lang.t("blocked")) }
                th.num { (lang.t("opt_outs")) } th.num { (lang.t("complaints")) }
                th.num { (lang.t("violations")) } th.num { (lang.t("upheld_phones")) }
                th.num { (lang.t("suspensions")) }
                th.num { (lang.t("complaint_rate")) } th { (lang.t("status")) }
            } }
            tbody {
                @for s in &r.senders {
                    tr {
                        td.num { @if staff { a href={ "/console/senders/" (s.sender_id) } { (s.sender_id) } } @else { (s.sender_id) } }
                        td { (s.name) }
                        td.num { (s.sent) } td.num { (s.marketing_sent) } td.num { (s.blocked) }
                        td.num { (s.opt_outs) }
                        td.num {
                            @if s.complaints > 0 {
                                a href={ "/console/complaints?sender=" (s.sender_id) } { (s.complaints) }
                            } @else { "0" }
                        }
                        td.num { (s.violations) } td.num { (s.upheld_phones) } td.num { (s.suspensions) }
                        td.num { (s.complaint_rate_per_10k.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())) }
                        td { @if s.suspended_now { span.tag.suspended { (lang.t("suspended")) } } @else { span.tag.active { (lang.t("active")) } } }
                    }
                }
            }
        }
        @if r.senders.is_empty() { p { (lang.t("no_results")) } }
        @if staff {
            ul #platform {
                li { (lang.t("unverified_complaints")) ": " (r.unverified_complaints) }
                li { (lang.t("platform_opt_outs")) ": " (r.platform_opt_outs) }
                li { (lang.t("platform_notices")) ": " (r.platform_notices_sent) }
            }
        }
    }
}

/// `GET /console/reports?from=&to=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    user: User,
    q: Result<Query<Period>, QueryRejection>,
) -> Result<Page, Failure> {
    let (report, p) = build(&state, &user, q).await?;
    let staff = user.user.account.role.sender().is_none();
    let lang = user.lang;
    Ok(page(
        &user,
        lang.t("reports"),
        body(lang, &report, &p, staff),
    ))
}

/// `GET /console/reports/csv?from=&to=`: the same rows as `/v1/reports/senders?format=csv`.
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: User,
    q: Result<Query<Period>, QueryRejection>,
) -> Result<Response, Failure> {
    let (report, _) = build(&state, &user, q).await?;
    let mut resp = report.to_csv().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"senders-report.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
