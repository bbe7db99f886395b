//! The SMPP listener merchants bind to: their existing SMS software submits through the same
//! policy engine and durable decision record as the HTTP API.

mod commit;
pub use commit::status_for;
pub mod reasons;
mod session;
mod submit;

use std::collections::HashMap;
pub use submit::category_of;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use gateway::Gateway;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::{Hub, ServerConfig, SmppError};

/// Binds being verified at once: argon2 costs memory and CPU per bind, so a flood of binds
/// queues here instead of exhausting either.
const CONCURRENT_AUTH: usize = 2;

/// What every session of one listener shares.
pub(crate) struct Shared {
    pub gateway: Arc<Gateway>,
    pub hub: Arc<Hub>,
    pub config: ServerConfig,
    pub commits: tokio::sync::mpsc::Sender<commit::Job>,
    pub auth: Semaphore,
}

/// The listener's state; [`SmppServer::serve`] runs it on a socket.
pub struct SmppServer {
    shared: Arc<Shared>,
    sessions: Arc<Semaphore>,
    /// Slots for connections not yet bound ([`ServerConfig::max_unbound`]).
    unbound: Arc<Semaphore>,
    /// Connections open per peer address ([`ServerConfig::max_sessions_per_address`]).
    per_address: Arc<parking_lot::Mutex<HashMap<IpAddr, usize>>>,
    committer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SmppServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmppServer")
            .field("listen", &self.shared.config.listen)
            .finish_non_exhaustive()
    }
}

impl SmppServer {
    /// Starts the group committer thread for `gateway`.
    pub fn new(
        gateway: Arc<Gateway>,
        hub: Arc<Hub>,
        config: ServerConfig,
    ) -> Result<Self, SmppError> {
        let (commits, handle) = commit::spawn(Arc::clone(&gateway), config.commit_batch)
            .map_err(|e| SmppError::Io(e.to_string()))?;
        let sessions = Arc::new(Semaphore::new(config.max_sessions.max(1)));
        // Replies to a sender's number reach its receiver binds, whichever door they came in by.
        let forward = Arc::clone(&hub);
        gateway.forward_replies(Arc::new(move |sender, from, to, text| {
            forward.deliver_reply(sender, from, to, text);
        }));
        let unbound = Arc::new(Semaphore::new(config.max_unbound.max(1)));
        Ok(SmppServer {
            unbound,
            per_address: Arc::default(),
            shared: Arc::new(Shared {
                gateway,
                hub,
                config,
                commits,
                auth: Semaphore::new(CONCURRENT_AUTH),
            }),
            sessions,
            committer: Some(handle),
        })
    }

    /// Binds the configured address.
    pub async fn bind(&self) -> Result<TcpListener, SmppError> {
        TcpListener::bind(&self.shared.config.listen)
            .await
            .map_err(|e| SmppError::Io(format!("binding {}: {e}", self.shared.config.listen)))
    }

    /// Accepts connections until `shutdown` completes. Connections over `max_sessions` are
    /// closed at once: a bind flood costs a socket accept each, never a session.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), SmppError> {
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => return Ok(()),
                a = listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off briefly rather than spin.
                    tracing::warn!(error = %e, "accepting an SMPP connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let refuse = |why: &'static str| {
                metrics::counter!("consentry_smpp_refused_connections_total", "limit" => why)
                    .increment(1);
                tracing::debug!(%peer, limit = why, "SMPP connection limit reached; closing");
            };
            let Some(address) = AddressSlot::take(
                &self.per_address,
                peer.ip(),
                self.shared.config.max_sessions_per_address.max(1),
            ) else {
                refuse("per_address");
                continue;
            };
            let Ok(unbound) = Arc::clone(&self.unbound).try_acquire_owned() else {
                refuse("unbound");
                continue;
            };
            let Ok(permit) = Arc::clone(&self.sessions).try_acquire_owned() else {
                refuse("sessions");
                continue;
            };
            let shared = Arc::clone(&self.shared);
            tokio::spawn(async move {
                session::run(stream, shared, permit, unbound).await;
                drop(address);
            });
        }
    }

    /// Sessions currently open.
    #[must_use]
    pub fn open_sessions(&self) -> usize {
        self.shared.config.max_sessions.max(1) - self.sessions.available_permits()
    }
}

/// One connection's place in the per-address count; given back when dropped.
struct AddressSlot {
    map: Arc<parking_lot::Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl AddressSlot {
    /// A slot for `ip` if it has fewer than `max` connections open.
    fn take(
        map: &Arc<parking_lot::Mutex<HashMap<IpAddr, usize>>>,
        ip: IpAddr,
        max: usize,
    ) -> Option<Self> {
        let mut m = map.lock();
        let n = m.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            map: Arc::clone(map),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut m = self.map.lock();
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                // Bounded by open connections, not by every address ever seen.
                m.remove(&self.ip);
            }
        }
    }
}

impl Drop for SmppServer {
    fn drop(&mut self) {
        // The committer ends when the last session drops its sender; do not join here (sessions
        // may outlive the server value on the runtime).
        drop(self.committer.take());
    }
}
