//! `/v1/complaints`: filing complaints and reading verdicts with their evidence.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use complaints::{ComplaintKind, ComplaintVerdict};
use domain::{SenderId, Timestamp};
use gateway::{ComplaintFiled, ComplaintRequest};
use serde::{Deserialize, Serialize};
use store::ComplaintRecord;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::path::{ApiPath, id_or_not_found};

/// A complaint about a message a consumer received.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileComplaint {
    /// The consumer's number.
    #[schema(schema_with = crate::schema::phone)]
    pub phone: String,
    /// The message complained about, if known. Without it the complaint is matched to what
    /// consentry sent the phone by sender, time and text.
    #[serde(default)]
    pub message_id: Option<u64>,
    /// The sender, if known by id.
    #[serde(default)]
    pub sender_id: Option<u32>,
    /// The number the message came from, as the consumer saw it.
    #[serde(default)]
    pub source_number: Option<String>,
    /// The text as the consumer saw it (≤ 1000 characters).
    #[serde(default)]
    #[schema(schema_with = crate::schema::seen_text)]
    pub text: Option<String>,
    /// When the consumer received it (RFC 3339); now if absent.
    #[serde(default)]
    #[schema(schema_with = crate::schema::timestamp_or_null)]
    pub received_at: Option<Timestamp>,
    /// `unwanted_marketing`, `after_optout`, `fraud` or `other`.
    #[schema(schema_with = crate::schema::complaint_kind)]
    pub kind: ComplaintKind,
    /// Free text (≤ 2000 characters).
    #[serde(default)]
    #[schema(schema_with = crate::schema::note)]
    pub note: Option<String>,
}

/// Files a complaint (admin, or the carrier key for 举报/REPORT replies): adjudicated at once
/// against what consentry recorded at send time; may suspend the sender.
#[utoipa::path(post, path = "/v1/complaints", request_body = FileComplaint,
    responses((status = 201, body = Object, description = "the complaint with its verdict"),
        (status = 409, body = crate::error::ErrorBody, description = "duplicate_complaint"),
        (status = 422, body = crate::error::ErrorBody),
        (status = 429, body = crate::error::ErrorBody, description = "too_many_complaints")),
    security(("bearer" = [])))]
pub async fn file(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiJson(body): ApiJson<FileComplaint>,
) -> Result<(StatusCode, Json<ComplaintFiled>), ApiError> {
    let req = ComplaintRequest {
        phone: body.phone,
        message_id: body.message_id,
        sender_id: body.sender_id.map(SenderId),
        source_number: body.source_number,
        text: body.text,
        received_at: body.received_at,
        kind: body.kind,
        note: body.note,
    };
    let filed = state.run(move |gw| gw.file_complaint(by, &req)).await?;
    Ok((StatusCode::CREATED, Json(filed)))
}

/// Paging through complaints.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only complaints about this sender (a sender's key implies itself).
    pub sender_id: Option<u32>,
    /// Only complaints with this verdict: `violation`, `no_violation` or `unverified`.
    #[param(schema_with = crate::schema::complaint_verdict)]
    pub verdict: Option<ComplaintVerdict>,
    /// Order by `filed` (the order of filing, the default), `sender` or `verdict`; ties by id.
    #[param(schema_with = crate::schema::complaint_sort)]
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    #[param(schema_with = crate::schema::sort_dir)]
    pub dir: Option<String>,
    /// Only complaints with ids below this (the last id of the previous page).
    pub before: Option<u64>,
    /// Rows of the order to skip, at most 10,000: pass `next_offset` to get the next page of
    /// any sort.
    #[param(schema_with = crate::schema::list_offset)]
    pub offset: Option<u32>,
    /// At most this many (1–500, default 100).
    #[param(schema_with = crate::schema::page_limit)]
    pub limit: Option<u32>,
}

/// A page of complaints, in the order asked for (newest first by default).
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintList {
    /// Complaints.
    #[schema(value_type = Vec<Object>)]
    pub complaints: Vec<ComplaintRecord>,
    /// Newest-first pages only: pass as `before` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
    /// Pass as `offset` (with the same query) for the next page; absent on the last page or
    /// past the deepest offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u32>,
}

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(v)| v).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            e.body_text(),
        )
    })
}

/// Lists complaints, filtered by sender and verdict, sorted by filing, sender or verdict
/// either way, paged by id (`before`) or by `offset`: the admin sees all, a sender only those
/// about itself (never the unverified ones).
#[utoipa::path(get, path = "/v1/complaints", params(ListQuery),
    responses((status = 200, body = ComplaintList),
        (status = 400, body = crate::error::ErrorBody, description = "invalid_sort (sort, dir), invalid_filter (offset)"),
        (status = 422, body = crate::error::ErrorBody, description = "invalid_query (an unknown parameter, a verdict that is not one)")),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Caller(by): Caller,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ComplaintList>, ApiError> {
    let q = query(q)?;
    let list = store::ComplaintQuery {
        sender: q.sender_id.map(SenderId),
        verdict: q.verdict,
        hide_unverified: false,
        before: q.before,
        sort: crate::listing::complaint_sort(q.sort.as_deref(), q.dir.as_deref())?,
        offset: crate::listing::offset(q.offset)?,
        limit: q.limit.unwrap_or(100),
    };
    let page = state.run(move |gw| gw.complaint_page(by, list)).await?;
    Ok(Json(ComplaintList {
        complaints: page.complaints,
        next_before: page.next_before,
        next_offset: page.next_offset,
    }))
}

/// One complaint with its verdict and findings. A sender reads only complaints about itself;
/// others read as not found.
#[utoipa::path(get, path = "/v1/complaints/{id}", params(("id" = u64, Path)),
    responses((status = 200, body = Object), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ComplaintRecord>, ApiError> {
    let id = id_or_not_found("complaint", &id)?;
    Ok(Json(state.run(move |gw| gw.complaint(by, id)).await?))
}

/// The complaint's self-contained evidence bundle (`consentry-evidence/2`): verdict, findings,
/// ledger events, decision, classifier scores, and audit proofs (each with the record's chained
/// columns) with the blocks from them to the chain's head, checkable offline with
/// `consentry evidence verify FILE --head HEAD`.
#[utoipa::path(get, path = "/v1/complaints/{id}/evidence", params(("id" = u64, Path)),
    responses((status = 200, body = Object, description = "format `consentry-evidence/2`; `audit.proofs[].record` and `audit.path` let a checker recompute every proven record and follow the chain to `audit.head`"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn evidence(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = id_or_not_found("complaint", &id)?;
    Ok(Json(
        state
            .run(move |gw| gw.complaint_evidence_json(by, id))
            .await?,
    ))
}
