//! Typed configuration of CMPP: `[cmpp]` (the listener merchants' CMPP software connects to)
//! and `[[carrier]] kind = "cmpp"` (a China Mobile ISMG we deliver to).

use std::time::Duration;

use anyhow::{Result, bail};
use cmpp_proto::Version;
use serde::Deserialize;

/// `[cmpp]`: the listener. Off unless enabled (or `serve --cmpp ADDR`): a second listening port
/// is a deliberate choice, and CMPP's CONNECT only proves the secret, nothing after it is
/// encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    pub enabled: bool,
    pub listen: String,
    /// The newest version offered ("3.0" or "2.0"); an older client gets its own.
    pub version: VersionName,
    /// The 22-bit gateway code in the Msg_Ids given to merchants.
    pub gateway_code: u32,
    pub max_connections: usize,
    pub max_connections_per_account: usize,
    /// SUBMITs awaiting their verdict per connection; one more is answered Result 8.
    pub window: usize,
    /// SUBMITs per second per connection before Result 8 (0 = no limit).
    pub submits_per_second: u32,
    pub connect_timeout_secs: u64,
    pub active_test_secs: u64,
    pub write_timeout_secs: u64,
    /// Threads deciding SUBMITs in batches (each batch shares the HTTP API's group commit).
    pub decide_threads: usize,
    /// Accepted messages whose merchant asked for a status report, remembered until the
    /// carrier reports (oldest forgotten first).
    pub report_subscriptions: usize,
}

impl ListenerConfig {
    /// The `cmpp` crate's settings, listening on `listen`.
    pub fn server_config(&self, listen: String) -> Result<cmpp::ServerConfig> {
        if self.gateway_code > cmpp_proto::msg_id::MAX_GATEWAY_CODE {
            bail!(
                "[cmpp] gateway_code is at most {}",
                cmpp_proto::msg_id::MAX_GATEWAY_CODE
            );
        }
        Ok(cmpp::ServerConfig {
            listen,
            version: self.version.0,
            gateway_code: self.gateway_code,
            max_connections: self.max_connections.max(1),
            max_connections_per_account: self.max_connections_per_account.max(1),
            window: self.window.max(1),
            submits_per_second: self.submits_per_second,
            connect_timeout: Duration::from_secs(self.connect_timeout_secs.max(1)),
            active_test_interval: Duration::from_secs(self.active_test_secs.max(1)),
            write_timeout: Duration::from_secs(self.write_timeout_secs.max(1)),
            decide_threads: self.decide_threads.max(1),
        })
    }
}

/// A CMPP version as the configuration writes it: `"3.0"` or `"2.0"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionName(pub Version);

impl<'de> Deserialize<'de> for VersionName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.trim() {
            "3.0" | "3" | "30" => Ok(VersionName(Version::V30)),
            "2.0" | "2" | "20" => Ok(VersionName(Version::V20)),
            other => Err(serde::de::Error::custom(format!(
                "CMPP version {other:?}: use \"3.0\" or \"2.0\""
            ))),
        }
    }
}

fn v30() -> VersionName {
    VersionName(Version::V30)
}
fn default_window() -> usize {
    16
}
fn default_max_tps() -> u32 {
    100
}
fn default_timeout() -> u64 {
    30
}
fn default_queue() -> usize {
    100_000
}

/// Only `"cmpp"`: the tag that chose this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CmppKind {
    Cmpp,
}

/// One `[[carrier]]` with `kind = "cmpp"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierConfig {
    /// Name for logs and the carrier-id table (unique among all carriers).
    pub name: String,
    pub kind: CmppKind,
    /// "3.0" (default) or "2.0".
    #[serde(default = "v30")]
    pub version: VersionName,
    pub host: String,
    pub port: u16,
    /// The SP code (Source_Addr, at most 6 characters) the ISMG knows us by.
    pub source_addr: String,
    pub shared_secret: String,
    /// Service_Id of every SUBMIT (at most 10 characters).
    #[serde(default)]
    pub service_id: String,
    /// The SP's access number; each merchant's extension is appended for Src_Id, so replies to
    /// it come back naming the merchant.
    pub src_id: String,
    /// SUBMITs in flight (default 16).
    #[serde(default = "default_window")]
    pub window: usize,
    /// SUBMITs (message parts) per second (default 100; 0 = no limit).
    #[serde(default = "default_max_tps")]
    pub max_tps: u32,
    /// Seconds to wait for a SUBMIT_RESP before the part is sent again (default 30).
    #[serde(default = "default_timeout")]
    pub response_timeout_secs: u64,
    /// Seconds of silence before an ACTIVE_TEST (default 30).
    #[serde(default = "default_timeout")]
    pub active_test_secs: u64,
    /// Longest pause between reconnection attempts, in seconds (default 30).
    #[serde(default = "default_timeout")]
    pub reconnect_max_secs: u64,
    /// Messages accepted for this carrier but not yet sent (default 100,000; the hand-off fails
    /// when it is full, so the message is marked failed rather than silently dropped).
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// E.164 prefixes this carrier serves, as for SMPP carriers.
    #[serde(default)]
    pub routes: Vec<String>,
    /// Write Dest_terminal_Id for Chinese numbers without the country code (`13800138000`),
    /// for ISMGs that take national numbers only; default false (`8613800138000`). Numbers of
    /// other countries keep their code either way.
    #[serde(default)]
    pub national_numbers: bool,
}

impl CarrierConfig {
    /// Checks the field widths CMPP fixes, naming the entry.
    pub fn validate(&self) -> Result<()> {
        let too_long = [
            ("source_addr", &self.source_addr, 6),
            ("service_id", &self.service_id, 10),
            ("src_id", &self.src_id, 21),
        ]
        .into_iter()
        .find(|(_, v, max)| v.len() > *max);
        if let Some((field, _, max)) = too_long {
            bail!(
                "[[carrier]] {}: {field} is at most {max} characters",
                self.name
            );
        }
        if self.source_addr.is_empty() || self.window == 0 {
            bail!(
                "[[carrier]] {}: source_addr must be set and window at least 1",
                self.name
            );
        }
        Ok(())
    }

    /// The `cmpp` client's settings.
    pub fn client_config(&self) -> cmpp::ClientConfig {
        cmpp::ClientConfig {
            addr: format!("{}:{}", self.host, self.port),
            source_addr: self.source_addr.clone(),
            shared_secret: self.shared_secret.clone(),
            version: self.version.0,
            src_id: self.src_id.clone(),
            service_id: self.service_id.clone(),
            window: self.window,
            response_timeout: Duration::from_secs(self.response_timeout_secs.max(1)),
            active_test_interval: Duration::from_secs(self.active_test_secs.max(1)),
            reconnect_min: Duration::from_millis(200),
            reconnect_max: Duration::from_secs(self.reconnect_max_secs.max(1)),
            ..cmpp::ClientConfig::default()
        }
    }
}

/// One `[[carrier]]` entry: SMPP or CMPP, by its `kind`.
#[derive(Debug, Clone)]
pub enum CarrierEntry {
    Smpp(smpp::CarrierConfig),
    Cmpp(CarrierConfig),
}

impl CarrierEntry {
    pub fn name(&self) -> &str {
        match self {
            CarrierEntry::Smpp(c) => &c.name,
            CarrierEntry::Cmpp(c) => &c.name,
        }
    }

    pub fn routes(&self) -> &[String] {
        match self {
            CarrierEntry::Smpp(c) => &c.routes,
            CarrierEntry::Cmpp(c) => &c.routes,
        }
    }
}

impl<'de> Deserialize<'de> for CarrierEntry {
    /// By `kind`: each kind's own type then reads (and checks) every key of the entry.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let table = toml::Table::deserialize(d)?;
        let kind = table.get("kind").and_then(toml::Value::as_str);
        let value = toml::Value::Table(table.clone());
        match kind {
            Some("cmpp") => CarrierConfig::deserialize(value)
                .map(CarrierEntry::Cmpp)
                .map_err(D::Error::custom),
            Some("smpp") => smpp::CarrierConfig::deserialize(value)
                .map(CarrierEntry::Smpp)
                .map_err(D::Error::custom),
            Some(other) => Err(D::Error::custom(format!(
                "[[carrier]] kind {other:?}: use \"smpp\" or \"cmpp\""
            ))),
            None => Err(D::Error::custom(
                "[[carrier]] needs kind = \"smpp\" or \"cmpp\"",
            )),
        }
    }
}
