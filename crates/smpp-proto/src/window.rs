//! Sequence numbers and the window of requests awaiting a response.
//!
//! Carriers cap how many requests may be unanswered at once and drop sessions that exceed it;
//! merchants must be held to our cap for the same reason. The window is bounded, matches
//! responses to requests by sequence number and operation, and reports requests whose response
//! is overdue, using timestamps the caller passes in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::command::CommandId;
use crate::pdu::Pdu;

/// Highest sequence number; the spec restricts them to 0x00000001–0x7FFFFFFF.
pub const MAX_SEQUENCE_NUMBER: u32 = 0x7FFF_FFFF;

/// Allocates sequence numbers 1, 2, …, 0x7FFFFFFF, then wraps to 1.
#[derive(Clone, Debug)]
pub struct SequenceNumbers {
    next: u32,
}

impl Default for SequenceNumbers {
    fn default() -> Self {
        SequenceNumbers::new()
    }
}

impl SequenceNumbers {
    /// Starts at 1.
    #[must_use]
    pub fn new() -> Self {
        SequenceNumbers { next: 1 }
    }

    /// Starts at `first` (clamped into range), for tests of wrap-around.
    #[must_use]
    pub fn starting_at(first: u32) -> Self {
        SequenceNumbers {
            next: first.clamp(1, MAX_SEQUENCE_NUMBER),
        }
    }

    /// The next number.
    pub fn allocate(&mut self) -> u32 {
        let n = self.next;
        self.next = if n >= MAX_SEQUENCE_NUMBER { 1 } else { n + 1 };
        n
    }
}

/// A request awaiting its response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight<T> {
    pub sequence_number: u32,
    pub command_id: CommandId,
    pub sent_at: Instant,
    /// Whatever the caller needs back with the response (a reply channel, a message id).
    pub context: T,
}

/// Why a request could not be added or a response matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// As many requests are in flight as the window allows: wait for a response or a timeout.
    #[error("window is full")]
    Full,
    /// The sequence number is already in flight.
    #[error("sequence number {0} is already in flight")]
    Duplicate(u32),
    /// No request with this sequence number is in flight (late, or never sent).
    #[error("no request in flight with sequence number {0}")]
    NotInFlight(u32),
    /// The response is not the one the request expects; the request stays in flight.
    #[error("{response:?} does not answer {request:?}")]
    Mismatch {
        request: CommandId,
        response: CommandId,
    },
}

/// Bounded set of in-flight requests.
#[derive(Debug)]
pub struct Window<T> {
    capacity: usize,
    timeout: Duration,
    in_flight: HashMap<u32, InFlight<T>>,
}

impl<T> Window<T> {
    /// A window of `capacity` requests, each expiring `timeout` after it was sent.
    #[must_use]
    pub fn new(capacity: usize, timeout: Duration) -> Self {
        Window {
            capacity,
            timeout,
            in_flight: HashMap::new(),
        }
    }

    /// Requests in flight.
    #[must_use]
    pub fn len(&self) -> usize {
        self.in_flight.len()
    }

    /// True when nothing is in flight.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// Room for this many more requests.
    #[must_use]
    pub fn available(&self) -> usize {
        self.capacity.saturating_sub(self.in_flight.len())
    }

    /// Records a sent request.
    pub fn insert(
        &mut self,
        sequence_number: u32,
        command_id: CommandId,
        now: Instant,
        context: T,
    ) -> Result<(), WindowError> {
        if self.in_flight.contains_key(&sequence_number) {
            return Err(WindowError::Duplicate(sequence_number));
        }
        if self.available() == 0 {
            return Err(WindowError::Full);
        }
        self.in_flight.insert(
            sequence_number,
            InFlight {
                sequence_number,
                command_id,
                sent_at: now,
                context,
            },
        );
        Ok(())
    }

    /// Matches a received response (or generic_nack) to its request and removes it.
    pub fn complete(&mut self, response: &Pdu) -> Result<InFlight<T>, WindowError> {
        let seq = response.sequence_number;
        let request = self
            .in_flight
            .get(&seq)
            .ok_or(WindowError::NotInFlight(seq))?
            .command_id;
        let got = response.command_id();
        if got != CommandId::GenericNack && request.response() != Some(got) {
            return Err(WindowError::Mismatch {
                request,
                response: got,
            });
        }
        self.in_flight
            .remove(&seq)
            .ok_or(WindowError::NotInFlight(seq))
    }

    /// Removes and returns requests sent `timeout` or longer before `now`, oldest first.
    pub fn expire(&mut self, now: Instant) -> Vec<InFlight<T>> {
        let timeout = self.timeout;
        let overdue: Vec<u32> = self
            .in_flight
            .values()
            .filter(|f| now.saturating_duration_since(f.sent_at) >= timeout)
            .map(|f| f.sequence_number)
            .collect();
        let mut out: Vec<InFlight<T>> = overdue
            .iter()
            .filter_map(|s| self.in_flight.remove(s))
            .collect();
        out.sort_by_key(|f| (f.sent_at, f.sequence_number));
        out
    }

    /// When the oldest request expires, for the caller's timer.
    #[must_use]
    pub fn next_deadline(&self) -> Option<Instant> {
        self.in_flight
            .values()
            .map(|f| f.sent_at + self.timeout)
            .min()
    }

    /// Removes everything (on disconnect), returning what was in flight.
    pub fn drain(&mut self) -> Vec<InFlight<T>> {
        self.in_flight.drain().map(|(_, f)| f).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdu::{Body, SmResp};
    use crate::status::CommandStatus;

    #[test]
    fn sequence_numbers_wrap_to_one() {
        let mut s = SequenceNumbers::starting_at(MAX_SEQUENCE_NUMBER);
        assert_eq!(s.allocate(), MAX_SEQUENCE_NUMBER);
        assert_eq!(s.allocate(), 1);
        assert_eq!(SequenceNumbers::starting_at(0).allocate(), 1);
    }

    #[test]
    fn window_is_bounded_and_matches_responses() {
        let t0 = Instant::now();
        let mut w = Window::new(2, Duration::from_secs(10));
        w.insert(1, CommandId::SubmitSm, t0, "a").expect("room");
        assert_eq!(
            w.insert(1, CommandId::SubmitSm, t0, "dup"),
            Err(WindowError::Duplicate(1))
        );
        w.insert(2, CommandId::EnquireLink, t0 + Duration::from_secs(5), "b")
            .expect("room");
        assert_eq!(
            w.insert(3, CommandId::SubmitSm, t0, "c"),
            Err(WindowError::Full)
        );

        let wrong = Pdu::response(1, CommandStatus::ROK, Body::EnquireLinkResp);
        assert!(matches!(
            w.complete(&wrong),
            Err(WindowError::Mismatch { .. })
        ));
        let resp = Pdu::response(1, CommandStatus::ROK, Body::SubmitSmResp(SmResp::new("x")));
        assert_eq!(w.complete(&resp).map(|f| f.context), Ok("a"));
        assert_eq!(w.complete(&resp), Err(WindowError::NotInFlight(1)));

        assert_eq!(w.next_deadline(), Some(t0 + Duration::from_secs(15)));
        assert!(w.expire(t0 + Duration::from_secs(14)).is_empty());
        let expired = w.expire(t0 + Duration::from_secs(15));
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].sequence_number, 2);
        assert!(w.is_empty());
    }

    #[test]
    fn generic_nack_completes_any_request() {
        let mut w = Window::new(1, Duration::from_secs(1));
        w.insert(9, CommandId::QuerySm, Instant::now(), ())
            .expect("room");
        let nack = Pdu::generic_nack(9, CommandStatus::RINVCMDID);
        assert!(w.complete(&nack).is_ok());
    }
}
