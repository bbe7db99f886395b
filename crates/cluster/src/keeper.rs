//! The lease keeper: one thread per node that claims its share of the partitions, renews what
//! it holds, loads a partition's slice of the gateway's state after each takeover, and gives up
//! or loses partitions cleanly.
//!
//! Every lease time / 3 it: marks the node alive; renews every held lease in one statement
//! (only while NATS is connected: a node that cannot be forwarded to must not keep partitions
//! other nodes' callers cannot reach); forgets the partitions not renewed; and claims free or
//! expired partitions up to its fair share (`ceil(partitions / live nodes)`), giving back any
//! above it so a node that joins gets work. A failed database call changes nothing held: the
//! held leases simply stop being trusted when their time runs out ([`Partitions::holds`]),
//! which is what fails the node closed during a PostgreSQL restart.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use gateway::Gateway;
use store::ConsentLog;
use store::postgres::PgStore;

use crate::{ClusterConfig, ClusterError, Partitions};

/// Starts and stops the serving of one partition's forwarded requests.
pub trait Serving: Send + Sync {
    /// Subscribes to `part`'s requests.
    fn start(&self, part: u32) -> Result<(), String>;
    /// Unsubscribes.
    fn stop(&self, part: u32);
    /// Whether the broker connection is up.
    fn connected(&self) -> bool;
}

/// The running keeper; stops (giving its partitions back) when dropped or [`Keeper::stop`]ped.
pub struct Keeper {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Keeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keeper").finish_non_exhaustive()
    }
}

struct State {
    config: ClusterConfig,
    instance: String,
    store: Arc<PgStore>,
    gateway: Arc<Gateway>,
    parts: Arc<Partitions>,
    serving: Arc<dyn Serving>,
}

impl Keeper {
    /// Registers the node (refusing a name another live node uses), makes sure the partitions
    /// exist, and starts the keeper thread. `wait` blocks until the first round has claimed
    /// this node's share (or the lease time passed), so a node starts answering with its
    /// partitions loaded.
    pub fn start(
        config: &ClusterConfig,
        store: Arc<PgStore>,
        gateway: Arc<Gateway>,
        parts: Arc<Partitions>,
        serving: Arc<dyn Serving>,
    ) -> Result<Keeper, ClusterError> {
        let instance = format!(
            "{}-{}-{}",
            config.node,
            std::process::id(),
            jiff::Timestamp::now().as_millisecond()
        );
        store.init_partitions(i32::try_from(config.partitions).unwrap_or(i32::MAX))?;
        store.register_node(&config.node, &instance, config.lease() * 2)?;
        let state = State {
            config: config.clone(),
            instance,
            store,
            gateway,
            parts,
            serving,
        };
        state.round();
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("consentry-leases".into())
                .spawn(move || {
                    let every = state.config.lease() / 3;
                    while !stop.load(Ordering::Acquire) {
                        std::thread::sleep(every);
                        state.round();
                    }
                    state.give_up_all();
                })
                .map_err(|e| ClusterError::Config(format!("cannot start the lease keeper: {e}")))?
        };
        Ok(Keeper {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops renewing and gives every partition back at once (a clean shutdown: the others
    /// take over without waiting for the leases to run out).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Keeper {
    fn drop(&mut self) {
        self.stop();
    }
}

impl State {
    fn lease(&self) -> Duration {
        self.config.lease()
    }

    /// One pass: heartbeat, renew, rebalance, then reload shared settings (last: it reads
    /// through the traffic's pool, which may be slow under load, and must not delay renewal).
    fn round(&self) {
        self.leases_round();
        if let Err(e) = self.gateway.reload_access() {
            tracing::warn!(error = %e, "reloading senders and keys failed");
        }
    }

    fn leases_round(&self) {
        let node = &self.config.node;
        match self.store.heartbeat(node, &self.instance) {
            Ok(true) => {}
            Ok(false) => {
                tracing::error!(
                    node,
                    "another process took this node's name; giving up partitions"
                );
                self.give_up_all();
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cluster heartbeat failed");
                return;
            }
        }
        let held = self.parts.held();
        let sent = Instant::now();
        let renewed = if self.serving.connected() {
            let h: Vec<(i32, i64)> = held
                .iter()
                .map(|(p, e)| (i32::try_from(*p).unwrap_or(0), *e))
                .collect();
            match self.store.renew(node, &h, self.lease()) {
                Ok(r) => r,
                Err(e) => {
                    // Nothing changes: trust in the held leases runs out on its own.
                    tracing::warn!(error = %e, "renewing leases failed");
                    return;
                }
            }
        } else {
            tracing::warn!("NATS is not connected: not renewing leases");
            Vec::new()
        };
        for (part, epoch) in &held {
            if renewed.contains(&i32::try_from(*part).unwrap_or(-1)) {
                self.parts.hold(*part, *epoch, sent, self.lease());
            } else {
                tracing::warn!(part, epoch, "lease lost");
                self.lose(*part);
            }
        }
        // One read of the leases serves the rebalance and the routing hint; it is read again
        // only when the rebalance changed an owner.
        let mut leases = self.store.leases();
        if let Err(e) = &leases {
            tracing::warn!(error = %e, "reading leases failed");
        }
        if self.serving.connected()
            && let Ok(read) = &leases
            && self.rebalance(read)
        {
            leases = self.store.leases();
        }
        if let Ok(leases) = leases {
            self.parts.set_owners(
                leases
                    .into_iter()
                    .filter(|l| l.expires_in_ms >= 0)
                    .filter_map(|l| Some((u32::try_from(l.part).ok()?, (l.owner?, l.epoch))))
                    .collect(),
            );
        }
        metrics::gauge!("consentry_partitions_owned").set(self.parts.held().len() as f64);
    }

    /// Claims free or expired partitions up to the fair share; gives back any above it. Live
    /// nodes are those that marked themselves alive within one lease time (they do so every
    /// third of it): a dead node stops counting when its leases expire, so the survivors' share
    /// grows to cover its partitions in the same round they become claimable. `leases` is this
    /// round's read of every lease. Returns whether it claimed or gave up anything.
    fn rebalance(&self, leases: &[store::postgres::Lease]) -> bool {
        let live = self
            .store
            .live_nodes(self.lease())
            .map_or(1, |n| n.len().max(1));
        let count = self.parts.count();
        let share = count.div_ceil(u32::try_from(live).unwrap_or(1));
        let held = self.parts.held();
        let have = u32::try_from(held.len()).unwrap_or(u32::MAX);
        if have > share {
            for (part, epoch) in held.iter().rev().take((have - share) as usize) {
                self.give_up(*part, *epoch);
            }
            return true;
        }
        if have == share {
            return false;
        }
        // Start at a node-dependent offset so nodes starting together do not all try the same
        // partitions first.
        let offset = self
            .config
            .node
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
            % count;
        let leases: HashMap<i32, &store::postgres::Lease> =
            leases.iter().map(|l| (l.part, l)).collect();
        let free: Vec<u32> = (0..count)
            .map(|i| (offset + i) % count)
            .filter(|&part| !self.parts.holds(part))
            .filter(|&part| {
                leases
                    .get(&i32::try_from(part).unwrap_or(-1))
                    .is_some_and(|l| l.owner.is_none() || l.expires_in_ms < 0)
            })
            .take((share - have) as usize)
            .collect();
        !free.is_empty() && self.take(&free) > 0
    }

    /// Claims `parts`; loads the slices of those claimed in one pass and starts serving them.
    /// Returns how many are now held.
    ///
    /// One load for all of them, not one per partition: loading reads the last two days' sends
    /// and the queued messages of every phone and keeps the partition's, so taking a dead node's
    /// twenty partitions one by one read them twenty times — seconds on a busy store, during
    /// which this round renewed nothing and the first partitions taken expired again, to be
    /// taken by another node, and so on (`bench cluster`'s kill -9 never settled).
    fn take(&self, parts: &[u32]) -> usize {
        let sent = Instant::now();
        let mut claimed = Vec::with_capacity(parts.len());
        for &part in parts {
            let p = i32::try_from(part).unwrap_or(0);
            match self.store.claim(p, &self.config.node, self.lease()) {
                Ok(Some(epoch)) => claimed.push((part, epoch)),
                Ok(None) => {}
                Err(e) => tracing::warn!(part, error = %e, "claiming a partition failed"),
            }
        }
        if claimed.is_empty() {
            return 0;
        }
        // The takeovers committed: every write of the previous owners is visible, and any they
        // still attempt is refused by the fence. Load, then start answering.
        let count = self.parts.count();
        let mine = |phone: domain::Msisdn| {
            let of = self.parts.of(phone);
            claimed.iter().any(|(p, _)| *p == of)
        };
        let store = Arc::clone(&self.store);
        let loaded = self.gateway.load_phones(&mine, &|f| {
            let mut events = 0;
            for (part, _) in &claimed {
                events += store.scan_partition(count, *part, &mut *f)?;
            }
            Ok(events)
        });
        match loaded {
            Ok(l) => {
                tracing::info!(
                    parts = ?claimed,
                    events = l.events,
                    deferred = l.deferred,
                    "partitions taken"
                );
            }
            Err(e) => {
                tracing::error!(parts = ?claimed, error = %e, "loading partitions failed; giving them back");
                for (part, epoch) in &claimed {
                    let p = i32::try_from(*part).unwrap_or(0);
                    let _ = self.store.release(p, &self.config.node, *epoch);
                }
                return 0;
            }
        }
        let mut held = Vec::with_capacity(claimed.len());
        for &(part, epoch) in &claimed {
            self.parts.hold(part, epoch, sent, self.lease());
            if let Err(e) = self.serving.start(part) {
                tracing::error!(part, error = %e, "cannot serve a partition; giving it back");
                self.give_up(part, epoch);
                continue;
            }
            metrics::counter!("consentry_partition_takeovers_total").increment(1);
            held.push((part, epoch));
        }
        if held.is_empty() {
            return 0;
        }
        // Held: what the previous owners accepted and never handed to a carrier, or handed to
        // a link that never put it on the wire, goes out under each partition's new epoch — in
        // one pass over the pending messages and the unacknowledged hand-offs, as the load.
        let epoch_of = |phone: domain::Msisdn| {
            let of = self.parts.of(phone);
            held.iter().find(|(p, _)| *p == of).map(|(_, e)| *e)
        };
        match self.gateway.resume_phones(&epoch_of) {
            Ok(n) if n > 0 => tracing::info!(parts = ?held, resumed = n, "hand-offs resumed"),
            Ok(_) => {}
            Err(e) => tracing::error!(parts = ?held, error = %e, "resuming hand-offs failed"),
        }
        held.len()
    }

    /// Stops acting for `part` (its lease was not renewed).
    fn lose(&self, part: u32) {
        self.parts.drop_part(part);
        self.serving.stop(part);
        self.gateway.forget_phones(&|p| self.parts.of(p) == part);
    }

    /// Stops acting for `part` and hands its lease back at once.
    fn give_up(&self, part: u32, epoch: i64) {
        self.lose(part);
        if let Err(e) =
            self.store
                .release(i32::try_from(part).unwrap_or(0), &self.config.node, epoch)
        {
            tracing::warn!(part, error = %e, "releasing a lease failed; it will expire");
        }
    }

    fn give_up_all(&self) {
        for (part, epoch) in self.parts.held() {
            self.give_up(part, epoch);
        }
    }
}
