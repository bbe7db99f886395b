//! Which partitions this node holds, under which epoch, until when by its own clock.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use domain::Msisdn;
use parking_lot::RwLock;

/// A partition held under a lease.
#[derive(Debug, Clone, Copy)]
pub struct Held {
    /// The lease's epoch.
    pub epoch: i64,
    /// When this node stops acting for it unless renewed, by its monotonic clock: the lease
    /// time from the moment *before* the claim or renewal was sent, less a margin, so it
    /// passes before the database's expiry (bounded clock-rate drift is the one assumption).
    pub valid_until: Instant,
}

/// The partition map of one node: answers the gateway's [`gateway::Ownership`] question and
/// the store's [`store::postgres::Fence`] question from the same table.
#[derive(Debug)]
pub struct Partitions {
    node: String,
    count: u32,
    held: RwLock<HashMap<u32, Held>>,
    /// Who owned each partition at the last lease round (a routing hint: a batch's recipients
    /// are sent one request per owner, not one per partition; the owner checks every phone).
    owners: RwLock<HashMap<u32, (String, i64)>>,
}

/// The share of a lease an owner trusts by its own clock.
const TRUST: f64 = 0.8;

impl Partitions {
    /// An empty map for `node` over `count` partitions.
    #[must_use]
    pub fn new(node: &str, count: u32) -> Self {
        Partitions {
            node: node.to_string(),
            count: count.max(1),
            held: RwLock::new(HashMap::new()),
            owners: RwLock::new(HashMap::new()),
        }
    }

    /// The partition of `phone`.
    #[must_use]
    pub fn of(&self, phone: Msisdn) -> u32 {
        u32::try_from(phone.as_u64() % u64::from(self.count)).unwrap_or(0)
    }

    /// Number of partitions.
    #[must_use]
    pub fn count(&self) -> u32 {
        self.count
    }

    /// This node's name.
    #[must_use]
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Whether `part` is held and its lease is still trusted now.
    #[must_use]
    pub fn holds(&self, part: u32) -> bool {
        self.held
            .read()
            .get(&part)
            .is_some_and(|h| Instant::now() < h.valid_until)
    }

    /// The partitions held, with their epochs (including ones whose trust ran out: they are
    /// renewed or given up by the keeper).
    #[must_use]
    pub fn held(&self) -> Vec<(u32, i64)> {
        let mut v: Vec<(u32, i64)> = self
            .held
            .read()
            .iter()
            .map(|(p, h)| (*p, h.epoch))
            .collect();
        v.sort_unstable();
        v
    }

    /// Records `part` held under `epoch`, trusted for `lease` from `sent` (when the claim or
    /// renewal was sent).
    pub fn hold(&self, part: u32, epoch: i64, sent: Instant, lease: Duration) {
        self.held.write().insert(
            part,
            Held {
                epoch,
                valid_until: sent + lease.mul_f64(TRUST),
            },
        );
    }

    /// Records who owns which partition, as last read from the leases.
    pub fn set_owners(&self, owners: HashMap<u32, (String, i64)>) {
        *self.owners.write() = owners;
    }

    /// The owner `part` had at the last lease round.
    #[must_use]
    pub fn owner_hint(&self, part: u32) -> Option<String> {
        self.owners.read().get(&part).map(|(o, _)| o.clone())
    }

    /// The epoch `part`'s lease had at the last lease round: a forwarded request names it, and
    /// only the node holding that very epoch serves it ([`Partitions::serves`]).
    #[must_use]
    pub fn epoch_hint(&self, part: u32) -> Option<i64> {
        self.owners.read().get(&part).map(|(_, e)| *e)
    }

    /// Whether this node holds `part` under `epoch` and still trusts the lease. A request
    /// forwarded to another ownership period — delivered late to a node that paused and has
    /// since taken the partition again, or to a stale subscription — is refused, so no request
    /// is carried out by two owners.
    #[must_use]
    pub fn serves(&self, part: u32, epoch: i64) -> bool {
        self.held
            .read()
            .get(&part)
            .is_some_and(|h| h.epoch == epoch && Instant::now() < h.valid_until)
    }

    /// Forgets `part`; returns whether it was held.
    pub fn drop_part(&self, part: u32) -> bool {
        self.held.write().remove(&part).is_some()
    }
}

impl gateway::Ownership for Partitions {
    fn epoch(&self, phone: Msisdn) -> Option<i64> {
        let now = Instant::now();
        self.held
            .read()
            .get(&self.of(phone))
            .filter(|h| now < h.valid_until)
            .map(|h| h.epoch)
    }

    fn partition(&self, phone: Msisdn) -> Option<u32> {
        Some(self.of(phone))
    }

    fn owned(&self) -> Vec<u32> {
        let now = Instant::now();
        let mut v: Vec<u32> = self
            .held
            .read()
            .iter()
            .filter(|(_, h)| now < h.valid_until)
            .map(|(p, _)| *p)
            .collect();
        v.sort_unstable();
        v
    }
}

impl store::postgres::Fence for Partitions {
    fn node(&self) -> &str {
        &self.node
    }

    fn partition(&self, phone: i64) -> i32 {
        let n = i64::from(self.count);
        i32::try_from(phone.rem_euclid(n)).unwrap_or(0)
    }

    fn epoch(&self, part: i32) -> Option<i64> {
        let part = u32::try_from(part).ok()?;
        self.held.read().get(&part).map(|h| h.epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway::Ownership;

    #[test]
    fn a_lease_is_trusted_for_less_than_its_time_and_only_for_its_partition() {
        let p = Partitions::new("a", 4);
        let phone = Msisdn::from_u64(8613800138002);
        assert_eq!(p.of(phone), 2);
        assert!(!p.owns(phone));
        p.hold(2, 7, Instant::now(), Duration::from_secs(60));
        assert!(p.owns(phone));
        assert!(!p.owns(Msisdn::from_u64(8613800138003)));
        p.hold(
            2,
            8,
            Instant::now() - Duration::from_secs(50),
            Duration::from_secs(60),
        );
        assert!(!p.owns(phone), "48 s of trust from 50 s ago have passed");
        assert_eq!(store::postgres::Fence::epoch(&p, 2), Some(8));
        assert!(p.drop_part(2));
        assert_eq!(store::postgres::Fence::epoch(&p, 2), None);
    }
}
