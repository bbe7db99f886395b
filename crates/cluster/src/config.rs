//! `[cluster]`.

use std::time::Duration;

use serde::Deserialize;

/// `[cluster]`: empty `nats` means one node (no cluster).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// NATS server, `nats://127.0.0.1:4222`; empty: not a cluster.
    pub nats: String,
    /// This node's name, unique in the cluster.
    pub node: String,
    /// Partitions the phones are split into; fixed for the life of the database.
    pub partitions: u32,
    /// How long a lease lasts without renewal, in milliseconds. A dead node's partitions are
    /// served again within two lease times.
    pub lease_ms: u64,
    /// How long a forwarded request waits for the owner, in milliseconds.
    pub request_timeout_ms: u64,
    /// Subject prefix, so several clusters can share one NATS.
    pub prefix: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            nats: String::new(),
            node: String::new(),
            partitions: 64,
            lease_ms: 3000,
            request_timeout_ms: 5000,
            prefix: "consentry".into(),
        }
    }
}

impl ClusterConfig {
    /// Whether a cluster is configured.
    #[must_use]
    pub fn enabled(&self) -> bool {
        !self.nats.trim().is_empty()
    }

    /// The lease time.
    #[must_use]
    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }

    /// Checks the values; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.node.is_empty()
            || !self
                .node
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "[cluster] node = {:?}: a unique name of letters, digits, - and _",
                self.node
            ));
        }
        if !(1..=4096).contains(&self.partitions) {
            return Err(format!(
                "[cluster] partitions = {}: 1-4096",
                self.partitions
            ));
        }
        if !(300..=600_000).contains(&self.lease_ms) {
            return Err(format!(
                "[cluster] lease_ms = {}: 300-600000",
                self.lease_ms
            ));
        }
        if self.prefix.is_empty() || self.prefix.contains(['.', '*', '>', ' ']) {
            return Err(format!(
                "[cluster] prefix = {:?}: one subject token",
                self.prefix
            ));
        }
        Ok(())
    }
}
