//! The group committer: one thread that takes the submit_sm of every session, decides and
//! records them together with [`Gateway::submit_many`], and answers each session.
//!
//! While one commit (and its fsync) runs, the next batch accumulates in the channel, so the
//! batch size adapts to load: one message per commit when idle, thousands under a flood, and the
//! fsync cost per message falls as the load rises.

use std::sync::Arc;
use std::thread::JoinHandle;

use gateway::{DecidedSubmission, Gateway, GatewayError, Outcome};
use smpp_proto::CommandStatus;
use tokio::sync::mpsc;

/// One complete message from a session, decided on the session's thread, to be recorded.
#[derive(Debug)]
pub(crate) struct Job {
    pub decided: Result<DecidedSubmission, CommandStatus>,
    pub text: String,
    /// Handed back unchanged with the result.
    pub ticket: Ticket,
    pub reply: mpsc::Sender<Completion>,
}

/// What the session needs to answer the request and send a receipt.
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    pub sequence_number: u32,
    pub source: smpp_proto::Address,
    pub destination: smpp_proto::Address,
    pub registered_delivery: u8,
    pub user_message_reference: Option<u16>,
    /// Decided and recorded on another node (cluster mode), which keeps the receipt request.
    pub remote: bool,
}

/// The decision for a job, or the status refusing it before any decision.
#[derive(Debug)]
pub(crate) struct Completion {
    pub ticket: Ticket,
    pub text: String,
    pub result: Result<Outcome, CommandStatus>,
}

/// The SMPP status for a submission refused before the policy decided it.
pub fn status_for(e: &GatewayError) -> CommandStatus {
    match e {
        GatewayError::EmptyText
        | GatewayError::TextTooLong { .. }
        | GatewayError::TextTooLarge { .. } => CommandStatus::RINVMSGLEN,
        GatewayError::InvalidNumber(_) => CommandStatus::RINVDSTADR,
        GatewayError::Forbidden(_) | GatewayError::UnknownSender(_) => CommandStatus::RINVSRCADR,
        _ => CommandStatus::RSYSERR,
    }
}

fn commit(gateway: &Gateway, jobs: Vec<Job>) {
    let mut decided = Vec::with_capacity(jobs.len());
    let mut waiting = Vec::with_capacity(jobs.len());
    for job in jobs {
        match job.decided {
            Ok(d) => {
                decided.push(d);
                waiting.push((job.ticket, job.text, job.reply, None));
            }
            Err(status) => waiting.push((job.ticket, job.text, job.reply, Some(status))),
        }
    }
    metrics::histogram!("consentry_smpp_commit_batch").record(decided.len() as f64);
    let results: Vec<Result<Outcome, CommandStatus>> = match gateway.record_decided(decided) {
        Ok(r) => r
            .into_iter()
            .map(|mut o| o.pop().ok_or(CommandStatus::RSYSERR))
            .collect(),
        Err(e) => {
            // Nothing was recorded: every decided job below is answered RSYSERR.
            tracing::error!(error = %e, "recording SMPP submissions failed");
            Vec::new()
        }
    };
    let mut recorded = results.into_iter();
    for (ticket, text, reply, refused) in waiting {
        let result = match refused {
            Some(status) => Err(status),
            None => recorded.next().unwrap_or(Err(CommandStatus::RSYSERR)),
        };
        // The session's channel has room for its whole window; a closed one means it is gone.
        let _ = reply.try_send(Completion {
            ticket,
            text,
            result,
        });
    }
}

/// Starts the committer thread; it ends when every sender of the returned channel is dropped.
///
/// Batches are gathered by [`gateway::Batches`] (shared with the HTTP API's group commit): what
/// arrived while the last commit ran, with a brief linger for the rest of a burst.
pub(crate) fn spawn(
    gateway: Arc<Gateway>,
    batch: usize,
) -> std::io::Result<(mpsc::Sender<Job>, JoinHandle<()>)> {
    let batch = batch.max(1);
    let (tx, mut rx) = mpsc::channel::<Job>(batch * 2);
    let handle = std::thread::Builder::new()
        .name("smpp-commit".into())
        .spawn(move || {
            let mut batches = gateway::Batches::new(batch);
            while let Some(jobs) = batches.next(&mut rx) {
                batches.commit(|| commit(&gateway, jobs));
            }
        })?;
    Ok((tx, handle))
}
