//! The link to a carrier's ISMG: one TCP connection, authenticated with the SP code and shared
//! secret, kept alive with ACTIVE_TEST, reconnected with backoff, submitting through a window
//! that slows down when the gateway answers Result 8.
//!
//! [`CmppClient::submit`] splits the text into parts (UDH behind TP_udhi for long text),
//! sends each, and returns each part's Msg_Id and Result. Status reports and replies go to a
//! [`DeliverHandler`].

mod connect;
mod inbound;
mod link;

use std::sync::Arc;
use std::time::Duration;

use cmpp_proto::{Submit, SubmitResp, Version, concat};
use tokio::sync::{mpsc, oneshot, watch};

pub use inbound::{DeliverHandler, MobileOriginated};

use crate::ClientError;

/// Settings of one link.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// host:port of the ISMG.
    pub addr: String,
    /// Source_Addr: the six-character SP code.
    pub source_addr: String,
    pub shared_secret: String,
    /// The version asked for at CONNECT.
    pub version: Version,
    /// The SP's access number; each message's extension is appended to it for Src_Id.
    pub src_id: String,
    pub service_id: String,
    /// SUBMITs in flight at once.
    pub window: usize,
    pub response_timeout: Duration,
    /// Silence after which an ACTIVE_TEST is sent.
    pub active_test_interval: Duration,
    /// First and longest wait before reconnecting.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// Times one part is resent after Result 8 before giving up.
    pub flow_control_retries: u32,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            addr: "127.0.0.1:7890".to_owned(),
            source_addr: String::new(),
            shared_secret: String::new(),
            version: Version::V30,
            src_id: String::new(),
            service_id: String::new(),
            window: 16,
            response_timeout: Duration::from_secs(30),
            active_test_interval: Duration::from_secs(30),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(30),
            flow_control_retries: 20,
        }
    }
}

/// A message to one handset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outgoing {
    pub destination: String,
    pub text: String,
    /// Digits appended to the configured Src_Id (the merchant's extension).
    pub extension: String,
    /// Ask for a status report.
    pub report: bool,
}

/// What the gateway answered for one part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PartResult {
    pub msg_id: u64,
    /// 0 accepted; otherwise the gateway's refusal (never 8: that is retried).
    pub result: u32,
}

/// The link's state, for health checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Connecting,
    Connected(Version),
    /// The gateway refused CONNECT (wrong secret, unknown SP): retried with the longest backoff.
    Refused(u32),
    Stopped,
}

/// A last check run by the link task right before a message's first part is written: `false`
/// withholds the message ([`ClientError::Withheld`]). A caller whose decision to send can be
/// withdrawn while the part waits (a consent refused while the gateway was unreachable) puts
/// that check here, where nothing can wait after it but the socket.
pub type Gate = Box<dyn FnOnce() -> bool + Send>;

/// A part queued for the link, with where its answer goes.
pub(crate) struct Request {
    pub submit: Submit,
    pub reply: oneshot::Sender<Result<SubmitResp, ClientError>>,
    pub retries_left: u32,
    /// On a message's first part only, until it is first written.
    pub gate: Option<Gate>,
}

/// Handle to a running link; cheap to clone. The link stops when every handle is dropped or
/// [`CmppClient::shutdown`] is called.
#[derive(Clone)]
pub struct CmppClient {
    tx: mpsc::Sender<Request>,
    state: watch::Receiver<LinkState>,
    stop: Arc<watch::Sender<bool>>,
    config: Arc<ClientConfig>,
    reference: Arc<std::sync::atomic::AtomicU8>,
}

impl std::fmt::Debug for CmppClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CmppClient")
            .field("addr", &self.config.addr)
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

impl CmppClient {
    /// Starts the link on the current tokio runtime.
    #[must_use]
    pub fn start(config: ClientConfig, handler: Arc<dyn DeliverHandler>) -> Self {
        let (tx, rx) = mpsc::channel(config.window.max(1) * 4);
        let (state_tx, state) = watch::channel(LinkState::Connecting);
        let (stop, stop_rx) = watch::channel(false);
        let config = Arc::new(config);
        tokio::spawn(link::run(
            Arc::clone(&config),
            rx,
            state_tx,
            stop_rx,
            handler,
        ));
        CmppClient {
            tx,
            state,
            stop: Arc::new(stop),
            config,
            reference: Arc::new(std::sync::atomic::AtomicU8::new(1)),
        }
    }

    /// The link's state now.
    #[must_use]
    pub fn state(&self) -> LinkState {
        *self.state.borrow()
    }

    /// Waits until the link is connected, or `timeout` passes.
    pub async fn connected(&self, timeout: Duration) -> Option<Version> {
        let mut rx = self.state.clone();
        let wait = rx.wait_for(|s| matches!(s, LinkState::Connected(_)));
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(s)) => match *s {
                LinkState::Connected(v) => Some(v),
                _ => None,
            },
            _ => None,
        }
    }

    /// Sends TERMINATE and stops the link.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }

    /// Sends `msg`, one SUBMIT per part, and returns each part's answer. A part refused by
    /// the gateway stops the rest (a handset would get half a message otherwise).
    pub async fn submit(&self, msg: &Outgoing) -> Result<Vec<PartResult>, ClientError> {
        self.submit_gated(msg, None).await
    }

    /// [`CmppClient::submit`], with `gate` run by the link task just before the first part is
    /// written to the socket (after any wait for a connection or window room). When it
    /// answers `false` nothing of the message is sent and the result is
    /// [`ClientError::Withheld`]. Parts resent after Result 8 are not checked again: the
    /// message is already on its way.
    pub async fn submit_gated(
        &self,
        msg: &Outgoing,
        mut gate: Option<Gate>,
    ) -> Result<Vec<PartResult>, ClientError> {
        let reference = self
            .reference
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let parts =
            concat::split(&msg.text, reference).map_err(|e| ClientError::Encode(e.to_string()))?;
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            let submit = Submit {
                pk_total: p.pk_total,
                pk_number: p.pk_number,
                registered_delivery: u8::from(msg.report),
                service_id: self.config.service_id.clone(),
                tp_udhi: u8::from(p.udhi),
                msg_fmt: p.msg_fmt,
                msg_src: self.config.source_addr.clone(),
                src_id: format!("{}{}", self.config.src_id, msg.extension),
                dest_terminal_ids: vec![msg.destination.clone()],
                msg_content: p.content,
                ..Submit::default()
            };
            let (reply, rx) = oneshot::channel();
            self.tx
                .send(Request {
                    submit,
                    reply,
                    retries_left: self.config.flow_control_retries,
                    gate: gate.take(),
                })
                .await
                .map_err(|_| ClientError::Closed)?;
            let resp = rx.await.map_err(|_| ClientError::Closed)??;
            out.push(PartResult {
                msg_id: resp.msg_id,
                result: resp.result,
            });
            if resp.result != cmpp_proto::result::OK {
                break;
            }
        }
        Ok(out)
    }
}
