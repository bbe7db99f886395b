//! Partition leases and the fence on owner writes (cluster mode).
//!
//! A phone belongs to partition `phone % partitions`; one node at a time owns a partition, under a
//! lease row `(part, owner, epoch, expires_at)`. Expiry is judged by the database's clock, so
//! nodes' clocks need not agree; an owner also stops by its own monotonic clock before the
//! lease can run out (see crates/cluster).
//!
//! The fence: a transaction that writes a phone's ledger or decisions first reads the lease
//! rows of the phones' partitions `FOR SHARE`, checking owner and epoch. A takeover is an
//! `UPDATE` of the row, so it waits for such a transaction to commit, and every later one by the
//! old owner finds another epoch and is refused ([`StoreError::Fenced`]). So a node that paused
//! past its lease (SIGSTOP) writes nothing when it resumes, and the new owner, which loads the
//! partition only after its takeover committed, has seen every write the old owner made.

use std::time::Duration;

use super::{PgStore, pg_err};
use crate::StoreError;

/// Which epoch of which partition this node holds, as the fence asks it.
pub trait Fence: Send + Sync + std::fmt::Debug {
    /// This node's name.
    fn node(&self) -> &str;
    /// The partition `phone` (E.164 digits) belongs to.
    fn partition(&self, phone: i64) -> i32;
    /// The epoch this node holds `part` under, if it believes it owns it.
    fn epoch(&self, part: i32) -> Option<i64>;
}

/// One partition's lease, as `consentry cluster status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lease {
    /// The partition.
    pub part: i32,
    /// Its owner, if any ever claimed it.
    pub owner: Option<String>,
    /// Grows with every change of owner.
    pub epoch: i64,
    /// Milliseconds until it expires (negative: expired that long ago), by the database's clock.
    pub expires_in_ms: i64,
}

fn interval(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl PgStore {
    /// Makes sure partitions `0..n` have lease rows; refuses when the cluster was set up with
    /// another count (phones would be owned twice or not at all).
    pub fn init_partitions(&self, n: i32) -> Result<(), StoreError> {
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/consentry-partitions'))",
                &[],
            )
            .await
            .map_err(pg_err)?;
            let have: i64 = tx
                .query_one("SELECT count(*) FROM partition_leases", &[])
                .await
                .map_err(pg_err)?
                .get(0);
            if have != 0 && have != i64::from(n) {
                return Err(StoreError::Config(format!(
                    "[cluster] partitions = {n}, but this cluster was created with {have}"
                )));
            }
            tx.execute(
                "INSERT INTO partition_leases (part) SELECT generate_series(0, $1 - 1)
                 ON CONFLICT DO NOTHING",
                &[&n],
            )
            .await
            .map_err(pg_err)?;
            tx.commit().await.map_err(pg_err)
        })
    }

    /// Registers `node` as running as `instance`; refuses when another instance with that name
    /// was seen within `alive` (two nodes with one name would claim each other's leases).
    pub fn register_node(
        &self,
        node: &str,
        instance: &str,
        alive: Duration,
    ) -> Result<(), StoreError> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "INSERT INTO cluster_nodes (node, instance) VALUES ($1, $2)
                     ON CONFLICT (node) DO UPDATE SET instance = excluded.instance,
                         started_at = now(), seen_at = now()
                       WHERE cluster_nodes.instance = excluded.instance
                          OR cluster_nodes.seen_at < now() - make_interval(secs => $3)
                     RETURNING node",
                    &[&node, &instance, &interval(alive)],
                )
                .await
                .map_err(pg_err)?;
            match row {
                Some(_) => Ok(()),
                None => Err(StoreError::Conflict(format!(
                    "node name {node:?} is in use by a running node"
                ))),
            }
        })
    }

    /// Marks `node` (as `instance`) alive now; false if another instance took the name.
    pub fn heartbeat(&self, node: &str, instance: &str) -> Result<bool, StoreError> {
        self.run(async |c| {
            let n = c
                .execute(
                    "UPDATE cluster_nodes SET seen_at = now() WHERE node = $1 AND instance = $2",
                    &[&node, &instance],
                )
                .await
                .map_err(pg_err)?;
            Ok(n == 1)
        })
    }

    /// Claims `part` for `node` if it is free, expired, or already `node`'s under an older
    /// epoch; the epoch grows on every claim. Returns the new epoch if claimed.
    pub fn claim(&self, part: i32, node: &str, lease: Duration) -> Result<Option<i64>, StoreError> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "UPDATE partition_leases
                     SET owner = $2, epoch = epoch + 1, expires_at = now() + make_interval(secs => $3)
                     WHERE part = $1 AND (owner IS NULL OR expires_at < now())
                     RETURNING epoch",
                    &[&part, &node, &interval(lease)],
                )
                .await
                .map_err(pg_err)?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    /// Extends every lease in `held` (`(part, epoch)`) that `node` still holds; returns the
    /// partitions renewed (one statement for all, so renewal costs one round trip).
    pub fn renew(
        &self,
        node: &str,
        held: &[(i32, i64)],
        lease: Duration,
    ) -> Result<Vec<i32>, StoreError> {
        let parts: Vec<i32> = held.iter().map(|h| h.0).collect();
        let epochs: Vec<i64> = held.iter().map(|h| h.1).collect();
        self.run(async |c| {
            let rows = c
                .query(
                    "UPDATE partition_leases l SET expires_at = now() + make_interval(secs => $4)
                     FROM unnest($2::int[], $3::bigint[]) AS h(part, epoch)
                     WHERE l.part = h.part AND l.epoch = h.epoch AND l.owner = $1
                       AND l.expires_at >= now()
                     RETURNING l.part",
                    &[&node, &parts, &epochs, &interval(lease)],
                )
                .await
                .map_err(pg_err)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// Gives up `part` (a node shutting down cleanly) so another can take it at once.
    pub fn release(&self, part: i32, node: &str, epoch: i64) -> Result<(), StoreError> {
        self.run(async |c| {
            c.execute(
                "UPDATE partition_leases SET expires_at = 'epoch'
                 WHERE part = $1 AND owner = $2 AND epoch = $3",
                &[&part, &node, &epoch],
            )
            .await
            .map_err(pg_err)?;
            Ok(())
        })
    }

    /// Every partition's lease.
    pub fn leases(&self) -> Result<Vec<Lease>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT part, owner, epoch,
                            (extract(epoch FROM (expires_at - now())) * 1000)::bigint
                     FROM partition_leases ORDER BY part",
                    &[],
                )
                .await
                .map_err(pg_err)?;
            Ok(rows
                .iter()
                .map(|r| Lease {
                    part: r.get(0),
                    owner: r.get(1),
                    epoch: r.get(2),
                    expires_in_ms: r.get(3),
                })
                .collect())
        })
    }

    /// Nodes that renewed their registration within `alive`.
    pub fn live_nodes(&self, alive: Duration) -> Result<Vec<String>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT node FROM cluster_nodes
                     WHERE seen_at >= now() - make_interval(secs => $1) ORDER BY node",
                    &[&interval(alive)],
                )
                .await
                .map_err(pg_err)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// Puts the fence on this store: from now on writes that name phones are checked against
    /// the leases `fence` says this node holds.
    pub fn set_fence(&self, fence: std::sync::Arc<dyn Fence>) {
        *self.fence.write() = Some(fence);
    }
}

/// Checks, inside `tx`, that this node holds the lease of every partition `phones` fall in,
/// under the epoch `pins` names for it (the one the write's decisions were made under) or, for
/// a partition `pins` does not name, the one the node holds now; locks those lease rows
/// `FOR SHARE` until `tx` ends. Two different epochs pinned for one partition cannot both
/// hold: refused. No fence (single node): nothing to check.
pub(crate) async fn check(
    store: &PgStore,
    tx: &deadpool_postgres::Transaction<'_>,
    phones: impl Iterator<Item = i64>,
    pins: &crate::Pins,
) -> Result<(), StoreError> {
    let Some(fence) = store.fence.read().clone() else {
        return Ok(());
    };
    let mut parts: Vec<i32> = phones.map(|p| fence.partition(p)).collect();
    parts.sort_unstable();
    parts.dedup();
    if parts.is_empty() {
        return Ok(());
    }
    let mut epochs = Vec::with_capacity(parts.len());
    for &p in &parts {
        let mut pinned: Option<i64> = None;
        for (_, e) in pins
            .iter()
            .filter(|(part, _)| i32::try_from(*part).is_ok_and(|x| x == p))
        {
            match pinned {
                Some(x) if x != *e => {
                    return Err(StoreError::Fenced {
                        partition: u32::try_from(p).unwrap_or(0),
                        epoch: x.min(*e),
                    });
                }
                _ => pinned = Some(*e),
            }
        }
        match pinned.or_else(|| fence.epoch(p)) {
            Some(e) => epochs.push(e),
            None => {
                return Err(StoreError::Fenced {
                    partition: u32::try_from(p).unwrap_or(0),
                    epoch: 0,
                });
            }
        }
    }
    let fenced = tx
        .prepare_cached(
            "SELECT l.part FROM partition_leases l
             JOIN unnest($1::int[], $2::bigint[]) AS f(part, epoch)
               ON l.part = f.part AND l.epoch = f.epoch
             WHERE l.owner = $3 AND l.expires_at > now()
             ORDER BY l.part
             FOR SHARE OF l",
        )
        .await
        .map_err(pg_err)?;
    let rows = tx
        .query(&fenced, &[&parts, &epochs, &fence.node()])
        .await
        .map_err(pg_err)?;
    if rows.len() == parts.len() {
        return Ok(());
    }
    let held: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    let (part, epoch) = parts
        .iter()
        .zip(&epochs)
        .find(|(p, _)| !held.contains(p))
        .map_or((0, 0), |(p, e)| (*p, *e));
    Err(StoreError::Fenced {
        partition: u32::try_from(part).unwrap_or(0),
        epoch,
    })
}
