//! Marketing held for quiet hours, released when the window ends and decided again then — so an
//! opt-out, a suspension or a cap reached overnight still applies.

use std::collections::HashMap;

use domain::{Category, Msisdn, SenderId, Timestamp};
use policy::Verdict;
use store::MessageRecord;

use crate::gateway::ByRelease;
use crate::submit::Decided;
use crate::{Gateway, GatewayError, Outbound};

/// A held message.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub sender: SenderId,
    pub phone: Msisdn,
    pub text: String,
    pub category: Category,
}

/// Held messages by release time, and the keys of each phone's held messages: every opt-out
/// looks its phone up here, so a night's campaign of a million held messages does not make
/// each opt-out scan the queue under the lock.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    by_release: ByRelease<Held>,
    by_phone: HashMap<Msisdn, Vec<(Timestamp, u64)>>,
}

impl Deferred {
    pub fn insert(&mut self, at: Timestamp, m: &MessageRecord, phone: Msisdn) {
        self.hold(
            at,
            m.id,
            Held {
                sender: m.sender,
                phone,
                text: m.text.clone(),
                category: m.category,
            },
        );
    }

    pub fn hold(&mut self, at: Timestamp, id: u64, held: Held) {
        self.by_phone.entry(held.phone).or_default().push((at, id));
        self.by_release.insert((at, id), held);
    }

    /// Drops every held message to a phone `drop` selects (its partition moved to another
    /// node, which holds them from the store); returns how many.
    pub fn forget(&mut self, drop: &dyn Fn(Msisdn) -> bool) -> usize {
        let before = self.by_release.len();
        self.by_release.retain(|_, held| !drop(held.phone));
        self.by_phone.retain(|p, _| !drop(*p));
        before - self.by_release.len()
    }

    /// Forgets `key` in `phone`'s list (the entry itself is already gone from `by_release`).
    fn unlink(&mut self, phone: Msisdn, key: (Timestamp, u64)) {
        if let Some(keys) = self.by_phone.get_mut(&phone) {
            keys.retain(|k| *k != key);
            if keys.is_empty() {
                self.by_phone.remove(&phone);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.by_release.len()
    }

    /// Removes the held marketing to `phone` from any of `senders` (from every sender when
    /// `senders` is empty) and returns the message ids, in release order.
    pub fn take_marketing(&mut self, phone: Msisdn, senders: &[SenderId]) -> Vec<u64> {
        let Some(keys) = self.by_phone.get(&phone) else {
            return Vec::new();
        };
        let mut hits: Vec<(Timestamp, u64)> = keys
            .iter()
            .copied()
            .filter(|key| {
                self.by_release.get(key).is_some_and(|held| {
                    held.category == Category::Marketing
                        && (senders.is_empty() || senders.contains(&held.sender))
                })
            })
            .collect();
        hits.sort_unstable();
        for key in &hits {
            self.by_release.remove(key);
            self.unlink(phone, *key);
        }
        hits.into_iter().map(|(_, id)| id).collect()
    }

    /// Removes message `id` to `phone` if it is held, and returns it with its release time.
    pub fn take(&mut self, phone: Msisdn, id: u64) -> Option<(Timestamp, Held)> {
        let key = *self.by_phone.get(&phone)?.iter().find(|(_, i)| *i == id)?;
        let held = self.by_release.remove(&key)?;
        self.unlink(phone, key);
        Some((key.0, held))
    }

    /// Removes and returns everything due at `now`, with its release time.
    fn due(&mut self, now: Timestamp) -> Vec<((Timestamp, u64), Held)> {
        let mut out = Vec::new();
        while let Some(entry) = self.by_release.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (key, held) = entry.remove_entry();
            self.unlink(held.phone, key);
            out.push((key, held));
        }
        out
    }
}

impl Gateway {
    /// Releases deferred messages whose window has ended: each is decided again at the current
    /// time; accepted ones go to the dispatcher. Returns how many were released. The ticker calls
    /// this; tests with a manual clock call it directly.
    ///
    /// Nothing due is lost from the queue: a message to a phone this node does not hold at
    /// this instant (a partition loaded for a takeover whose lease is not yet named, a node
    /// whose trust lapsed) waits for the next tick — a lost partition's messages are dropped by
    /// [`Gateway::forget_phones`], not here; a re-decision the store refuses as fenced belongs
    /// to the phone's new owner; one that cannot be recorded (storage down) is held again
    /// with the rest, and the error returned.
    pub fn tick(&self) -> Result<usize, GatewayError> {
        let now = self.clock.now();
        let mut due = self.deferred.lock().due(now).into_iter();
        let mut released = 0;
        while let Some((key, held)) = due.next() {
            let id = key.1;
            if !self.owns(held.phone) {
                self.deferred.lock().hold(key.0, id, held);
                continue;
            }
            let epoch = self.epoch_of(held.phone);
            let Some(sender) = self.access.sender(held.sender) else {
                continue;
            };
            let Decided { decision, .. } = self.decide_one(
                &sender,
                Some(held.phone),
                &held.text,
                held.category,
                Self::hash_of(&held.text),
                now,
            );
            match self.record_redecision(id, held.phone, epoch, &decision, now) {
                Ok(()) => {}
                Err(store::StoreError::Fenced { partition, epoch }) => {
                    tracing::info!(
                        id,
                        partition,
                        epoch,
                        "deferred message left to the new owner"
                    );
                    continue;
                }
                Err(e) => {
                    let mut deferred = self.deferred.lock();
                    deferred.hold(key.0, id, held);
                    for (key, held) in due {
                        deferred.hold(key.0, key.1, held);
                    }
                    return Err(e.into());
                }
            }
            released += 1;
            match decision.verdict {
                Verdict::Accepted => self.enqueue(Outbound {
                    id,
                    sender: held.sender,
                    source_number: sender.source_number.clone(),
                    phone: held.phone,
                    text: held.text,
                    category: held.category,
                    decided_at: now,
                    epoch,
                }),
                Verdict::Deferred => {
                    if let Some(at) = decision.release_at {
                        self.deferred.lock().hold(at, id, held);
                    }
                }
                Verdict::Rejected => {}
            }
        }
        Ok(released)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn held(sender: u32, phone: u64, category: Category) -> Held {
        Held {
            sender: SenderId(sender),
            phone: Msisdn::from_u64(phone),
            text: String::new(),
            category,
        }
    }

    #[test]
    fn opt_outs_take_only_that_phones_marketing_and_the_phone_index_stays_exact() {
        let t = |h: i64| Timestamp::from_second(h * 3600).unwrap();
        let mut d = Deferred::default();
        d.hold(t(2), 1, held(7, 100, Category::Marketing));
        d.hold(t(1), 2, held(8, 100, Category::Marketing));
        d.hold(t(1), 3, held(7, 100, Category::Transactional));
        d.hold(t(1), 4, held(7, 200, Category::Marketing));
        d.hold(t(3), 5, held(7, 100, Category::Marketing));
        // One sender's refusal: its marketing to that phone, in release order.
        assert_eq!(
            d.take_marketing(Msisdn::from_u64(100), &[SenderId(7)]),
            vec![1, 5]
        );
        assert!(
            d.take_marketing(Msisdn::from_u64(100), &[SenderId(7)])
                .is_empty()
        );
        // Released messages leave the phone index too.
        let due: Vec<u64> = d.due(t(1)).into_iter().map(|(key, _)| key.1).collect();
        assert_eq!(due, vec![2, 3, 4]);
        assert!(d.by_phone.is_empty(), "{:?}", d.by_phone);
        assert_eq!(d.len(), 0);
        // A platform-wide refusal (no sender named) takes every sender's marketing.
        d.hold(t(5), 6, held(7, 100, Category::Marketing));
        d.hold(t(5), 7, held(8, 100, Category::Marketing));
        d.hold(t(5), 8, held(8, 100, Category::Verification));
        assert_eq!(d.take_marketing(Msisdn::from_u64(100), &[]), vec![6, 7]);
        assert_eq!(d.len(), 1);
        assert_eq!(d.by_phone[&Msisdn::from_u64(100)], vec![(t(5), 8)]);
    }
}
