//! The acceptor SPs' software connects to: CONNECT is checked against secrets looked up
//! through [`Accounts`], whole messages (long ones reassembled) go to [`Submissions`], and
//! status reports and replies go back as DELIVER through a [`ServerHandle`].
//!
//! The two traits are the whole boundary to the rest of consentry: the gateway implements them
//! over its sender records and its policy, and keeps the handle to push reports.

mod decide;
mod registry;
mod session;
mod submit;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use cmpp_proto::{MsgIdGenerator, Version};
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use decide::Verdicts;
pub use registry::{Report, ServerHandle};

use crate::CmppError;

/// An SP account, as [`Accounts::lookup`] finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The caller's id for the account (consentry's sender id).
    pub id: u64,
    /// The shared secret the SP's AuthenticatorSource must be computed with.
    pub secret: Vec<u8>,
}

/// Finds the account an SP connects as. Called on a blocking thread (it may read a store).
pub trait Accounts: Send + Sync {
    /// The account with Source_Addr `source_addr`, or `None` (CONNECT status 2).
    fn lookup(&self, source_addr: &str) -> Option<Account>;
}

/// One whole message from an SP: every part of a long message joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    pub account: u64,
    /// Msg_src: the SP code.
    pub source_addr: String,
    /// Src_Id: the number the handset will see (the SP's access number and extension).
    pub src_id: String,
    pub destinations: Vec<String>,
    pub service_id: String,
    /// The Msg_Fmt the SP used (0, 8, 15; others are read as Latin-1).
    pub msg_fmt: u8,
    pub text: String,
    /// Registered_Delivery was 1: the SP wants status reports.
    pub wants_report: bool,
    /// The Msg_Ids given to the parts, in part order; status reports name these.
    pub msg_ids: Vec<u64>,
}

/// What becomes of a submission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// SUBMIT_RESP Result 0.
    Accept,
    /// SUBMIT_RESP with this Result (see [`cmpp_proto::result`]); a refusal's reason goes in
    /// the status report the implementation pushes, since SUBMIT_RESP carries only the code.
    Refuse(u32),
}

/// Decides on submissions. Called on the server's decider threads
/// ([`ServerConfig::decide_threads`]), so it may block on a store; the last part's SUBMIT_RESP
/// waits for the verdict, so an implementation that records before returning makes an accepted
/// SUBMIT durable.
pub trait Submissions: Send + Sync {
    fn submit(&self, submission: Submission) -> Verdict;

    /// Decides a batch (whatever arrived from every connection while the previous batch was
    /// decided), one verdict per submission in order; a missing verdict answers Result 9. The
    /// default decides one by one; the gateway records a batch in one transaction.
    fn submit_many(&self, batch: Vec<Submission>) -> Vec<Verdict> {
        batch.into_iter().map(|s| self.submit(s)).collect()
    }

    /// Decides a batch and hands the verdicts to `done` when they are ready, which may be
    /// later and on another thread: a decider thread is then free for the next batch while
    /// this one is, say, being committed (a decider waiting for each commit held throughput to
    /// a batch per thread per commit). `done` sends the SUBMIT_RESPs and then calls
    /// [`Submissions::answered`]; it must be called exactly once, with one verdict per
    /// submission (a missing one answers Result 9). The default decides with
    /// [`Submissions::submit_many`] and calls `done` at once.
    fn submit_many_then(&self, batch: Vec<Submission>, done: Verdicts) {
        done.send(self.submit_many(batch));
    }

    /// Called once the SUBMIT_RESPs of a batch are queued on their connections, with the Msg_Id
    /// each answered with (a long message's last part), in batch order. A DELIVER pushed from
    /// here through [`ServerHandle`] reaches an SP after the SUBMIT_RESP that named its Msg_Id
    /// (the connection sends queued answers before queued DELIVERs); pushed from
    /// [`Submissions::submit_many`] it could arrive first, and SP software cannot match a
    /// report to a Msg_Id it has not been given yet. The default does nothing.
    fn answered(&self, _msg_ids: &[u64]) {}

    /// Withdraws a message not yet sent (CANCEL). The default says it could not be withdrawn,
    /// which is true of an implementation that hands messages on at once.
    fn cancel(&self, _account: u64, _msg_id: u64) -> bool {
        false
    }

    /// `account`'s traffic on `day` (QUERY's Time, `YYYYMMDD`). `None` when it cannot be told
    /// (the default, or storage failing): the session then answers the SUBMITs counted on
    /// this connection, which is all a listener without a message log knows.
    fn query(&self, _account: u64, _day: &str) -> Option<DayTraffic> {
        None
    }
}

/// An SP's traffic for a day, as QUERY_RESP carries it (MT: messages from the SP, MO: to it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayTraffic {
    /// MT_TLMsg: messages submitted.
    pub mt_messages: u32,
    /// MT_Tlusr: distinct recipients.
    pub mt_users: u32,
    /// MT_Scs: forwarded to the carrier.
    pub mt_sent: u32,
    /// MT_WT: waiting to be forwarded.
    pub mt_waiting: u32,
    /// MT_FL: failed (refused, withdrawn, given up).
    pub mt_failed: u32,
    /// MO_Scs: messages to the SP delivered.
    pub mo_sent: u32,
    /// MO_WT: messages to the SP waiting.
    pub mo_waiting: u32,
    /// MO_FL: messages to the SP that failed.
    pub mo_failed: u32,
}

impl<F> Submissions for F
where
    F: Fn(Submission) -> Verdict + Send + Sync,
{
    fn submit(&self, submission: Submission) -> Verdict {
        self(submission)
    }
}

/// Listener settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: String,
    /// The newest version offered; older clients get their own.
    pub version: Version,
    /// The 22-bit gateway code in the Msg_Ids minted here.
    pub gateway_code: u32,
    /// Connections open at once; further ones are closed at accept.
    pub max_connections: usize,
    /// Connections per account.
    pub max_connections_per_account: usize,
    /// SUBMITs awaiting a verdict per connection; one more is answered with Result 8.
    pub window: usize,
    /// SUBMITs per second per connection before Result 8; 0 for no limit.
    pub submits_per_second: u32,
    /// Time to complete CONNECT after the TCP accept.
    pub connect_timeout: Duration,
    /// Silence after which an ACTIVE_TEST is sent; three of them close the connection.
    pub active_test_interval: Duration,
    /// A peer that does not read its socket for this long is disconnected.
    pub write_timeout: Duration,
    /// Threads asking [`Submissions`] for verdicts, in batches.
    pub decide_threads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:7890".to_owned(),
            version: Version::V30,
            gateway_code: 1,
            max_connections: 1024,
            max_connections_per_account: 8,
            window: 16,
            submits_per_second: 0,
            connect_timeout: Duration::from_secs(10),
            active_test_interval: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            decide_threads: 2,
        }
    }
}

/// What every connection of one listener shares.
pub(crate) struct Shared {
    pub config: ServerConfig,
    pub accounts: Arc<dyn Accounts>,
    pub submissions: Arc<dyn Submissions>,
    pub handle: ServerHandle,
    pub ids: Mutex<MsgIdGenerator>,
    pub deciders: tokio::sync::mpsc::Sender<decide::Job>,
}

/// The listener.
pub struct CmppServer {
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for CmppServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CmppServer")
            .field("listen", &self.shared.config.listen)
            .finish_non_exhaustive()
    }
}

impl CmppServer {
    /// Starts the decider threads; fails only when no thread can be spawned.
    pub fn new(
        config: ServerConfig,
        accounts: Arc<dyn Accounts>,
        submissions: Arc<dyn Submissions>,
    ) -> Result<Self, CmppError> {
        let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
        let ids = Mutex::new(MsgIdGenerator::new(config.gateway_code, 0));
        let deciders = decide::spawn(config.decide_threads, Arc::clone(&submissions))
            .map_err(|e| CmppError::Io(format!("starting decider threads: {e}")))?;
        Ok(CmppServer {
            shared: Arc::new(Shared {
                config,
                accounts,
                submissions,
                handle: ServerHandle::default(),
                ids,
                deciders,
            }),
            slots,
        })
    }

    /// Pushes DELIVERs (status reports, replies) to connected SPs.
    #[must_use]
    pub fn handle(&self) -> ServerHandle {
        self.shared.handle.clone()
    }

    /// Binds the configured address.
    pub async fn bind(&self) -> Result<TcpListener, CmppError> {
        TcpListener::bind(&self.shared.config.listen)
            .await
            .map_err(|e| CmppError::Io(format!("binding {}: {e}", self.shared.config.listen)))
    }

    /// Accepts connections until `shutdown` completes. A connection over `max_connections` is
    /// closed at accept: a connection flood costs an accept each, never a session.
    pub async fn serve(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => return,
                a = listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off briefly rather than spin.
                    tracing::warn!(error = %e, "accepting a CMPP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = Arc::clone(&self.slots).try_acquire_owned() else {
                tracing::info!(%peer, "CMPP connection limit reached; closing");
                drop(stream);
                continue;
            };
            tokio::spawn(session::run(stream, Arc::clone(&self.shared), permit));
        }
    }

    /// Connections open now.
    #[must_use]
    pub fn open_connections(&self) -> usize {
        self.shared.config.max_connections.max(1) - self.slots.available_permits()
    }
}
