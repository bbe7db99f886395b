//! The `[gateway]` section.

use serde::{Deserialize, Serialize};

/// Gateway settings (see `config/default.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// The platform's base number; each sender's `source_number` is this plus a 4-digit extension.
    pub platform_number: String,
    /// Most recipients in one batch request.
    pub max_batch: usize,
    /// Capacity of the dispatch queue (accepted messages waiting for the carrier).
    pub dispatch_queue: usize,
    /// How often deferred messages are checked for release, in milliseconds.
    pub tick_ms: u64,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            platform_number: "1069000012345".into(),
            max_batch: 10_000,
            dispatch_queue: 100_000,
            tick_ms: 500,
        }
    }
}
