//! Wiring of CMPP into `serve`: China Mobile ISMGs as carriers (`[[carrier]] kind = "cmpp"`)
//! and the listener merchants' CMPP software connects to (`[cmpp]`).
//!
//! The `cmpp` crate knows nothing of the gateway; this module is the boundary it was built
//! for: its `DeliverHandler` over the gateway's delivery state and reply handling
//! ([`deliveries`]), its `Accounts` over the senders' CMPP accounts and its `Submissions` over
//! the policy and the group commit ([`merchants`]), and a [`gateway::Carrier`] that feeds a
//! `CmppClient` ([`carrier`]). Reports and replies reach CMPP merchants through the SMPP hub
//! ([`smpp::Forward`]), so every carrier and the loopback handset report to one place.

mod carrier;
pub mod config;
mod deliveries;
mod held;
pub mod merchants;

use std::sync::Arc;

use anyhow::{Context, Result};
use gateway::{Gateway, GroupCommit};
use smpp::Hub;

pub use carrier::{CmppLink, new as new_carrier};
pub use merchants::{MerchantDeliveries, PolicySubmissions, SenderAccounts};

/// A number as the gateway parses it: ISMGs and SP software write Chinese numbers with the
/// country code but no `+` (`8613800138000`), which would otherwise be read as a national
/// number; everything else is passed on unchanged.
pub(crate) fn e164ish(number: &str) -> String {
    let n = number.trim();
    if n.len() == 13 && n.starts_with("861") && n.bytes().all(|b| b.is_ascii_digit()) {
        format!("+{n}")
    } else {
        n.to_owned()
    }
}

/// Starts the listener on `listen` (inside the runtime): SUBMITs decided by the policy and
/// recorded through `commits`; reports and replies from `hub`. Returns the bound address.
pub async fn start_listener(
    gateway: &Arc<Gateway>,
    hub: &Arc<Hub>,
    commits: GroupCommit,
    config: &config::ListenerConfig,
    listen: String,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<std::net::SocketAddr> {
    let deliveries = Arc::new(MerchantDeliveries::new(config.report_subscriptions));
    let submissions = Arc::new(PolicySubmissions::new(
        Arc::clone(gateway),
        commits,
        Arc::clone(&deliveries),
        Arc::clone(hub),
        tokio::runtime::Handle::current(),
    ));
    let server = cmpp::CmppServer::new(
        config.server_config(listen)?,
        Arc::new(SenderAccounts(Arc::clone(gateway))),
        submissions,
    )
    .context("starting the CMPP listener")?;
    deliveries.connect(server.handle());
    if !hub.forward_to(deliveries) {
        anyhow::bail!("the hub already forwards to another listener");
    }
    let listener = server.bind().await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { server.serve(listener, shutdown).await });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use domain::{Msisdn, Region};

    #[test]
    fn numbers_written_with_86_and_no_plus_parse_as_chinese_mobiles() {
        let region = Region::CN;
        for written in ["8613800138000", "13800138000", "+8613800138000"] {
            let n = Msisdn::parse(&super::e164ish(written), region).expect(written);
            assert_eq!(n.as_u64(), 8_613_800_138_000, "{written}");
        }
    }
}
