//! Bearer-key authentication as an extractor.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use gateway::Principal;

use crate::AppState;
use crate::error::ApiError;

/// The authenticated caller. Taking it as a handler argument makes the route authenticated.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Principal);

impl Caller {
    /// Fails unless the caller is the admin.
    pub fn require_admin(self) -> Result<(), ApiError> {
        if self.0 == Principal::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("this needs the admin key"))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(ApiError::unauthorized)?;
        let key = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(ApiError::unauthorized)?
            .trim();
        state
            .gateway
            .authenticate(key)
            .map(Caller)
            .ok_or_else(ApiError::unauthorized)
    }
}
