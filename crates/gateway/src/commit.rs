//! Group commit for submissions decided one request at a time (the HTTP API's one-message
//! `POST /v1/messages`, which most merchants' integrations use).
//!
//! Each request decides on its own thread ([`Gateway::decide_submission`]) and hands the decision
//! to one committer thread, which records whatever has arrived with one store transaction
//! ([`Gateway::record_decided`]) and answers each request. While one commit (and its fsync) runs,
//! the next batch gathers, so one request alone pays one commit and a thousand concurrent ones
//! share a few. Durability is unchanged: no request is answered before the transaction holding
//! its decision committed. The ordering promise is unchanged too: a decision recorded a moment
//! later is still re-checked under the phone's shard at hand-off, exactly as the SMPP
//! listener's group commit is.

use std::sync::Arc;
use std::time::{Duration, Instant};

use store::StoreError;
use tokio::sync::{mpsc, oneshot};

use crate::{DecidedSubmission, Gateway, GatewayError, Outcome};

/// A decision waiting to be recorded, and where its outcome goes.
struct Job {
    decided: DecidedSubmission,
    reply: Reply,
}

type Answer = Result<Vec<Outcome>, GatewayError>;

/// Where an outcome goes: a waiting request, or a callback run on the committer thread.
enum Reply {
    Waiting(oneshot::Sender<Answer>),
    Then(Box<dyn FnOnce(Answer) + Send>),
}

impl Reply {
    fn send(self, answer: Answer) {
        match self {
            Reply::Waiting(tx) => {
                let _ = tx.send(answer);
            }
            Reply::Then(f) => f(answer),
        }
    }
}

/// The committer's door; cheap to clone. The thread ends when every clone is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

/// Longest the committer waits for a batch to fill after its first job.
const MAX_LINGER: Duration = Duration::from_millis(2);
/// Most submissions in one transaction.
const BATCH: usize = 1024;

/// The batches of a committer thread: each is what arrived while the last commit ran, so the
/// batch size follows the load (one job a commit when idle, thousands under a flood). After a
/// batch's first job it lingers briefly for the rest of a burst — when few requests are in
/// flight their successors arrive spread over a round trip, and committing the first alone would
/// make every other one wait a whole extra commit — but stops as soon as as many jobs as last time
/// are there, and never lingers longer than a quarter of the last commit. The SMPP listener's
/// committer gathers its batches the same way.
#[derive(Debug)]
pub struct Batches {
    max: usize,
    last_len: usize,
    last_commit: Duration,
}

impl Batches {
    /// Batches of at most `max` jobs.
    #[must_use]
    pub fn new(max: usize) -> Self {
        Batches {
            max: max.max(1),
            last_len: 1,
            last_commit: Duration::ZERO,
        }
    }

    /// Waits for the next batch; `None` once every sender is gone.
    pub fn next<T>(&mut self, rx: &mut mpsc::Receiver<T>) -> Option<Vec<T>> {
        let first = rx.blocking_recv()?;
        let mut jobs = Vec::with_capacity(self.max);
        jobs.push(first);
        let deadline = Instant::now() + (self.last_commit / 4).min(MAX_LINGER);
        while jobs.len() < self.max {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(mpsc::error::TryRecvError::Empty) => {
                    if jobs.len() >= self.last_len || Instant::now() >= deadline {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(50));
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        }
        self.last_len = jobs.len();
        Some(jobs)
    }

    /// Runs the commit of the batch just taken, timing it for the next linger.
    pub fn commit(&mut self, f: impl FnOnce()) {
        let started = Instant::now();
        f();
        self.last_commit = started.elapsed();
    }
}

/// The same failure for every job of a batch that could not be recorded (the error type is not
/// `Clone`; what callers branch on — partition moved, storage down — is kept).
fn each(e: &GatewayError) -> GatewayError {
    match e {
        GatewayError::Store(StoreError::Fenced { partition, epoch }) => {
            GatewayError::Store(StoreError::Fenced {
                partition: *partition,
                epoch: *epoch,
            })
        }
        GatewayError::PartitionUnavailable(p) => GatewayError::PartitionUnavailable(p.clone()),
        other => GatewayError::Store(StoreError::Unavailable {
            backend: "store",
            message: other.to_string(),
        }),
    }
}

impl GroupCommit {
    /// Starts the committer thread for `gateway`.
    pub fn start(gateway: Arc<Gateway>) -> std::io::Result<Self> {
        let (tx, mut rx) = mpsc::channel::<Job>(BATCH * 2);
        std::thread::Builder::new()
            .name("consentry-commit".into())
            .spawn(move || {
                let mut batches = Batches::new(BATCH);
                while let Some(jobs) = batches.next(&mut rx) {
                    batches.commit(|| commit(&gateway, jobs));
                }
            })?;
        Ok(GroupCommit { tx })
    }

    /// Records `decided` with whatever else is waiting; returns its outcomes once committed.
    pub async fn record(&self, decided: DecidedSubmission) -> Result<Vec<Outcome>, GatewayError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                decided,
                reply: Reply::Waiting(reply),
            })
            .await
            .map_err(|_| GatewayError::Busy)?;
        answer.await.map_err(|_| GatewayError::Busy)?
    }
}

impl GroupCommit {
    /// Records several decisions from a thread outside the async runtime (the CMPP listener's
    /// decider threads), sharing the committer with every other caller; returns each one's
    /// outcomes, in order, once committed. All are queued before the first answer is awaited,
    /// so they go into the same commit when the committer is free. Panics if called from
    /// inside the runtime, like every blocking channel operation.
    #[must_use]
    pub fn record_all_blocking(
        &self,
        decided: Vec<DecidedSubmission>,
    ) -> Vec<Result<Vec<Outcome>, GatewayError>> {
        let answers: Vec<_> = decided
            .into_iter()
            .map(|decided| {
                let (reply, answer) = oneshot::channel();
                self.tx
                    .blocking_send(Job {
                        decided,
                        reply: Reply::Waiting(reply),
                    })
                    .map(|()| answer)
                    .map_err(|_| GatewayError::Busy)
            })
            .collect();
        answers
            .into_iter()
            .map(|a| a.and_then(|answer| answer.blocking_recv().map_err(|_| GatewayError::Busy)?))
            .collect()
    }
}

impl GroupCommit {
    /// Queues several decisions from a thread outside the async runtime and returns at once;
    /// `then` runs on the committer thread with each one's outcomes, in order, once all are
    /// committed (or refused). The caller's thread is free meanwhile: the CMPP listener's
    /// deciders decide the next batch while this one commits. `then` must not block.
    pub fn record_all_then(
        &self,
        decided: Vec<DecidedSubmission>,
        then: impl FnOnce(Vec<Answer>) + Send + 'static,
    ) {
        struct Gather {
            answers: Vec<Option<Answer>>,
            left: usize,
            then: Option<Box<dyn FnOnce(Vec<Answer>) + Send>>,
        }
        let n = decided.len();
        if n == 0 {
            then(Vec::new());
            return;
        }
        let gather = Arc::new(parking_lot::Mutex::new(Gather {
            answers: (0..n).map(|_| None).collect(),
            left: n,
            then: Some(Box::new(then)),
        }));
        for (i, decided) in decided.into_iter().enumerate() {
            let g = Arc::clone(&gather);
            let reply = Reply::Then(Box::new(move |answer| {
                let mut g = g.lock();
                g.answers[i] = Some(answer);
                g.left -= 1;
                if g.left == 0 {
                    let answers = std::mem::take(&mut g.answers)
                        .into_iter()
                        .map(|a| a.unwrap_or(Err(GatewayError::Busy)))
                        .collect();
                    if let Some(then) = g.then.take() {
                        drop(g);
                        then(answers);
                    }
                }
            }));
            if let Err(mpsc::error::SendError(job)) = self.tx.blocking_send(Job { decided, reply })
            {
                // The committer is gone: answer it here, so `then` still runs once.
                job.reply.send(Err(GatewayError::Busy));
            }
        }
    }
}

fn commit(gateway: &Gateway, jobs: Vec<Job>) {
    metrics::histogram!("consentry_http_commit_batch").record(jobs.len() as f64);
    let (decided, replies): (Vec<_>, Vec<_>) =
        jobs.into_iter().map(|j| (j.decided, j.reply)).unzip();
    match gateway.record_decided(decided) {
        Ok(outcomes) => {
            let mut replies = replies.into_iter();
            for (reply, out) in replies.by_ref().zip(outcomes) {
                reply.send(Ok(out));
            }
            // One outcome per decision; should one be missing, its caller still hears.
            for reply in replies {
                reply.send(Err(GatewayError::Busy));
            }
        }
        Err(e) => {
            // Nothing of the batch was recorded: every request is refused, none acknowledged.
            for reply in replies {
                reply.send(Err(each(&e)));
            }
        }
    }
}
