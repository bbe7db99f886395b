//! The reference model: what the simulation knows the gateway promised, and the invariants
//! checked against it.
//!
//! It holds only what was acknowledged (a call that returned `Ok`), plus what the store
//! still holds after a crash that was never acknowledged (a write whose fsync failed and which
//! WAL recovery kept): from then on that is a durable fact the gateway rightly acts on.

use std::collections::{BTreeMap, HashMap, HashSet};

use domain::{Category, Msisdn, SenderId, Timestamp};
use ledger::{ConsentEvent, answer_at};

/// Shanghai is UTC+8 without daylight saving: local day and second of day.
pub(crate) fn local(at: Timestamp) -> (i64, i64) {
    let s = at.as_second() + 8 * 3600;
    (s.div_euclid(86_400), s.rem_euclid(86_400))
}

/// A message whose submission was acknowledged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AckedMessage {
    pub phone: Msisdn,
    pub sender: SenderId,
}

#[derive(Debug, Default)]
pub(crate) struct Model {
    /// Consent events per phone: acknowledged, and unacknowledged ones recovery kept.
    pub events: HashMap<u64, Vec<ConsentEvent>>,
    /// Acknowledged events (seq → event): none may be lost.
    pub acked: BTreeMap<u64, ConsentEvent>,
    /// Acknowledged message records (id → who): none may be lost.
    pub messages: BTreeMap<u64, AckedMessage>,
    /// Times each message id reached the handset.
    pub received: HashMap<u64, u32>,
    /// Messages that may reach the handset once more: received, but the store had no durable
    /// record of their hand-off or carrier acknowledgement at the last restart (in flight).
    pub resendable: HashSet<u64>,
    /// Marketing the dispatcher handed off, by (phone, local day of its decision): ids and
    /// senders, each id once.
    pub handed: HashMap<(u64, i64), Vec<(u64, SenderId)>>,
    pub handed_ids: HashSet<u64>,
    pub caps: (u32, u32),
    pub violations: Vec<String>,
    pub counts: Counts,
}

/// What a run exercised.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    /// Marketing messages that reached the handset.
    pub marketing_received: u64,
    /// Messages that reached the handset a second time (within the in-flight window).
    pub duplicates: u64,
    /// Consent events acknowledged.
    pub acked_events: u64,
    /// Unacknowledged events that recovery kept.
    pub surfaced_events: u64,
    /// Duplicate receipts the carrier sent.
    pub duplicate_receipts: u64,
    /// Hand-offs the carrier refused.
    pub dropped: u64,
    /// Carrier disconnects.
    pub disconnects: u64,
    /// Messages resent by the carrier link after a restart.
    pub resent: u64,
}

impl Model {
    pub(crate) fn violation(&mut self, what: String) {
        self.violations.push(what);
    }

    /// Adds acknowledged events.
    pub(crate) fn ack_events(&mut self, events: &[ConsentEvent]) {
        for e in events {
            self.counts.acked_events += 1;
            self.acked.insert(e.seq, e.clone());
            self.adopt(e);
        }
    }

    /// Adds an event to what the gateway may act on (acknowledged or kept by recovery).
    pub(crate) fn adopt(&mut self, e: &ConsentEvent) {
        let list = self.events.entry(e.phone.as_u64()).or_default();
        if !list.iter().any(|x| x.seq == e.seq) {
            list.push(e.clone());
        }
    }

    /// Whether the ledger as known allows marketing from `sender` to `phone` at `now`.
    fn allows(&self, phone: Msisdn, sender: SenderId, now: Timestamp) -> bool {
        let mine = self
            .events
            .get(&phone.as_u64())
            .map_or(&[][..], Vec::as_slice);
        answer_at(mine, sender, now).allows_marketing()
    }

    /// Checks a message that reached the consumer: consent, quiet hours, duplicates.
    pub(crate) fn reached_handset(
        &mut self,
        id: u64,
        phone: Msisdn,
        sender: SenderId,
        category: Category,
        now: Timestamp,
        at: &str,
    ) {
        let n = self.received.entry(id).or_insert(0);
        *n += 1;
        if *n > 1 {
            self.counts.duplicates += 1;
            if !self.resendable.remove(&id) {
                self.violation(format!(
                    "message {id} reached {phone} a second time ({at}) outside the in-flight window"
                ));
            }
        }
        if category != Category::Marketing {
            return;
        }
        self.counts.marketing_received += 1;
        self.check_marketing(id, phone, sender, now, at);
    }

    /// No marketing against the ledger or inside quiet hours.
    pub(crate) fn check_marketing(
        &mut self,
        id: u64,
        phone: Msisdn,
        sender: SenderId,
        now: Timestamp,
        at: &str,
    ) {
        if !self.allows(phone, sender, now) {
            self.violation(format!(
                "marketing {id} to {phone} from {sender} {at} at {now} without consent (an acknowledged refusal or none given)"
            ));
        }
        let (_, tod) = local(now);
        if !(8 * 3600..20 * 3600).contains(&tod) {
            self.violation(format!("marketing {id} {at} in quiet hours at {now}"));
        }
    }

    /// A hand-off the last check at the wire stopped: it never reached the consumer, so it
    /// leaves the caps of its decision's day (seed 65 at 400 steps: a message withdrawn at the
    /// wire after an opt-out was still counted, and the shop's next message, after consent was
    /// given again, read as a third that day).
    pub(crate) fn not_sent(&mut self, id: u64, phone: Msisdn, decided_at: Timestamp) {
        if !self.handed_ids.remove(&id) {
            return;
        }
        let (day, _) = local(decided_at);
        if let Some(list) = self.handed.get_mut(&(phone.as_u64(), day)) {
            list.retain(|(x, _)| *x != id);
        }
    }

    /// The dispatcher's hand-off of marketing: counted against the caps of its decision's day.
    pub(crate) fn handed_off(
        &mut self,
        id: u64,
        phone: Msisdn,
        sender: SenderId,
        decided_at: Timestamp,
    ) {
        if !self.handed_ids.insert(id) {
            return;
        }
        let (day, _) = local(decided_at);
        let list = self.handed.entry((phone.as_u64(), day)).or_default();
        list.push((id, sender));
        let (per_sender, per_recipient) = self.caps;
        let total = list.len();
        let same = list.iter().filter(|(_, s)| *s == sender).count();
        if total > per_recipient as usize || same > per_sender as usize {
            let why = format!(
                "cap exceeded at hand-off: {phone} got {total} marketing messages decided on day {day} ({same} from {sender}; (id, sender): {list:?})"
            );
            self.violation(why);
        }
    }
}
