//! The CMPP listener's side of the gateway: merchants' accounts ([`SenderAccounts`]), their
//! SUBMITs decided by the policy and recorded through the gateway's group commit
//! ([`PolicySubmissions`]), and their status reports and replies ([`MerchantDeliveries`],
//! which the SMPP hub forwards every final report and reply to).
//!
//! A refusal answers SUBMIT_RESP with a Result naming the deciding reason (the same numbers as
//! the SMPP receipts' `err:`, docs/CMPP.md) and, when the merchant asked for reports, a status
//! report whose Stat is `CS:0` and that number. Reports are pushed only once the SUBMIT_RESP
//! naming their Msg_Id is queued ([`cmpp::Submissions::answered`]): SP software cannot match
//! a report to a Msg_Id it has not been given.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, OnceLock};

use cmpp::{Account, Accounts, Report, ServerHandle, Submission, Submissions, Verdict};
use cmpp_proto::result;
use domain::{SenderId, Timestamp};
use gateway::{Gateway, GatewayError, GroupCommit, Outcome, Principal};
use parking_lot::Mutex;
use policy::{Reason, ReasonCode};
use smpp::server::reasons::err_code;
use smpp_proto::MessageState;

use super::e164ish;
use super::held::HeldIds;

/// Accounts over the senders' CMPP accounts (issued by `POST /v1/senders`).
pub struct SenderAccounts(pub Arc<Gateway>);

impl Accounts for SenderAccounts {
    fn lookup(&self, source_addr: &str) -> Option<Account> {
        match self.0.cmpp_account(source_addr) {
            Ok(found) => found.map(|(sender, secret)| Account {
                id: u64::from(sender.0),
                secret: secret.into_bytes(),
            }),
            Err(e) => {
                // Answered as unknown (status 2); the SP retries its CONNECT.
                tracing::error!(source_addr, error = %e, "reading a CMPP account failed");
                None
            }
        }
    }
}

/// The SUBMIT_RESP Result for a submission refused before the policy decided it.
fn result_for_error(e: &GatewayError) -> u32 {
    match e {
        GatewayError::EmptyText => result::LENGTH,
        GatewayError::TextTooLong { .. } => result::TOO_LONG,
        GatewayError::InvalidNumber(_)
        | GatewayError::EmptyBatch
        | GatewayError::BatchTooLarge { .. } => result::DEST_TERMINAL_ID,
        GatewayError::Forbidden(_) | GatewayError::UnknownSender(_) => result::MSG_SRC,
        // Storage down, queue full, partition moving: "other error", which SPs send again.
        _ => result::OTHER,
    }
}

/// The SUBMIT_RESP Result for a policy refusal: an invalid number is the Result every SP knows
/// for it (13), anything else the three-digit code of the deciding reason (101 `no_consent`,
/// 102 `opted_out`, …; CMPP leaves codes above 13 to the gateway).
pub fn result_for(reasons: &[Reason]) -> u32 {
    let deciding = reasons
        .iter()
        .find(|r| r.code != ReasonCode::ReclassifiedMarketing)
        .or_else(|| reasons.first());
    if deciding.is_some_and(|r| r.code == ReasonCode::InvalidNumber) {
        return result::DEST_TERMINAL_ID;
    }
    err_code(reasons).parse().unwrap_or(result::OTHER)
}

/// The Stat of a refusal's status report: `CS:` and the reason's code in four digits, in the
/// `XX:NNNN` shape ISMGs give their own failure codes.
pub fn refusal_stat(reasons: &[Reason]) -> String {
    let code: u32 = err_code(reasons).parse().unwrap_or(result::OTHER);
    format!("CS:{code:04}")
}

/// The Stat of a final delivery state.
fn stat_of(state: MessageState) -> &'static str {
    match state {
        MessageState::Delivered => "DELIVRD",
        MessageState::Expired => "EXPIRED",
        MessageState::Deleted => "DELETED",
        MessageState::Rejected => "REJECTD",
        MessageState::Undeliverable => "UNDELIV",
        _ => "UNKNOWN",
    }
}

/// YYMMDDHHMM in China Standard Time.
fn report_time(t: Timestamp) -> String {
    cmpp::clock::china_fields(t).report_time()
}

/// A merchant waiting for the final state of one accepted message to one handset.
#[derive(Clone, Debug)]
struct Waiting {
    account: u64,
    msg_ids: Vec<u64>,
    src_id: String,
    destination: String,
    submitted: Timestamp,
}

/// What to do for a submission once its SUBMIT_RESP is queued.
struct After {
    account: u64,
    /// Status reports for destinations refused now.
    reports: Vec<Report>,
    /// Destinations accepted: wait for the carrier's report of their messages.
    subscribe: Vec<(u64, Waiting)>,
}

#[derive(Default)]
struct Subscriptions {
    by_id: HashMap<u64, Waiting>,
    order: VecDeque<u64>,
    /// Final states reported before the merchant's SUBMIT_RESP was queued: the loopback
    /// handset "delivers" at hand-off, which can come before the verdict reaches the socket.
    early: HashMap<u64, (MessageState, Timestamp)>,
    early_order: VecDeque<u64>,
}

/// Msg_Ids of held messages remembered for CANCEL.
const HELD_IDS: usize = 262_144;

/// Early reports remembered.
const EARLY: usize = 65_536;

/// Status reports and replies to merchants connected over CMPP. Never blocks: it is called
/// where the hub is (under a consent shard lock, from carrier tasks).
pub struct MerchantDeliveries {
    handle: OnceLock<ServerHandle>,
    subs: Mutex<Subscriptions>,
    capacity: usize,
    reference: std::sync::atomic::AtomicU8,
}

impl MerchantDeliveries {
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        MerchantDeliveries {
            handle: OnceLock::new(),
            subs: Mutex::new(Subscriptions::default()),
            capacity: capacity.max(1),
            reference: std::sync::atomic::AtomicU8::new(1),
        }
    }

    /// Where DELIVERs go; set once the listener exists.
    pub fn connect(&self, handle: ServerHandle) {
        let _ = self.handle.set(handle);
    }

    fn push(&self, account: u64, reports: &[Report]) {
        let Some(h) = self.handle.get() else { return };
        for r in reports {
            h.report(account, r);
        }
    }

    fn reports_for(w: &Waiting, stat: &str, at: Timestamp) -> Vec<Report> {
        w.msg_ids
            .iter()
            .map(|&msg_id| Report {
                msg_id,
                src_id: w.src_id.clone(),
                destination: w.destination.clone(),
                stat: stat.to_owned(),
                submit_time: report_time(w.submitted),
                done_time: report_time(at),
            })
            .collect()
    }

    fn subscribe(&self, id: u64, w: Waiting) {
        let mut s = self.subs.lock();
        if let Some((state, at)) = s.early.remove(&id) {
            drop(s);
            self.push(w.account, &Self::reports_for(&w, stat_of(state), at));
            return;
        }
        if s.by_id.insert(id, w).is_none() {
            s.order.push_back(id);
        }
        while s.by_id.len() > self.capacity {
            let Some(old) = s.order.pop_front() else {
                break;
            };
            s.by_id.remove(&old);
        }
    }
}

impl smpp::Forward for MerchantDeliveries {
    fn report(&self, id: u64, state: MessageState, _err: Option<&str>, at: Timestamp) {
        let waiting = {
            let mut s = self.subs.lock();
            match s.by_id.remove(&id) {
                Some(w) => w,
                None => {
                    if s.early.insert(id, (state, at)).is_none() {
                        s.early_order.push_back(id);
                    }
                    while s.early.len() > EARLY {
                        let Some(old) = s.early_order.pop_front() else {
                            break;
                        };
                        s.early.remove(&old);
                    }
                    return;
                }
            }
        };
        self.push(
            waiting.account,
            &Self::reports_for(&waiting, stat_of(state), at),
        );
    }

    fn reply(&self, sender: SenderId, from: &str, to: &str, text: &str) -> bool {
        let Some(h) = self.handle.get() else {
            return false;
        };
        let account = u64::from(sender.0);
        if h.connections_of(account) == 0 {
            return false;
        }
        let reference = self
            .reference
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        h.mo(account, from, to, text, reference)
    }
}

/// Decides SUBMITs with the policy and records them through the group commit.
pub struct PolicySubmissions {
    pub gateway: Arc<Gateway>,
    pub commits: GroupCommit,
    pub deliveries: Arc<MerchantDeliveries>,
    /// Keyed by the Msg_Id each SUBMIT_RESP answers with, until `answered`.
    after: Arc<Mutex<HashMap<u64, After>>>,
    /// The messages held for quiet hours, by Msg_Id, for CANCEL.
    held: Arc<HeldIds>,
    /// Cluster mode: the hub's [`smpp::Remote`] decides a submission for phones other nodes
    /// own on their owners, as it does for SMPP binds (set after the listener starts, so read
    /// at each submission).
    hub: Arc<smpp::Hub>,
    /// Where forwarded submissions are awaited (the deciders are plain threads).
    rt: tokio::runtime::Handle,
}

impl PolicySubmissions {
    #[must_use]
    pub fn new(
        gateway: Arc<Gateway>,
        commits: GroupCommit,
        deliveries: Arc<MerchantDeliveries>,
        hub: Arc<smpp::Hub>,
        rt: tokio::runtime::Handle,
    ) -> Self {
        PolicySubmissions {
            gateway,
            commits,
            deliveries,
            after: Arc::new(Mutex::new(HashMap::new())),
            held: Arc::new(HeldIds::new(HELD_IDS)),
            hub,
            rt,
        }
    }

    /// The verdict for a recorded submission (one outcome per destination), and what to do
    /// once it is answered. One Result answers every destination, so the SUBMIT is refused only
    /// when every destination was; each refused destination still gets its own report.
    fn settle(s: &Submission, outcomes: &[Outcome], now: Timestamp) -> (Verdict, After) {
        let mut refused = Vec::new();
        let mut waiting = Vec::new();
        for (o, dest) in outcomes.iter().zip(&s.destinations) {
            let w = Waiting {
                account: s.account,
                msg_ids: s.msg_ids.clone(),
                src_id: s.src_id.clone(),
                destination: dest.clone(),
                submitted: now,
            };
            if o.status == policy::Verdict::Rejected {
                if s.wants_report {
                    refused.extend(MerchantDeliveries::reports_for(
                        &w,
                        &refusal_stat(&o.reasons),
                        now,
                    ));
                }
            } else if s.wants_report {
                waiting.push((o.id, w));
            }
        }
        let all_refused = outcomes
            .iter()
            .all(|o| o.status == policy::Verdict::Rejected);
        let verdict = match outcomes.first() {
            Some(first) if all_refused => Verdict::Refuse(result_for(&first.reasons)),
            Some(_) => Verdict::Accept,
            None => Verdict::Refuse(result::OTHER),
        };
        let after = After {
            account: s.account,
            reports: refused,
            subscribe: waiting,
        };
        (verdict, after)
    }
}

/// Verdicts so far (refusals before the policy), the decisions to record, which submission
/// each decision belongs to, and the submissions for phones other nodes own (one forwarded
/// submission per destination).
type Decided = (
    Vec<Option<Verdict>>,
    Vec<gateway::DecidedSubmission>,
    Vec<usize>,
    Vec<(usize, Vec<smpp::RemoteSubmit>)>,
);

impl PolicySubmissions {
    fn decide_all(&self, batch: &[Submission]) -> Decided {
        let mut verdicts: Vec<Option<Verdict>> = Vec::with_capacity(batch.len());
        let mut decided = Vec::with_capacity(batch.len());
        let mut which = Vec::with_capacity(batch.len());
        let mut remote = Vec::new();
        let clustered = self.hub.remote().is_some();
        for (i, s) in batch.iter().enumerate() {
            let to: Vec<String> = s.destinations.iter().map(|d| e164ish(d)).collect();
            let category = smpp::server::category_of(&s.service_id);
            let sender = u32::try_from(s.account).map(SenderId);
            let d = sender
                .map_err(|_| GatewayError::UnknownSender(0))
                .and_then(|sender| {
                    self.gateway.decide_submission(
                        Principal::Sender(sender),
                        to.clone(),
                        s.text.clone(),
                        category,
                    )
                });
            match (d, sender) {
                (Ok(d), _) => {
                    decided.push(d);
                    which.push(i);
                    verdicts.push(None);
                }
                // A destination another node owns: every destination of this SUBMIT is
                // decided on its owner (this node's own are served here by the same route).
                (Err(GatewayError::PartitionUnavailable(_)), Ok(sender)) if clustered => {
                    let forwarded = to
                        .into_iter()
                        .map(|to| smpp::RemoteSubmit {
                            sender,
                            to,
                            text: s.text.clone(),
                            category,
                            // Reports are kept here, by Msg_Id (`answered`); the owner's
                            // final state reaches this hub from any node.
                            receipt: None,
                        })
                        .collect();
                    remote.push((i, forwarded));
                    verdicts.push(None);
                }
                (Err(e), _) => verdicts.push(Some(Verdict::Refuse(result_for_error(&e)))),
            }
        }
        (verdicts, decided, which, remote)
    }
}

/// Awaits the owners' answers to forwarded submissions: per submission its outcomes in
/// destination order, or an error (Result 9, "send again") when any owner refused or was not
/// reached — one Result answers a whole SUBMIT, and the destinations already recorded are
/// then refused as duplicates when the SP sends it again.
async fn remote_outcomes(
    remote: &Arc<dyn smpp::Remote>,
    forwarded: Vec<(usize, Vec<smpp::RemoteSubmit>)>,
) -> Vec<(usize, Result<Vec<Outcome>, GatewayError>)> {
    let mut out = Vec::with_capacity(forwarded.len());
    for (i, subs) in forwarded {
        let answers = futures_util::future::join_all(subs.into_iter().map(|s| remote.submit(s)));
        let mut outcomes = Vec::new();
        let mut failed = None;
        for a in answers.await {
            match a {
                Ok(o) => outcomes.push(o),
                Err(status) => failed = Some(status),
            }
        }
        out.push((
            i,
            match failed {
                None => Ok(outcomes),
                Some(status) => Err(GatewayError::PartitionUnavailable(format!(
                    "the owner answered {status:?}"
                ))),
            },
        ));
    }
    out
}

/// The verdicts of a recorded batch; what to do once each is answered goes into `after`.
fn settle_all(
    after: &Mutex<HashMap<u64, After>>,
    held: &HeldIds,
    batch: &[Submission],
    mut verdicts: Vec<Option<Verdict>>,
    which: &[usize],
    recorded: Vec<Result<Vec<Outcome>, GatewayError>>,
) -> Vec<Verdict> {
    let now = Timestamp::now();
    let mut after = after.lock();
    for (&i, r) in which.iter().zip(recorded) {
        let s = &batch[i];
        verdicts[i] = Some(match r {
            Ok(outcomes) => {
                let deferred: Vec<u64> = outcomes
                    .iter()
                    .filter(|o| o.status == policy::Verdict::Deferred)
                    .map(|o| o.id)
                    .collect();
                held.remember(s.account, &s.msg_ids, &deferred);
                let (verdict, then) = PolicySubmissions::settle(s, &outcomes, now);
                if let Some(&last) = s.msg_ids.last() {
                    after.insert(last, then);
                }
                verdict
            }
            Err(e) => {
                tracing::error!(error = %e, "recording a CMPP submission failed");
                Verdict::Refuse(result_for_error(&e))
            }
        });
    }
    verdicts
        .into_iter()
        .map(|v| v.unwrap_or(Verdict::Refuse(result::OTHER)))
        .collect()
}

impl Submissions for PolicySubmissions {
    fn submit(&self, submission: Submission) -> Verdict {
        self.submit_many(vec![submission])
            .pop()
            .unwrap_or(Verdict::Refuse(result::OTHER))
    }

    /// Decides and records a batch, waiting for the commit (`submit` and callers outside the
    /// listener); the listener itself uses [`Submissions::submit_many_then`].
    ///
    /// Submissions for phones other nodes own are answered Result 9 here (send again): this
    /// path may run inside the runtime, where it cannot wait for the owners.
    fn submit_many(&self, batch: Vec<Submission>) -> Vec<Verdict> {
        let (mut verdicts, decided, which, remote) = self.decide_all(&batch);
        for (i, _) in remote {
            verdicts[i] = Some(Verdict::Refuse(result::OTHER));
        }
        let recorded = self.commits.record_all_blocking(decided);
        settle_all(&self.after, &self.held, &batch, verdicts, &which, recorded)
    }

    /// Decides each submission here, on the listener's decider thread (in parallel with the
    /// other deciders), then hands them all to the group commit the HTTP API uses and returns:
    /// the verdicts are sent from the committer once the batch is durable, so every
    /// SUBMIT_RESP follows its commit, and this thread decides the next batch meanwhile.
    ///
    /// In cluster mode, submissions for phones other nodes own are decided and recorded by
    /// the owners meanwhile; the batch is answered once both are done.
    fn submit_many_then(&self, batch: Vec<Submission>, done: cmpp::Verdicts) {
        let (verdicts, decided, which, forwarded) = self.decide_all(&batch);
        let after = Arc::clone(&self.after);
        let held = Arc::clone(&self.held);
        let Some(remote) = self.hub.remote().filter(|_| !forwarded.is_empty()).cloned() else {
            self.commits.record_all_then(decided, move |recorded| {
                done.send(settle_all(
                    &after, &held, &batch, verdicts, &which, recorded,
                ));
            });
            return;
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.commits.record_all_then(decided, move |recorded| {
            let _ = tx.send(recorded);
        });
        self.rt.spawn(async move {
            let from_owners = remote_outcomes(&remote, forwarded).await;
            let mut recorded = rx.await.unwrap_or_else(|_| {
                which
                    .iter()
                    .map(|_| Err(GatewayError::PartitionUnavailable(String::new())))
                    .collect()
            });
            let mut which = which;
            for (i, r) in from_owners {
                which.push(i);
                recorded.push(r);
            }
            let verdicts = settle_all(&after, &held, &batch, verdicts, &which, recorded);
            // `Verdicts::send` blocks on the connections' queues: not on a runtime thread.
            let _ = tokio::task::spawn_blocking(move || done.send(verdicts)).await;
        });
    }

    /// Withdraws the held messages of the SUBMIT answered with `msg_id` (its own phones here,
    /// others' on their owners). Success only when every one of them was withdrawn; those that
    /// could not be for a passing reason (storage, an owner out of reach) can be tried again.
    fn cancel(&self, account: u64, msg_id: u64) -> bool {
        let Ok(sender) = u32::try_from(account).map(SenderId) else {
            return false;
        };
        let Some(ids) = self.held.take(account, msg_id) else {
            return false;
        };
        let mut retry = Vec::new();
        for &id in &ids {
            match self.gateway.cancel_message(Principal::Sender(sender), id) {
                Ok(_) => {}
                Err(GatewayError::PartitionUnavailable(_)) if self.hub.remote().is_some() => {
                    let withdrawn = self
                        .hub
                        .remote()
                        .is_some_and(|r| self.rt.block_on(r.cancel(sender, id)));
                    if !withdrawn {
                        retry.push(id);
                    }
                }
                Err(e @ (GatewayError::Store(_) | GatewayError::PartitionUnavailable(_))) => {
                    tracing::warn!(id, error = %e, "a CANCEL could not be done now");
                    retry.push(id);
                }
                Err(e) => {
                    tracing::info!(id, error = %e, "a CANCEL found the message no longer held");
                    return false;
                }
            }
        }
        if retry.is_empty() {
            return true;
        }
        self.held.remember(account, &[msg_id], &retry);
        false
    }

    /// The SP's traffic on `day` (Beijing time, where ISMGs keep their days) from the message
    /// log. MO counts stay 0: replies are recorded per phone, not per SP.
    fn query(&self, account: u64, day: &str) -> Option<cmpp::DayTraffic> {
        let sender = u32::try_from(account).map(SenderId).ok()?;
        let date: jiff::civil::Date = jiff::civil::Date::strptime("%Y%m%d", day.trim()).ok()?;
        let beijing = jiff::tz::offset(8);
        let midnight = |d: jiff::civil::Date| {
            beijing
                .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                .ok()
        };
        let from = midnight(date)?;
        let to = midnight(date.tomorrow().ok()?)?;
        let t = match self
            .gateway
            .sender_traffic(Principal::Sender(sender), sender, from, to)
        {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "answering a QUERY from the message log failed");
                return None;
            }
        };
        let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        Some(cmpp::DayTraffic {
            mt_messages: n(t.messages),
            mt_users: n(t.phones),
            mt_sent: n(t.sent),
            mt_waiting: n(t.waiting),
            mt_failed: n(t.failed),
            ..cmpp::DayTraffic::default()
        })
    }

    fn answered(&self, msg_ids: &[u64]) {
        let done: Vec<After> = {
            let mut after = self.after.lock();
            msg_ids.iter().filter_map(|id| after.remove(id)).collect()
        };
        for a in done {
            self.deliveries.push(a.account, &a.reports);
            for (id, w) in a.subscribe {
                self.deliveries.subscribe(id, w);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_results_and_stats() {
        let no_consent = [Reason::new(ReasonCode::NoConsent, "x")];
        assert_eq!(result_for(&no_consent), 101);
        assert_eq!(refusal_stat(&no_consent), "CS:0101");
        let invalid = [Reason::new(ReasonCode::InvalidNumber, "x")];
        assert_eq!(result_for(&invalid), result::DEST_TERMINAL_ID);
        assert_eq!(refusal_stat(&invalid), "CS:0113");
        let reclassified = [
            Reason::new(ReasonCode::ReclassifiedMarketing, "sells"),
            Reason::new(ReasonCode::OptedOut, "x"),
        ];
        assert_eq!(result_for(&reclassified), 102);
        assert_eq!(refusal_stat(&reclassified).len(), 7);
    }
}
