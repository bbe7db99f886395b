//! `/v1/consents`: recording and reading the ledger.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use domain::{ConsentAction, ConsentSource, Scope, SenderId, Timestamp};
use gateway::{ConsentRequest, ConsentsView};
use ledger::ConsentEvent;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::path::ApiPath;

/// A consent event to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordConsent {
    /// The consumer's number (national numbers are read in the default region).
    #[schema(schema_with = crate::schema::phone)]
    pub phone: String,
    /// `opt_in` or `opt_out`.
    #[schema(schema_with = crate::schema::consent_action)]
    pub action: ConsentAction,
    /// `sender` (one merchant) or `platform` (every merchant's marketing).
    #[schema(schema_with = crate::schema::scope)]
    pub scope: Scope,
    /// `web`, `reply`, `app`, `hotline`, `api`, `import` or `portal`.
    #[schema(schema_with = crate::schema::consent_source)]
    pub source: ConsentSource,
    /// Free-text evidence: form id, reply text, call reference (≤ 2000 characters).
    #[serde(default)]
    #[schema(schema_with = crate::schema::evidence)]
    pub evidence: String,
    /// For scope `sender` with the admin key: which sender. A sender's key implies itself.
    #[serde(default)]
    pub sender_id: Option<u32>,
    /// When the consumer acted (RFC 3339, 2000-01-01 … now + 5 minutes); now if absent.
    #[serde(default)]
    #[schema(schema_with = crate::schema::timestamp_or_null)]
    pub at: Option<Timestamp>,
}

/// The recorded event and what it changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    /// The event as committed, with its sequence number.
    #[schema(value_type = Object)]
    pub event: ConsentEvent,
    /// What the event changed for the send path: `before` and `after` (scope `sender`:
    /// `consented`, `opted_out`, `no_consent`; scope `platform`: `opted_out`, `not_opted_out`)
    /// and `changed` — `false` when it changed nothing.
    #[schema(value_type = Object)]
    pub effect: gateway::ConsentEffect,
}

/// Records a consent event; durable when this answers.
#[utoipa::path(post, path = "/v1/consents", request_body = RecordConsent,
    responses((status = 201, body = Recorded),
        (status = 409, description = "`consumer_refused`: a sender's opt-in after the consumer's own refusal (named in the message); never recorded", body = crate::error::ErrorBody),
        (status = 422, description = "`invalid_field`, `invalid_number`, `unknown_sender`, `date_out_of_range` (`at` outside 2000-01-01 … now + 5 minutes)", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn record(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiJson(body): ApiJson<RecordConsent>,
) -> Result<(StatusCode, Json<Recorded>), ApiError> {
    let req = ConsentRequest {
        phone: body.phone,
        action: body.action,
        scope: body.scope,
        sender: body.sender_id.map(SenderId),
        source: body.source,
        evidence: body.evidence,
        at: body.at,
    };
    let mut events = state
        .run(move |gw| gw.record_consents_with_effect(by, &[req]))
        .await?;
    let (event, effect) = events
        .pop()
        .ok_or_else(|| ApiError::internal("no event recorded"))?;
    Ok((StatusCode::CREATED, Json(Recorded { event, effect })))
}

/// Point-in-time query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AtQuery {
    /// The instant to answer for (RFC 3339); now if absent.
    #[param(schema_with = crate::schema::timestamp)]
    pub at: Option<Timestamp>,
}

/// A phone's consent state per sender (at `?at=` if given) and its history. A sender sees its
/// own line and the events that concern it (its own and platform-wide ones). Without `?at=`,
/// each line also says what the send path does now with that sender's marketing
/// (`send_path`: `allowed` or `refused`).
#[utoipa::path(get, path = "/v1/consents/{phone}", params(("phone" = String, Path), AtQuery),
    responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(phone): ApiPath<String>,
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
        state.run(move |gw| gw.consents(by, &phone, q.at)).await?,
    ))
}
