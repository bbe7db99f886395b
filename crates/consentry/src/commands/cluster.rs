//! `consentry cluster status`: which node owns which partition, under which epoch, and how long
//! its lease has left — read from the shared database, so any machine with the configuration
//! can ask.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use serde_json::json;

use super::{Common, connect_postgres};

/// Cluster commands.
#[derive(Debug, clap::Subcommand)]
pub enum Cluster {
    /// Partitions → owner, epoch, lease left; live nodes and how many partitions each owns.
    Status {
        #[command(flatten)]
        common: Common,
    },
}

pub fn run(what: &Cluster) -> Result<ExitCode> {
    let Cluster::Status { common } = what;
    let config = common.load()?;
    let store = connect_postgres(&config)?;
    let leases = store.leases()?;
    let alive = Duration::from_millis(config.cluster.lease_ms.saturating_mul(2));
    let live = store.live_nodes(alive)?;
    let mut owned: BTreeMap<String, u32> = live.iter().map(|n| (n.clone(), 0)).collect();
    let mut unowned = 0;
    for l in &leases {
        match &l.owner {
            Some(o) if l.expires_in_ms >= 0 => *owned.entry(o.clone()).or_default() += 1,
            _ => unowned += 1,
        }
    }
    let out = json!({
        "partitions": leases.len(),
        "unowned": unowned,
        "nodes": owned,
        "live_nodes": live,
        "leases": leases,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}
