//! Which phones this gateway acts for. On one node: every phone. In cluster mode each phone's
//! partition has one owner at a time (crates/cluster); the gateway refuses to decide, record
//! or hand off for a phone it does not own, and loads a partition's slice of its state (consent
//! index, volume, deferred and pending messages) when it becomes the owner — after the takeover
//! committed, so the slice includes everything the previous owner acknowledged.

use std::sync::Arc;

use domain::{ConsentAction, Msisdn, SenderId, Timestamp};
use policy::Verdict;
use store::{MessageLog, StoreError};

use crate::{Gateway, GatewayError, Outbound};

/// Who owns which phones, asked on every decision, consent write and hand-off.
pub trait Ownership: Send + Sync {
    /// The lease epoch under which this node may act for `phone` now (it owns the phone's
    /// partition under a lease that has not run out by this node's own clock); `None`: not
    /// this node's. Decisions and queued hand-offs carry it as their fencing token: what was
    /// decided or queued under one epoch is not written or handed off under another, because a
    /// node that lost a partition and took it again has state the earlier decision never saw.
    fn epoch(&self, phone: Msisdn) -> Option<i64>;
    /// Whether this node may act for `phone` now.
    fn owns(&self, phone: Msisdn) -> bool {
        self.epoch(phone).is_some()
    }
    /// The partitions this node acts for now (for health and status pages).
    fn owned(&self) -> Vec<u32> {
        Vec::new()
    }
    /// The partition of `phone`, written into tokens that stand for it (portal sessions), so
    /// any node can send a request carrying one to the phone's owner without a lookup.
    fn partition(&self, _phone: Msisdn) -> Option<u32> {
        None
    }
}

/// Streams consent events (each phone's in commit order) to the callback; returns how many.
pub type EventScan<'a> = dyn Fn(
        &mut dyn FnMut(Msisdn, Option<SenderId>, ConsentAction, Timestamp, bool),
    ) -> Result<u64, StoreError>
    + 'a;

/// What a carrier link does after a takeover: given the new epoch of each phone taken over
/// (`None` for the others), queue again what it holds no carrier acknowledgement for
/// ([`Gateway::on_takeover`]).
pub type Resumer = Box<dyn Fn(&dyn Fn(Msisdn) -> Option<i64>) + Send + Sync>;

/// What a partition load found.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Loaded {
    /// Consent events folded.
    pub events: u64,
    /// Deferred messages held again.
    pub deferred: usize,
}

impl Gateway {
    /// Puts the gateway under `ownership` (once; later calls are ignored and return false).
    pub fn set_ownership(&self, ownership: Arc<dyn Ownership>) -> bool {
        self.ownership.set(ownership).is_ok()
    }

    /// Whether the gateway is under an [`Ownership`] (cluster mode).
    #[must_use]
    pub fn clustered(&self) -> bool {
        self.ownership.get().is_some()
    }

    /// The partitions this node acts for now; `None` on a single node (it acts for every
    /// phone).
    #[must_use]
    pub fn owned_partitions(&self) -> Option<Vec<u32>> {
        self.ownership.get().map(|o| o.owned())
    }

    /// The prefix a token standing for `phone` carries in cluster mode: `p<partition>_`.
    pub(crate) fn token_tag(&self, phone: Msisdn) -> String {
        self.ownership
            .get()
            .and_then(|o| o.partition(phone))
            .map_or_else(String::new, |p| format!("p{p}_"))
    }

    /// Whether this node acts for `phone` now.
    pub(crate) fn owns(&self, phone: Msisdn) -> bool {
        self.ownership.get().is_none_or(|o| o.owns(phone))
    }

    /// The epoch this node acts for `phone` under now: `None` on a single node, or when the
    /// phone is not this node's (then [`Gateway::owns`] says no).
    pub(crate) fn epoch_of(&self, phone: Msisdn) -> Option<i64> {
        self.ownership.get().and_then(|o| o.epoch(phone))
    }

    /// Whether this node still acts for `phone` under `epoch`, the one a decision or a queued
    /// hand-off was made under (always on a single node).
    pub(crate) fn still_holds(&self, phone: Msisdn, epoch: Option<i64>) -> bool {
        self.ownership
            .get()
            .is_none_or(|o| epoch.is_some() && o.epoch(phone) == epoch)
    }

    /// The epoch `pins` (from [`Gateway::require_owned`]) name for `phone`'s partition.
    pub(crate) fn pinned_epoch(&self, pins: &[(u32, i64)], phone: Msisdn) -> Option<i64> {
        let part = self.ownership.get()?.partition(phone)?;
        pins.iter().find(|(p, _)| *p == part).map(|(_, e)| *e)
    }

    /// Records a new decision for message `id` to `phone` (a release, a cancellation, a stale
    /// message decided again) under the epoch it was made in — `None`: the one this node holds
    /// now. The store refuses it with `Fenced` once that lease is gone, so a node that lost
    /// the phone cannot overwrite what the new owner decided.
    pub(crate) fn record_redecision(
        &self,
        id: u64,
        phone: Msisdn,
        epoch: Option<i64>,
        decision: &policy::Decision,
        at: domain::Timestamp,
    ) -> Result<(), store::StoreError> {
        let part = self.ownership.get().and_then(|o| o.partition(phone));
        let pins: Vec<(u32, i64)> = match (part, epoch.or_else(|| self.epoch_of(phone))) {
            (Some(part), Some(epoch)) => vec![(part, epoch)],
            _ => Vec::new(),
        };
        self.store.redecide_pinned(id, phone, decision, at, &pins)
    }

    /// Refuses when any of `phones` is not this node's; otherwise returns the fencing tokens
    /// the writes for them must carry (`(partition, epoch)` each; none on a single node).
    pub(crate) fn require_owned(
        &self,
        phones: impl IntoIterator<Item = Msisdn>,
    ) -> Result<Vec<(u32, i64)>, GatewayError> {
        let Some(o) = self.ownership.get() else {
            return Ok(Vec::new());
        };
        let mut pins = Vec::new();
        for p in phones {
            match (o.partition(p), o.epoch(p)) {
                (Some(part), Some(epoch)) => {
                    if !pins.contains(&(part, epoch)) {
                        pins.push((part, epoch));
                    }
                }
                _ => return Err(GatewayError::PartitionUnavailable(p.to_string())),
            }
        }
        Ok(pins)
    }

    /// Loads the state of the phones `mine` selects afresh from the store: consent events
    /// (streamed by `scan`, each phone's in commit order), the last two days' volume, and the
    /// deferred messages (held for their release). Call after the partition's takeover committed
    /// and before [`Ownership::epoch`] names the new epoch; then, once it does,
    /// [`Gateway::resume_phones`].
    pub fn load_phones(
        &self,
        mine: &dyn Fn(Msisdn) -> bool,
        scan: &EventScan<'_>,
    ) -> Result<Loaded, GatewayError> {
        self.forget_phones(mine);
        let mut loaded = Loaded {
            events: scan(&mut |phone, sender, action, at, own| {
                self.consent.apply_raw(phone, sender, action, at, own);
            })?,
            ..Loaded::default()
        };
        self.rebuild_volume(mine)?;
        let (_, deferred) = self.rebuild_queues(mine, &|_| None, (true, false))?;
        loaded.deferred = deferred;
        self.consent_events
            .fetch_add(loaded.events, std::sync::atomic::Ordering::Relaxed);
        Ok(loaded)
    }

    /// After a takeover, once [`Ownership::epoch`] says `epoch_of(phone)` for the phones taken
    /// over (`epoch_of` is `None` for the others): queues their accepted messages that no
    /// carrier has for hand-off again, each under its partition's epoch (after the consent
    /// check at hand-off), and has each carrier link send again what the previous owner handed
    /// it and no carrier acknowledged ([`Gateway::on_takeover`]). Not before: the dispatcher and
    /// the links drop what is queued under an epoch this node does not hold. One call for all
    /// the partitions of a lease round: each reads every pending message and every
    /// unacknowledged hand-off once. Returns how many accepted messages were queued again.
    pub fn resume_phones(
        &self,
        epoch_of: &dyn Fn(Msisdn) -> Option<i64>,
    ) -> Result<usize, GatewayError> {
        let (resumed, _) =
            self.rebuild_queues(&|p| epoch_of(p).is_some(), epoch_of, (false, true))?;
        for r in self.resumers.lock().iter() {
            r(epoch_of);
        }
        Ok(resumed)
    }

    /// Registers what a carrier link does after a takeover ([`Gateway::resume_phones`]): queue
    /// again, under the new epoch, the partition's messages it was handed (by any node) and no
    /// carrier acknowledged.
    pub fn on_takeover(&self, resumer: Resumer) {
        self.resumers.lock().push(resumer);
    }

    /// Counts the last two days' accepted sends to the phones `mine` selects into the volume
    /// (the caps and the duplicate window), at start and when a partition is taken over.
    pub(crate) fn rebuild_volume(&self, mine: &dyn Fn(Msisdn) -> bool) -> Result<(), GatewayError> {
        let since = self
            .clock
            .now()
            .saturating_sub(jiff::SignedDuration::from_hours(48))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        for s in self.store.recent_sends(since)? {
            if mine(s.phone) {
                let day = self.policy.local(s.phone, s.at).day;
                let q = self.volume_query(s.phone, s.sender, s.category, s.at, day, s.text_hash);
                self.volume.lock(s.phone).record(&q);
            }
        }
        Ok(())
    }

    /// Queues again the pending messages to the phones `mine` selects, as `(deferred,
    /// accepted)` asks: deferred ones held for their release, accepted ones for hand-off under
    /// `epoch_of(phone)` (after the consent check at hand-off). Before the workers start they wait in `resume`, which the
    /// dispatcher takes first. Returns how many were resumed and held.
    pub(crate) fn rebuild_queues(
        &self,
        mine: &dyn Fn(Msisdn) -> bool,
        epoch_of: &dyn Fn(Msisdn) -> Option<i64>,
        (deferred, accepted): (bool, bool),
    ) -> Result<(usize, usize), GatewayError> {
        let mut resume = Vec::new();
        let mut held = 0;
        for m in self.store.pending()? {
            let Some(phone) = m.phone.filter(|p| mine(*p)) else {
                continue;
            };
            match (m.status, m.release_at) {
                (Verdict::Deferred, Some(at)) if deferred => {
                    self.deferred.lock().insert(at, &m, phone);
                    held += 1;
                }
                (Verdict::Accepted, _) if accepted => resume.push(Outbound {
                    id: m.id,
                    sender: m.sender,
                    source_number: self.source_number(m.sender),
                    phone,
                    text: m.text,
                    category: m.category,
                    decided_at: m.decided_at,
                    epoch: epoch_of(phone),
                }),
                _ => {}
            }
        }
        let resumed = resume.len();
        let started = self.queue_rx.lock().is_none();
        if started {
            for m in resume {
                self.enqueue(m);
            }
        } else {
            self.resume.lock().extend(resume);
        }
        Ok((resumed, held))
    }

    /// Forgets the in-memory state of the phones `gone` selects (a partition lost or given up):
    /// its consent marks, volume and held messages. Queued hand-offs for them are dropped by
    /// the dispatcher, which asks [`Ownership::owns`] first; the store keeps them pending for the
    /// next owner.
    pub fn forget_phones(&self, gone: &dyn Fn(Msisdn) -> bool) {
        self.consent.forget(gone);
        self.volume.forget(gone);
        self.deferred.lock().forget(gone);
        self.resume.lock().retain(|m| !gone(m.phone));
    }
}
