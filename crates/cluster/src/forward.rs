//! A forwarded HTTP request on NATS, and the owner's side that serves it.
//!
//! The request keeps what the owner's router needs — method, path and query, the caller's
//! `Authorization` (keys work on every node) and content type — in NATS headers, and the body
//! as the payload. The answer carries the status in a header and the body as the payload. The
//! owner runs the request through the same router as its own HTTP listener, marked
//! [`FORWARDED`] so it is served there and never forwarded again: if the owner lost the
//! partition meanwhile, its gateway refuses with `partition_unavailable`.

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use bytes::Bytes;
use futures_util::StreamExt;
use tower::ServiceExt;

/// Marks a request as forwarded by another node (or split off a batch by this one).
pub const FORWARDED: &str = "x-consentry-forwarded";

const METHOD: &str = "method";
const PATH: &str = "path";
const AUTH: &str = "authorization";
const CONTENT_TYPE: &str = "content-type";
const STATUS: &str = "status";
const REPLY_TYPE: &str = "reply-content-type";

/// The NATS form of a request: headers and payload.
pub fn encode_request(
    method: &str,
    path: &str,
    auth: Option<&str>,
    content_type: Option<&str>,
) -> async_nats::HeaderMap {
    let mut h = async_nats::HeaderMap::new();
    h.insert(METHOD, method);
    h.insert(PATH, path);
    if let Some(a) = auth {
        h.insert(AUTH, a);
    }
    if let Some(c) = content_type {
        h.insert(CONTENT_TYPE, c);
    }
    h
}

/// The HTTP request a NATS message carries, marked forwarded.
fn decode_request(msg: &async_nats::Message) -> Option<Request<Body>> {
    let h = msg.headers.as_ref()?;
    let method = h.get(METHOD)?.as_str();
    let path = h.get(PATH)?.as_str();
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(FORWARDED, "1");
    if let Some(a) = h.get(AUTH) {
        b = b.header(header::AUTHORIZATION, a.as_str());
    }
    if let Some(c) = h.get(CONTENT_TYPE) {
        b = b.header(header::CONTENT_TYPE, c.as_str());
    }
    b.body(Body::from(msg.payload.clone())).ok()
}

/// The owner's answer back as an HTTP response.
pub fn decode_reply(msg: &async_nats::Message) -> Response<Body> {
    let status = msg
        .headers
        .as_ref()
        .and_then(|h| h.get(STATUS))
        .and_then(|s| s.as_str().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let mut r = Response::new(Body::from(msg.payload.clone()));
    *r.status_mut() = status;
    let content_type = msg
        .headers
        .as_ref()
        .and_then(|h| h.get(REPLY_TYPE))
        .and_then(|v| HeaderValue::from_str(v.as_str()).ok())
        .unwrap_or(HeaderValue::from_static("application/json"));
    r.headers_mut().insert(header::CONTENT_TYPE, content_type);
    r
}

/// Runs `req` through `app` and returns the status and body.
pub async fn run_local(
    app: &axum::Router,
    req: Request<Body>,
    limit: usize,
) -> (StatusCode, Bytes) {
    let (status, _, body) = run_local_typed(app, req, limit).await;
    (status, body)
}

/// [`run_local`], also returning the answer's content type.
async fn run_local_typed(
    app: &axum::Router,
    req: Request<Body>,
    limit: usize,
) -> (StatusCode, Option<String>, Bytes) {
    let resp = match app.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = axum::body::to_bytes(resp.into_body(), limit)
        .await
        .unwrap_or_default();
    (status, content_type, body)
}

/// Serves requests forwarded to one partition until the subscription ends (it is dropped when
/// the partition is given up or lost, which unsubscribes).
pub async fn serve(
    client: async_nats::Client,
    mut sub: async_nats::Subscriber,
    app: axum::Router,
    limit: usize,
) {
    while let Some(msg) = sub.next().await {
        let Some(reply) = msg.reply.clone() else {
            continue;
        };
        let (client, app) = (client.clone(), app.clone());
        tokio::spawn(async move {
            let (status, content_type, body) = match decode_request(&msg) {
                Some(req) => run_local_typed(&app, req, limit).await,
                None => (
                    StatusCode::BAD_REQUEST,
                    None,
                    Bytes::from_static(
                        br#"{"error":{"code":"invalid_forward","message":"a forwarded request without method or path"}}"#,
                    ),
                ),
            };
            let mut h = async_nats::HeaderMap::new();
            h.insert(STATUS, status.as_u16().to_string().as_str());
            if let Some(t) = content_type {
                h.insert(REPLY_TYPE, t.as_str());
            }
            if let Err(e) = client.publish_with_headers(reply, h, body).await {
                tracing::warn!(error = %e, "answering a forwarded request failed");
            }
        });
    }
}
