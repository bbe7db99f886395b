//! `/v1/portal/*`: consumers see and control their own consent, after proving their number.

use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use complaints::{ComplaintKind, ComplaintVerdict};
use domain::{ConsentAction, Msisdn, SenderId};
use gateway::{ConsentsView, ReceivedMessage};
use ledger::ConsentEvent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::ApiError;
use crate::handlers::consents::AtQuery;
use crate::json::ApiJson;

/// A consumer whose session token proves they own `0`.
#[derive(Debug, Clone, Copy)]
pub struct Consumer(pub Msisdn);

impl FromRequestParts<AppState> for Consumer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the session token from POST /v1/portal/session as `Authorization: Bearer <token>`",
            )
        };
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?
            .trim();
        state
            .gateway
            .portal_session(token)
            .map(Consumer)
            .ok_or_else(unauthorized)
    }
}

/// Ask for a one-time code by SMS.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The consumer's own number.
    #[schema(schema_with = crate::schema::phone)]
    pub phone: String,
}

/// Exchange the code for a session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The number the code was sent to.
    #[schema(schema_with = crate::schema::phone)]
    pub phone: String,
    /// The six digits from the SMS.
    #[schema(schema_with = crate::schema::portal_code)]
    pub code: String,
}

/// A consumer session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// E.164.
    pub phone: String,
    /// `Authorization: Bearer <token>` for the portal endpoints; valid for an hour.
    pub token: String,
}

/// The consumer's own choice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// `opt_in` or `opt_out`.
    #[schema(schema_with = crate::schema::consent_action)]
    pub action: ConsentAction,
    /// One shop; absent for every shop's marketing.
    #[serde(default)]
    pub sender_id: Option<u32>,
}

/// Sends a one-time code to the number (at most one a minute, five a day).
#[utoipa::path(post, path = "/v1/portal/code", request_body = CodeRequest,
    responses((status = 202, body = Object),
        (status = 403, body = crate::error::ErrorBody,
            description = "`forbidden`: the portal sends codes only to numbers of its country"),
        (status = 429, body = crate::error::ErrorBody, description = "`too_many_requests`")))]
pub async fn send_code(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CodeRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    state
        .run(move |gw| gw.portal_send_code(&body.phone))
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "sent": true })),
    ))
}

/// Exchanges the code for a session token.
#[utoipa::path(post, path = "/v1/portal/session", request_body = SessionRequest,
    responses((status = 201, body = Session), (status = 401, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SessionRequest>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let (phone, token) = state
        .run(move |gw| gw.portal_login(&body.phone, &body.code))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Session {
            phone: phone.to_string(),
            token,
        }),
    ))
}

/// The consumer's whole ledger (every shop), at `?at=` if given.
#[utoipa::path(get, path = "/v1/portal/consents", params(AtQuery),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn consents(
    State(state): State<AppState>,
    Consumer(phone): Consumer,
    query: Result<Query<AtQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ConsentsView>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_query",
            e.body_text(),
        )
    })?;
    Ok(Json(
        state.run(move |gw| gw.portal_consents(phone, q.at)).await?,
    ))
}

/// Records the consumer's choice for one shop or for every shop's marketing.
#[utoipa::path(post, path = "/v1/portal/consents", request_body = Choice,
    responses((status = 201, body = Object)), security(("bearer" = [])))]
pub async fn choose(
    State(state): State<AppState>,
    Consumer(phone): Consumer,
    ApiJson(body): ApiJson<Choice>,
) -> Result<(StatusCode, Json<ConsentEvent>), ApiError> {
    let event = state
        .run(move |gw| gw.portal_record(phone, body.action, body.sender_id.map(SenderId)))
        .await?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// The messages a consumer received, to pick one to complain about.
#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// Handed to a carrier for this number in the last 30 days, newest first (at most 50).
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<ReceivedMessage>,
}

/// Lists the messages sent to the consumer's number in the last 30 days: `id`, `sender_id`,
/// `sender_name`, `text`, `sent_at`.
#[utoipa::path(get, path = "/v1/portal/messages",
    responses((status = 200, body = Received), (status = 401, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn messages(
    State(state): State<AppState>,
    Consumer(phone): Consumer,
) -> Result<Json<Received>, ApiError> {
    let messages = state.run(move |gw| gw.portal_messages(phone)).await?;
    Ok(Json(Received { messages }))
}

/// A consumer's complaint about a message sent to their number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumerComplaint {
    /// The message, from `GET /v1/portal/messages`; one sent to another number is
    /// `unknown_message`.
    pub message_id: u64,
    /// `unwanted_marketing`, `after_optout`, `fraud` or `other`.
    #[schema(schema_with = crate::schema::complaint_kind)]
    pub kind: ComplaintKind,
    /// Free text (≤ 2000 characters).
    #[serde(default)]
    #[schema(schema_with = crate::schema::note)]
    pub note: Option<String>,
}

/// What the consumer is told about their complaint: its id and verdict, not the sender's
/// standing or the evidence (those are for the platform and the regulator).
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintReceipt {
    /// The complaint's id.
    pub id: u64,
    /// `violation`, `no_violation` or `unverified`.
    #[schema(value_type = String)]
    pub verdict: ComplaintVerdict,
    /// The kind filed.
    #[schema(value_type = String)]
    pub kind: ComplaintKind,
    /// The message complained about.
    pub message_id: Option<u64>,
    /// When filed.
    #[schema(value_type = String)]
    pub filed_at: domain::Timestamp,
}

/// Files the consumer's own complaint about a message sent to their number (proven by the
/// portal session): adjudicated at once like any complaint, recorded as filed by `consumer`.
#[utoipa::path(post, path = "/v1/portal/complaints", request_body = ConsumerComplaint,
    responses((status = 201, body = ComplaintReceipt),
        (status = 401, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "duplicate_complaint"),
        (status = 422, body = crate::error::ErrorBody,
            description = "unknown_message (not sent to this number), invalid_json"),
        (status = 429, body = crate::error::ErrorBody, description = "too_many_complaints")),
    security(("bearer" = [])))]
pub async fn complain(
    State(state): State<AppState>,
    Consumer(phone): Consumer,
    ApiJson(body): ApiJson<ConsumerComplaint>,
) -> Result<(StatusCode, Json<ComplaintReceipt>), ApiError> {
    let filed = state
        .run(move |gw| gw.portal_complaint(phone, body.message_id, body.kind, body.note))
        .await?;
    Ok((StatusCode::CREATED, Json(ComplaintReceipt::of(&filed))))
}

/// A consumer's complaint about a message they paste (one not in the list, or one they
/// cannot find there).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PastedComplaint {
    /// The message as received (≤ 1000 characters): its 【signature】, or its likeness to a
    /// message sent to this number, names the shop.
    #[schema(schema_with = crate::schema::seen_text)]
    pub text: String,
    /// `unwanted_marketing`, `after_optout`, `fraud` or `other`.
    #[schema(schema_with = crate::schema::complaint_kind)]
    pub kind: ComplaintKind,
    /// Free text (≤ 2000 characters).
    #[serde(default)]
    #[schema(schema_with = crate::schema::note)]
    pub note: Option<String>,
}

/// Files the consumer's own complaint about a pasted message: attributed to the shop whose
/// registered signature it carries (of shops sharing one, the one that wrote to this number),
/// else to the sender of the message sent to this number that reads like it — and only to a
/// shop that sent to this number in the last 90 days; filed about that shop's message (the one
/// like the text, else its latest), matched, adjudicated and recorded as filed by `consumer`,
/// like `POST /v1/portal/complaints`. The `unattributed_complaint` message is in Chinese, or
/// in English when `Accept-Language` starts with `en` (as the portal's pages).
#[utoipa::path(post, path = "/v1/portal/complaints/pasted", request_body = PastedComplaint,
    responses((status = 201, body = ComplaintReceipt),
        (status = 401, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "duplicate_complaint"),
        (status = 422, body = crate::error::ErrorBody,
            description = "unattributed_complaint (no shop that sent to this number in the last \
                90 days is named by the text's signature or reads like it: pick the message from \
                the list instead), invalid_field (empty or too long), invalid_json"),
        (status = 429, body = crate::error::ErrorBody, description = "too_many_complaints")),
    security(("bearer" = [])))]
pub async fn complain_pasted(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Consumer(phone): Consumer,
    ApiJson(body): ApiJson<PastedComplaint>,
) -> Result<(StatusCode, Json<ComplaintReceipt>), ApiError> {
    let filed = state
        .run(move |gw| gw.portal_pasted_complaint(phone, &body.text, body.kind, body.note))
        .await
        .map_err(|mut e| {
            // A consumer is told what to do in their language, as on the portal's page.
            if e.code == "unattributed_complaint" {
                let en = headers
                    .get(axum::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("en"));
                let lang = crate::portal::session::lang(&headers, en.then_some("en"));
                e.message = crate::portal::i18n::t(lang, "unattributed_complaint").to_string();
            }
            e
        })?;
    Ok((StatusCode::CREATED, Json(ComplaintReceipt::of(&filed))))
}

impl ComplaintReceipt {
    /// What the consumer is told about a complaint just filed.
    pub(crate) fn of(filed: &gateway::ComplaintFiled) -> Self {
        let c = &filed.complaint;
        ComplaintReceipt {
            id: c.id,
            verdict: c.adjudication.verdict,
            kind: c.kind,
            message_id: c.message_id,
            filed_at: c.filed_at,
        }
    }
}
