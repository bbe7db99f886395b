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
    reply: oneshot::Sender<Result<Vec<Outcome>, GatewayError>>,
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
                let mut jobs: Vec<Job> = Vec::with_capacity(BATCH);
                let (mut last_len, mut last_commit) = (1usize, Duration::ZERO);
                while let Some(first) = rx.blocking_recv() {
                    jobs.push(first);
                    // Linger briefly for the rest of a burst: stop as soon as as many jobs as last
                    // time are here, and never longer than a quarter of the last commit.
                    let deadline = Instant::now() + (last_commit / 4).min(MAX_LINGER);
                    while jobs.len() < BATCH {
                        match rx.try_recv() {
                            Ok(j) => jobs.push(j),
                            Err(mpsc::error::TryRecvError::Empty) => {
                                if jobs.len() >= last_len || Instant::now() >= deadline {
                                    break;
                                }
                                std::thread::sleep(Duration::from_micros(50));
                            }
                            Err(mpsc::error::TryRecvError::Disconnected) => break,
                        }
                    }
                    last_len = jobs.len();
                    let started = Instant::now();
                    commit(&gateway, std::mem::take(&mut jobs));
                    last_commit = started.elapsed();
                }
            })?;
        Ok(GroupCommit { tx })
    }

    /// Records `decided` with whatever else is waiting; returns its outcomes once committed.
    pub async fn record(&self, decided: DecidedSubmission) -> Result<Vec<Outcome>, GatewayError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { decided, reply })
            .await
            .map_err(|_| GatewayError::Busy)?;
        answer.await.map_err(|_| GatewayError::Busy)?
    }
}

fn commit(gateway: &Gateway, jobs: Vec<Job>) {
    metrics::histogram!("consentry_http_commit_batch").record(jobs.len() as f64);
    let (decided, replies): (Vec<_>, Vec<_>) =
        jobs.into_iter().map(|j| (j.decided, j.reply)).unzip();
    match gateway.record_decided(decided) {
        Ok(outcomes) => {
            for (reply, out) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(out));
            }
        }
        Err(e) => {
            // Nothing of the batch was recorded: every request is refused, none acknowledged.
            for reply in replies {
                let _ = reply.send(Err(each(&e)));
            }
        }
    }
}
