//! Connected SPs, by account, and the bounded queues DELIVERs reach them through.
//!
//! Pushing never blocks (`try_send`): reports come from the gateway's dispatch and must not
//! wait on one SP's socket. A connection whose queue is full is not reading; it is told to
//! close instead of holding the others' deliveries hostage.
//!
//! A DELIVER for an account with no connection that can take it waits in the account's
//! backlog (bounded: [`BACKLOG_PER_ACCOUNT`] and [`BACKLOG_TOTAL`], the oldest dropped first) and goes out, in order,
//! when the SP connects again, as an ISMG keeps an SP's reports: SP software restarts and
//! reconnects, and a report lost then is a message it never learns the fate of. The backlog
//! is in memory: a restart of the listener loses it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cmpp_proto::{Deliver, StatusReport, Version, concat};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};

/// One connection's entry.
struct Entry {
    account: u64,
    tx: mpsc::Sender<Deliver>,
    close: Arc<Notify>,
}

/// DELIVERs kept per account while it has no connection that can take them.
pub const BACKLOG_PER_ACCOUNT: usize = 10_000;
/// DELIVERs kept for all accounts together.
pub const BACKLOG_TOTAL: usize = 200_000;

#[derive(Default)]
struct Inner {
    connections: Mutex<HashMap<u64, Entry>>,
    /// Waiting DELIVERs by account, oldest first. Locked after `connections` when both are.
    backlog: Mutex<HashMap<u64, VecDeque<Deliver>>>,
    /// DELIVERs in `backlog`, all accounts (changed under its lock).
    backlog_total: std::sync::atomic::AtomicUsize,
    next_id: AtomicU64,
    undeliverable: AtomicU64,
}

/// Cheap to clone; pushes DELIVERs to any connection of an account.
#[derive(Clone, Default)]
pub struct ServerHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("connections", &self.inner.connections.lock().len())
            .finish()
    }
}

/// A status report to push: which message, to whom it went, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The Msg_Id the server gave the part in SUBMIT_RESP.
    pub msg_id: u64,
    /// The SUBMIT's Src_Id (the report's Dest_Id: the SP number it is addressed to).
    pub src_id: String,
    /// The handset.
    pub destination: String,
    /// DELIVRD, UNDELIV, REJECTD, … or a seven-character code of our own.
    pub stat: String,
    /// YYMMDDHHMM.
    pub submit_time: String,
    pub done_time: String,
}

impl ServerHandle {
    pub(crate) fn register(
        &self,
        account: u64,
        tx: mpsc::Sender<Deliver>,
        close: Arc<Notify>,
    ) -> u64 {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let mut connections = self.inner.connections.lock();
        connections.insert(id, Entry { account, tx, close });
        self.flush_locked(&connections, account);
        id
    }

    /// Sends what waits in `account`'s backlog to its connections, in order, as far as their
    /// queues have room; called when it connects and as it acknowledges DELIVERs.
    pub(crate) fn flush(&self, account: u64) {
        let connections = self.inner.connections.lock();
        self.flush_locked(&connections, account);
    }

    fn flush_locked(&self, connections: &HashMap<u64, Entry>, account: u64) {
        let mut backlog = self.inner.backlog.lock();
        let Some(waiting) = backlog.get_mut(&account) else {
            return;
        };
        while let Some(d) = waiting.pop_front() {
            if let Some(back) = Self::queue_on(connections, account, d, false) {
                waiting.push_front(back);
                return;
            }
            self.inner.backlog_total.fetch_sub(1, Ordering::Relaxed);
        }
        backlog.remove(&account);
    }

    /// Queues `d` on a connection of `account` with room; gives it back when none has.
    /// `close_full`: a connection whose queue is full is told to close (it is not reading);
    /// a backlog being flushed only fills what room there is.
    fn queue_on(
        connections: &HashMap<u64, Entry>,
        account: u64,
        d: Deliver,
        close_full: bool,
    ) -> Option<Deliver> {
        let mut d = d;
        for e in connections.values().filter(|e| e.account == account) {
            match e.tx.try_send(d) {
                Ok(()) => return None,
                Err(mpsc::error::TrySendError::Full(back)) => {
                    if close_full {
                        e.close.notify_one();
                    }
                    d = back;
                }
                Err(mpsc::error::TrySendError::Closed(back)) => d = back,
            }
        }
        Some(d)
    }

    /// DELIVERs waiting for `account` to connect.
    #[must_use]
    pub fn waiting(&self, account: u64) -> usize {
        self.inner
            .backlog
            .lock()
            .get(&account)
            .map_or(0, VecDeque::len)
    }

    pub(crate) fn unregister(&self, id: u64) {
        self.inner.connections.lock().remove(&id);
    }

    /// Connections of `account`.
    #[must_use]
    pub fn connections_of(&self, account: u64) -> usize {
        self.inner
            .connections
            .lock()
            .values()
            .filter(|e| e.account == account)
            .count()
    }

    /// DELIVERs dropped: the account's backlog was full ([`BACKLOG_PER_ACCOUNT`]).
    #[must_use]
    pub fn undeliverable(&self) -> u64 {
        self.inner.undeliverable.load(Ordering::Relaxed)
    }

    /// Queues `deliver` on one connection of `account` that has room, behind whatever already
    /// waits for it; when none can take it, it waits in the account's backlog. False only when
    /// it could not be queued now (it then waits, or was dropped from a full backlog).
    pub fn deliver(&self, account: u64, deliver: Deliver) -> bool {
        let connections = self.inner.connections.lock();
        // What waits goes first: a report must not overtake an older one.
        self.flush_locked(&connections, account);
        let waits = self.inner.backlog.lock().contains_key(&account);
        let back = if waits {
            Some(deliver)
        } else {
            Self::queue_on(&connections, account, deliver, true)
        };
        drop(connections);
        let Some(d) = back else {
            return true;
        };
        let mut backlog = self.inner.backlog.lock();
        let waiting = backlog.entry(account).or_default();
        waiting.push_back(d);
        let total = self.inner.backlog_total.fetch_add(1, Ordering::Relaxed) + 1;
        if waiting.len() > BACKLOG_PER_ACCOUNT || total > BACKLOG_TOTAL {
            waiting.pop_front();
            self.inner.backlog_total.fetch_sub(1, Ordering::Relaxed);
            self.inner.undeliverable.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                account,
                "a CMPP account's backlog is full: its oldest DELIVER was dropped"
            );
        }
        tracing::debug!(account, "no CMPP connection could take a DELIVER: it waits");
        false
    }

    /// Pushes a status report. The report is built for CMPP 3.0; a 2.0 connection re-encodes
    /// it with its own terminal-id width when it sends it.
    pub fn report(&self, account: u64, r: &Report) -> bool {
        let report = StatusReport {
            msg_id: r.msg_id,
            stat: r.stat.chars().take(7).collect(),
            submit_time: r.submit_time.clone(),
            done_time: r.done_time.clone(),
            dest_terminal_id: r.destination.clone(),
            smsc_sequence: 0,
        };
        match Deliver::report(0, &r.src_id, &report, Version::V30) {
            Ok(d) => self.deliver(account, d),
            Err(e) => {
                tracing::warn!(error = %e, "a status report could not be encoded");
                false
            }
        }
    }

    /// Forwards a handset's reply `text` from `from` to the SP number `to` (split behind a UDH
    /// when long). False when any part could not be queued.
    pub fn mo(&self, account: u64, from: &str, to: &str, text: &str, reference: u8) -> bool {
        let Ok(parts) = concat::split(text, reference) else {
            return false;
        };
        parts.into_iter().all(|p| {
            self.deliver(
                account,
                Deliver {
                    dest_id: to.to_owned(),
                    tp_udhi: u8::from(p.udhi),
                    msg_fmt: p.msg_fmt,
                    src_terminal_id: from.to_owned(),
                    msg_content: p.content,
                    ..Deliver::default()
                },
            )
        })
    }
}
