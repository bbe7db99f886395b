//! Carriers: where accepted messages go.

use domain::{Category, Msisdn, SenderId, Timestamp};

/// A message handed to a carrier.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// Gateway message id.
    pub id: u64,
    /// Sender.
    pub sender: SenderId,
    /// The sender's source number (the originating address the handset sees).
    pub source_number: String,
    /// Recipient.
    pub phone: Msisdn,
    /// Text.
    pub text: String,
    /// Category applied.
    pub category: Category,
    /// When it was accepted: marketing handed off on another local day, or inside quiet hours,
    /// is decided again first (a stalled queue must not deliver yesterday's quota today).
    pub decided_at: Timestamp,
    /// Cluster mode: the lease epoch of the phone's partition it was queued under. A node
    /// that lost the partition since (and perhaps took it again) hands it off no more: the
    /// owner resumes it from the store. `None` on a single node.
    pub epoch: Option<i64>,
}

/// A hand-off that failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("carrier {carrier}: {why}")]
pub struct CarrierError {
    /// Which carrier.
    pub carrier: String,
    /// Why.
    pub why: String,
}

/// What the gateway needs from a carrier connection: a non-blocking hand-off. A carrier that
/// sends at once makes the hand-off the point of no return for the ordering promise; one that
/// queues (the SMPP link, whose carrier may be down for an hour) checks again with
/// [`Gateway::at_the_wire`](crate::Gateway::at_the_wire) when it puts a message on the wire.
pub trait Carrier: Send + Sync {
    /// A short name for logs and metrics.
    fn name(&self) -> &str;
    /// Hands one message over. `Ok(true)` means the carrier reports it delivered at once (the
    /// loopback handset); `Ok(false)` means submitted, with delivery reported later.
    fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError>;
}

/// The built-in carrier: "delivers" to a simulated handset per number, so a new user sees end to
/// end what a consumer would receive (`GET /v1/phones/{phone}/inbox` reads it back from the store).
#[derive(Debug, Default)]
pub struct LoopbackCarrier;

impl LoopbackCarrier {
    /// Its name; a carrier with this name is the simulated handset.
    pub const NAME: &'static str = "loopback";
}

impl Carrier for LoopbackCarrier {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn hand_off(&self, _msg: &Outbound) -> Result<bool, CarrierError> {
        Ok(true)
    }
}
