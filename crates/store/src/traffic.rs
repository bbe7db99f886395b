//! A sender's traffic over a period, as carriers' protocols report it to the sender (CMPP's
//! QUERY: messages, users, sent, waiting, failed for a day). Read from the message log on both
//! backends with one aggregate over the `(sender_id, decided_at)` index.

use domain::{SenderId, Timestamp};

use crate::{Store, StoreError, dispatch};

/// What one sender submitted in a period (by first decision time) and where it stands now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Messages (one per recipient).
    pub messages: u64,
    /// Distinct recipients.
    pub phones: u64,
    /// Handed to a carrier (submitted or delivered).
    pub sent: u64,
    /// Not handed off yet (queued, or held for quiet hours).
    pub waiting: u64,
    /// Refused, withdrawn, or given up by the carrier.
    pub failed: u64,
}

/// Reading a sender's traffic.
pub trait TrafficLog {
    /// `sender`'s messages first decided in `[from, to)`.
    fn sender_traffic(
        &self,
        sender: SenderId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Traffic, StoreError>;
}

impl TrafficLog for Store {
    fn sender_traffic(
        &self,
        sender: SenderId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Traffic, StoreError> {
        dispatch!(self, s => s.sender_traffic(sender, from, to))
    }
}
