//! The client to carriers: a [`gateway::Carrier`] whose hand-off only queues, and a link task
//! that binds to the carrier's SMSC and sends the queue over a bounded window.
//!
//! Delivery guarantees: a message handed off is in the queue (bounded; when full the hand-off
//! fails and the dispatcher marks the message failed, never dropping it silently). Reconnecting
//! keeps the queue; requests in flight when a link drops or a response times out are sent again
//! (SMPP 3.4 has no idempotency key, so such a message can reach the handset twice; everything
//! else is sent exactly once).

mod answers;
mod connect;
mod link;
mod recorder;

use std::sync::Arc;

use gateway::{Carrier, CarrierError, Gateway, Outbound};
use tokio::sync::mpsc;

use crate::{CarrierConfig, Hub, ReplyHandler, SmppError};

/// A carrier reached over SMPP; see the module docs.
#[derive(Debug)]
pub struct SmppCarrier {
    name: String,
    queue: mpsc::Sender<Outbound>,
}

/// The not-yet-started half of an [`SmppCarrier`]; [`CarrierLink::start`] runs it once the
/// gateway (which needs the carrier to open) exists.
pub struct CarrierLink {
    config: CarrierConfig,
    queue: mpsc::Receiver<Outbound>,
    /// The sending half of `queue`, for the resend after a takeover (cluster mode).
    requeue: mpsc::Sender<Outbound>,
    /// Which recipients this link serves, for the resend after a restart or a takeover (all
    /// when `None`).
    serves: Option<gateway::Serves>,
}

impl std::fmt::Debug for CarrierLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CarrierLink")
            .field("config", &self.config)
            .field("routed", &self.serves.is_some())
            .finish_non_exhaustive()
    }
}

impl SmppCarrier {
    /// The carrier and its link, not yet connected.
    pub fn new(config: CarrierConfig) -> Result<(Arc<SmppCarrier>, CarrierLink), SmppError> {
        if config.window == 0 {
            return Err(SmppError::Config(format!(
                "carrier {}: window must be at least 1",
                config.name
            )));
        }
        if config.bind == crate::BindType::Receiver {
            return Err(SmppError::Config(format!(
                "carrier {}: a receiver bind cannot send; use transceiver (or transmitter)",
                config.name
            )));
        }
        if config.system_id.len() > 15 || config.password.len() > 8 {
            return Err(SmppError::Config(format!(
                "carrier {}: system_id is at most 15 characters and password at most 8",
                config.name
            )));
        }
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let requeue = tx.clone();
        Ok((
            Arc::new(SmppCarrier {
                name: config.name.clone(),
                queue: tx,
            }),
            CarrierLink {
                config,
                requeue,
                queue: rx,
                serves: None,
            },
        ))
    }

    /// Messages waiting in the queue.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }
}

impl Carrier for SmppCarrier {
    fn name(&self) -> &str {
        &self.name
    }

    /// Never blocks: called under the phone's consent shard lock.
    fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError> {
        self.queue
            .try_send(msg.clone())
            .map(|()| false)
            .map_err(|e| CarrierError {
                carrier: self.name.clone(),
                why: match e {
                    mpsc::error::TrySendError::Full(_) => "queue full".into(),
                    mpsc::error::TrySendError::Closed(_) => "link stopped".into(),
                },
            })
    }
}

impl CarrierLink {
    /// Limits the resend after a restart to the recipients this link serves when several
    /// carriers share the traffic (otherwise each link would resend every carrier's messages).
    #[must_use]
    pub fn serving(
        mut self,
        serves: impl Fn(domain::Msisdn) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.serves = Some(Arc::new(serves));
        self
    }

    /// Cluster mode: after each takeover by this node, queue again the partition's messages
    /// handed to this carrier and never acknowledged (see [`Gateway::resume_phones`]). Call
    /// before the node takes its first partitions; the queue holds them until the link starts.
    pub fn resume_on_takeover(&self, gateway: &Arc<Gateway>) {
        let requeue = self.requeue.clone();
        gateway.on_takeover(Gateway::takeover_resumer(
            Arc::downgrade(gateway),
            self.config.name.clone(),
            smpp_parts,
            self.serves.clone(),
            move |m| requeue.try_send(m).is_ok(),
        ));
    }

    /// Starts the link on the current tokio runtime and its recorder thread. Receipts update
    /// delivery state in `gateway`'s store and are forwarded through `hub` to merchants who asked;
    /// replies go to `replies`.
    pub fn start(
        self,
        gateway: Arc<Gateway>,
        hub: Option<Arc<Hub>>,
        replies: Arc<dyn ReplyHandler>,
    ) -> Result<tokio::task::JoinHandle<()>, SmppError> {
        let mut resume = gateway
            .unacknowledged(smpp_parts)
            .map_err(|e| SmppError::Io(format!("reading unacknowledged hand-offs: {e}")))?;
        if let Some(serves) = &self.serves {
            resume.retain(|m| serves(m.phone));
        }
        // Cluster mode: a phone's messages are resent by its partition's owner, after each
        // takeover, under the new epoch (at start this node holds no partition yet).
        if gateway.clustered() {
            resume.clear();
        }

        if !resume.is_empty() {
            tracing::info!(carrier = %self.config.name, n = resume.len(), "resending messages handed off before the restart and never acknowledged");
        }
        let (events_tx, events_rx) = mpsc::channel(8192);
        let (acks_tx, acks_rx) = mpsc::channel(8192);
        let gateway_for_link = Arc::clone(&gateway);
        let rec = recorder::Recorder::new(
            self.config.name.clone(),
            self.config.receipt_id_base,
            gateway,
            hub,
            replies,
        );
        recorder::spawn(rec, events_rx, acks_tx).map_err(|e| SmppError::Io(e.to_string()))?;
        Ok(tokio::spawn(link::run(
            gateway_for_link,
            self.config,
            self.queue,
            resume,
            events_tx,
            acks_rx,
        )))
    }
}

/// SMPP's part count: a long text goes as 8-bit-reference UDH segments.
fn smpp_parts(text: &str) -> usize {
    smpp_proto::concat::split_text(text, smpp_proto::concat::Concat::Udh8, 0).map_or(1, |s| s.len())
}
