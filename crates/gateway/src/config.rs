//! The `[gateway]` section.

use serde::{Deserialize, Serialize};

/// Gateway settings (see `config/default.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// The platform's base number; each sender's `source_number` is this plus an extension of
    /// `extension_digits` digits.
    pub platform_number: String,
    /// Width of every sender's extension. All the same width, so no sender's number begins
    /// another's and a carrier's sub-extension after it cannot be read as a different sender
    /// (variable widths made `…1234` + `5` read as sender 12345). Fixed when a platform is
    /// installed: 4 gives 9,999 senders, 5 gives 99,999.
    pub extension_digits: u32,
    /// Most recipients in one batch request.
    pub max_batch: usize,
    /// Capacity of the dispatch queue (accepted messages waiting for the carrier).
    pub dispatch_queue: usize,
    /// How often deferred messages are checked for release, in milliseconds.
    pub tick_ms: u64,
    /// Where consumers reach this gateway's pages: one-click unsubscribe links are
    /// `{public_url}/u/{token}`.
    pub public_url: String,
    /// A reply to the platform's base number (or to no sender's number) opts out of every
    /// sender whose marketing reached the phone in this many days.
    pub reply_attribution_days: u32,
    /// Country calling codes the consumer portal sends one-time codes to. The form is open to
    /// anyone, so without this it would send SMS to any premium number in the world.
    pub portal_country_codes: Vec<u16>,
    /// One-time codes the portal sends per minute in all (each phone also has its own limit).
    pub portal_codes_per_minute: u32,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            platform_number: "1069000012345".into(),
            extension_digits: 4,
            max_batch: 10_000,
            dispatch_queue: 100_000,
            tick_ms: 500,
            public_url: "http://127.0.0.1:8080".into(),
            reply_attribution_days: 30,
            portal_country_codes: vec![86],
            portal_codes_per_minute: 60,
        }
    }
}
