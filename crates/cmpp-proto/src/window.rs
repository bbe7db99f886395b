//! Sequence_Ids and the window of requests awaiting a response, with flow control.
//!
//! ISMGs cap unanswered SUBMITs per connection (16 is usual) and answer an SP that pushes
//! past its rate with Result 8, "flow control". That result is not a verdict on the message: it
//! means resend later, slower. The window therefore halves its limit and pauses for a backoff
//! on each Result 8, and grows back by one for every full window of accepted requests
//! (additive increase, multiplicative decrease), with timestamps the caller passes in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::command::CommandId;
use crate::result;

/// Allocates Sequence_Ids 1, 2, …, `u32::MAX`, then wraps to 1.
#[derive(Clone, Debug)]
pub struct SequenceIds {
    next: u32,
}

impl Default for SequenceIds {
    fn default() -> Self {
        SequenceIds { next: 1 }
    }
}

impl SequenceIds {
    /// Starts at `first` (0 becomes 1), for tests of wrap-around.
    #[must_use]
    pub fn starting_at(first: u32) -> Self {
        SequenceIds { next: first.max(1) }
    }

    /// The next id.
    pub fn allocate(&mut self) -> u32 {
        let n = self.next;
        self.next = n.checked_add(1).unwrap_or(1);
        n
    }
}

/// A request awaiting its response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlight<T> {
    pub sequence_id: u32,
    pub command_id: CommandId,
    pub sent_at: Instant,
    /// Whatever the caller needs back with the response (a reply channel, a message id).
    pub context: T,
}

/// Why a request could not be added or a response matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// As many requests are in flight as the window allows now, or it is paused after a
    /// flow-control answer: wait for a response or for [`Window::resume_at`].
    #[error("window is full")]
    Full,
    #[error("sequence id {0} is already in flight")]
    Duplicate(u32),
    /// Late, or never sent.
    #[error("no request in flight with sequence id {0}")]
    NotInFlight(u32),
    /// The response is not the one the request expects; the request stays in flight.
    #[error("{response:?} does not answer {request:?}")]
    Mismatch {
        request: CommandId,
        response: CommandId,
    },
}

/// Bounded set of in-flight requests with an adaptive limit.
#[derive(Debug)]
pub struct Window<T> {
    capacity: usize,
    limit: usize,
    accepted_at_limit: usize,
    timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
    backoff: Duration,
    paused_until: Option<Instant>,
    in_flight: HashMap<u32, InFlight<T>>,
}

impl<T> Window<T> {
    /// A window of `capacity` requests, each expiring `timeout` after it was sent; flow control
    /// pauses for 100 ms, doubling up to 5 s while it persists.
    #[must_use]
    pub fn new(capacity: usize, timeout: Duration) -> Self {
        let capacity = capacity.max(1);
        Window {
            capacity,
            limit: capacity,
            accepted_at_limit: 0,
            timeout,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            backoff: Duration::from_millis(100),
            paused_until: None,
            in_flight: HashMap::new(),
        }
    }

    /// Sets the flow-control backoff range.
    #[must_use]
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self.backoff = min;
        self
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

    /// The current limit: the capacity, or less after flow control.
    #[must_use]
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// When a flow-control pause ends, if one is in force at `now`.
    #[must_use]
    pub fn resume_at(&self, now: Instant) -> Option<Instant> {
        self.paused_until.filter(|t| *t > now)
    }

    /// Room for this many more requests at `now`.
    #[must_use]
    pub fn available(&self, now: Instant) -> usize {
        if self.resume_at(now).is_some() {
            return 0;
        }
        self.limit.saturating_sub(self.in_flight.len())
    }

    /// Records a sent request.
    pub fn insert(
        &mut self,
        sequence_id: u32,
        command_id: CommandId,
        now: Instant,
        context: T,
    ) -> Result<(), WindowError> {
        if self.in_flight.contains_key(&sequence_id) {
            return Err(WindowError::Duplicate(sequence_id));
        }
        if self.available(now) == 0 {
            return Err(WindowError::Full);
        }
        self.in_flight.insert(
            sequence_id,
            InFlight {
                sequence_id,
                command_id,
                sent_at: now,
                context,
            },
        );
        Ok(())
    }

    /// Matches a response to its request and removes the request.
    pub fn complete(
        &mut self,
        sequence_id: u32,
        response: CommandId,
    ) -> Result<InFlight<T>, WindowError> {
        let request = self
            .in_flight
            .get(&sequence_id)
            .ok_or(WindowError::NotInFlight(sequence_id))?
            .command_id;
        if request.response() != Some(response) {
            return Err(WindowError::Mismatch { request, response });
        }
        self.in_flight
            .remove(&sequence_id)
            .ok_or(WindowError::NotInFlight(sequence_id))
    }

    /// Feeds a SUBMIT_RESP Result to flow control: 8 halves the limit and pauses; anything
    /// else counts towards growing the limit back.
    pub fn on_result(&mut self, result: u32, now: Instant) {
        if result == result::FLOW_CONTROL {
            // The rest of a window sent before the pause answers 8 too: that is one signal,
            // not one per request, or a single burst would drive the backoff to its maximum.
            if self.resume_at(now).is_some() {
                return;
            }
            self.limit = (self.limit / 2).max(1);
            self.accepted_at_limit = 0;
            self.paused_until = Some(now + self.backoff);
            self.backoff = (self.backoff * 2).min(self.max_backoff);
            return;
        }
        self.backoff = self.min_backoff;
        if self.limit < self.capacity {
            self.accepted_at_limit += 1;
            if self.accepted_at_limit >= self.limit {
                self.limit += 1;
                self.accepted_at_limit = 0;
            }
        }
    }

    /// Removes and returns requests sent `timeout` or longer before `now`, oldest first.
    pub fn expire(&mut self, now: Instant) -> Vec<InFlight<T>> {
        let timeout = self.timeout;
        let overdue: Vec<u32> = self
            .in_flight
            .values()
            .filter(|f| now.saturating_duration_since(f.sent_at) >= timeout)
            .map(|f| f.sequence_id)
            .collect();
        let mut out: Vec<InFlight<T>> = overdue
            .iter()
            .filter_map(|s| self.in_flight.remove(s))
            .collect();
        out.sort_by_key(|f| (f.sent_at, f.sequence_id));
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

    /// Removes everything (on disconnect), returning what was in flight, oldest first.
    pub fn drain(&mut self) -> Vec<InFlight<T>> {
        let mut out: Vec<InFlight<T>> = self.in_flight.drain().map(|(_, f)| f).collect();
        out.sort_by_key(|f| (f.sent_at, f.sequence_id));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_ids_wrap_to_one() {
        let mut s = SequenceIds::starting_at(u32::MAX);
        assert_eq!(s.allocate(), u32::MAX);
        assert_eq!(s.allocate(), 1);
    }

    #[test]
    fn responses_match_by_sequence_and_command() {
        let t0 = Instant::now();
        let mut w = Window::new(2, Duration::from_secs(10));
        w.insert(1, CommandId::Submit, t0, "a").expect("room");
        assert_eq!(
            w.insert(1, CommandId::Submit, t0, "b"),
            Err(WindowError::Duplicate(1))
        );
        w.insert(2, CommandId::ActiveTest, t0, "c").expect("room");
        assert_eq!(
            w.insert(3, CommandId::Submit, t0, "d"),
            Err(WindowError::Full)
        );
        assert!(matches!(
            w.complete(1, CommandId::ActiveTestResp),
            Err(WindowError::Mismatch { .. })
        ));
        assert_eq!(
            w.complete(1, CommandId::SubmitResp).map(|f| f.context),
            Ok("a")
        );
        assert_eq!(
            w.complete(1, CommandId::SubmitResp),
            Err(WindowError::NotInFlight(1))
        );
        assert_eq!(w.expire(t0 + Duration::from_secs(10)).len(), 1);
        assert!(w.is_empty());
    }

    #[test]
    fn flow_control_halves_pauses_and_recovers() {
        let t0 = Instant::now();
        let mut w: Window<()> = Window::new(16, Duration::from_secs(10));
        w.on_result(result::FLOW_CONTROL, t0);
        assert_eq!(w.limit(), 8);
        assert_eq!(w.available(t0), 0);
        assert_eq!(w.resume_at(t0), Some(t0 + Duration::from_millis(100)));
        let later = t0 + Duration::from_millis(100);
        assert_eq!(w.available(later), 8);
        // More Result 8s during the pause (the rest of the burst) change nothing.
        w.on_result(result::FLOW_CONTROL, t0 + Duration::from_millis(50));
        assert_eq!(w.limit(), 8);
        // A Result 8 after the pause waits twice as long.
        w.on_result(result::FLOW_CONTROL, later);
        assert_eq!(w.limit(), 4);
        assert_eq!(w.resume_at(later), Some(later + Duration::from_millis(200)));
        // Four accepted requests at limit 4 grow it to 5.
        for _ in 0..4 {
            w.on_result(result::OK, later);
        }
        assert_eq!(w.limit(), 5);
    }
}
