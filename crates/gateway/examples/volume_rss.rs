//! Memory of the volume counters: resident bytes per phone after one accepted send to each of
//! N phones (the shape of a campaign), read from `/proc/self/status`.
//!
//! `cargo run --release -p gateway --example volume_rss -- [N=333000]`

use domain::{Category, Msisdn, SenderId};
use gateway::volume::{Query, Volume};

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux)");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .expect("VmRSS line")
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(333_000);
    let volume = Volume::default();
    let before = rss_kb();
    for i in 0..n {
        let phone = Msisdn::from_u64(8_613_800_000_000 + i * 3);
        let q = Query {
            phone,
            sender: SenderId(1),
            category: Category::Marketing,
            now: 1_795_000_000,
            day: 20_000,
            hash: i,
            dup_window: 0,
        };
        volume.lock(phone).record(&q);
    }
    let grown = rss_kb() - before;
    #[allow(clippy::cast_precision_loss)]
    let per_phone = grown as f64 * 1024.0 / n as f64;
    println!("{n} phones: +{grown} KB resident, {per_phone:.0} bytes a phone");
}
