//! The faulty carrier: a queueing link in the gateway's process (as the SMPP link is) in front
//! of a carrier's SMSC and the handsets behind it.
//!
//! The link drives the gateway's real carrier-facing calls: [`Carrier::hand_off`] (which it may
//! refuse: a drop), [`Gateway::at_the_wire`] before anything reaches the SMSC,
//! [`Gateway::not_sent_at_the_wire`], the store's carrier-id and delivery records, and after a
//! restart [`store::SmppRegistry::unacknowledged_handoffs`] with [`Gateway::resent`]. It does
//! not run the SMPP codec or the tokio link (`crates/smpp`), whose own tests cover them; it
//! makes the same calls in the same order, with seeded faults between them: hand-offs refused,
//! messages left waiting in the queue, a disconnect that loses the answer to a message the
//! SMSC did take, receipts delayed and delivered twice.
//!
//! The link's queue lives in the gateway's process and is lost in a crash; the SMSC (what the
//! handsets got, the receipts it still owes) survives it.

use std::collections::VecDeque;
use std::sync::Arc;

use domain::{Clock, ManualClock, Timestamp};
use gateway::{Carrier, CarrierError, Gateway, Outbound};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::{Delivery, MessageLog, SmppRegistry};

use crate::model::Model;

/// The carrier's name in the store's carrier-id records.
pub(crate) const NAME: &str = "sim";

/// Per-seed carrier fault rates, in parts per thousand.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CarrierRates {
    /// Hand-offs refused.
    pub drop: u32,
    /// Hand-offs delivered at once (a loopback handset) rather than queued for the link.
    pub immediate: u32,
    /// Messages after which the link disconnects, losing the SMSC's answer.
    pub disconnect: u32,
    /// Receipts the SMSC delivers again.
    pub duplicate_receipt: u32,
}

#[derive(Debug)]
struct Receipt {
    carrier_id: String,
    due: Timestamp,
}

#[derive(Debug)]
struct State {
    rng: StdRng,
    /// Handed off, not yet on the wire (the link's queue; lost in a crash).
    queue: VecDeque<Outbound>,
    /// Receipts the SMSC owes (survive a crash of the gateway).
    receipts: Vec<Receipt>,
    /// Carrier id → our message id, as the SMSC knows it.
    next_carrier_id: u64,
}

/// The simulation's carrier.
pub(crate) struct SimCarrier {
    rates: CarrierRates,
    clock: ManualClock,
    model: Arc<Mutex<Model>>,
    state: Mutex<State>,
}

impl SimCarrier {
    pub(crate) fn new(
        seed: u64,
        rates: CarrierRates,
        clock: ManualClock,
        model: Arc<Mutex<Model>>,
    ) -> Self {
        SimCarrier {
            rates,
            clock,
            model,
            state: Mutex::new(State {
                rng: StdRng::seed_from_u64(seed ^ 0xCA22),
                queue: VecDeque::new(),
                receipts: Vec::new(),
                next_carrier_id: 0x1000,
            }),
        }
    }

    /// The gateway's process died: the link's queue is gone.
    pub(crate) fn crash(&self) {
        self.state.lock().queue.clear();
    }

    /// After a restart: the hand-offs no carrier acknowledged are queued again, as the SMPP
    /// link does at start (single-segment texts, so no segment count to compare).
    pub(crate) fn resume(&self, gw: &Gateway) -> usize {
        let since = self
            .clock
            .now()
            .checked_sub(jiff::SignedDuration::from_hours(48))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let Ok(rows) = gw.store().unacknowledged_handoffs(since) else {
            return 0;
        };
        let n = rows.len();
        let mut s = self.state.lock();
        for h in rows {
            s.queue.push_back(gw.resent(h));
        }
        self.model.lock().counts.resent += n as u64;
        n
    }

    /// The link puts up to `max` queued messages on the wire, each after the gateway's last
    /// check; the SMSC takes each and answers with a carrier id, unless the link disconnects.
    pub(crate) fn wire(&self, gw: &Gateway, max: usize) {
        for _ in 0..max {
            let Some(msg) = self.state.lock().queue.pop_front() else {
                return;
            };
            let now = self.clock.now();
            let put = gw.at_the_wire(&msg, || {
                self.model.lock().reached_handset(
                    msg.id,
                    msg.phone,
                    msg.sender,
                    msg.category,
                    now,
                    "at the wire",
                );
            });
            if let Err(why) = put {
                // Not sent: it no longer counts against the caps of its day (the gateway frees
                // its place too); re-decided for today, it is handed off and counted again.
                self.model.lock().not_sent(msg.id, msg.phone, msg.decided_at);
                gw.not_sent_at_the_wire(&msg, why);
                continue;
            }
            let mut s = self.state.lock();
            let carrier_id = format!("{:x}", s.next_carrier_id);
            s.next_carrier_id += 1;
            let delay = s.rng.random_range(0..600);
            s.receipts.push(Receipt {
                carrier_id: carrier_id.clone(),
                due: now
                    .checked_add(jiff::SignedDuration::from_secs(delay))
                    .unwrap_or(now),
            });
            if s.rng.random_range(0..1000) < self.rates.disconnect {
                // The SMSC took it, its answer is lost with the connection: no carrier id is
                // recorded, the rest of the queue waits for the reconnect.
                drop(s);
                self.model.lock().counts.disconnects += 1;
                return;
            }
            drop(s);
            // The recorder's write; on failure the mapping is lost (logged in service).
            let _ = gw.store().put_carrier_ids(NAME, &[(carrier_id, msg.id)]);
        }
    }

    /// The SMSC delivers the receipts that are due; the link records them. A receipt whose
    /// write fails is answered with a temporary error and comes again; some come twice anyway.
    pub(crate) fn receipts(&self, gw: &Gateway) {
        let now = self.clock.now();
        let due: Vec<Receipt> = {
            let mut s = self.state.lock();
            let (due, later) = std::mem::take(&mut s.receipts)
                .into_iter()
                .partition(|r| r.due <= now);
            s.receipts = later;
            due
        };
        for r in due {
            let id = gw
                .store()
                .message_by_carrier_id(NAME, &r.carrier_id)
                .ok()
                .flatten();
            let again = match id {
                // A receipt for an unknown message is acknowledged and forgotten.
                None => false,
                Some(id) => gw
                    .store()
                    .set_delivery(&[(id, Delivery::Delivered, now)])
                    .is_err(),
            };
            let mut s = self.state.lock();
            let dup = !again && s.rng.random_range(0..1000) < self.rates.duplicate_receipt;
            if again || dup {
                if dup {
                    self.model.lock().counts.duplicate_receipts += 1;
                }
                s.receipts.push(r);
            }
        }
    }
}

impl Carrier for SimCarrier {
    fn name(&self) -> &str {
        NAME
    }

    /// Called by the dispatcher under the phone's consent shard: no calls back into the
    /// gateway from here.
    fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError> {
        let now = self.clock.now();
        let roll = self.state.lock().rng.random_range(0..1000);
        let mut m = self.model.lock();
        if msg.category == domain::Category::Marketing {
            m.check_marketing(msg.id, msg.phone, msg.sender, now, "at hand-off");
            m.handed_off(msg.id, msg.phone, msg.sender, msg.decided_at);
        }
        if roll < self.rates.drop {
            m.counts.dropped += 1;
            return Err(CarrierError {
                carrier: NAME.into(),
                why: "link stopped".into(),
            });
        }
        if roll < self.rates.drop + self.rates.immediate {
            m.reached_handset(
                msg.id,
                msg.phone,
                msg.sender,
                msg.category,
                now,
                "at hand-off",
            );
            return Ok(true);
        }
        drop(m);
        self.state.lock().queue.push_back(msg.clone());
        Ok(false)
    }
}
