//! `/v1/senders/{id}/consents`: a merchant's consent summary — phones that may receive its
//! marketing now, that refused it, that refused every shop — and its latest changes.

use axum::Json;
use axum::extract::State;
use domain::SenderId;
use gateway::merchant_consents::ConsentSummary;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::path::{ApiPath, id_or_not_found};

/// A merchant's consents now, folded with the ledger's rule for every phone it has an event
/// for, and its latest 20 recorded changes. The admin for any sender; a sender for itself only
/// (another sender's id is 404, as if it did not exist).
#[utoipa::path(get, path = "/v1/senders/{id}/consents", params(("id" = u32, Path)),
    responses((status = 200, body = Object, description = "`{sender_id, phones, consented, refused, refused_all, no_consent, recent: [event]}`"),
        (status = 404, body = crate::error::ErrorBody, description = "not_found: no such sender, or another sender's")),
    security(("bearer" = [])))]
pub async fn summary(
    State(state): State<AppState>,
    Caller(by): Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ConsentSummary>, ApiError> {
    let id = SenderId(id_or_not_found("sender", &id)?);
    Ok(Json(state.run(move |gw| gw.consent_summary(by, id)).await?))
}
