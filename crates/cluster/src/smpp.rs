//! Cluster mode for SMPP (see `smpp::remote`): a submit_sm for a phone another node owns is
//! decided and recorded by that owner, which also keeps the receipt request; receipts and
//! replies for a merchant whose receiving bind is on another node travel over NATS to it.
//!
//! Deliveries go to `{prefix}.smpp.to.{sender}`, subscribed in one queue group by every node
//! with a receiving bind of that sender: NATS hands each deliver_sm to exactly one of them, so a
//! merchant bound to two nodes gets each receipt once.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use domain::SenderId;
use futures_util::StreamExt;
use parking_lot::Mutex;
use smpp::{RemoteAnswer, RemoteSubmit};
use smpp_proto::{Body, CommandStatus, MessageState, Pdu, ShortMessage};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::route::Router;

/// The path of a submit_sm forwarded to its recipient's owner (served only on NATS).
pub const SUBMIT_PATH: &str = "/_cluster/smpp-submit";

/// The cluster as the SMPP listener and hub of one node see it.
pub struct SmppRemote {
    router: Arc<Router>,
    client: async_nats::Client,
    prefix: String,
    rt: Handle,
    hub: Weak<smpp::Hub>,
    /// The delivery subscription per sender with receiving binds here.
    subs: Mutex<HashMap<SenderId, JoinHandle<()>>>,
    /// This node's name (unique among live nodes): tells its own reports apart on the
    /// shared report subject.
    node: String,
    /// Takes the other nodes' reports ([`SmppRemote::take_reports`]).
    reports: Mutex<Option<JoinHandle<()>>>,
}

/// A final delivery state a carrier reported on one node's link, for the node that keeps the
/// merchant's receipt request (`{prefix}.smpp.reports`, every node subscribed).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct PeerReport {
    from: String,
    id: u64,
    /// The receipt token (`DELIVRD`, `UNDELIV`, …).
    state: String,
    err: Option<String>,
    at: domain::Timestamp,
}

impl Drop for SmppRemote {
    fn drop(&mut self) {
        if let Some(task) = self.reports.lock().take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for SmppRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmppRemote")
            .field("senders", &self.subs.lock().len())
            .finish_non_exhaustive()
    }
}

impl SmppRemote {
    pub(crate) fn new(router: Arc<Router>, rt: Handle, hub: &Arc<smpp::Hub>) -> Self {
        SmppRemote {
            node: router.parts.node().to_owned(),
            client: router.client.clone(),
            prefix: router.prefix.clone(),
            router,
            rt,
            hub: Arc::downgrade(hub),
            subs: Mutex::new(HashMap::new()),
            reports: Mutex::new(None),
        }
    }

    fn reports_subject(&self) -> String {
        format!("{}.smpp.reports", self.prefix)
    }

    /// Subscribes to the other nodes' reports: each is given to this node's hub, which sends
    /// the receipt if it keeps the request. Plain (not queue-group) subscription: only the
    /// node that decided the message has the request, and any node may be it.
    pub(crate) fn take_reports(&self) {
        let (client, subject, hub, me) = (
            self.client.clone(),
            self.reports_subject(),
            self.hub.clone(),
            self.node.clone(),
        );
        let task = self.rt.spawn(async move {
            let mut sub = match client.subscribe(subject).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot take other nodes' delivery reports");
                    return;
                }
            };
            while let Some(msg) = sub.next().await {
                let Some(hub) = hub.upgrade() else { return };
                match serde_json::from_slice::<PeerReport>(&msg.payload) {
                    Ok(r) if r.from == me => {}
                    Ok(r) => {
                        if let Some(state) = MessageState::from_receipt_token(&r.state) {
                            hub.report_from_peer(r.id, state, r.err.as_deref(), r.at);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "a delivery report from another node was unreadable"),
                }
            }
        });
        if let Some(old) = self.reports.lock().replace(task) {
            old.abort();
        }
    }

    fn subject(&self, sender: SenderId) -> String {
        format!("{}.smpp.to.{}", self.prefix, sender.0)
    }
}

impl smpp::Remote for SmppRemote {
    fn submit(&self, s: RemoteSubmit) -> smpp::remote::SubmitFuture {
        let router = Arc::clone(&self.router);
        Box::pin(async move { router.forward_smpp_submit(&s).await })
    }

    fn deliver(&self, sender: SenderId, sm: &ShortMessage) -> bool {
        let bytes = match Pdu::request(0, Body::DeliverSm(sm.clone())).encode() {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "a delivery for another node could not be encoded");
                return false;
            }
        };
        let (client, subject) = (self.client.clone(), self.subject(sender));
        self.rt.spawn(async move {
            if let Err(e) = client.publish(subject, bytes.into()).await {
                tracing::warn!(error = %e, "a delivery for another node was not sent");
            }
        });
        true
    }

    fn report(&self, id: u64, state: MessageState, err: Option<&str>, at: domain::Timestamp) {
        let report = PeerReport {
            from: self.node.clone(),
            id,
            state: state.receipt_token().to_owned(),
            err: err.map(str::to_owned),
            at,
        };
        let Ok(bytes) = serde_json::to_vec(&report) else {
            return;
        };
        let (client, subject) = (self.client.clone(), self.reports_subject());
        self.rt.spawn(async move {
            if let Err(e) = client.publish(subject, bytes.into()).await {
                tracing::warn!(error = %e, "a delivery report for another node was not sent");
            }
        });
    }

    fn cancel(&self, sender: SenderId, id: u64) -> smpp::remote::CancelFuture {
        let router = Arc::clone(&self.router);
        Box::pin(async move { router.forward_cancel(sender, id).await })
    }

    fn binds_changed(&self, sender: SenderId, binds: usize) {
        let mut subs = self.subs.lock();
        if binds == 0 {
            if let Some(task) = subs.remove(&sender) {
                task.abort();
            }
            return;
        }
        if subs.contains_key(&sender) {
            return;
        }
        let (client, subject, hub) = (self.client.clone(), self.subject(sender), self.hub.clone());
        let task = self.rt.spawn(async move {
            let mut sub = match client.queue_subscribe(subject, "binds".into()).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, sender = sender.0, "cannot take deliveries for a bound merchant");
                    return;
                }
            };
            while let Some(msg) = sub.next().await {
                let Some(hub) = hub.upgrade() else { return };
                match smpp_proto::codec::decode_frame(&msg.payload) {
                    Ok(Pdu {
                        body: Body::DeliverSm(sm),
                        ..
                    }) => {
                        hub.push_local(sender, sm);
                    }
                    _ => tracing::warn!("a delivery from another node was not a deliver_sm"),
                }
            }
        });
        subs.insert(sender, task);
    }
}

/// A withdrawal forwarded to the owner of the message's phone ([`CANCEL_PATH`]).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ForwardedCancel {
    /// Whose message it must be.
    pub sender: SenderId,
    /// The message.
    pub id: u64,
}

/// The path of a CMPP CANCEL for a message held on another node. Only the NATS side serves it:
/// the CMPP listener that received it has authenticated the SP.
pub const CANCEL_PATH: &str = "/_cluster/cancel";

impl Router {
    /// Sends a withdrawal to the owner of message `id`'s phone; true when it withdrew it.
    pub async fn forward_cancel(&self, sender: SenderId, id: u64) -> bool {
        let gw = Arc::clone(&self.gateway);
        let phone = tokio::task::spawn_blocking(move || gw.message_phone(id))
            .await
            .ok()
            .flatten();
        let Some(phone) = phone else {
            return false;
        };
        let Ok(body) = serde_json::to_vec(&ForwardedCancel { sender, id }) else {
            return false;
        };
        let resp = self
            .forward(
                self.parts.of(phone),
                "POST",
                CANCEL_PATH,
                None,
                bytes::Bytes::from(body),
            )
            .await;
        if !resp.status().is_success() {
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), 4096)
                .await
                .unwrap_or_default();
            tracing::info!(id, %status, answer = %String::from_utf8_lossy(&body), "a forwarded CANCEL was not done");
            return false;
        }
        true
    }

    /// Sends a submit_sm to its recipient's owner and returns the owner's answer.
    pub async fn forward_smpp_submit(
        &self,
        s: &RemoteSubmit,
    ) -> Result<gateway::Outcome, CommandStatus> {
        let phone =
            domain::Msisdn::parse(&s.to, self.region).map_err(|_| CommandStatus::RINVDSTADR)?;
        let body = serde_json::to_vec(s).map_err(|_| CommandStatus::RSYSERR)?;
        let resp = self
            .forward(
                self.parts.of(phone),
                "POST",
                SUBMIT_PATH,
                None,
                bytes::Bytes::from(body),
            )
            .await;
        let ok = resp.status().is_success();
        let body = axum::body::to_bytes(resp.into_body(), self.limit)
            .await
            .unwrap_or_default();
        if !ok {
            tracing::warn!(to = %s.to, answer = %String::from_utf8_lossy(&body), "a forwarded submit_sm was not decided");
            return Err(CommandStatus::RSYSERR);
        }
        match serde_json::from_slice::<RemoteAnswer>(&body) {
            Ok(RemoteAnswer::Decided(o)) => Ok(o),
            Ok(RemoteAnswer::Refused(code)) => Err(CommandStatus(code)),
            Err(_) => Err(CommandStatus::RSYSERR),
        }
    }
}

/// The owner's side of a forwarded withdrawal: the message's sender withdraws it here.
pub(crate) async fn cancel_here(
    gateway: &Arc<gateway::Gateway>,
    payload: &[u8],
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let c: ForwardedCancel = match serde_json::from_slice(payload) {
        Ok(c) => c,
        Err(e) => {
            return api::error::ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_forward",
                format!("a forwarded cancel that is not one: {e}"),
            )
            .into_response();
        }
    };
    let gw = Arc::clone(gateway);
    let done = tokio::task::spawn_blocking(move || {
        gw.cancel_message(gateway::Principal::Sender(c.sender), c.id)
    })
    .await;
    match done {
        Ok(Ok(m)) => {
            axum::Json(serde_json::json!({"id": m.id, "status": m.status})).into_response()
        }
        Ok(Err(e)) => api::error::ApiError::from(e).into_response(),
        Err(e) => api::error::ApiError::internal(e.to_string()).into_response(),
    }
}

/// The owner's side: decides and records a forwarded submit_sm through the node's group
/// commit, and keeps its receipt request in this node's hub (where the delivery state arrives).
pub(crate) async fn submit_here(
    gateway: &Arc<gateway::Gateway>,
    commit: &gateway::GroupCommit,
    hub: Option<&Arc<smpp::Hub>>,
    payload: &[u8],
) -> RemoteAnswer {
    let Ok(s) = serde_json::from_slice::<RemoteSubmit>(payload) else {
        return RemoteAnswer::Refused(CommandStatus::RSYSERR.0);
    };
    let gw = Arc::clone(gateway);
    let (sender, to, text, category) = (s.sender, s.to.clone(), s.text.clone(), s.category);
    let decided = tokio::task::spawn_blocking(move || {
        gw.decide_submission(gateway::Principal::Sender(sender), vec![to], text, category)
    })
    .await;
    let decided = match decided {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return RemoteAnswer::Refused(smpp::server::status_for(&e).0),
        Err(_) => return RemoteAnswer::Refused(CommandStatus::RSYSERR.0),
    };
    let outcome = match commit.record(decided).await {
        Ok(mut o) => match o.pop() {
            Some(o) => o,
            None => return RemoteAnswer::Refused(CommandStatus::RSYSERR.0),
        },
        Err(e) => return RemoteAnswer::Refused(smpp::server::status_for(&e).0),
    };
    if let (Some(hub), Some(r)) = (hub, &s.receipt)
        && outcome.status != policy::Verdict::Rejected
    {
        let (source, destination) = r.addresses();
        hub.subscribe(
            outcome.id,
            smpp::Subscription {
                sender: s.sender,
                source,
                destination,
                mode: r.mode,
                submitted_at: domain::Timestamp::now(),
                text: r.text.clone(),
            },
        );
    }
    RemoteAnswer::Decided(outcome)
}
