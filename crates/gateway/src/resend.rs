//! Hand-offs no carrier acknowledged, sent again: by a carrier link after a restart, and in
//! cluster mode by the new owner's links after a takeover. Shared by the SMPP and CMPP links,
//! which differ only in how a text splits into parts (the count of acknowledged parts says
//! whether the whole message reached the carrier).

use std::sync::{Arc, Weak};

use domain::Msisdn;

use crate::{Gateway, GatewayError, Outbound, Resumer};

/// How many parts a carrier's protocol splits a text into.
pub type PartCount = fn(&str) -> usize;

/// Which recipients a link serves (several carriers sharing the traffic by prefix).
pub type Serves = Arc<dyn Fn(Msisdn) -> bool + Send + Sync>;

/// How far back a link looks for hand-offs that never reached a carrier.
const RESUME_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(48);

impl Gateway {
    /// Messages handed off (`submitted`) in the last 48 hours that no carrier acknowledged
    /// whole: they were queued or in flight when the node stopped. A long message with a part
    /// unacknowledged is sent again whole (the handset may show an orphan part, never half a
    /// message). They go through the link's last check at the wire, so an opt-out recorded
    /// meanwhile still stops them.
    pub fn unacknowledged(&self, parts: PartCount) -> Result<Vec<Outbound>, GatewayError> {
        let since = self
            .clock()
            .now()
            .checked_sub(RESUME_WINDOW)
            .unwrap_or(domain::Timestamp::UNIX_EPOCH);
        let rows = store::SmppRegistry::unacknowledged_handoffs(self.store(), since)?;
        Ok(rows
            .into_iter()
            .filter(|h| {
                usize::try_from(h.acknowledged_parts).unwrap_or(usize::MAX) < parts(&h.text)
            })
            .map(|h| self.resent(h))
            .collect())
    }

    /// What a carrier link does after its node takes a partition over (register it with
    /// [`Gateway::on_takeover`]): `requeue`, under their new epochs, the taken phones' hand-offs to
    /// the recipients it `serves` that no carrier acknowledged (on any node). A message the
    /// old owner put on the wire just before it stopped may so be sent twice, as after a
    /// restart; none is lost. `requeue` answers false when the link's queue is full: the
    /// message stays handed off without a carrier id for the next takeover or restart.
    pub fn takeover_resumer(
        gateway: Weak<Gateway>,
        carrier: String,
        parts: PartCount,
        serves: Option<Serves>,
        requeue: impl Fn(Outbound) -> bool + Send + Sync + 'static,
    ) -> Resumer {
        Box::new(move |epoch_of| {
            let Some(gateway) = gateway.upgrade() else {
                return;
            };
            let msgs = match gateway.unacknowledged(parts) {
                Ok(m) => m,
                Err(e) => {
                    tracing::error!(carrier = %carrier, error = %e, "resuming after a takeover failed");
                    return;
                }
            };
            let mut n = 0usize;
            for mut m in msgs {
                let Some(epoch) = epoch_of(m.phone) else {
                    continue;
                };
                if serves.as_ref().is_some_and(|s| !s(m.phone)) {
                    continue;
                }
                m.epoch = Some(epoch);
                let id = m.id;
                if requeue(m) {
                    n += 1;
                } else {
                    tracing::error!(carrier = %carrier, id, "link queue full; message not resumed");
                }
            }
            if n > 0 {
                tracing::info!(carrier = %carrier, n, "resending hand-offs no carrier acknowledged, after a takeover");
            }
        })
    }
}
