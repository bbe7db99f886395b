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
    /// Which recipients this link serves, for the resend after a restart (all when `None`).
    serves: Option<Box<dyn Fn(domain::Msisdn) -> bool + Send>>,
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
        Ok((
            Arc::new(SmppCarrier {
                name: config.name.clone(),
                queue: tx,
            }),
            CarrierLink {
                config,
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
    pub fn serving(mut self, serves: impl Fn(domain::Msisdn) -> bool + Send + 'static) -> Self {
        self.serves = Some(Box::new(serves));
        self
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
        .map(|h| Outbound {
            id: h.id,
            sender: h.sender,
            source_number: gateway.sender(h.sender).map_or_else(
                || gateway.config().platform_number.clone(),
                |s| s.source_number,
            ),
            phone: h.phone,
            text: h.text,
            category: h.category,
            // Already handed off before the restart: never decided again.
            decided_at: gateway.clock().now(),
        })
        .collect())
}
