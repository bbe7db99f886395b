//! Connected SPs, by account, and the bounded queues DELIVERs reach them through.
//!
//! Pushing never blocks (`try_send`): reports come from the gateway's dispatch and must not
//! wait on one SP's socket. A connection whose queue is full is not reading; it is told to
//! close instead of holding the others' deliveries hostage.

use std::collections::HashMap;
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

#[derive(Default)]
struct Inner {
    connections: Mutex<HashMap<u64, Entry>>,
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
        self.inner
            .connections
            .lock()
            .insert(id, Entry { account, tx, close });
        id
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

    /// DELIVERs dropped because no connection of their account could take them.
    #[must_use]
    pub fn undeliverable(&self) -> u64 {
        self.inner.undeliverable.load(Ordering::Relaxed)
    }

    /// Queues `deliver` on one connection of `account` that has room; false when none has.
    pub fn deliver(&self, account: u64, deliver: Deliver) -> bool {
        let connections = self.inner.connections.lock();
        let mut d = deliver;
        for e in connections.values().filter(|e| e.account == account) {
            match e.tx.try_send(d) {
                Ok(()) => return true,
                Err(mpsc::error::TrySendError::Full(back)) => {
                    e.close.notify_one();
                    d = back;
                }
                Err(mpsc::error::TrySendError::Closed(back)) => d = back,
            }
        }
        self.inner.undeliverable.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(account, "no CMPP connection could take a DELIVER");
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
