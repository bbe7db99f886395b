//! The group committer: one thread that takes the submit_sm of every session, decides and
//! records them together with [`Gateway::submit_many`], and answers each session.
//!
//! While one commit (and its fsync) runs, the next batch accumulates in the channel, so the
//! batch size adapts to load: one message per commit when idle, thousands under a flood, and the
//! fsync cost per message falls as the load rises.

use std::sync::Arc;
use std::thread::JoinHandle;

use domain::{Category, SenderId};
use gateway::{Gateway, GatewayError, Outcome, Principal, Submission};
use smpp_proto::CommandStatus;
use tokio::sync::mpsc;

/// One complete message from a session, to be decided.
#[derive(Debug)]
pub(crate) struct Job {
    pub sender: SenderId,
    pub to: String,
    pub text: String,
    pub category: Category,
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
}

/// The decision for a job, or the status refusing it before any decision.
#[derive(Debug)]
pub(crate) struct Completion {
    pub ticket: Ticket,
    pub text: String,
    pub result: Result<Outcome, CommandStatus>,
}

/// The SMPP status for a submission refused before the policy decided it.
pub(crate) fn status_for(e: &GatewayError) -> CommandStatus {
    match e {
        GatewayError::EmptyText | GatewayError::TextTooLong { .. } => CommandStatus::RINVMSGLEN,
        GatewayError::InvalidNumber(_) => CommandStatus::RINVDSTADR,
        GatewayError::Forbidden(_) | GatewayError::UnknownSender(_) => CommandStatus::RINVSRCADR,
        _ => CommandStatus::RSYSERR,
    }
}

fn commit(gateway: &Gateway, jobs: Vec<Job>) {
    let items: Vec<(Principal, Submission<'_>)> = jobs
        .iter()
        .map(|j| {
            (
                Principal::Sender(j.sender),
                Submission {
                    to: std::slice::from_ref(&j.to),
                    text: &j.text,
                    category: j.category,
                },
            )
        })
        .collect();
    let results = gateway.submit_many(&items);
    drop(items);
    let results: Vec<Result<Outcome, CommandStatus>> = match results {
        Ok(per_job) => per_job
            .into_iter()
            .map(|r| match r {
                Ok(mut outcomes) => outcomes.pop().ok_or(CommandStatus::RSYSERR),
                Err(e) => Err(status_for(&e)),
            })
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "recording SMPP submissions failed");
            jobs.iter().map(|_| Err(CommandStatus::RSYSERR)).collect()
        }
    };
    metrics::histogram!("consentry_smpp_commit_batch").record(jobs.len() as f64);
    for (job, result) in jobs.into_iter().zip(results) {
        // The session's channel has room for its whole window; a closed one means it is gone.
        let _ = job.reply.try_send(Completion {
            ticket: job.ticket,
            text: job.text,
            result,
        });
    }
}

/// Starts the committer thread; it ends when every sender of the returned channel is dropped.
pub(crate) fn spawn(
    gateway: Arc<Gateway>,
    batch: usize,
) -> std::io::Result<(mpsc::Sender<Job>, JoinHandle<()>)> {
    let batch = batch.max(1);
    let (tx, mut rx) = mpsc::channel::<Job>(batch * 2);
    let handle = std::thread::Builder::new()
        .name("smpp-commit".into())
        .spawn(move || {
            let mut jobs = Vec::with_capacity(batch);
            while let Some(first) = rx.blocking_recv() {
                jobs.push(first);
                while jobs.len() < batch {
                    match rx.try_recv() {
                        Ok(j) => jobs.push(j),
                        Err(_) => break,
                    }
                }
                commit(&gateway, std::mem::take(&mut jobs));
            }
        })?;
    Ok((tx, handle))
}
