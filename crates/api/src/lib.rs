//! The HTTP API of the gateway.
//!
//! - [`router::app`] builds the whole API as one `Router` table, testable without a socket;
//! - [`error::ApiError`] is the one error type: JSON `{"error": {"code", "message"}}` with a
//!   stable code and the right status;
//! - [`auth::Caller`] is the bearer-key extractor: a handler that takes it is authenticated;
//! - [`json::ApiJson`] replaces axum's `Json` so that malformed bodies and unknown fields get our
//!   error shape too;
//! - `/openapi.json` is generated from the handlers ([`openapi::ApiDoc`]).
//!
//! Handlers are thin: parse, call the [`gateway::Gateway`] on a blocking thread, shape the reply.

pub mod auth;
pub mod console;
pub mod error;
pub mod handlers;
pub mod json;
mod listing;
mod metrics_help;
pub mod openapi;
pub mod path;
pub mod portal;
pub mod router;
mod schema;
mod serve;
mod state;

pub use router::app;
pub use serve::{HttpLimits, serve_limited};
pub use state::AppState;

/// Serves an app built from [`app`] (with layers of the caller's, such as cluster routing)
/// with the default [`HttpLimits`].
pub async fn serve_app(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_limited(listener, app, HttpLimits::default(), shutdown).await
}

/// Serves `app` on `listener` until `shutdown` resolves, with the default [`HttpLimits`] (and
/// the state's body limit).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = HttpLimits {
        max_body_bytes: state.max_body_bytes,
        ..HttpLimits::default()
    };
    serve_limited(listener, app(state), limits, shutdown).await
}
