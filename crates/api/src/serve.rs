//! Serving the API with limits, so that idle or slow clients cannot hold the server.
//!
//! Issue #14, item 5: with `axum::serve`, silent, half-header, half-body and keep-alive
//! connections stayed open forever, and 1,100 of them exhausted the common 1,024-descriptor
//! limit — the API and SMPP binds stopped, and carriers could not post opt-outs. Here:
//!
//! - **headers** must arrive within `header_timeout`: hyper's own header-read timer, which also
//!   runs while a kept-alive connection waits for its next request, so it is the idle timeout
//!   too (silent, half-header and idle keep-alive connections are closed);
//! - **bodies** must arrive whole within `body_timeout` (`408 body_timeout`), read before any
//!   handler runs, so a slow body never leaves a request half-done; at most `max_body_bytes`
//!   (`413 body_too_large`);
//! - **connections** are capped at `max_connections`: past it the server stops accepting, and
//!   new connections wait in the kernel's backlog, holding no descriptor of ours, until a slot
//!   frees (and slots free at the latest after a timeout above).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Limits on HTTP connections (`[http]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time for a request's headers to arrive, and for a kept-alive connection's next request.
    pub header_timeout: Duration,
    /// Time for a request's whole body to arrive.
    pub body_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Largest request body.
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            max_body_bytes: 4 << 20,
        }
    }
}

/// Reads the whole body within the deadline before the request goes on, so handlers never wait
/// on a slow client (and never start work a timeout would cut in half).
async fn whole_body(limits: HttpLimits, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, limits.max_body_bytes);
    let bytes = match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            // `to_bytes` fails on the length limit or on a broken connection.
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            let mut too_large = false;
            while let Some(c) = cause {
                too_large |= c.is::<http_body_util::LengthLimitError>();
                cause = c.source();
            }
            return if too_large {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("the body is larger than {} bytes", limits.max_body_bytes),
                )
                .into_response()
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.to_string())
                    .into_response()
            };
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the body did not arrive within {} s",
                    limits.body_timeout.as_secs()
                ),
            )
            .into_response();
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Serves `app` on `listener` with `limits` until `shutdown` resolves; then stops accepting and
/// lets the connections in progress finish their requests.
pub async fn serve_limited(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: HttpLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.layer(axum::middleware::from_fn(move |req, next| {
        whole_body(limits, req, next)
    }));
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = Arc::clone(&slots).acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors (EMFILE) or a connection reset before accept: wait a
                    // moment rather than spin.
                    tracing::warn!(error = %e, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The peer's address reaches handlers (the console's sign-in limits count per address).
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                req
            },
        ));
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A connection closed by a timeout or by its client is not an error of ours.
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    // Requests in progress finish; idle connections close at once.
    let _ = tokio::time::timeout(Duration::from_secs(30), graceful.shutdown()).await;
    Ok(())
}
