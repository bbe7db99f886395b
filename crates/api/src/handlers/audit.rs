//! `/v1/audit/head`: the audit chain's head, for anchoring elsewhere.

use axum::Json;
use axum::extract::State;
use store::{AuditHead, AuditLog};

use crate::AppState;
use crate::error::ApiError;

/// The newest audit block's hash and the number of records chained. Open to anyone: the hash
/// reveals nothing, and a regulator anchoring it needs no account.
#[utoipa::path(get, path = "/v1/audit/head", responses((status = 200, body = Object,
    description = "`{blocks, records, hash}`: publish it; `consentry audit verify --expect HASH` (or `--anchors FILE`) later proves nothing before it was cut off or rewritten, and `consentry evidence verify FILE --head HASH` checks an evidence bundle offline")))]
pub async fn head(State(state): State<AppState>) -> Result<Json<AuditHead>, ApiError> {
    Ok(Json(state.run(|gw| Ok(gw.store().audit_head()?)).await?))
}
