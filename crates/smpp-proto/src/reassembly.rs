//! Joining concatenated segments back into one message on the way in.
//!
//! Segments arrive in any order, possibly duplicated, possibly never completed. The
//! reassembler holds a bounded number of partial messages, keyed by who sent them to whom and
//! their reference, and forgets them after a timeout measured on timestamps the caller passes
//! in (there is no clock inside, so simulations and tests control time).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::concat::segment_of;
use crate::pdu::{Address, ShortMessage};
use crate::text::decode_text;

/// Identifies one partial message.
///
/// Wider than "source + reference": references are only 8 bits on most handsets, so the
/// destination (which short code was texted) and the part count are included to keep two
/// concurrent messages from being spliced together.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PartialKey {
    pub source: Address,
    pub destination: Address,
    pub reference: u16,
    pub total: u8,
}

/// A complete message: every segment's text octets, in order, without UDHs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reassembled {
    pub source: Address,
    pub destination: Address,
    /// The data_coding of the first segment seen (all segments should agree).
    pub data_coding: u8,
    pub payload: Vec<u8>,
    /// How many segments it arrived in (1 for an unsplit message).
    pub segments: u8,
}

impl Reassembled {
    /// The decoded text; see [`decode_text`] for how invalid input is handled.
    #[must_use]
    pub fn text(&self) -> String {
        decode_text(self.data_coding, &self.payload)
    }
}

/// The result of accepting one segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The message is whole (unsplit, or this was its last missing segment).
    Complete(Reassembled),
    /// More segments are needed.
    Pending,
}

struct Partial {
    first_seen: Instant,
    data_coding: u8,
    parts: Vec<Option<Vec<u8>>>,
    received: usize,
}

/// Bounded, caller-clocked reassembly of concatenated messages (UDH or SAR).
pub struct Reassembler {
    max_pending: usize,
    timeout: Duration,
    pending: HashMap<PartialKey, Partial>,
    dropped: u64,
}

impl Reassembler {
    /// Holds at most `max_pending` partial messages (at least one), each for at most `timeout`
    /// after its first segment.
    #[must_use]
    pub fn new(max_pending: usize, timeout: Duration) -> Self {
        Reassembler {
            max_pending: max_pending.max(1),
            timeout,
            pending: HashMap::new(),
            dropped: 0,
        }
    }

    /// Partial messages currently held.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Partial messages given up so far, by timeout or to make room.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Accepts a received submit_sm or deliver_sm at time `now`.
    ///
    /// A duplicate segment replaces the earlier copy. When the table is full the oldest
    /// partial message is dropped to make room: a flood of never-completed segments then costs
    /// old partials, not memory.
    pub fn accept(&mut self, sm: &ShortMessage, now: Instant) -> Outcome {
        let (info, text) = segment_of(sm);
        let Some(info) = info.filter(|i| i.total > 1) else {
            return Outcome::Complete(Reassembled {
                source: sm.source.clone(),
                destination: sm.destination.clone(),
                data_coding: sm.data_coding,
                payload: text.to_vec(),
                segments: 1,
            });
        };
        let key = PartialKey {
            source: sm.source.clone(),
            destination: sm.destination.clone(),
            reference: info.reference,
            total: info.total,
        };
        if !self.pending.contains_key(&key) && self.pending.len() >= self.max_pending {
            self.expire(now);
            if self.pending.len() >= self.max_pending {
                self.drop_oldest();
            }
        }
        let partial = self.pending.entry(key.clone()).or_insert_with(|| Partial {
            first_seen: now,
            data_coding: sm.data_coding,
            parts: vec![None; usize::from(info.total)],
            received: 0,
        });
        let slot = &mut partial.parts[usize::from(info.seq - 1)];
        if slot.is_none() {
            partial.received += 1;
        }
        *slot = Some(text.to_vec());
        if partial.received < partial.parts.len() {
            return Outcome::Pending;
        }
        let Some(done) = self.pending.remove(&key) else {
            return Outcome::Pending;
        };
        Outcome::Complete(Reassembled {
            source: key.source,
            destination: key.destination,
            data_coding: done.data_coding,
            payload: done.parts.into_iter().flatten().flatten().collect(),
            segments: info.total,
        })
    }

    /// Drops partial messages whose first segment is older than the timeout, returning their
    /// keys so the caller can log or count them.
    pub fn expire(&mut self, now: Instant) -> Vec<PartialKey> {
        let timeout = self.timeout;
        let expired: Vec<PartialKey> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.first_seen) >= timeout)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &expired {
            self.pending.remove(k);
        }
        self.dropped += expired.len() as u64;
        expired
    }

    fn drop_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .min_by_key(|(_, p)| p.first_seen)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            self.pending.remove(&k);
            self.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::concat::{Concat, split_text};

    fn segments(text: &str, concat: Concat, reference: u16) -> Vec<ShortMessage> {
        split_text(text, concat, reference)
            .expect("splits")
            .iter()
            .map(|seg| {
                let mut sm = ShortMessage {
                    source: Address::international("8613800138000"),
                    destination: Address::new(0, 0, "10690"),
                    ..ShortMessage::default()
                };
                seg.apply(&mut sm);
                sm
            })
            .collect()
    }

    #[test]
    fn out_of_order_and_duplicate_segments_reassemble() {
        let text = "退订".repeat(60);
        let mut parts = segments(&text, Concat::Udh16, 300);
        parts.reverse();
        parts.insert(1, parts[0].clone());
        let now = Instant::now();
        let mut r = Reassembler::new(4, Duration::from_secs(60));
        let mut done = None;
        for p in &parts {
            if let Outcome::Complete(m) = r.accept(p, now) {
                done = Some(m);
            }
        }
        let done = done.expect("completes");
        assert_eq!(done.text(), text);
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn stale_and_excess_partials_are_dropped() {
        let now = Instant::now();
        let mut r = Reassembler::new(2, Duration::from_secs(60));
        for reference in 0..3 {
            let first = &segments(&"x".repeat(200), Concat::Sar, reference)[0];
            assert_eq!(r.accept(first, now), Outcome::Pending);
        }
        assert_eq!(r.pending(), 2);
        assert_eq!(r.dropped(), 1);
        assert!(r.expire(now + Duration::from_secs(59)).is_empty());
        assert_eq!(r.expire(now + Duration::from_secs(60)).len(), 2);
        assert_eq!(r.pending(), 0);
    }
}
