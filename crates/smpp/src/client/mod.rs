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
    serves: Option<Arc<dyn Fn(domain::Msisdn) -> bool + Send + Sync>>,
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
        gateway.on_takeover(resumer(
            Arc::downgrade(gateway),
            self.config.name.clone(),
            self.serves.clone(),
            self.requeue.clone(),
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
        let mut resume = unacknowledged(&gateway)?;
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

/// What this link does after its node takes a partition over: queue again, under the new
/// epoch, the partition's messages that were handed to a link of this carrier (on any node) and
/// that the carrier never acknowledged. A message the old owner put on the wire just before it
/// stopped may so be sent twice (as after a restart); none is lost.
fn resumer(
    gateway: std::sync::Weak<Gateway>,
    carrier: String,
    serves: Option<Arc<dyn Fn(domain::Msisdn) -> bool + Send + Sync>>,
    queue: mpsc::Sender<Outbound>,
) -> gateway::Resumer {
    Box::new(move |mine, epoch| {
        let Some(gateway) = gateway.upgrade() else {
            return;
        };
        let msgs = match unacknowledged(&gateway) {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(carrier = %carrier, error = %e, "resuming after a takeover failed");
                return;
            }
        };
        let mut n = 0usize;
        for mut m in msgs {
            if !mine(m.phone) || serves.as_ref().is_some_and(|s| !s(m.phone)) {
                continue;
            }
            m.epoch = Some(epoch);
            let id = m.id;
            if queue.try_send(m).is_err() {
                // Stays handed off without a carrier id: the next takeover or restart sends it.
                tracing::error!(carrier = %carrier, id, "link queue full; message not resumed");
            } else {
                n += 1;
            }
        }
        if n > 0 {
            tracing::info!(carrier = %carrier, n, epoch, "resending hand-offs no carrier acknowledged, after a takeover");
        }
    })
}

/// How far back a restart looks for hand-offs that never reached a carrier.
const RESUME_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(48);

/// Messages handed off (`submitted`) that no carrier acknowledged: they were in the queue or in
/// flight when the gateway stopped. They are sent now rather than lost, after the link's last
/// check at the wire (an opt-out recorded while the process was down still stops them).
fn unacknowledged(gateway: &Gateway) -> Result<Vec<Outbound>, SmppError> {
    let since = gateway
        .clock()
        .now()
        .checked_sub(RESUME_WINDOW)
        .unwrap_or(domain::Timestamp::UNIX_EPOCH);
    let rows = store::SmppRegistry::unacknowledged_handoffs(gateway.store(), since)
        .map_err(|e| SmppError::Io(format!("reading unacknowledged hand-offs: {e}")))?;
    Ok(rows
        .into_iter()
        // Every segment must have been acknowledged: a long message with a part in flight at
        // the crash is sent again whole (the handset may then show an orphan part, but not
        // half a message).
        .filter(|h| {
            let parts =
                smpp_proto::concat::split_text(&h.text, smpp_proto::concat::Concat::Udh8, 0)
                    .map_or(1, |s| s.len());
            usize::try_from(h.acknowledged_parts).unwrap_or(usize::MAX) < parts
        })
        .map(|h| gateway.resent(h))
        .collect())
}
