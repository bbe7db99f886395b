//! The API's one error type.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gateway::GatewayError;
use serde::Serialize;

/// An error answer: `{"error": {"code": "...", "message": "..."}}`. Codes are stable; messages
/// are for people and may change.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: &'static str,
    /// Explanation.
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable error code, e.g. `invalid_json`, `unauthorized`, `batch_too_large`.
    #[schema(schema_with = code_schema)]
    code: &'static str,
    /// For people; may change.
    message: String,
}

/// Every code the API answers with. [`ApiError::new`] checks (in debug builds) that a code is
/// listed, so the OpenAPI enum cannot fall behind the server.
pub const CODES: &[&str] = &[
    // The shared layers (extractors, limits, routing).
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "invalid_json",
    "invalid_body",
    "invalid_path",
    "invalid_query",
    // A list's filter or sort that does not read (`GET /v1/messages`, `/v1/complaints`, …).
    "invalid_filter",
    "invalid_sort",
    "unsupported_media_type",
    "body_too_large",
    "body_timeout",
    "internal_error",
    // A node's answer to a forwarded request it cannot read (cluster mode, node to node).
    "invalid_forward",
    // The gateway's refusals (`GatewayError::code`).
    "empty_text",
    "text_too_long",
    "empty_batch",
    "batch_too_large",
    "invalid_number",
    "unknown_sender",
    "invalid_field",
    "not_cancellable",
    "duplicate_complaint",
    "too_many_complaints",
    "unknown_message",
    "unattributed_complaint",
    "suspension_state",
    "too_many_requests",
    "invalid_code",
    "busy",
    "invalid_credentials",
    "too_many_attempts",
    "account_exists",
    "duplicate_sender",
    "consumer_refused",
    "date_out_of_range",
    "partition_unavailable",
    "sender_numbers_full",
    "storage_unavailable",
];

fn code_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(CODES.iter().copied()))
        .description(Some("Stable error code."))
        .build()
}

impl ApiError {
    /// An error with status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        debug_assert!(
            CODES.contains(&code),
            "error code {code} is not in api::error::CODES"
        );
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401: no or unknown key.
    #[must_use]
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid key as `Authorization: Bearer <key>`",
        )
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
    }
}

impl From<GatewayError> for ApiError {
    fn from(e: GatewayError) -> Self {
        let status = match &e {
            GatewayError::Forbidden(_) => StatusCode::FORBIDDEN,
            GatewayError::NotFound(_) => StatusCode::NOT_FOUND,
            GatewayError::BatchTooLarge { .. }
            | GatewayError::TextTooLong { .. }
            | GatewayError::TextTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::Busy | GatewayError::PartitionUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            GatewayError::DuplicateComplaint(_)
            | GatewayError::DuplicateSender(_)
            | GatewayError::ConsumerRefused { .. }
            | GatewayError::NotCancellable(_)
            | GatewayError::SuspensionState(_)
            | GatewayError::SenderNumbersFull { .. } => StatusCode::CONFLICT,
            GatewayError::TooManyComplaints { .. } | GatewayError::TooManyRequests(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            GatewayError::InvalidCode(_) | GatewayError::InvalidCredentials => {
                StatusCode::UNAUTHORIZED
            }
            GatewayError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            GatewayError::AccountExists(_) => StatusCode::CONFLICT,
            GatewayError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        if let GatewayError::Store(store::StoreError::Fenced { partition, .. }) = &e {
            // This node's lease lapsed under the request: the owner is elsewhere now.
            return ApiError::new(
                status,
                "partition_unavailable",
                format!("partition {partition} moved to another node; retry"),
            );
        }
        if let GatewayError::Store(inner) = &e {
            // The backend's words stay in the log: they can name tables, hosts and values, and
            // a caller can do nothing with them but retry.
            tracing::error!(error = %inner, "storage failed; answered storage_unavailable");
            return ApiError::new(
                status,
                e.code(),
                "storage is unavailable; nothing was recorded, retry later",
            );
        }
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
        }
        ApiError::new(status, e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storage_failure_is_a_503_that_carries_no_backend_text() {
        let e = GatewayError::Store(store::StoreError::Unavailable {
            backend: "postgres",
            message: "connection to 10.0.0.7:5432 refused; table consent_events".into(),
        });
        let api = ApiError::from(e);
        assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(api.code, "storage_unavailable");
        for leak in ["postgres", "10.0.0.7", "consent_events", "sqlite"] {
            assert!(!api.message.contains(leak), "{}", api.message);
        }
    }
}
