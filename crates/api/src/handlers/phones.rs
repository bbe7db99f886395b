//! `/v1/phones/{phone}/inbox`: the loopback carrier's simulated handset.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::path::ApiPath;

/// One received message.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InboxMessage)]
pub struct Received {
    /// Gateway message id.
    pub id: u64,
    /// The sender.
    pub sender_id: u32,
    /// Category applied.
    pub category: String,
    /// Text as the handset shows it.
    pub text: String,
    /// When the handset received it (RFC 3339).
    pub received_at: Option<String>,
}

/// A handset's inbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// E.164.
    pub phone: String,
    /// Oldest first.
    pub messages: Vec<Received>,
}

/// What the simulated handset received (admin; loopback carrier only).
#[utoipa::path(get, path = "/v1/phones/{phone}/inbox", params(("phone" = String, Path)),
    responses((status = 200, body = Inbox)), security(("bearer" = [])))]
pub async fn inbox(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(phone): ApiPath<String>,
) -> Result<Json<Inbox>, ApiError> {
    let (phone, msgs) = state.run(move |gw| gw.inbox(by, &phone)).await?;
    Ok(Json(Inbox {
        phone: phone.to_string(),
        messages: msgs
            .into_iter()
            .map(|m| Received {
                id: m.id,
                sender_id: m.sender.0,
                category: m.category.to_string(),
                text: m.text,
                received_at: m.delivery_at.map(|t| t.to_string()),
            })
            .collect(),
    }))
}
