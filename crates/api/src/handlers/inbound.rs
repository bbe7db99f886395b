//! `/v1/inbound`: consumers' replies (mobile-originated SMS) from the carrier.

use axum::Json;
use axum::extract::State;
use domain::Timestamp;
use gateway::{Principal, ReplyOutcome};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;

/// One reply as the carrier received it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundReply {
    /// The consumer's number (national numbers are read in the default region).
    #[schema(schema_with = crate::schema::phone)]
    pub from: String,
    /// The number the consumer replied to: a sender's source number or the platform's base number.
    #[schema(schema_with = crate::schema::service_number)]
    pub to: String,
    /// The reply text.
    pub text: String,
    /// When the carrier received it (RFC 3339); now if absent. With it, a replayed request is
    /// answered as the first one was and changes nothing.
    #[serde(default)]
    #[schema(schema_with = crate::schema::timestamp_or_null)]
    pub received_at: Option<Timestamp>,
}

/// Reads a reply and applies it. When this answers 200, an opt-out is durable and enforced:
/// no marketing to that phone from those senders is handed to a carrier afterwards. The answer
/// is `{intent, senders, effect, …}`; `effect` is `opted_out`, `opted_out_platform`,
/// `opted_in`, `help_sent` or `none`. Carrier key only.
#[utoipa::path(post, path = "/v1/inbound", request_body = InboundReply,
    responses((status = 200, body = Object, description = "The reply's outcome"),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn receive(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiJson(body): ApiJson<InboundReply>,
) -> Result<Json<ReplyOutcome>, ApiError> {
    if by != Principal::Carrier {
        return Err(ApiError::forbidden(
            "inbound replies are posted with the carrier key",
        ));
    }
    let outcome = state
        .run(move |gw| gw.handle_reply(&body.from, &body.to, &body.text, body.received_at))
        .await?;
    Ok(Json(outcome))
}
