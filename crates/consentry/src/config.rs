//! The configuration file: `config/default.toml` is compiled in and is the source of every
//! default; a user's file is merged over it key by key, so it need only name what it changes.

use std::path::Path;

use anyhow::{Context, Result};
use gateway::GatewayConfig;
use policy::PolicyConfig;
use serde::Deserialize;
use store::Durability;

const DEFAULT: &str = include_str!("../../../config/default.toml");

/// `[http]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub listen: String,
    pub max_body_bytes: usize,
    /// Concurrent one-message submissions share one commit (durability unchanged).
    pub group_commit: bool,
    /// Seconds for a request's headers to arrive (also how long an idle kept-alive connection
    /// stays open).
    pub header_timeout_secs: u64,
    /// Seconds for a request's whole body to arrive.
    pub body_timeout_secs: u64,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
}

impl HttpConfig {
    /// The limits `api::serve_limited` applies.
    pub fn limits(&self) -> api::HttpLimits {
        api::HttpLimits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout_secs.max(1)),
            body_timeout: std::time::Duration::from_secs(self.body_timeout_secs.max(1)),
            max_connections: self.max_connections.max(1),
            max_body_bytes: self.max_body_bytes,
        }
    }
}

/// Which database holds the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Embedded, one node: `DATA/consentry.db`.
    Sqlite,
    /// PostgreSQL at `[store] url`, shared by every node.
    Postgres,
}

/// `[store]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub backend: Backend,
    /// `postgres://user@host:port/db`; `CONSENTRY_STORE_URL` overrides it.
    pub url: String,
    pub max_connections: usize,
    pub durability: Durability,
    pub audit: bool,
}

impl StoreConfig {
    /// The PostgreSQL URL: the environment's `CONSENTRY_STORE_URL` if set, else `url`.
    pub fn effective_url(&self) -> String {
        std::env::var("CONSENTRY_STORE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| self.url.clone())
    }
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub http: HttpConfig,
    pub store: StoreConfig,
    pub gateway: GatewayConfig,
    pub policy: PolicyConfig,
    pub smpp: smpp::ServerConfig,
    pub classify: gateway::ClassifyConfig,
    pub enforcement: complaints::EnforcementConfig,
    /// Several nodes on one PostgreSQL and NATS; `nats = ""` is one node.
    pub cluster: cluster::ClusterConfig,
    /// The CMPP listener merchants' CMPP software connects to.
    pub cmpp: crate::cmpp::config::ListenerConfig,
    /// Carriers reached over SMPP or CMPP; none means the loopback handset.
    #[serde(default)]
    pub carrier: Vec<crate::cmpp::config::CarrierEntry>,
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

impl Config {
    /// The defaults, merged with `file` if given.
    pub fn load(file: Option<&Path>) -> Result<Self> {
        let mut table: toml::Table = DEFAULT.parse().context("built-in config/default.toml")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading config {}", path.display()))?;
            let over: toml::Table = text
                .parse()
                .with_context(|| format!("parsing config {}", path.display()))?;
            merge(&mut table, over);
        }
        let what = file.map_or_else(
            || "built-in defaults".to_string(),
            |p| p.display().to_string(),
        );
        toml::Value::Table(table)
            .try_into()
            .with_context(|| format!("invalid configuration in {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_parse_and_match_the_types_defaults() {
        let c = Config::load(None).unwrap();
        assert_eq!(c.policy, PolicyConfig::default());
        assert_eq!(c.gateway, GatewayConfig::default());
        assert_eq!(c.classify, gateway::ClassifyConfig::default());
        assert_eq!(c.enforcement, complaints::EnforcementConfig::default());
    }

    #[test]
    fn a_partial_file_overrides_only_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[policy]\nmax_marketing_per_recipient_per_day = 5\n[policy.verification]\nper_day = 3\n").unwrap();
        let c = Config::load(Some(&f)).unwrap();
        assert_eq!(c.policy.max_marketing_per_recipient_per_day, 5);
        assert_eq!(c.policy.verification.per_day, 3);
        assert_eq!(c.policy.verification.per_hour, 5);
        assert_eq!(c.policy.quiet_hours_start, "20:00");
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[policy]\nquiet_hour_start = \"21:00\"\n").unwrap();
        let e = format!("{:#}", Config::load(Some(&f)).unwrap_err());
        assert!(e.contains("quiet_hour_start"), "{e}");
    }

    /// The commented `[[carrier]]` example in the default file is a working entry: uncommented,
    /// twice (the second with other routes), it loads with every key it shows.
    #[test]
    fn the_documented_carrier_example_parses() {
        let example: String = DEFAULT
            .lines()
            .skip_while(|l| !l.starts_with("# [[carrier]]"))
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{}\n", l.trim_start_matches('#').trim_start()))
            .collect();
        assert!(example.contains("routes"), "{example}");
        let second = example
            .replace("\"aggregator\"", "\"second\"")
            .replace("[\"86134\", \"86138\"]", "[\"86189\"]");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, format!("{example}{second}")).unwrap();
        let c = Config::load(Some(&f)).unwrap();
        assert_eq!(c.carrier.len(), 2);
        assert_eq!(c.carrier[0].routes(), ["86134", "86138"]);
        assert_eq!(c.carrier[1].routes(), ["86189"]);
        assert_eq!(c.carrier[1].name(), "second");
    }

    /// The commented CMPP `[[carrier]]` example is a working entry too, and a carrier of an
    /// unknown kind or with a key of the other kind is refused, naming it.
    #[test]
    fn the_documented_cmpp_carrier_example_parses_and_kinds_are_checked() {
        let example: String = DEFAULT
            .lines()
            .skip_while(|l| !l.starts_with("# [[carrier]]  # CMPP"))
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{}\n", l.trim_start_matches('#').trim_start()))
            .collect();
        let example = example.replacen("[[carrier]]  # CMPP", "[[carrier]]", 1);
        assert!(example.contains("shared_secret"), "{example}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, &example).unwrap();
        let c = Config::load(Some(&f)).unwrap();
        let crate::cmpp::config::CarrierEntry::Cmpp(cmpp) = &c.carrier[0] else {
            panic!("not read as CMPP: {:?}", c.carrier[0]);
        };
        assert_eq!(cmpp.version.0, cmpp_proto::Version::V30);
        assert_eq!(cmpp.routes, ["86134", "86135"]);
        cmpp.validate().unwrap();

        std::fs::write(&f, example.replace("\"cmpp\"", "\"sgip\"")).unwrap();
        let e = format!("{:#}", Config::load(Some(&f)).unwrap_err());
        assert!(e.contains("sgip"), "{e}");
        std::fs::write(&f, format!("{example}system_id = \"x\"\n")).unwrap();
        let e = format!("{:#}", Config::load(Some(&f)).unwrap_err());
        assert!(e.contains("system_id"), "{e}");
        std::fs::write(&f, example.replace("\"3.0\"", "\"4.0\"")).unwrap();
        let e = format!("{:#}", Config::load(Some(&f)).unwrap_err());
        assert!(e.contains("4.0"), "{e}");
    }
}
