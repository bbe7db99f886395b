//! `/v1/portal/*`: consumers see and control their own consent, after proving their number.

use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use domain::{ConsentAction, Msisdn, SenderId};
use gateway::ConsentsView;
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
    pub phone: String,
}

/// Exchange the code for a session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The number the code was sent to.
    pub phone: String,
    /// The six digits from the SMS.
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
    #[schema(value_type = String, example = "opt_out")]
    pub action: ConsentAction,
    /// One shop; absent for every shop's marketing.
    #[serde(default)]
    pub sender_id: Option<u32>,
}

/// Sends a one-time code to the number (at most one a minute, five a day).
#[utoipa::path(post, path = "/v1/portal/code", request_body = CodeRequest,
    responses((status = 202, body = Object), (status = 429, body = crate::error::ErrorBody)))]
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
