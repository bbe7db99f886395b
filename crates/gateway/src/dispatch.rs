//! The dispatcher: hands accepted messages to the carrier, re-checking consent at the last moment.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use ledger::IndexAnswer;
use policy::{Decision, Reason, ReasonCode};
use store::{Delivery, MessageLog};

use crate::{Gateway, Outbound};

const BATCH: usize = 1024;

enum Fate {
    Handed(Delivery),
    Cancelled(Reason),
    Failed,
    /// Not this node's phone (any more): left pending for its owner.
    NotOwner,
}

/// Why a carrier link did not put a queued message on the wire (see [`Gateway::at_the_wire`]).
#[derive(Debug, Clone)]
pub enum NotSent {
    /// Refused since the hand-off: an opt-out, no consent, a suspended sender.
    Refused(Reason),
    /// Marketing that waited in the link's queue past its local day or into quiet hours: it
    /// is decided again, as the dispatcher does with a stalled queue.
    Stale,
    /// Cluster mode: the phone's partition is no longer this node's under the epoch the
    /// message was handed off in. Nothing is recorded: the message stays handed off without a
    /// carrier id, and the partition's owner sends it when it takes the partition over.
    NotOwner,
}

impl Gateway {
    /// Queues an accepted message for hand-off. Blocks when the bounded queue is full, which
    /// pushes back on the submitting request instead of growing memory.
    pub(crate) fn enqueue(&self, msg: Outbound) {
        if let Err(e) = self.queue.send(msg) {
            // Only when the dispatcher is gone (shutdown): the message stays `pending` in the
            // store and is resumed at the next start.
            tracing::warn!(id = e.0.id, "dispatcher stopped; message left pending");
        }
    }

    /// Decides the fate of one message while holding its phone's consent shard: a consent event
    /// for that phone cannot commit between this check and the hand-off.
    fn hand_off(&self, msg: &Outbound) -> (Fate, domain::Timestamp) {
        let shard = self.consent.read(msg.phone);
        let now = self.clock.now();
        // Checked under the shard, right before the carrier: a node whose lease ran out
        // (paused, cut off) hands off nothing, nor one that has since taken the partition
        // again (the message was queued under the old epoch, and the new one's load queued it
        // afresh); the message stays pending for the owner.
        if !self.still_holds(msg.phone, msg.epoch) {
            return (Fate::NotOwner, now);
        }
        if let Some(reason) = self.refusal(&shard, msg, "hand-off") {
            return (Fate::Cancelled(reason), now);
        }
        Self::debug_assert_consented(&shard, msg, "handed off");
        let fate = match self.carrier.hand_off(msg) {
            Ok(true) => Fate::Handed(Delivery::Delivered),
            Ok(false) => Fate::Handed(Delivery::Submitted),
            Err(e) => {
                tracing::warn!(id = msg.id, error = %e, "carrier refused hand-off");
                Fate::Failed
            }
        };
        drop(shard);
        (fate, now)
    }

    /// Why `msg` may no longer go, judged under its phone's consent shard (`shard`): its
    /// sender suspended, or (marketing) the consent withdrawn or absent. `stage` names the
    /// moment in the reason.
    /// The invariant both hand-off points rest on: under the phone's shard, after the refusal
    /// check, nothing can have changed, so marketing leaves only with consent in the index.
    fn debug_assert_consented(shard: &ledger::Shard, msg: &Outbound, stage: &str) {
        debug_assert!(
            !Self::is_marketing(msg.category)
                || matches!(
                    shard.answer(msg.phone, msg.sender),
                    IndexAnswer::Consented(_)
                ),
            "marketing {} {stage} without consent in the index",
            msg.id
        );
    }

    fn refusal(&self, shard: &ledger::Shard, msg: &Outbound, stage: &str) -> Option<Reason> {
        // The platform's own notices (opt-out confirmations) have no registered sender.
        let suspended = msg.sender != crate::PLATFORM_SENDER
            && self
                .access
                .sender(msg.sender)
                .is_none_or(|s| self.suspension_stops(s.suspended, msg.category));
        if suspended {
            return Some(Reason::new(
                ReasonCode::SenderSuspended,
                format!("sender suspended before {stage}"),
            ));
        }
        if !Self::is_marketing(msg.category) {
            return None;
        }
        match shard.answer(msg.phone, msg.sender) {
            IndexAnswer::Consented(_) => None,
            IndexAnswer::OptedOut { at, .. } => Some(Reason::new(
                ReasonCode::OptedOut,
                format!("consent withdrawn at {at}, before {stage}"),
            )),
            IndexAnswer::NoConsent => Some(Reason::new(
                ReasonCode::NoConsent,
                format!("no consent at {stage}"),
            )),
        }
    }

    /// The last check of a carrier link that queues (SMPP): the hand-off's checks, run again
    /// when the link is about to put `msg` on the wire, with `put` (the encoding) done under
    /// the phone's consent shard. A carrier that was down for an hour must not deliver what
    /// was refused in that hour: an opt-out acknowledged before this returns stops the
    /// message; one acknowledged after it finds the message already sent. On `Err` nothing
    /// was put; hand the reason to [`Gateway::not_sent_at_the_wire`] to record it.
    pub fn at_the_wire<R>(&self, msg: &Outbound, put: impl FnOnce() -> R) -> Result<R, NotSent> {
        let shard = self.consent.read(msg.phone);
        // A paused or cut-off node's link holds messages whose phones another node owns now,
        // with an index that may lack their opt-outs: only the owner decides them.
        if !self.still_holds(msg.phone, msg.epoch) {
            return Err(NotSent::NotOwner);
        }
        if let Some(reason) = self.refusal(&shard, msg, "the carrier link sent it") {
            return Err(NotSent::Refused(reason));
        }
        if self.is_stale(msg) {
            return Err(NotSent::Stale);
        }
        Self::debug_assert_consented(&shard, msg, "put on the wire");
        Ok(put())
    }

    /// A hand-off a carrier link resends after a restart (`unacknowledged_handoffs`): already
    /// handed off, so never decided again; in cluster mode only the phone's owner sends it at
    /// the wire (no epoch here). Shared by the SMPP and CMPP links.
    #[must_use]
    pub fn resent(&self, h: store::Handoff) -> Outbound {
        Outbound {
            id: h.id,
            sender: h.sender,
            source_number: self.sender(h.sender).map_or_else(
                || self.config().platform_number.clone(),
                |s| s.source_number,
            ),
            phone: h.phone,
            text: h.text,
            category: h.category,
            decided_at: self.clock.now(),
            epoch: None,
        }
    }

    /// Records a message a carrier link did not send: refused (status `rejected`, delivery
    /// `not_sent`), or stale (decided again: sent again through the dispatcher, deferred, or
    /// refused). Does store writes: call it off the link's event loop.
    pub fn not_sent_at_the_wire(&self, msg: &Outbound, why: NotSent) {
        match why {
            NotSent::Refused(reason) => {
                let d = Decision::from_reasons(vec![reason], None, false, msg.category);
                let now = self.clock.now();
                if let Err(e) = self.record_redecision(msg.id, msg.phone, msg.epoch, &d, now) {
                    tracing::error!(id = msg.id, error = %e, "recording a cancellation failed");
                }
                self.cancelled.fetch_add(1, Ordering::Relaxed);
            }
            NotSent::NotOwner => {
                tracing::info!(
                    id = msg.id,
                    "not sent: the phone's partition has another owner now"
                );
            }
            NotSent::Stale => {
                if self.decide_again(msg) {
                    self.enqueue(Outbound {
                        decided_at: self.clock.now(),
                        ..msg.clone()
                    });
                }
            }
        }
    }

    /// Marketing that waited past the end of its local day, or into quiet hours (a stalled
    /// carrier, a backlog), was accepted under yesterday's caps or daytime rules: it must be
    /// decided again before it goes.
    fn is_stale(&self, msg: &Outbound) -> bool {
        if !Self::is_marketing(msg.category) {
            return false;
        }
        let now = self.policy.local(msg.phone, self.clock.now());
        let then = self.policy.local(msg.phone, msg.decided_at);
        now.day != then.day || self.policy.is_quiet(now)
    }

    /// Decides a stale message again, records the new decision, and holds it for quiet hours
    /// when deferred. Returns whether it may be handed off now.
    fn decide_again(&self, msg: &Outbound) -> bool {
        let now = self.clock.now();
        let Some(sender) = self.access.sender(msg.sender) else {
            return false;
        };
        let decision = self
            .decide_one(
                &sender,
                Some(msg.phone),
                &msg.text,
                msg.category,
                Self::hash_of(&msg.text),
                now,
            )
            .decision;
        let held = || crate::deferred::Held {
            sender: msg.sender,
            phone: msg.phone,
            text: msg.text.clone(),
            category: msg.category,
        };
        match self.record_redecision(msg.id, msg.phone, msg.epoch, &decision, now) {
            Ok(()) => {}
            Err(store::StoreError::Fenced { .. }) => {
                // The phone is another node's now: it decides the message from the store.
                return false;
            }
            Err(e) => {
                // Not handed off on a decision that is not on record: held for the next tick,
                // which decides it again (the store still has it accepted, so a restart
                // resumes it as well).
                tracing::error!(id = msg.id, error = %e, "recording a re-decision failed");
                self.deferred.lock().hold(now, msg.id, held());
                return false;
            }
        }
        match (decision.verdict, decision.release_at) {
            (policy::Verdict::Accepted, _) => true,
            (policy::Verdict::Deferred, Some(at)) => {
                self.deferred.lock().hold(at, msg.id, held());
                false
            }
            _ => {
                self.cancelled.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    fn dispatch_batch(&self, batch: &[Outbound]) {
        let mut updates = Vec::with_capacity(batch.len());
        let mut cancels = Vec::new();
        for msg in batch {
            if !self.still_holds(msg.phone, msg.epoch) {
                continue;
            }
            if self.is_stale(msg) {
                // Decided again now; handed off below only if the fresh decision accepts it.
                if !self.decide_again(msg) {
                    continue;
                }
            }
            match self.hand_off(msg) {
                (Fate::Handed(state), at) => updates.push((msg.id, state, at)),
                (Fate::Failed, at) => updates.push((msg.id, Delivery::Failed, at)),
                (Fate::Cancelled(reason), at) => cancels.push((msg, reason, at)),
                (Fate::NotOwner, _) => {}
            }
        }
        self.handed_off
            .fetch_add(updates.len() as u64, Ordering::Relaxed);
        self.cancelled
            .fetch_add(cancels.len() as u64, Ordering::Relaxed);
        metrics::counter!("consentry_handed_off_total").increment(updates.len() as u64);
        if let Err(e) = self.store.set_delivery(&updates) {
            tracing::error!(error = %e, "recording delivery state failed");
        }
        for (msg, reason, at) in cancels {
            let d = Decision::from_reasons(vec![reason], None, false, msg.category);
            if let Err(e) = self.record_redecision(msg.id, msg.phone, msg.epoch, &d, at) {
                tracing::error!(id = msg.id, error = %e, "recording a cancellation failed");
            }
        }
    }

    /// Hands off everything queued, on the caller's thread, when the workers were not started:
    /// a deterministic simulation steps the dispatcher itself. Returns how many were handled;
    /// 0 (and nothing done) once [`Gateway::start`] owns the queue.
    pub fn dispatch_queued(&self) -> usize {
        let guard = self.queue_rx.lock();
        let Some(rx) = guard.as_ref() else {
            return 0;
        };
        let mut batch: Vec<Outbound> = std::mem::take(&mut *self.resume.lock());
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        for chunk in batch.chunks(BATCH) {
            self.dispatch_batch(chunk);
        }
        batch.len()
    }

    pub(crate) fn run_dispatcher(&self, rx: &Receiver<Outbound>) {
        let resumed = std::mem::take(&mut *self.resume.lock());
        for chunk in resumed.chunks(BATCH) {
            self.dispatch_batch(chunk);
        }
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(first) => batch.push(first),
                Err(RecvTimeoutError::Timeout) => {
                    if self.stop.load(Ordering::Acquire) {
                        return;
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            self.dispatch_batch(&batch);
            batch.clear();
        }
    }

    /// Blocks until every queued message has been handed off (or `timeout` passes). For tests
    /// and orderly shutdown.
    pub fn drain(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            // The dispatcher records delivery right after hand-off; an empty pending set of
            // accepted messages means the queue is drained.
            let pending = self
                .store
                .pending()
                .map(|p| p.iter().any(|m| m.status == policy::Verdict::Accepted))
                .unwrap_or(false);
            if !pending {
                return true;
            }
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
