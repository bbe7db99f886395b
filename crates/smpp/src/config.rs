//! Typed configuration: `[smpp]` (the listener) and `[[carrier]]` (SMPP carriers).
//!
//! Every default lives in `config/default.toml` for the listener; carrier entries are a list a
//! user writes whole, so their optional keys carry serde defaults documented here.

use serde::Deserialize;
use smpp_proto::BindMode;

/// `[smpp]`: the SMPP listener merchants bind to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Run the listener at all.
    pub enabled: bool,
    /// Address to listen on; loopback by default so exposing it is a deliberate choice.
    pub listen: String,
    /// The system_id we answer binds with.
    pub system_id: String,
    /// Connections at once; more are closed on accept.
    pub max_sessions: usize,
    /// Connections at once from one IP address; more are closed on accept (one client cannot
    /// take every slot).
    pub max_sessions_per_address: usize,
    /// Connections not yet bound at once; more are closed on accept, so connections that never
    /// bind cannot crowd out merchants' binds.
    pub max_unbound: usize,
    /// Bound sessions per merchant system_id.
    pub max_binds_per_system_id: usize,
    /// submit_sm awaiting their response per session; at the cap the session is not read.
    pub window: usize,
    /// PDUs queued to one session's socket; a client that stops reading is dropped when full.
    pub outbound_queue: usize,
    /// Seconds to bind after connecting.
    pub bind_timeout_secs: u64,
    /// Seconds without any PDU (enquire_link counts) before a bound session is closed.
    pub idle_timeout_secs: u64,
    /// Seconds a write to a client may block before the session is closed.
    pub write_timeout_secs: u64,
    /// Partial multipart messages held per session.
    pub max_partial_messages: usize,
    /// Seconds a partial multipart message waits for its remaining segments.
    pub reassembly_timeout_secs: u64,
    /// Most submissions recorded in one group commit.
    pub commit_batch: usize,
    /// Receipt subscriptions remembered for accepted messages (oldest forgotten first).
    pub receipt_subscriptions: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            enabled: true,
            listen: "127.0.0.1:2775".into(),
            system_id: "consentry".into(),
            max_sessions: 256,
            max_sessions_per_address: 16,
            max_unbound: 32,
            max_binds_per_system_id: 8,
            window: 256,
            outbound_queue: 1024,
            bind_timeout_secs: 5,
            idle_timeout_secs: 120,
            write_timeout_secs: 30,
            max_partial_messages: 64,
            reassembly_timeout_secs: 60,
            commit_batch: 2048,
            receipt_subscriptions: 1_000_000,
        }
    }
}

/// Which kind of carrier connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarrierKind {
    /// An SMSC reached over SMPP 3.4.
    Smpp,
}

/// How a carrier writes, in its delivery receipts, the message id it gave in `submit_sm_resp`.
/// SMPP 3.4 means them to be the same string, but some SMSCs answer in hex and report in
/// decimal (or back). Guessing per receipt is not safe: `10` is a decimal id and also the hex
/// id of another message, so the base is a fact about the carrier, set once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptIdBase {
    /// The same id as in the response (case and leading zeros aside).
    #[default]
    Same,
    /// The response's id is hexadecimal; receipts write the same number in decimal.
    HexToDecimal,
    /// The response's id is decimal; receipts write the same number in hexadecimal.
    DecimalToHex,
}

impl ReceiptIdBase {
    /// The key a response's id is remembered under (lowercase, leading zeros dropped).
    #[must_use]
    pub fn sent_key(self, id: &str) -> String {
        canonical(id)
    }

    /// The key of the message a receipt's id refers to, or `None` if the id is not written the
    /// way this carrier writes ids.
    #[must_use]
    pub fn receipt_key(self, id: &str) -> Option<String> {
        let id = id.trim();
        match self {
            ReceiptIdBase::Same => Some(canonical(id)),
            ReceiptIdBase::HexToDecimal => id.parse::<u128>().ok().map(|n| format!("{n:x}")),
            ReceiptIdBase::DecimalToHex => u128::from_str_radix(id, 16).ok().map(|n| n.to_string()),
        }
    }
}

/// Lowercase, without leading zeros (a lone `0` stays).
fn canonical(id: &str) -> String {
    let id = id.trim().to_ascii_lowercase();
    let trimmed = id.trim_start_matches('0');
    if trimmed.is_empty() && !id.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    }
}

/// How we bind to the carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindType {
    /// Submit only; receipts and replies must come over another bind.
    Transmitter,
    /// Receive only.
    Receiver,
    /// Both over one connection (what most carriers expect today).
    #[default]
    Transceiver,
}

impl From<BindType> for BindMode {
    fn from(b: BindType) -> Self {
        match b {
            BindType::Transmitter => BindMode::Transmitter,
            BindType::Receiver => BindMode::Receiver,
            BindType::Transceiver => BindMode::Transceiver,
        }
    }
}

fn default_window() -> usize {
    10
}
fn default_max_tps() -> u32 {
    100
}
fn default_response_timeout() -> u64 {
    10
}
fn default_enquire_link() -> u64 {
    30
}
fn default_reconnect_max() -> u64 {
    30
}
fn default_queue() -> usize {
    100_000
}

/// One `[[carrier]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierConfig {
    /// Name for logs, metrics and the carrier-id table.
    pub name: String,
    pub kind: CarrierKind,
    pub host: String,
    pub port: u16,
    pub system_id: String,
    pub password: String,
    #[serde(default)]
    pub system_type: String,
    /// transmitter, receiver or transceiver (default).
    #[serde(default)]
    pub bind: BindType,
    /// Requests in flight awaiting their response (default 10; carriers drop sessions above
    /// their own cap).
    #[serde(default = "default_window")]
    pub window: usize,
    /// submit_sm per second at most (default 100; 0 = no limit).
    #[serde(default = "default_max_tps")]
    pub max_tps: u32,
    /// Seconds to wait for a response before the request counts as lost (default 10).
    #[serde(default = "default_response_timeout")]
    pub response_timeout_secs: u64,
    /// Seconds between enquire_link keep-alives (default 30).
    #[serde(default = "default_enquire_link")]
    pub enquire_link_secs: u64,
    /// Longest pause between reconnection attempts, in seconds (default 30).
    #[serde(default = "default_reconnect_max")]
    pub reconnect_max_secs: u64,
    /// Messages accepted for this carrier but not yet sent (default 100,000; hand-off fails
    /// when full, so the message is marked failed rather than silently dropped).
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// E.164 digit prefixes of the numbers this carrier serves (`["86134", "86138"]`); the
    /// longest matching prefix among all carriers wins. Empty: every number no other carrier
    /// claims (at most one carrier may leave it empty).
    #[serde(default)]
    pub routes: Vec<String>,
    /// How receipts write the ids this carrier answers with: `same` (SMPP 3.4), or
    /// `hex_to_decimal` / `decimal_to_hex` for SMSCs that change the base.
    #[serde(default)]
    pub receipt_id_base: ReceiptIdBase,
}
