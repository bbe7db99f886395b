//! A forwarded HTTP request on NATS, and the owner's side that serves it.
//!
//! The request keeps what the owner's router needs — method, path and query, the caller's
//! `Authorization` (keys work on every node), content type and, for the consumer portal's
//! pages, the `Cookie` header — in NATS headers, and the body as the payload. The answer
//! carries the status, content type, `Location` and every `Set-Cookie` in headers and the
//! body as the payload. The
//! owner runs the request through the same router as its own HTTP listener, marked
//! [`FORWARDED`] so it is served there and never forwarded again: if the owner lost the
//! partition meanwhile, its gateway refuses with `partition_unavailable`.

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use bytes::Bytes;
use futures_util::StreamExt;
use tower::ServiceExt;

/// Marks a request as forwarded by another node (or split off a batch by this one).
pub const FORWARDED: &str = "x-consentry-forwarded";

/// The path of a handset's reply that reached a carrier link on a node that does not own the
/// phone, forwarded to the owner. Only the NATS side serves it (no HTTP route has it): the link
/// that received the reply has authenticated the carrier already.
pub const REPLY_PATH: &str = "/_cluster/reply";

/// A handset's reply, as a carrier link received it (what [`gateway::Gateway::handle_reply`]
/// takes).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ForwardedReply {
    /// The handset.
    pub from: String,
    /// The number it replied to.
    pub to: String,
    /// Its text.
    pub text: String,
    /// When the carrier received it.
    pub received_at: Option<domain::Timestamp>,
}

/// What a node serves forwarded requests with.
pub struct Local {
    /// The node's routes (`api::app`), for forwarded HTTP requests.
    pub app: axum::Router,
    /// The node's gateway, for forwarded replies and submit_sm.
    pub gateway: std::sync::Arc<gateway::Gateway>,
    /// The node's SMPP hub (with an SMPP listener or carrier links), which keeps the receipt
    /// requests of submit_sm decided here.
    pub hub: Option<std::sync::Arc<smpp::Hub>>,
    /// The node's group commit, shared by forwarded submit_sm.
    pub commit: gateway::GroupCommit,
}

/// Handles a forwarded reply here, as the carrier link would have on this node.
async fn reply_here(gateway: &std::sync::Arc<gateway::Gateway>, payload: Bytes) -> Response<Body> {
    let reply: ForwardedReply = match serde_json::from_slice(&payload) {
        Ok(r) => r,
        Err(e) => {
            return api::error::ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_forward",
                format!("a forwarded reply that is not one: {e}"),
            )
            .into_response();
        }
    };
    let gw = std::sync::Arc::clone(gateway);
    let handled = tokio::task::spawn_blocking(move || {
        gw.handle_reply(&reply.from, &reply.to, &reply.text, reply.received_at)
    })
    .await;
    match handled {
        Ok(Ok(outcome)) => axum::Json(outcome).into_response(),
        Ok(Err(e)) => api::error::ApiError::from(e).into_response(),
        Err(e) => api::error::ApiError::internal(e.to_string()).into_response(),
    }
}

const METHOD: &str = "method";
const PATH: &str = "path";
const AUTH: &str = "authorization";
const CONTENT_TYPE: &str = "content-type";
const STATUS: &str = "status";
const EPOCH: &str = "epoch";
/// Marks a refusal because the request named another ownership period (the sender re-reads
/// the leases and tries once more).
const OTHER_PERIOD: &str = "other-period";

/// Whether the owner refused `reply` because it named another ownership period.
pub fn other_period(reply: &async_nats::Message) -> bool {
    reply
        .headers
        .as_ref()
        .is_some_and(|h| h.get(OTHER_PERIOD).is_some())
}
const REPLY_TYPE: &str = "reply-content-type";
const COOKIE: &str = "cookie";
const REPLY_LOCATION: &str = "reply-location";
const REPLY_SET_COOKIE: &str = "reply-set-cookie";

/// An answer's headers that go back to the caller besides its content type: where a redirect
/// leads and the cookies it sets (the portal's sign-in sets its session cookie on the owner).
type Passed = Vec<(&'static str, String)>;

/// The NATS form of a request: headers and payload.
pub fn encode_request(
    epoch: i64,
    method: &str,
    path: &str,
    auth: Option<&str>,
    content_type: Option<&str>,
    cookie: Option<&str>,
) -> async_nats::HeaderMap {
    let mut h = async_nats::HeaderMap::new();
    h.insert(EPOCH, epoch.to_string().as_str());
    h.insert(METHOD, method);
    h.insert(PATH, path);
    if let Some(a) = auth {
        h.insert(AUTH, a);
    }
    if let Some(c) = content_type {
        h.insert(CONTENT_TYPE, c);
    }
    if let Some(c) = cookie {
        h.insert(COOKIE, c);
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
    if let Some(c) = h.get(COOKIE) {
        b = b.header(header::COOKIE, c.as_str());
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
    if let Some(h) = msg.headers.as_ref() {
        let value = |v: &async_nats::HeaderValue| HeaderValue::from_str(v.as_str()).ok();
        if let Some(to) = h.get(REPLY_LOCATION).and_then(value) {
            r.headers_mut().insert(header::LOCATION, to);
        }
        for c in h.get_all(REPLY_SET_COOKIE).filter_map(value) {
            r.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    r
}

/// Runs `req` through `app` and returns the status and body.
pub async fn run_local(
    app: &axum::Router,
    req: Request<Body>,
    limit: usize,
) -> (StatusCode, Bytes) {
    let (status, _, _, body) = run_local_typed(app, req, limit).await;
    (status, body)
}

/// [`run_local`], also returning the answer's content type and passed headers.
async fn run_local_typed(
    app: &axum::Router,
    req: Request<Body>,
    limit: usize,
) -> (StatusCode, Option<String>, Passed, Bytes) {
    let resp = match app.clone().oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    answer_parts(resp, limit).await
}

/// An answer's status, content type, passed headers and body.
async fn answer_parts(
    resp: Response<Body>,
    limit: usize,
) -> (StatusCode, Option<String>, Passed, Bytes) {
    let status = resp.status();
    let text = |v: &HeaderValue| v.to_str().ok().map(str::to_string);
    let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(text);
    let mut passed: Passed = Vec::new();
    if let Some(to) = resp.headers().get(header::LOCATION).and_then(text) {
        passed.push((REPLY_LOCATION, to));
    }
    for c in resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(text)
    {
        passed.push((REPLY_SET_COOKIE, c));
    }
    let body = axum::body::to_bytes(resp.into_body(), limit)
        .await
        .unwrap_or_default();
    (status, content_type, passed, body)
}

/// Serves requests forwarded to `part` until the subscription ends (it is dropped when the
/// partition is given up or lost, which unsubscribes and aborts the requests still being served).
/// Each request is served only while this node holds `part` under the epoch it names.
pub async fn serve(
    client: async_nats::Client,
    mut sub: async_nats::Subscriber,
    local: std::sync::Arc<Local>,
    limit: usize,
    parts: std::sync::Arc<crate::Partitions>,
    part: u32,
) {
    let mut running = tokio::task::JoinSet::new();
    while let Some(msg) = sub.next().await {
        while running.try_join_next().is_some() {}
        let Some(reply) = msg.reply.clone() else {
            continue;
        };
        let (client, local, parts) = (
            client.clone(),
            std::sync::Arc::clone(&local),
            std::sync::Arc::clone(&parts),
        );
        running.spawn(async move {
            let epoch = msg
                .headers
                .as_ref()
                .and_then(|h| h.get(EPOCH))
                .and_then(|e| e.as_str().parse::<i64>().ok());
            let mut other = false;
            let (status, content_type, passed, body) = match (decode_request(&msg), epoch) {
                (Some(req), Some(e)) if parts.serves(part, e) => {
                    match req.uri().path() {
                        REPLY_PATH => {
                            let answer = reply_here(&local.gateway, msg.payload.clone()).await;
                            answer_parts(answer, limit).await
                        }
                        crate::smpp::CANCEL_PATH => {
                            let answer =
                                crate::smpp::cancel_here(&local.gateway, &msg.payload).await;
                            answer_parts(answer, limit).await
                        }
                        crate::smpp::SUBMIT_PATH => {
                            let answer = crate::smpp::submit_here(
                                &local.gateway,
                                &local.commit,
                                local.hub.as_ref(),
                                &msg.payload,
                            )
                            .await;
                            answer_parts(axum::Json(answer).into_response(), limit).await
                        }
                        _ => run_local_typed(&local.app, req, limit).await,
                    }
                }
                (Some(_), _) => {
                    other = true;
                    (
                    StatusCode::SERVICE_UNAVAILABLE,
                    None,
                    Passed::new(),
                    Bytes::from_static(
                        br#"{"error":{"code":"partition_unavailable","message":"the request was for another ownership period of this partition; nothing was done, retry"}}"#,
                    ),
                )
                }
                (None, _) => (
                    StatusCode::BAD_REQUEST,
                    None,
                    Passed::new(),
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
            for (name, value) in &passed {
                h.append(*name, value.as_str());
            }
            if other {
                h.insert(OTHER_PERIOD, "1");
            }
            if let Err(e) = client.publish_with_headers(reply, h, body).await {
                tracing::warn!(error = %e, "answering a forwarded request failed");
            }
        });
    }
}
