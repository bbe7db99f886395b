//! `/v1/reports/senders` (JSON or CSV) and `/reports/senders` (an HTML page with charts): per-sender
//! figures for a period, in the shape a regulator asks for.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use complaints::PeriodReport;
use complaints::report::parse_bound;
use jiff::SignedDuration;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::handlers::reports_page;

/// The period, and the format.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Start, inclusive: RFC 3339 or `YYYY-MM-DD` (midnight UTC). Default: 30 days before `to`.
    #[param(schema_with = crate::schema::report_bound)]
    pub from: Option<String>,
    /// End, exclusive. Default: now.
    #[param(schema_with = crate::schema::report_bound)]
    pub to: Option<String>,
    /// `json` (default) or `csv`.
    #[param(schema_with = crate::schema::report_format)]
    pub format: Option<String>,
}

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", message)
}

async fn build(
    state: &AppState,
    caller: Caller,
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(PeriodReport, Option<String>), ApiError> {
    // The admin reads every sender's row; a sender its own (the gateway scopes the rows and
    // leaves out the unverified complaints, which name no one it may know); the carrier none.
    if caller.0 == gateway::Principal::Carrier {
        return Err(ApiError::forbidden("reports are for the admin and senders"));
    }
    let Query(q) = q.map_err(|e| bad_query(e.body_text()))?;
    let to = match q.to.as_deref() {
        Some(s) => Some(parse_bound(s).map_err(bad_query)?),
        None => None,
    };
    let from = match q.from.as_deref() {
        Some(s) => Some(parse_bound(s).map_err(bad_query)?),
        None => None,
    };
    let by = caller.0;
    let report = state
        .run(move |gw| {
            let to = to.unwrap_or_else(|| gw.clock().now());
            let from = from.unwrap_or_else(|| {
                to.saturating_sub(SignedDuration::from_hours(24 * 30))
                    .unwrap_or(to)
            });
            gw.sender_report(by, from, to)
        })
        .await?;
    Ok((report, q.format))
}

/// Per-sender figures for a period: sent, blocked by reason, opt-outs, complaints, violations,
/// suspensions. The admin reads every sender; a sender's key its own row only (the merchant's
/// own report, as on `/console/reports`). `?format=csv` for a spreadsheet.
#[utoipa::path(get, path = "/v1/reports/senders", params(ReportQuery),
    responses((status = 200, content((Object = "application/json"), (String = "text/csv")),
        description = "the report; `?format=csv` answers `text/csv`"), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn senders(
    State(state): State<AppState>,
    caller: Caller,
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let (report, format) = build(&state, caller, q).await?;
    match format.as_deref() {
        None | Some("json") => Ok(axum::Json(report).into_response()),
        Some("csv") => {
            Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], report.to_csv()).into_response())
        }
        Some(other) => Err(bad_query(format!(
            "format {:?}: expected json or csv",
            other.chars().take(16).collect::<String>()
        ))),
    }
}

/// The same figures as an HTML page with charts, rendered here: no scripts, no external assets.
/// A browser, which sends no bearer key, is sent to the console's report (which signs it in
/// first) instead of a 401 in JSON it cannot act on; a wrong key is still 401.
pub async fn page(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    q: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let caller = match caller {
        Ok(c) => c,
        Err(_) if !headers.contains_key(axum::http::header::AUTHORIZATION) => {
            // The console reads `from` and `to` the same way; `format` it has no use for.
            let mut to = String::from("/console/reports");
            if let Some(q) = uri.query() {
                let kept: Vec<&str> = q
                    .split('&')
                    .filter(|kv| kv.starts_with("from=") || kv.starts_with("to="))
                    .collect();
                if !kept.is_empty() {
                    to.push('?');
                    to.push_str(&kept.join("&"));
                }
            }
            return Ok(axum::response::Redirect::to(&to).into_response());
        }
        Err(e) => return Err(e),
    };
    // The regulator's page stays the admin's; merchants read theirs in the console.
    caller.require_admin()?;
    let (report, _) = build(&state, caller, q).await?;
    let limit = state.gateway.enforcement().max_complaint_rate_per_10k;
    Ok((
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            // Nothing on the page may load or run anything: sender names are untrusted text.
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        reports_page::render(&report, limit),
    )
        .into_response())
}
