//! Wiring of SMPP into `serve`: the carrier the gateway hands off to (loopback unless a
//! `[[carrier]]` is configured), the hub that carries receipts and replies to merchants, and the
//! listener merchants bind to.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use gateway::{Carrier, Gateway, GatewayError, LoopbackCarrier};
use smpp::client::CarrierLink;
use smpp::{CarrierKind, Hub, MobileOriginated, ReceiptingCarrier, SmppCarrier, SmppServer};

use crate::config::Config;

/// What exists before the gateway is opened.
pub struct SmppParts {
    pub hub: Arc<Hub>,
    pub carrier: Arc<dyn Carrier>,
    link: Option<CarrierLink>,
}

/// Builds the carrier from `[[carrier]]` (at most one for now) and the hub.
pub fn prepare(config: &Config) -> Result<SmppParts> {
    let hub = Hub::new(config.smpp.receipt_subscriptions);
    match config.carrier.as_slice() {
        [] => Ok(SmppParts {
            carrier: Arc::new(ReceiptingCarrier::new(
                Arc::new(LoopbackCarrier),
                Arc::clone(&hub),
            )),
            hub,
            link: None,
        }),
        [c] => {
            let CarrierKind::Smpp = c.kind;
            let (carrier, link) =
                SmppCarrier::new(c.clone()).with_context(|| format!("[[carrier]] {}", c.name))?;
            Ok(SmppParts {
                hub,
                carrier,
                link: Some(link),
            })
        }
        _ => bail!("only one [[carrier]] is supported; route several through one aggregator"),
    }
}

/// Reply handling for carrier MO: the gateway's reply path (opt-outs and the rest). Only a
/// storage failure is reported back, so that the carrier redelivers; a reply that can never be
/// handled (an unparseable number) is acknowledged and logged.
fn replies(gateway: Arc<Gateway>) -> Arc<dyn smpp::ReplyHandler> {
    Arc::new(move |mo: &MobileOriginated| {
        match gateway.handle_reply(&mo.from, &mo.to, &mo.text, Some(mo.received_at)) {
            Ok(_) => Ok(()),
            Err(e @ GatewayError::Store(_)) => Err(e.to_string()),
            Err(e) => {
                tracing::warn!(from = %mo.from, to = %mo.to, error = %e, "reply not handled");
                Ok(())
            }
        }
    })
}

impl SmppParts {
    /// Starts the carrier link and, if enabled, the listener (on `listen` or `[smpp] listen`).
    /// Runs inside the runtime; the listener stops when `shutdown` completes.
    pub async fn start(
        self,
        gateway: &Arc<Gateway>,
        config: &Config,
        listen: Option<String>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        if let Some(link) = self.link {
            link.start(
                Arc::clone(gateway),
                Some(Arc::clone(&self.hub)),
                replies(Arc::clone(gateway)),
            )
            .context("starting the carrier link")?;
        }
        if !config.smpp.enabled {
            return Ok(());
        }
        let mut server_config = config.smpp.clone();
        if let Some(l) = listen {
            server_config.listen = l;
        }
        let server = SmppServer::new(Arc::clone(gateway), self.hub, server_config)
            .context("starting the SMPP listener")?;
        let listener = server.bind().await?;
        // Tests and scripts read this line to find the port.
        println!("consentry smpp listening on {}", listener.local_addr()?);
        tokio::spawn(async move {
            if let Err(e) = server.serve(listener, shutdown).await {
                tracing::error!(error = %e, "SMPP listener stopped");
            }
        });
        Ok(())
    }
}
