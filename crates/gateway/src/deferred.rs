//! Marketing held for quiet hours, released when the window ends and decided again then — so an
//! opt-out, a suspension or a cap reached overnight still applies.

use domain::{Category, Msisdn, SenderId, Timestamp};
use policy::Verdict;
use store::{MessageLog, MessageRecord};

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

/// Held messages by release time.
#[derive(Debug, Default)]
pub(crate) struct Deferred {
    by_release: ByRelease<Held>,
}

impl Deferred {
    pub fn insert(&mut self, at: Timestamp, m: &MessageRecord, phone: Msisdn) {
        self.by_release.insert(
            (at, m.id),
            Held {
                sender: m.sender,
                phone,
                text: m.text.clone(),
                category: m.category,
            },
        );
    }

    pub fn hold(&mut self, at: Timestamp, id: u64, held: Held) {
        self.by_release.insert((at, id), held);
    }

    pub fn len(&self) -> usize {
        self.by_release.len()
    }

    /// Removes the held marketing to `phone` from any of `senders` (from every sender when
    /// `senders` is empty) and returns the message ids. A scan of the whole queue: opt-outs are
    /// rare next to sends, and the queue holds at most one night's marketing.
    pub fn take_marketing(&mut self, phone: Msisdn, senders: &[SenderId]) -> Vec<u64> {
        let mut out = Vec::new();
        self.by_release.retain(|&(_, id), held| {
            let hit = held.phone == phone
                && held.category == Category::Marketing
                && (senders.is_empty() || senders.contains(&held.sender));
            if hit {
                out.push(id);
            }
            !hit
        });
        out
    }

    /// Removes and returns everything due at `now`.
    fn due(&mut self, now: Timestamp) -> Vec<(u64, Held)> {
        let mut out = Vec::new();
        while let Some(entry) = self.by_release.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((_, id), held) = entry.remove_entry();
            out.push((id, held));
        }
        out
    }
}

impl Gateway {
    /// Releases deferred messages whose window has ended: each is decided again at the current
    /// time; accepted ones go to the dispatcher. Returns how many were released. The ticker calls
    /// this; tests with a manual clock call it directly.
    pub fn tick(&self) -> Result<usize, GatewayError> {
        let now = self.clock.now();
        let due = self.deferred.lock().due(now);
        let n = due.len();
        for (id, held) in due {
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
            self.store.redecide(id, &decision, now)?;
            match decision.verdict {
                Verdict::Accepted => self.enqueue(Outbound {
                    id,
                    sender: held.sender,
                    source_number: sender.source_number.clone(),
                    phone: held.phone,
                    text: held.text,
                    category: held.category,
                    decided_at: now,
                }),
                Verdict::Deferred => {
                    if let Some(at) = decision.release_at {
                        self.deferred.lock().hold(at, id, held);
                    }
                }
                Verdict::Rejected => {}
            }
        }
        Ok(n)
    }
}
