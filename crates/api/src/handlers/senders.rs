//! `/v1/senders`: merchants registered by the operator.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use store::SenderRecord;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::json::ApiJson;

/// A sender to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSender {
    /// Display name, 1–100 characters.
    #[schema(schema_with = crate::schema::sender_name)]
    pub name: String,
    /// The signature its texts must carry, e.g. 【某某旗舰店】 (≤ 40 characters).
    #[serde(default)]
    #[schema(schema_with = crate::schema::signature)]
    pub signature: String,
}

/// A registered sender.
#[derive(Debug, Serialize, ToSchema)]
pub struct SenderView {
    /// Id.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Signature.
    pub signature: String,
    /// The number replies to its messages come back to.
    pub source_number: String,
    /// Suspended by enforcement.
    pub suspended: bool,
    /// RFC 3339.
    pub created_at: String,
}

impl From<SenderRecord> for SenderView {
    fn from(s: SenderRecord) -> Self {
        SenderView {
            id: s.id.0,
            name: s.name,
            signature: s.signature,
            source_number: s.source_number,
            suspended: s.suspended,
            created_at: s.created_at.to_string(),
        }
    }
}

/// A newly registered sender with its API key (shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub struct SenderCreated {
    /// The sender.
    #[serde(flatten)]
    pub sender: SenderView,
    /// Its API key: `Authorization: Bearer <api_key>`. Stored hashed; not shown again.
    pub api_key: String,
    /// The system_id its SMPP software binds with (at most 15 characters).
    pub smpp_system_id: String,
    /// The SMPP bind password (8 characters, SMPP's limit). Stored hashed; not shown again.
    pub smpp_password: String,
    /// The Source_Addr (SP code, 6 digits) its CMPP software connects with.
    pub cmpp_source_addr: String,
    /// The CMPP shared secret (16 characters). Not shown again; stored as issued, because
    /// CMPP's CONNECT authenticator can only be checked with the secret itself.
    pub cmpp_secret: String,
}

/// The list of senders.
#[derive(Debug, Serialize, ToSchema)]
pub struct SenderList {
    /// By id.
    pub senders: Vec<SenderView>,
}

/// Registers a sender (admin).
#[utoipa::path(post, path = "/v1/senders", request_body = CreateSender,
    responses((status = 201, body = SenderCreated), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody, description = "`duplicate_sender`: another sender has this name and signature")),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateSender>,
) -> Result<(StatusCode, Json<SenderCreated>), ApiError> {
    caller.require_admin()?;
    let (sender, api_key, smpp, cmpp) = state
        .run(move |gw| {
            let (sender, api_key) = gw.create_sender(&body.name, &body.signature)?;
            let smpp = gw.issue_smpp_credentials(sender.id)?;
            let cmpp = gw.issue_cmpp_credentials(sender.id)?;
            Ok((sender, api_key, smpp, cmpp))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SenderCreated {
            sender: sender.into(),
            api_key,
            smpp_system_id: smpp.system_id,
            smpp_password: smpp.password,
            cmpp_source_addr: cmpp.source_addr,
            cmpp_secret: cmpp.secret,
        }),
    ))
}

/// Lists senders (admin).
#[utoipa::path(get, path = "/v1/senders", responses((status = 200, body = SenderList)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SenderList>, ApiError> {
    caller.require_admin()?;
    let senders = state
        .gateway
        .senders()
        .into_iter()
        .map(SenderView::from)
        .collect();
    Ok(Json(SenderList { senders }))
}

/// A sender's new API key.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyRotated {
    /// The sender.
    pub sender_id: u32,
    /// The new key: `Authorization: Bearer <api_key>`. Shown only here; every earlier key of
    /// this sender stopped working.
    pub api_key: String,
}

/// Replaces a sender's API key (the admin, or the sender itself with its current key).
#[utoipa::path(post, path = "/v1/senders/{id}/key", params(("id" = u32, Path)),
    responses((status = 200, body = KeyRotated), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate_key(
    State(state): State<AppState>,
    Caller(by): Caller,
    crate::path::ApiPath(id): crate::path::ApiPath<String>,
) -> Result<Json<KeyRotated>, ApiError> {
    let id = domain::SenderId(crate::path::id_or_not_found("sender", &id)?);
    let api_key = state.run(move |gw| gw.rotate_key(by, id)).await?;
    Ok(Json(KeyRotated {
        sender_id: id.0,
        api_key,
    }))
}

/// A sender's new name and signature.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditSender {
    /// Display name, 1–100 characters.
    #[schema(schema_with = crate::schema::sender_name)]
    pub name: String,
    /// The signature its texts must carry (≤ 40 characters).
    #[serde(default)]
    #[schema(schema_with = crate::schema::signature)]
    pub signature: String,
}

/// Renames a sender and sets its signature (admin). The edit is chained in the audit log;
/// the registration stays as it was recorded.
#[utoipa::path(patch, path = "/v1/senders/{id}", params(("id" = u32, Path)), request_body = EditSender,
    responses((status = 200, body = SenderView),
        (status = 400, body = crate::error::ErrorBody, description = "`invalid_field`: name or signature out of bounds"),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`not_found`: no such sender"),
        (status = 409, body = crate::error::ErrorBody, description = "`duplicate_sender`: another sender has this name and signature")),
    security(("bearer" = [])))]
pub async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    crate::path::ApiPath(id): crate::path::ApiPath<String>,
    ApiJson(body): ApiJson<EditSender>,
) -> Result<Json<SenderView>, ApiError> {
    caller.require_admin()?;
    let id = domain::SenderId(crate::path::id_or_not_found("sender", &id)?);
    let sender = state
        .run(move |gw| gw.edit_sender(id, &body.name, &body.signature, "operator"))
        .await?;
    Ok(Json(sender.into()))
}

/// A sender's new SMPP credentials.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmppPasswordSet {
    /// The sender.
    pub sender_id: u32,
    /// The system_id to bind with, unchanged (a new one if the sender had none).
    pub smpp_system_id: String,
    /// The new bind password (8 characters). Stored hashed; shown only here. The earlier
    /// password stops binding.
    pub smpp_password: String,
}

/// Gives a sender a new SMPP password for its system_id (admin); the old one stops binding.
#[utoipa::path(post, path = "/v1/senders/{id}/smpp-password", params(("id" = u32, Path)),
    responses((status = 200, body = SmppPasswordSet), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`not_found`: no such sender")),
    security(("bearer" = [])))]
pub async fn smpp_password(
    State(state): State<AppState>,
    caller: Caller,
    crate::path::ApiPath(id): crate::path::ApiPath<String>,
) -> Result<Json<SmppPasswordSet>, ApiError> {
    caller.require_admin()?;
    let id = domain::SenderId(crate::path::id_or_not_found("sender", &id)?);
    let creds = state.run(move |gw| gw.reset_smpp_password(id)).await?;
    Ok(Json(SmppPasswordSet {
        sender_id: id.0,
        smpp_system_id: creds.system_id,
        smpp_password: creds.password,
    }))
}

/// A sender's new CMPP secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CmppSecretSet {
    /// The sender.
    pub sender_id: u32,
    /// The Source_Addr (SP code, 6 digits), unchanged.
    pub cmpp_source_addr: String,
    /// The new shared secret. Shown only here; the earlier one stops connecting.
    pub cmpp_secret: String,
}

/// Gives a sender a new CMPP secret (admin); the old one stops connecting.
#[utoipa::path(post, path = "/v1/senders/{id}/cmpp-secret", params(("id" = u32, Path)),
    responses((status = 200, body = CmppSecretSet),
        (status = 400, body = crate::error::ErrorBody, description = "`invalid_field`: the sender's id has no six-digit Source_Addr"),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody, description = "`not_found`: no such sender")),
    security(("bearer" = [])))]
pub async fn cmpp_secret(
    State(state): State<AppState>,
    caller: Caller,
    crate::path::ApiPath(id): crate::path::ApiPath<String>,
) -> Result<Json<CmppSecretSet>, ApiError> {
    caller.require_admin()?;
    let id = domain::SenderId(crate::path::id_or_not_found("sender", &id)?);
    let creds = state.run(move |gw| gw.reset_cmpp_secret(id)).await?;
    Ok(Json(CmppSecretSet {
        sender_id: id.0,
        cmpp_source_addr: creds.source_addr,
        cmpp_secret: creds.secret,
    }))
}
