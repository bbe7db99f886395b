//! The consent state of every phone, in memory, for the send path.
//!
//! The store keeps the durable log; a random point lookup in SQLite costs several microseconds,
//! and a Double-11 campaign asks millions of them. So the gateway folds the log once at start into
//! this index and applies every committed event to it, and the policy engine reads only memory.
//!
//! Layout: per phone, one [`Mark`] per target (a sender, or the platform) holding only the latest
//! event's action and second — 8 bytes — which is all [`crate::decide`] needs; and, for a target
//! the consumer spoke about themselves, a second mark for the latest event they gave
//! ([`crate::by_consumer`]), which [`crate::decide_with_consumer`] needs so that a merchant's
//! opt-in cannot lift the consumer's own refusal. The index is split
//! into shards, each behind its own lock, so that an opt-out for one phone can hold its shard's
//! write lock while it commits (see the gateway) without stopping decisions for other phones.

use domain::{ConsentAction, Msisdn, Scope, SenderId, Timestamp};
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use rustc_hash::FxHashMap;

use crate::ConsentEvent;

/// Seconds are counted from 2020-01-01T00:00:00Z so that 31 bits last until 2088.
const EPOCH_BASE: i64 = 1_577_836_800;
const OPT_OUT_BIT: u32 = 1 << 31;
/// In a mark's target: the mark is the latest of the events the consumer gave themselves.
const CONSUMER: u32 = 1 << 31;
/// The platform-wide target. Sender ids stay below it (ids are database sequences; two billion
/// senders would need a wider mark).
const PLATFORM: u32 = CONSUMER - 1;
const SHARDS: usize = 64;

/// The latest event for one (phone, target): who it is for, what it said, and when (to the second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    target: u32,
    stamp: u32,
}

impl Mark {
    fn new(target: u32, action: ConsentAction, at: Timestamp) -> Self {
        let secs = (at.as_second() - EPOCH_BASE).clamp(0, i64::from(!OPT_OUT_BIT));
        let secs = u32::try_from(secs).unwrap_or(!OPT_OUT_BIT);
        let bit = if action == ConsentAction::OptOut {
            OPT_OUT_BIT
        } else {
            0
        };
        Mark {
            target,
            stamp: secs | bit,
        }
    }

    fn action(self) -> ConsentAction {
        if self.stamp & OPT_OUT_BIT == 0 {
            ConsentAction::OptIn
        } else {
            ConsentAction::OptOut
        }
    }

    fn secs(self) -> u32 {
        self.stamp & !OPT_OUT_BIT
    }

    /// When the event happened, to the second.
    #[must_use]
    pub fn at(self) -> Timestamp {
        Timestamp::from_second(i64::from(self.secs()) + EPOCH_BASE).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    /// Whether `self` supersedes `old` for the same target. Within one second the index cannot
    /// order events, so a refusal wins, as everywhere in the ledger.
    fn supersedes(self, old: Mark) -> bool {
        self.secs() > old.secs()
            || (self.secs() == old.secs() && self.action() == ConsentAction::OptOut)
    }
}

/// The index's answer for one (phone, sender).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexAnswer {
    /// Consent given (at this second) and not withdrawn since.
    Consented(Timestamp),
    /// Refused at this second, by the sender-scoped or the platform-wide event.
    OptedOut {
        /// When the refusal happened.
        at: Timestamp,
        /// Whether it was the platform-wide refusal.
        platform: bool,
    },
    /// No consent was ever given.
    NoConsent,
}

/// One shard: phones (as E.164 digits) to their marks.
#[derive(Debug, Default)]
pub struct Shard {
    phones: FxHashMap<u64, Vec<Mark>>,
}

fn target_of(sender: Option<SenderId>) -> u32 {
    sender.map_or(PLATFORM, |s| {
        debug_assert!(s.0 < PLATFORM, "sender id {} does not fit a mark", s.0);
        s.0.min(PLATFORM - 1)
    })
}

impl Shard {
    /// Applies a committed event.
    pub fn apply(&mut self, event: &ConsentEvent) {
        let target = match (event.scope, event.sender) {
            (Scope::Platform, _) => PLATFORM,
            (Scope::Sender, Some(s)) => target_of(Some(s)),
            (Scope::Sender, None) => return,
        };
        self.apply_mark(
            event.phone,
            Mark::new(target, event.action, event.at),
            event.by_consumer(),
        );
    }

    fn apply_mark(&mut self, phone: Msisdn, mark: Mark, by_consumer: bool) {
        let marks = self.phones.entry(phone.as_u64()).or_default();
        let mut put = |mark: Mark| match marks.iter_mut().find(|m| m.target == mark.target) {
            Some(old) if mark.supersedes(*old) => *old = mark,
            Some(_) => {}
            None => marks.push(mark),
        };
        put(mark);
        if by_consumer {
            put(Mark {
                target: mark.target | CONSUMER,
                stamp: mark.stamp,
            });
        }
        // Whatever was there, the target's state is now at least as new as this event: an
        // older mark left in place would answer from before it.
        debug_assert!(
            marks
                .iter()
                .any(|m| m.target == mark.target && (*m == mark || !mark.supersedes(*m))),
            "an applied consent event left an older state in the index"
        );
    }

    /// The answer for marketing from `sender` to `phone`.
    #[must_use]
    pub fn answer(&self, phone: Msisdn, sender: SenderId) -> IndexAnswer {
        let Some(marks) = self.phones.get(&phone.as_u64()) else {
            return IndexAnswer::NoConsent;
        };
        let own_target = target_of(Some(sender));
        let (mut own, mut platform, mut own_c, mut platform_c) = (None, None, None, None);
        for m in marks {
            match m.target {
                t if t == own_target => own = Some(*m),
                PLATFORM => platform = Some(*m),
                t if t == own_target | CONSUMER => own_c = Some(*m),
                t if t == PLATFORM | CONSUMER => platform_c = Some(*m),
                _ => {}
            }
        }
        let parts = |m: Option<Mark>| m.map(|m| (m.action(), m.secs(), m));
        let all = crate::decide(parts(own), parts(platform));
        let consumer = crate::decide(parts(own_c), parts(platform_c));
        match crate::decide_with_consumer(all, consumer) {
            Some((ConsentAction::OptIn, m)) => IndexAnswer::Consented(m.at()),
            Some((ConsentAction::OptOut, m)) => IndexAnswer::OptedOut {
                at: m.at(),
                platform: m.target & !CONSUMER == PLATFORM,
            },
            None => IndexAnswer::NoConsent,
        }
    }

    /// Whether a platform-wide refusal is in force for `phone` (the latest platform-wide event,
    /// or the consumer's own latest platform-wide word, is a refusal).
    #[must_use]
    pub fn platform_refused(&self, phone: Msisdn) -> bool {
        self.phones.get(&phone.as_u64()).is_some_and(|marks| {
            let latest = |t: u32| marks.iter().find(|m| m.target == t).map(|m| m.action());
            latest(PLATFORM) == Some(ConsentAction::OptOut)
                || latest(PLATFORM | CONSUMER) == Some(ConsentAction::OptOut)
        })
    }

    fn shrink(&mut self) {
        for marks in self.phones.values_mut() {
            marks.shrink_to_fit();
        }
        self.phones.shrink_to_fit();
    }
}

/// Every phone's consent state, sharded by phone.
#[derive(Debug)]
pub struct ConsentIndex {
    shards: Box<[RwLock<Shard>]>,
}

impl Default for ConsentIndex {
    fn default() -> Self {
        ConsentIndex {
            shards: (0..SHARDS).map(|_| RwLock::new(Shard::default())).collect(),
        }
    }
}

impl ConsentIndex {
    fn shard_of(&self, phone: Msisdn) -> &RwLock<Shard> {
        // Fibonacci hashing spreads consecutive numbers across shards.
        &self.shards[self.shard_index(phone)]
    }

    /// Applies a committed event (takes the phone's shard lock for writing).
    pub fn apply(&self, event: &ConsentEvent) {
        self.shard_of(event.phone).write().apply(event);
    }

    /// Applies a raw (phone, sender, action, at, by consumer) tuple, as read from the store at
    /// start ([`crate::by_consumer`] of the event's actor).
    pub fn apply_raw(
        &self,
        phone: Msisdn,
        sender: Option<SenderId>,
        action: ConsentAction,
        at: Timestamp,
        by_consumer: bool,
    ) {
        self.shard_of(phone).write().apply_mark(
            phone,
            Mark::new(target_of(sender), action, at),
            by_consumer,
        );
    }

    /// The answer for marketing from `sender` to `phone`.
    #[must_use]
    pub fn answer(&self, phone: Msisdn, sender: SenderId) -> IndexAnswer {
        self.shard_of(phone).read().answer(phone, sender)
    }

    /// Sizes `phone`'s entry for `events` events before a bulk load, so that loading does not
    /// grow (and fragment) it event by event. Over-reservation is given back by [`Self::shrink`].
    pub fn reserve(&self, phone: Msisdn, events: u32) {
        let n = usize::try_from(events.min(1024)).unwrap_or(16);
        self.shard_of(phone)
            .write()
            .phones
            .entry(phone.as_u64())
            .or_insert_with(|| Vec::with_capacity(n));
    }

    /// Holds `phone`'s shard for reading: while held, no consent event for that phone can be
    /// applied. The dispatcher holds it while handing a message to the carrier.
    pub fn read(&self, phone: Msisdn) -> RwLockReadGuard<'_, Shard> {
        self.shard_of(phone).read()
    }

    /// Holds `phone`'s shard for writing: an opt-out holds it from before its commit until it is
    /// applied, so no decision or hand-off for that phone interleaves with it.
    pub fn write(&self, phone: Msisdn) -> RwLockWriteGuard<'_, Shard> {
        self.shard_of(phone).write()
    }

    /// Holds the shards of all `phones` for writing, locked in shard order so that two callers
    /// can never deadlock. A batch of consent events holds them across its commit.
    pub fn write_many(&self, phones: impl IntoIterator<Item = Msisdn>) -> WriteSet<'_> {
        let mut idx: Vec<usize> = phones.into_iter().map(|p| self.shard_index(p)).collect();
        idx.sort_unstable();
        idx.dedup();
        WriteSet {
            index: self,
            guards: idx
                .into_iter()
                .map(|i| (i, self.shards[i].write()))
                .collect(),
        }
    }

    fn shard_index(&self, phone: Msisdn) -> usize {
        let h = phone.as_u64().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
        usize::try_from(h).unwrap_or(0) % self.shards.len()
    }

    /// Forgets every phone `drop` selects (a partition this node no longer owns, or one about
    /// to be loaded afresh); returns how many phones were forgotten.
    pub fn forget(&self, drop: &dyn Fn(Msisdn) -> bool) -> usize {
        let mut n = 0;
        for s in &*self.shards {
            let mut s = s.write();
            let before = s.phones.len();
            s.phones.retain(|p, _| !drop(Msisdn::from_u64(*p)));
            n += before - s.phones.len();
        }
        n
    }

    /// Releases memory left over from growth, after a bulk load.
    pub fn shrink(&self) {
        for s in &*self.shards {
            s.write().shrink();
        }
    }

    /// Number of phones with at least one event.
    #[must_use]
    pub fn phones(&self) -> usize {
        self.shards.iter().map(|s| s.read().phones.len()).sum()
    }
}

/// Write locks on the shards of a set of phones; see [`ConsentIndex::write_many`].
#[derive(Debug)]
pub struct WriteSet<'a> {
    index: &'a ConsentIndex,
    guards: Vec<(usize, RwLockWriteGuard<'a, Shard>)>,
}

impl WriteSet<'_> {
    fn shard(&self, phone: Msisdn) -> Option<&Shard> {
        let i = self.index.shard_index(phone);
        self.guards.iter().find(|(j, _)| *j == i).map(|(_, g)| &**g)
    }

    /// [`Shard::answer`] for a phone in the set (`None` outside it).
    #[must_use]
    pub fn answer(&self, phone: Msisdn, sender: SenderId) -> Option<IndexAnswer> {
        self.shard(phone).map(|s| s.answer(phone, sender))
    }

    /// [`Shard::platform_refused`] for a phone in the set (false outside it).
    #[must_use]
    pub fn platform_refused(&self, phone: Msisdn) -> bool {
        self.shard(phone).is_some_and(|s| s.platform_refused(phone))
    }

    /// Applies a committed event whose phone is in the set; returns false (and applies nothing)
    /// for a phone outside it.
    pub fn apply(&mut self, event: &ConsentEvent) -> bool {
        let i = self.index.shard_index(event.phone);
        match self.guards.iter_mut().find(|(j, _)| *j == i) {
            Some((_, g)) => {
                g.apply(event);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer_at;
    use domain::Region;
    use proptest::prelude::*;

    fn phone() -> Msisdn {
        Msisdn::parse("13800138000", Region::CN).unwrap()
    }

    fn event(seq: u64, sender: Option<u32>, opt_out: bool, minute: i64) -> ConsentEvent {
        let at = Timestamp::from_second(1_762_819_200 + minute * 60).unwrap();
        let action = if opt_out {
            ConsentAction::OptOut
        } else {
            ConsentAction::OptIn
        };
        let scope = if sender.is_some() {
            Scope::Sender
        } else {
            Scope::Platform
        };
        ConsentEvent::new(seq, phone(), scope, sender.map(SenderId), action, at)
    }

    #[test]
    fn index_answers_like_the_fold() {
        let idx = ConsentIndex::default();
        let events = [
            event(1, Some(1), false, 0),
            event(2, None, true, 5),
            event(3, Some(1), false, 9),
        ];
        for e in &events {
            idx.apply(e);
        }
        assert!(matches!(
            idx.answer(phone(), SenderId(1)),
            IndexAnswer::Consented(_)
        ));
        assert!(matches!(
            idx.answer(phone(), SenderId(2)),
            IndexAnswer::OptedOut { platform: true, .. }
        ));
    }

    proptest! {
        /// Whatever order events arrive in, at minute resolution the index agrees with the fold.
        #[test]
        fn index_agrees_with_fold(raw in proptest::collection::vec((proptest::option::of(0u32..3), any::<bool>(), 0i64..20, any::<bool>()), 0..30)) {
            // Half the events the consumer gave themselves, half a merchant's or an import's.
            let events: Vec<ConsentEvent> = raw.iter().enumerate()
                .map(|(i, (s, out, m, own))| {
                    let mut e = event(i as u64 + 1, *s, *out, *m);
                    e.actor = if *own { "reply".into() } else { "import".into() };
                    e
                }).collect();
            let idx = ConsentIndex::default();
            for e in &events { idx.apply(e); }
            let far = Timestamp::from_second(2_000_000_000).unwrap();
            for s in 0..3 {
                let fold = answer_at(&events, SenderId(s), far);
                // The fold breaks same-instant ties by commit order; the index by refusal. Only
                // compare where no two events of one target share a minute.
                let mut seen = std::collections::HashSet::new();
                if !events.iter().all(|e| seen.insert((e.sender, e.at))) { continue; }
                let index = idx.answer(phone(), SenderId(s));
                prop_assert_eq!(fold.allows_marketing(), matches!(index, IndexAnswer::Consented(_)));
            }
        }
    }
}
