//! The deciders: a few threads that take whole messages from every connection and ask
//! [`Submissions`] for verdicts in batches.
//!
//! A blocking-pool task per SUBMIT cost two thirds of the acceptor's throughput (26k/s against
//! 87k/s inline on two cores), and a thread per connection would not survive a thousand
//! connections. Batches also let the gateway record many decisions in one transaction
//! ([`Submissions::submit_many`]), as the SMPP listener's group commit does.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::session::Done;
use super::{Submission, Submissions, Verdict};
use cmpp_proto::result;

/// Submissions taken in one batch at most.
const BATCH: usize = 64;

/// One whole message awaiting its verdict, and where the answer goes.
pub(crate) struct Job {
    pub submission: Submission,
    pub sequence_id: u32,
    pub msg_id: u64,
    pub done: mpsc::Sender<Done>,
}

/// Starts `threads` deciders; they stop when the returned sender and its clones are dropped.
pub(super) fn spawn(
    threads: usize,
    submissions: Arc<dyn Submissions>,
) -> std::io::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>(4096);
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..threads.max(1) {
        let rx = Arc::clone(&rx);
        let subs = Arc::clone(&submissions);
        std::thread::Builder::new()
            .name(format!("cmpp-decide-{i}"))
            .spawn(move || {
                while let Some(batch) = next_batch(&rx) {
                    decide(&subs, batch);
                }
            })?;
    }
    Ok(tx)
}

/// Waits for one job, then takes whatever else is queued, up to [`BATCH`].
fn next_batch(rx: &Mutex<mpsc::Receiver<Job>>) -> Option<Vec<Job>> {
    let mut rx = rx.lock();
    let first = rx.blocking_recv()?;
    let mut batch = vec![first];
    while batch.len() < BATCH {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

fn decide(subs: &Arc<dyn Submissions>, batch: Vec<Job>) {
    let (answers, submissions): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|j| ((j.sequence_id, j.msg_id, j.done), j.submission))
        .unzip();
    let done = Verdicts {
        answers,
        subs: Arc::clone(subs),
    };
    // A panicking implementation must not take the decider (and every later SUBMIT) with it.
    if catch_unwind(AssertUnwindSafe(|| {
        subs.submit_many_then(submissions, done)
    }))
    .is_err()
    {
        tracing::error!("Submissions::submit_many_then panicked");
    }
}

/// Where a batch's verdicts go ([`Submissions::submit_many_then`]): sending them answers each
/// SUBMIT and then calls [`Submissions::answered`]. Dropped unsent (a panic, a bug), it
/// answers every SUBMIT Result 9, so no SP waits for a verdict that will never come.
pub struct Verdicts {
    answers: Vec<(u32, u64, mpsc::Sender<Done>)>,
    subs: Arc<dyn Submissions>,
}

impl std::fmt::Debug for Verdicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verdicts")
            .field("submissions", &self.answers.len())
            .finish_non_exhaustive()
    }
}

impl Verdicts {
    /// Answers the batch, one verdict per submission in order, then calls `answered`. Never
    /// blocks for long: each connection's queue holds its whole window. Call it from a plain
    /// thread, not from inside the async runtime.
    pub fn send(mut self, verdicts: Vec<Verdict>) {
        let answers = std::mem::take(&mut self.answers);
        let msg_ids: Vec<u64> = answers.iter().map(|a| a.1).collect();
        for (i, (sequence_id, msg_id, done)) in answers.into_iter().enumerate() {
            let result = match verdicts.get(i) {
                Some(Verdict::Accept) => result::OK,
                Some(Verdict::Refuse(code)) => *code,
                None => result::OTHER,
            };
            let _ = done.blocking_send(Done {
                sequence_id,
                msg_id,
                result,
            });
        }
        let subs = Arc::clone(&self.subs);
        if catch_unwind(AssertUnwindSafe(|| subs.answered(&msg_ids))).is_err() {
            tracing::error!("Submissions::answered panicked");
        }
    }
}

impl Drop for Verdicts {
    fn drop(&mut self) {
        for (sequence_id, msg_id, done) in self.answers.drain(..) {
            // try_send: a drop may happen anywhere, even on the runtime.
            let _ = done.try_send(Done {
                sequence_id,
                msg_id,
                result: result::OTHER,
            });
        }
    }
}
