//! `/v1/senders/{id}/suspension`: a sender's standing, and the operator's changes to it.

use axum::Json;
use axum::extract::State;
use complaints::SuspensionAction;
use domain::SenderId;
use gateway::GatewayError;
use gateway::SuspensionView;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::path::{ApiPath, id_or_not_found};

/// A change to a suspension.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSuspension {
    /// `suspend`, `lift` (reinstate; earlier violations stop counting) or `confirm` (uphold an
    /// automatic suspension after review).
    #[schema(schema_with = crate::schema::suspension_action)]
    pub action: SuspensionAction,
    /// Why (1–500 characters); recorded with the change.
    #[schema(schema_with = crate::schema::reason)]
    pub reason: String,
}

/// A sender's standing: suspended or not, its record over the window, the thresholds, and every
/// change with its reason. The admin, or the sender itself.
#[utoipa::path(get, path = "/v1/senders/{id}/suspension", params(("id" = u32, Path)),
    responses((status = 200, body = Object, description = "the standing: `suspended`, `blocks` (what a suspension stops: `marketing` or `all`), the record, thresholds and history"), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<SuspensionView>, ApiError> {
    let id = SenderId(id_or_not_found("sender", &id)?);
    Ok(Json(
        state
            .run(move |gw| gw.suspension(by, id).map_err(unknown_is_not_found))
            .await?,
    ))
}

/// The sender is named by the path here: an unknown one is a resource that does not exist
/// (404 `not_found`), not a field to correct (422 `unknown_sender`, as in a body). Found by
/// schemathesis: the document said 404, the server answered 422.
fn unknown_is_not_found(e: GatewayError) -> GatewayError {
    match e {
        GatewayError::UnknownSender(id) => GatewayError::NotFound(format!("sender {id}")),
        other => other,
    }
}

/// Suspends, lifts or confirms a suspension (admin); the reason is recorded.
#[utoipa::path(post, path = "/v1/senders/{id}/suspension", params(("id" = u32, Path)),
    request_body = ChangeSuspension,
    responses((status = 200, body = Object), (status = 409, body = crate::error::ErrorBody, description = "suspension_state")),
    security(("bearer" = [])))]
pub async fn change(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ChangeSuspension>,
) -> Result<Json<SuspensionView>, ApiError> {
    let id = SenderId(id_or_not_found("sender", &id)?);
    Ok(Json(
        state
            .run(move |gw| {
                gw.change_suspension(by, id, body.action, &body.reason)
                    .map_err(unknown_is_not_found)
            })
            .await?,
    ))
}
