//! `/v1/messages`: submitting messages and reading their fate.

use axum::Json;
use axum::extract::State;
use domain::Category;
use gateway::{Outcome, Submission};
use policy::Verdict;
use serde::{Deserialize, Serialize};
use store::MessageRecord;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::listing;
use crate::path::{ApiPath, id_or_not_found};

/// One message to one recipient.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendOne {
    /// Recipient.
    #[schema(schema_with = crate::schema::recipient)]
    pub to: String,
    /// Text, at most `policy.max_segments` SMS segments.
    #[schema(schema_with = crate::schema::text)]
    pub text: String,
    /// `marketing`, `transactional` or `verification`.
    #[schema(schema_with = crate::schema::category)]
    pub category: Category,
}

/// One text to many recipients.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendBatch {
    /// Recipients, at most `gateway.max_batch`.
    #[schema(schema_with = crate::schema::recipients)]
    pub to: Vec<String>,
    /// Text.
    #[schema(schema_with = crate::schema::text)]
    pub text: String,
    /// Category.
    #[schema(schema_with = crate::schema::category)]
    pub category: Category,
}

/// Per-verdict counts of a batch.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Counts {
    /// Accepted.
    pub accepted: usize,
    /// Deferred.
    pub deferred: usize,
    /// Rejected.
    pub rejected: usize,
}

/// The decisions of a batch, one per recipient in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// Decisions.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Outcome>,
    /// Counts.
    pub counts: Counts,
}

/// Decides and records one message: `{id, status, reasons, ...}`.
#[utoipa::path(post, path = "/v1/messages", request_body = SendOne,
    responses((status = 200, body = Object, description = "the decision"),
        (status = 408, body = crate::error::ErrorBody, description = "body_timeout: the body did not arrive in `[http] body_timeout_secs`"),
        (status = 413, body = crate::error::ErrorBody, description = "text_too_long, body_too_large"),
        (status = 422, body = crate::error::ErrorBody, description = "empty_text, invalid_field (an empty recipient or one longer than 32 characters), invalid_body")),
    security(("bearer" = [])))]
pub async fn send(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiJson(body): ApiJson<SendOne>,
) -> Result<Json<Outcome>, ApiError> {
    let mut out = match &state.commit {
        // Decided here, on the runtime thread, and recorded with the concurrent others in one
        // commit. Deciding one recipient is in-memory work of tens of microseconds (the sender
        // from the access cache, the classifier once, the consent index, the phone's volume
        // shard held for a moment): a hop to a blocking thread and back cost more than that and
        // added two thread wake-ups to every request's latency (`bench http`, docs/PERFORMANCE.md).
        Some(commit) => {
            let decided = state
                .gateway
                .decide_submission(by, vec![body.to], body.text, body.category)
                .map_err(ApiError::from)?;
            commit.record(decided).await?
        }
        None => {
            state
                .run(move |gw| {
                    let to = [body.to];
                    gw.submit(
                        by,
                        &Submission {
                            to: &to,
                            text: &body.text,
                            category: body.category,
                        },
                    )
                })
                .await?
        }
    };
    out.pop()
        .map(Json)
        .ok_or_else(|| ApiError::internal("no decision"))
}

/// Decides and records one text to many recipients.
#[utoipa::path(post, path = "/v1/messages/batch", request_body = SendBatch,
    responses((status = 200, body = BatchResult),
        (status = 408, body = crate::error::ErrorBody, description = "body_timeout"),
        (status = 413, body = crate::error::ErrorBody, description = "text_too_long, batch_too_large, body_too_large"),
        (status = 422, body = crate::error::ErrorBody, description = "empty_batch, empty_text, invalid_field (an empty recipient or one longer than 32 characters)")),
    security(("bearer" = [])))]
pub async fn send_batch(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiJson(body): ApiJson<SendBatch>,
) -> Result<Json<BatchResult>, ApiError> {
    let results = state
        .run(move |gw| {
            gw.submit(
                by,
                &Submission {
                    to: &body.to,
                    text: &body.text,
                    category: body.category,
                },
            )
        })
        .await?;
    let mut counts = Counts::default();
    for r in &results {
        match r.status {
            Verdict::Accepted => counts.accepted += 1,
            Verdict::Deferred => counts.deferred += 1,
            Verdict::Rejected => counts.rejected += 1,
        }
    }
    Ok(Json(BatchResult { results, counts }))
}

/// A message, its decision and its delivery state.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    /// The stored message.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub message: MessageRecord,
    /// The sender.
    pub sender_id: u32,
}

/// A message's status, reasons and delivery state (a sender sees only its own).
#[utoipa::path(get, path = "/v1/messages/{id}", params(("id" = u64, Path)),
    responses((status = 200, body = MessageView), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id: u64 = id_or_not_found("message", &id)?;
    let message = state.run(move |gw| gw.message(by, id)).await?;
    Ok(Json(MessageView {
        sender_id: message.sender.0,
        message,
    }))
}

/// Withdraws a message held for quiet hours: it is decided again as `rejected` with reason
/// `cancelled` and never sent. A sender withdraws only its own messages (another's id is
/// 404); a message that is not held (accepted, rejected, released meanwhile) is
/// 409 `not_cancellable`.
#[utoipa::path(post, path = "/v1/messages/{id}/cancel", params(("id" = u64, Path)),
    responses((status = 200, body = MessageView),
        (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`not_cancellable`: the message is not held for quiet hours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MessageView>, ApiError> {
    let id: u64 = id_or_not_found("message", &id)?;
    let message = state.run(move |gw| gw.cancel_message(by, id)).await?;
    Ok(Json(MessageView {
        sender_id: message.sender.0,
        message,
    }))
}

/// What to search messages by; each given field narrows the search. Bad values of `reason`,
/// `category`, `from`, `to` and `offset` are 400 `invalid_filter`; of `sort` and `dir` 400
/// `invalid_sort`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessageSearch {
    /// Recipient.
    #[param(schema_with = crate::schema::phone)]
    pub phone: Option<String>,
    /// Sender id (the admin; a sender always searches its own).
    pub sender: Option<u32>,
    /// `accepted`, `deferred` or `rejected` (the current decision).
    #[param(schema_with = crate::schema::verdict)]
    pub status: Option<String>,
    /// A reason code of the current decision (`no_consent`, `quiet_hours`, …).
    #[param(schema_with = crate::schema::reason_code)]
    pub reason: Option<String>,
    /// `marketing`, `transactional` or `verification` (as declared).
    #[param(schema_with = crate::schema::category_filter)]
    pub category: Option<String>,
    /// Submitted at or after: RFC 3339, `YYYY-MM-DDTHH:MM` (UTC) or `YYYY-MM-DD` (midnight UTC).
    #[param(schema_with = crate::schema::time_bound)]
    pub from: Option<String>,
    /// Submitted before (exclusive), in the same forms as `from`.
    #[param(schema_with = crate::schema::time_bound)]
    pub to: Option<String>,
    /// Order by `id` (submission order, the default), `sender`, `phone` or `status`; ties by id.
    #[param(schema_with = crate::schema::message_sort)]
    pub sort: Option<String>,
    /// `desc` (default) or `asc`.
    #[param(schema_with = crate::schema::sort_dir)]
    pub dir: Option<String>,
    /// Only ids below this one: pass the last id of a page to get the next.
    pub before: Option<u64>,
    /// Rows of the order to skip, at most 10,000: pass `next_offset` to get the next page of
    /// any sort.
    #[param(schema_with = crate::schema::list_offset)]
    pub offset: Option<u32>,
    /// Page size, 1–500 (default 50).
    #[param(schema_with = crate::schema::page_limit)]
    pub limit: Option<u32>,
}

/// A page of messages, in the order asked for (newest first by default).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    /// The messages.
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<MessageView>,
    /// Newest-first searches only: pass as `before` for the next page; absent on the last page.
    pub next_before: Option<u64>,
    /// Pass as `offset` (with the same query) for the next page; absent on the last page or
    /// past the deepest offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u32>,
}

/// Searches messages by phone, sender, status, reason, category and time, sorted by id,
/// sender, phone or status either way, paged by id (`before`) or by `offset` (a sender sees
/// only its own).
#[utoipa::path(get, path = "/v1/messages", params(MessageSearch),
    responses((status = 200, body = MessagePage),
        (status = 400, body = crate::error::ErrorBody, description = "invalid_filter (reason, category, from, to, offset), invalid_sort (sort, dir)"),
        (status = 422, body = crate::error::ErrorBody, description = "invalid_query (an unknown parameter, a status that is not a verdict), invalid_number")),
    security(("bearer" = [])))]
pub async fn search(
    State(state): State<AppState>,
    Caller(by): Caller,
    q: Result<axum::extract::Query<MessageSearch>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MessagePage>, ApiError> {
    let invalid = |m: String| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            m,
        )
    };
    let axum::extract::Query(q) = q.map_err(|e| invalid(e.body_text()))?;
    let phone = match q.phone.as_deref() {
        Some(p) => Some(
            domain::Msisdn::parse(p, state.gateway.policy().region())
                .map_err(|e| ApiError::from(gateway::GatewayError::from(e)))?,
        ),
        None => None,
    };
    let status = match q.status.as_deref() {
        None => None,
        Some("accepted") => Some(Verdict::Accepted),
        Some("deferred") => Some(Verdict::Deferred),
        Some("rejected") => Some(Verdict::Rejected),
        Some(other) => {
            return Err(invalid(format!(
                "status {:?}: expected accepted, deferred or rejected",
                other.chars().take(16).collect::<String>()
            )));
        }
    };
    let sort = listing::message_sort(q.sort.as_deref(), q.dir.as_deref())?;
    let offset = listing::offset(q.offset)?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let query = store::MessageQuery {
        phone,
        sender: q.sender.map(domain::SenderId),
        status,
        reason: listing::reason(q.reason.as_deref())?,
        category: listing::category(q.category.as_deref())?,
        from: listing::bound("from", q.from.as_deref())?,
        to: listing::bound("to", q.to.as_deref())?,
        before: q.before,
        sort,
        offset,
        limit: limit + 1,
    };
    let mut found = state.run(move |gw| gw.search_messages(by, query)).await?;
    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next_before = match found.last() {
        Some(last) if more && sort == store::MessageSort::default() => Some(last.id),
        _ => None,
    };
    let next_offset = more
        .then(|| offset.saturating_add(limit))
        .filter(|n| *n <= store::MAX_OFFSET);
    Ok(Json(MessagePage {
        messages: found
            .into_iter()
            .map(|message| MessageView {
                sender_id: message.sender.0,
                message,
            })
            .collect(),
        next_before,
        next_offset,
    }))
}
