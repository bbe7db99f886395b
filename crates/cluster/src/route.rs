//! The HTTP layer of a node: requests about phones this node does not own go to their owners.
//!
//! Routed: `POST /v1/messages` (by `to`), `POST /v1/messages/batch` (split by partition, the
//! answers merged in the order of `to`), `POST /v1/consents` (by `phone`), `GET
//! /v1/phones/{phone}/inbox` (the loopback handset, by the phone in the path), `POST /v1/inbound`
//! (by `from`), `POST /v1/messages/{id}/cancel` (by the message's phone, read from the store:
//! its owner holds the deferred queue), the consumer portal's JSON routes and pages (by the
//! session's partition, or the phone of the number and code forms). Everything else reads the shared database or changes shared settings and is
//! served where it arrives; a successful change of shared settings (senders, keys,
//! suspensions, complaints, which may suspend) is reloaded by every live node before the
//! answer goes back ([`crate::control`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use domain::{Msisdn, Region};
use serde_json::{Value, json};

use crate::Partitions;
use crate::forward::{FORWARDED, decode_reply, encode_request, run_local};

/// How long a request waits for an owner named by the leases to start answering for its
/// partition (it claimed it and is loading its slice) before `503 partition_unavailable`.
/// It also covers a partition handed back during a rebalance, which has no owner until another
/// node's next lease round (every third of the lease: 1 s at the default 3 s) claims and loads
/// it. 500 ms was shorter than such a round: in one CI run two `cluster_e2e` tests (lease 2 s)
/// got 503 for one partition right after the cluster had balanced. Nobody received a request
/// the broker had no responder for, so sending it again is safe.
const LOADING_WAIT: Duration = Duration::from_secs(2);

/// What the routing layer needs.
pub struct Router {
    /// The partition map.
    pub parts: Arc<Partitions>,
    /// The broker.
    pub client: async_nats::Client,
    /// Subject prefix.
    pub prefix: String,
    /// The node's own routes, without this layer (for batch parts served here).
    pub app: axum::Router,
    /// How phone numbers without a country code are read.
    pub region: Region,
    /// Largest body read.
    pub limit: usize,
    /// How long the owner is waited for.
    pub timeout: Duration,
    /// Reloads shared settings on every live node.
    pub control: Arc<crate::control::Control>,
    /// The node's gateway (to find the phone a one-click link was issued to).
    pub gateway: Arc<gateway::Gateway>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").finish_non_exhaustive()
    }
}

/// What a request is about.
enum Kind {
    /// One phone, in the body field named.
    One(&'static str),
    /// `to`: a list of phones.
    Batch,
    /// A consumer's portal session: the partition is in the session token.
    Session,
    /// A phone in the path: `GET /v1/phones/{phone}/inbox`. The loopback handset's inbox shows
    /// portal codes from the owner's memory (the message log holds them masked), so it is read
    /// on the owner.
    PathPhone(String),
}

fn kind(method: &Method, path: &str) -> Option<Kind> {
    // Every portal route after sign-in: the session lives only in the memory of the node that
    // issued it (the phone's owner), so another node would answer 401.
    if matches!(
        path,
        "/v1/portal/consents"
            | "/v1/portal/messages"
            | "/v1/portal/complaints"
            | "/v1/portal/complaints/pasted"
    ) {
        return Some(Kind::Session);
    }
    if method == Method::GET
        && let Some(phone) = path
            .strip_prefix("/v1/phones/")
            .and_then(|rest| rest.strip_suffix("/inbox"))
    {
        return Some(Kind::PathPhone(phone.to_string()));
    }
    if method != Method::POST {
        return None;
    }
    match path {
        "/v1/messages" => Some(Kind::One("to")),
        "/v1/consents" | "/v1/portal/code" | "/v1/portal/session" => Some(Kind::One("phone")),
        "/v1/inbound" => Some(Kind::One("from")),
        "/v1/messages/batch" => Some(Kind::Batch),
        _ => None,
    }
}

/// The partition a portal session token names (`cs_consumer_p<part>_…`).
fn session_partition(auth: Option<&str>) -> Option<u32> {
    let token = auth?.strip_prefix("Bearer ")?.trim();
    let rest = token.strip_prefix("cs_consumer_p")?;
    let (part, _) = rest.split_once('_')?;
    part.parse().ok()
}

fn unavailable(part: u32, why: &str) -> Response {
    metrics::counter!("consentry_partition_unavailable_total").increment(1);
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"error": {
            "code": "partition_unavailable",
            "message": format!("partition {part} has no reachable owner ({why}); nothing was done, retry"),
        }})),
    )
        .into_response()
}

impl Router {
    fn phone(&self, v: &Value) -> Option<Msisdn> {
        v.as_str().and_then(|s| Msisdn::parse(s, self.region).ok())
    }

    /// Sends the JSON request to `part`'s owner and returns its answer.
    pub(crate) async fn forward(
        &self,
        part: u32,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Bytes,
    ) -> Response {
        self.forward_raw(
            part,
            method,
            path,
            auth,
            Some("application/json"),
            None,
            body,
        )
        .await
    }

    /// Sends a request with any content type (and the portal pages' cookies) to `part`'s
    /// owner and returns its answer.
    #[allow(clippy::too_many_arguments)]
    async fn forward_raw(
        &self,
        part: u32,
        method: &str,
        path: &str,
        auth: Option<&str>,
        content_type: Option<&str>,
        cookie: Option<&str>,
        body: Bytes,
    ) -> Response {
        let subject = format!("{}.p.{part}.http", self.prefix);
        // The request names the ownership period it is for; when the owner changed since this
        // node's last lease round, the hint is read again from the leases and the request sent
        // once more (the refused attempt did nothing).
        let mut answer = None;
        for attempt in 0..2 {
            if attempt == 1 && !self.refresh_hints().await {
                break;
            }
            let Some(epoch) = self.parts.epoch_hint(part) else {
                // No owner at the last lease round (one may have claimed it since): read again.
                if attempt == 0 {
                    continue;
                }
                return unavailable(part, "no owner known");
            };
            // An owner that has just claimed its partitions subscribes once their slices are
            // loaded; until then the broker has no responder for the subject and nobody
            // received the request, so it is sent again for a moment rather than refused.
            let waiting = tokio::time::Instant::now() + LOADING_WAIT;
            let reply = loop {
                let headers = encode_request(epoch, method, path, auth, content_type, cookie);
                let request = async_nats::Request::new()
                    .headers(headers)
                    .payload(body.clone())
                    .timeout(Some(self.timeout));
                let reply = self.client.send_request(subject.clone(), request).await;
                let nobody = matches!(&reply, Err(e)
                    if e.kind() == async_nats::RequestErrorKind::NoResponders);
                if !nobody || tokio::time::Instant::now() >= waiting {
                    break reply;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let stale = matches!(&reply, Ok(m) if crate::forward::other_period(m));
            answer = Some(reply);
            if !stale {
                break;
            }
        }
        let Some(answer) = answer else {
            return unavailable(part, "no owner known");
        };
        match answer {
            Ok(msg) => {
                metrics::counter!("consentry_forwarded_total").increment(1);
                decode_reply(&msg)
            }
            Err(e) => {
                let why = match e.kind() {
                    async_nats::RequestErrorKind::NoResponders => "no owner",
                    async_nats::RequestErrorKind::TimedOut => "the owner did not answer in time",
                    async_nats::RequestErrorKind::Other => "the broker failed",
                };
                unavailable(part, why)
            }
        }
    }

    /// Sends a handset's reply to its phone's owner (see [`crate::node::ReplyForwarder`]).
    pub async fn forward_reply(
        &self,
        reply: &crate::forward::ForwardedReply,
    ) -> Result<(), String> {
        let phone = Msisdn::parse(&reply.from, self.region).map_err(|e| e.to_string())?;
        let body = serde_json::to_vec(reply).map_err(|e| e.to_string())?;
        let resp = self
            .forward(
                self.parts.of(phone),
                "POST",
                crate::forward::REPLY_PATH,
                None,
                Bytes::from(body),
            )
            .await;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let body = axum::body::to_bytes(resp.into_body(), 4096)
            .await
            .unwrap_or_default();
        let why = String::from_utf8_lossy(&body).into_owned();
        if status.is_server_error() {
            Err(format!(
                "the owner of {phone} did not handle it ({status}): {why}"
            ))
        } else {
            tracing::warn!(from = %reply.from, to = %reply.to, %status, why, "reply not handled");
            Ok(())
        }
    }

    /// Reads the leases again for the routing hints; false when they cannot be read.
    async fn refresh_hints(&self) -> bool {
        let gw = Arc::clone(&self.gateway);
        let leases = tokio::task::spawn_blocking(move || match gw.store() {
            store::Store::Postgres(pg) => pg.leases().ok(),
            _ => None,
        })
        .await
        .ok()
        .flatten();
        let Some(leases) = leases else {
            return false;
        };
        self.parts.set_owners(
            leases
                .into_iter()
                .filter(|l| l.expires_in_ms >= 0)
                .filter_map(|l| Some((u32::try_from(l.part).ok()?, (l.owner?, l.epoch))))
                .collect(),
        );
        true
    }

    /// Runs a part of a batch here, as a forwarded request would run on its owner.
    async fn local(&self, method: &str, path: &str, auth: Option<&str>, body: Bytes) -> Response {
        let mut b = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header(FORWARDED, "1")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        let Ok(req) = b.body(Body::from(body)) else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let (status, body) = run_local(&self.app, req, self.limit).await;
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }

    /// Splits a batch by partition, sends each part to its owner (or runs it here), and merges
    /// the answers in the order of `to`. A part refused for what the parts share (a bad text, a
    /// wrong key) is the answer. A part whose owner could not be reached leaves its recipients'
    /// results `null` and makes the answer `503 partition_unavailable` *with* the results of
    /// the parts that were recorded: the caller resends only the `null` ones.
    async fn batch(&self, auth: Option<&str>, mut body: Value) -> Response {
        let Some(to) = body.get("to").and_then(Value::as_array).cloned() else {
            return self
                .local(
                    "POST",
                    "/v1/messages/batch",
                    auth,
                    Bytes::from(body.to_string()),
                )
                .await;
        };
        // One request per owner (as the leases last said), addressed to one of its partitions:
        // the owner checks every phone, so a stale hint costs a 503 for that part, never a
        // wrong decision. Numbers that do not parse are decided (rejected) here.
        let mut groups: BTreeMap<Option<u32>, Vec<usize>> = BTreeMap::new();
        let mut by_owner: BTreeMap<String, u32> = BTreeMap::new();
        for (i, t) in to.iter().enumerate() {
            // `None`: served here (this node's phones and numbers that do not parse).
            let target = self
                .phone(t)
                .map(|p| self.parts.of(p))
                .filter(|part| !self.parts.holds(*part))
                .map(|part| match self.parts.owner_hint(part) {
                    Some(owner) => *by_owner.entry(owner).or_insert(part),
                    None => part,
                });
            groups.entry(target).or_default().push(i);
        }
        let calls = groups.iter().map(|(part, idx)| {
            let sub: Vec<Value> = idx.iter().map(|&i| to[i].clone()).collect();
            if let Some(obj) = body.as_object_mut() {
                obj.insert("to".into(), Value::Array(sub));
            }
            let payload = Bytes::from(body.to_string());
            let part = *part;
            async move {
                match part {
                    Some(p) if !self.parts.holds(p) => {
                        self.forward(p, "POST", "/v1/messages/batch", auth, payload)
                            .await
                    }
                    _ => {
                        self.local("POST", "/v1/messages/batch", auth, payload)
                            .await
                    }
                }
            }
        });
        let answers = futures_util::future::join_all(calls).await;
        let mut results: Vec<Value> = vec![Value::Null; to.len()];
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut unavailable = Vec::new();
        for ((part, idx), resp) in groups.iter().zip(answers) {
            let status = resp.status();
            let Ok(bytes) = axum::body::to_bytes(resp.into_body(), self.limit).await else {
                return StatusCode::BAD_GATEWAY.into_response();
            };
            if status == StatusCode::SERVICE_UNAVAILABLE {
                unavailable.extend(*part);
                continue;
            }
            if !status.is_success() {
                return (status, [(header::CONTENT_TYPE, "application/json")], bytes)
                    .into_response();
            }
            let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
                return StatusCode::BAD_GATEWAY.into_response();
            };
            if let Some(rs) = v.get("results").and_then(Value::as_array) {
                for (&i, r) in idx.iter().zip(rs) {
                    results[i] = r.clone();
                }
            }
            if let Some(c) = v.get("counts").and_then(Value::as_object) {
                for (k, n) in c {
                    *counts.entry(k.clone()).or_default() += n.as_u64().unwrap_or(0);
                }
            }
        }
        if !unavailable.is_empty() {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({
                    "error": {
                        "code": "partition_unavailable",
                        "message": format!("partitions {unavailable:?} have no reachable owner: the recipients whose result is null were not recorded; resend those"),
                    },
                    "results": results,
                    "counts": counts,
                })),
            )
                .into_response();
        }
        (
            StatusCode::OK,
            axum::Json(json!({"results": results, "counts": counts})),
        )
            .into_response()
    }
}

/// Sends `req` to the owner of `phone` (read from the shared store by the caller), or runs it
/// here when this node holds the phone or none was found (the handler then answers 404).
/// `with_key`: the caller's `Authorization` goes along (a one-click link has none to send).
async fn to_owner_of(
    r: &Router,
    phone: Option<Msisdn>,
    with_key: bool,
    req: Request,
    next: Next,
) -> Response {
    let Some(phone) = phone else {
        return next.run(req).await;
    };
    let part = r.parts.of(phone);
    if r.parts.holds(part) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, r.limit).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let header_str = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let auth = if with_key {
        header_str(header::AUTHORIZATION)
    } else {
        None
    };
    let content_type = header_str(header::CONTENT_TYPE);
    r.forward_raw(
        part,
        parts.method.as_str(),
        path,
        auth,
        content_type,
        None,
        bytes,
    )
    .await
}

/// A one-click link (`/u/{token}`, GET shows, POST unsubscribes) goes to the owner of the phone
/// it was issued to, found in the shared store.
async fn link(r: &Router, req: Request, next: Next) -> Response {
    let token = req.uri().path().trim_start_matches("/u/").to_string();
    let gw = Arc::clone(&r.gateway);
    let phone = tokio::task::spawn_blocking(move || gw.link_phone(&token))
        .await
        .ok()
        .flatten();
    to_owner_of(r, phone, false, req, next).await
}

/// A withdrawal (`POST /v1/messages/{id}/cancel`) goes to the owner of the phone the message
/// went to, which holds it in its deferred queue.
async fn cancel(r: &Router, id: u64, req: Request, next: Next) -> Response {
    let gw = Arc::clone(&r.gateway);
    let phone = tokio::task::spawn_blocking(move || gw.message_phone(id))
        .await
        .ok()
        .flatten();
    to_owner_of(r, phone, true, req, next).await
}

/// The message id of a withdrawal's path, `/v1/messages/{id}/cancel`.
fn cancel_id(method: &Method, path: &str) -> Option<u64> {
    if method != Method::POST {
        return None;
    }
    path.strip_prefix("/v1/messages/")?
        .strip_suffix("/cancel")?
        .parse()
        .ok()
}

/// The partition a portal page's session cookie names (`cp_session=cs_consumer_p<part>_…`).
fn page_session_partition(cookies: Option<&str>) -> Option<u32> {
    let token = cookies?
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == "cp_session")
        .map(|(_, v)| v)?;
    session_partition(Some(&format!("Bearer {token}")))
}

/// A portal page (`/portal…`, `api::portal`): the consumer's code and session live in the
/// memory of their phone's owner, as for the JSON portal. The partition is the session
/// cookie's, or — on the number and code forms, before there is a session — the form's
/// `phone`. The cookies go along, and the owner's `Location` and `Set-Cookie` come back. A page
/// naming no partition (the first page, the stylesheet) is served here.
async fn portal_page(r: &Router, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, r.limit).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let rebuild = |bytes: Bytes| Request::from_parts(parts.clone(), Body::from(bytes));
    let cookies = parts
        .headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let signing_in = parts.method == Method::POST
        && matches!(parts.uri.path(), "/portal/code" | "/portal/session");
    let part = if signing_in {
        use axum::extract::FromRequest;
        let form = axum::Form::<Vec<(String, String)>>::from_request(rebuild(bytes.clone()), &())
            .await
            .ok();
        form.and_then(|axum::Form(fields)| {
            fields
                .into_iter()
                .find(|(k, _)| k == "phone")
                .and_then(|(_, v)| r.phone(&Value::String(v)))
        })
        .map(|phone| r.parts.of(phone))
    } else {
        page_session_partition(cookies.as_deref())
    };
    // A complaint may suspend its sender, a shared setting: every node reloads before the
    // consumer sees the answer, as after any other change.
    let complaint =
        parts.method == Method::POST && parts.uri.path().starts_with("/portal/complaints");
    let resp = match part {
        Some(part) if part < r.parts.count() && !r.parts.holds(part) => {
            let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let content_type = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            r.forward_raw(
                part,
                parts.method.as_str(),
                path,
                None,
                content_type,
                cookies.as_deref(),
                bytes,
            )
            .await
        }
        _ => next.run(rebuild(bytes)).await,
    };
    if complaint && (resp.status().is_success() || resp.status().is_redirection()) {
        r.control.broadcast().await;
    }
    resp
}

/// The middleware: routes per-phone requests to their owners; reloads shared settings on every
/// node after a change.
pub async fn route(State(r): State<Arc<Router>>, req: Request, next: Next) -> Response {
    if req.headers().contains_key(FORWARDED) {
        return next.run(req).await;
    }
    if req.uri().path().starts_with("/u/") {
        return link(&r, req, next).await;
    }
    if req.uri().path() == "/portal" || req.uri().path().starts_with("/portal/") {
        return portal_page(&r, req, next).await;
    }
    if let Some(id) = cancel_id(req.method(), req.uri().path()) {
        return cancel(&r, id, req, next).await;
    }
    let Some(kind) = kind(req.method(), req.uri().path()) else {
        let mutating = req.method() != Method::GET && req.method() != Method::HEAD;
        let resp = next.run(req).await;
        if mutating && resp.status().is_success() {
            r.control.broadcast().await;
        }
        return resp;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, r.limit).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(json!({"error": {"code": "body_too_large", "message": "the request body is too large"}})),
        )
            .into_response();
    };
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    // Bodies that are not JSON objects are answered by the node's own handler (a clear 400).
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    let rebuild = |bytes: Bytes| Request::from_parts(parts.clone(), Body::from(bytes));
    match (kind, parsed) {
        (Kind::Session, _) => match session_partition(auth.as_deref()) {
            Some(part) if part < r.parts.count() && !r.parts.holds(part) => {
                let content_type = parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                r.forward_raw(
                    part,
                    parts.method.as_str(),
                    &path,
                    auth.as_deref(),
                    content_type,
                    None,
                    bytes,
                )
                .await
            }
            _ => next.run(rebuild(bytes)).await,
        },
        (Kind::PathPhone(phone), _) => {
            let Some(phone) = r.phone(&Value::String(phone)) else {
                return next.run(rebuild(bytes)).await;
            };
            let part = r.parts.of(phone);
            if r.parts.holds(part) {
                return next.run(rebuild(bytes)).await;
            }
            r.forward(part, parts.method.as_str(), &path, auth.as_deref(), bytes)
                .await
        }
        (Kind::One(field), Some(v)) => {
            let Some(phone) = v.get(field).and_then(|p| r.phone(p)) else {
                return next.run(rebuild(bytes)).await;
            };
            let part = r.parts.of(phone);
            if r.parts.holds(part) {
                return next.run(rebuild(bytes)).await;
            }
            r.forward(part, parts.method.as_str(), &path, auth.as_deref(), bytes)
                .await
        }
        (Kind::Batch, Some(v)) => {
            let all_here = v.get("to").and_then(Value::as_array).is_none_or(|to| {
                to.iter()
                    .filter_map(|t| r.phone(t))
                    .all(|p| r.parts.holds(r.parts.of(p)))
            });
            if all_here {
                return next.run(rebuild(bytes)).await;
            }
            r.batch(auth.as_deref(), v).await
        }
        (_, None) => next.run(rebuild(bytes)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portal_routes_after_sign_in_go_to_the_sessions_node() {
        for (method, path) in [
            (Method::GET, "/v1/portal/consents"),
            (Method::POST, "/v1/portal/consents"),
            (Method::GET, "/v1/portal/messages"),
            (Method::POST, "/v1/portal/complaints"),
            (Method::POST, "/v1/portal/complaints/pasted"),
        ] {
            assert!(
                matches!(kind(&method, path), Some(Kind::Session)),
                "{method} {path}"
            );
        }
        assert!(matches!(
            kind(&Method::POST, "/v1/portal/code"),
            Some(Kind::One("phone"))
        ));
        assert!(kind(&Method::GET, "/v1/complaints").is_none());
    }

    #[test]
    fn a_portal_page_names_its_partition_in_the_session_cookie() {
        assert_eq!(
            page_session_partition(Some("cp_lang=en; cp_session=cs_consumer_p7_abc")),
            Some(7)
        );
        assert_eq!(page_session_partition(Some("cp_signin=abc")), None);
        assert_eq!(page_session_partition(Some("cp_session=cs_live_abc")), None);
        assert_eq!(page_session_partition(None), None);
    }
}
