//! Wiring of SMPP into `serve`: the carrier the gateway hands off to (loopback unless a
//! `[[carrier]]` is configured; SMPP SMSCs and CMPP ISMGs alike, routed by number prefix), the
//! hub that carries receipts and replies to merchants, and the listener merchants bind to.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use gateway::{Carrier, Gateway, GatewayError, LoopbackCarrier, RoutedCarriers};
use smpp::client::CarrierLink;
use smpp::{Hub, MobileOriginated, ReceiptingCarrier, SmppCarrier, SmppServer};

use crate::cmpp::CmppLink;
use crate::cmpp::config::CarrierEntry;
use crate::config::Config;

/// A carrier's link, not yet started.
enum Link {
    Smpp(CarrierLink),
    Cmpp(CmppLink),
}

impl Link {
    fn serving(self, serves: impl Fn(domain::Msisdn) -> bool + Send + Sync + 'static) -> Self {
        match self {
            Link::Smpp(l) => Link::Smpp(l.serving(serves)),
            Link::Cmpp(l) => Link::Cmpp(l.serving(serves)),
        }
    }
}

/// What exists before the gateway is opened.
pub struct SmppParts {
    pub hub: Arc<Hub>,
    pub carrier: Arc<dyn Carrier>,
    links: Vec<Link>,
}

/// Builds the carrier from `[[carrier]]` and the hub: the loopback handset without any, the
/// one carrier, or several routed by the recipient's number prefix (`routes`).
pub fn prepare(config: &Config) -> Result<SmppParts> {
    let hub = Hub::new(config.smpp.receipt_subscriptions);
    if config.carrier.is_empty() {
        return Ok(SmppParts {
            carrier: Arc::new(ReceiptingCarrier::new(
                Arc::new(LoopbackCarrier),
                Arc::clone(&hub),
            )),
            hub,
            links: Vec::new(),
        });
    }
    let mut names = std::collections::HashSet::new();
    let mut routes: Vec<(Arc<dyn Carrier>, Vec<String>)> = Vec::new();
    let mut links = Vec::new();
    for entry in &config.carrier {
        // The name keys the carrier-id table that matches receipts to messages.
        if !names.insert(entry.name()) {
            bail!("[[carrier]] name {:?} is used twice", entry.name());
        }
        let (carrier, link): (Arc<dyn Carrier>, Link) = match entry {
            CarrierEntry::Smpp(c) => {
                let (carrier, link) = SmppCarrier::new(c.clone())
                    .with_context(|| format!("[[carrier]] {}", c.name))?;
                (carrier, Link::Smpp(link))
            }
            CarrierEntry::Cmpp(c) => {
                let (carrier, link) = crate::cmpp::new_carrier(c.clone())?;
                (carrier, Link::Cmpp(link))
            }
        };
        routes.push((carrier, entry.routes().to_vec()));
        links.push(link);
    }
    let carrier: Arc<dyn Carrier> = if routes.len() == 1 && routes[0].1.is_empty() {
        // One carrier with no routes takes every number, as before routing existed.
        routes.remove(0).0
    } else {
        let routed = Arc::new(
            RoutedCarriers::new(routes).map_err(|e| anyhow::anyhow!("[[carrier]] routes: {e}"))?,
        );
        // After a restart each link resends only what is routed to it.
        links = links
            .into_iter()
            .zip(&config.carrier)
            .map(|(link, c)| {
                let (routed, name) = (Arc::clone(&routed), c.name().to_owned());
                link.serving(move |phone| {
                    routed
                        .route(phone.as_u64())
                        .is_some_and(|carrier| carrier.name() == name)
                })
            })
            .collect();
        routed
    };
    Ok(SmppParts {
        hub,
        carrier,
        links,
    })
}

/// Reply handling for carrier MO: the gateway's reply path (opt-outs and the rest). Only a
/// failure that may pass (storage, no owner) is reported back, so that the carrier redelivers;
/// a reply that can never be handled (an unparseable number) is acknowledged and logged. In
/// cluster mode a reply about a phone another node owns is handled by that owner (`owners`),
/// before the carrier gets its answer.
fn replies(
    gateway: Arc<Gateway>,
    owners: Option<cluster::ReplyForwarder>,
) -> Arc<dyn smpp::ReplyHandler> {
    Arc::new(move |mo: &MobileOriginated| {
        match gateway.handle_reply(&mo.from, &mo.to, &mo.text, Some(mo.received_at)) {
            Ok(_) => Ok(()),
            Err(GatewayError::PartitionUnavailable(_)) if owners.is_some() => {
                let reply = cluster::ForwardedReply {
                    from: mo.from.clone(),
                    to: mo.to.clone(),
                    text: mo.text.clone(),
                    received_at: Some(mo.received_at),
                };
                owners.as_ref().map_or(Ok(()), |o| o.forward(&reply))
            }
            Err(e @ (GatewayError::Store(_) | GatewayError::PartitionUnavailable(_))) => {
                Err(e.to_string())
            }
            Err(e) => {
                tracing::warn!(from = %mo.from, to = %mo.to, error = %e, "reply not handled");
                Ok(())
            }
        }
    })
}

impl SmppParts {
    /// Cluster mode: each carrier link resends, after every takeover by this node, the
    /// partition's hand-offs no carrier acknowledged. Before the node takes partitions.
    pub fn resume_on_takeover(&self, gateway: &Arc<Gateway>) {
        for link in &self.links {
            match link {
                Link::Smpp(link) => link.resume_on_takeover(gateway),
                Link::Cmpp(link) => link.resume_on_takeover(gateway),
            }
        }
    }

    /// Starts the carrier links and, if enabled, the listener (on `listen` or `[smpp] listen`).
    /// Runs inside the runtime; the listener stops when `shutdown` completes.
    pub async fn start(
        self,
        gateway: &Arc<Gateway>,
        config: &Config,
        listen: Option<String>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
        owners: Option<cluster::ReplyForwarder>,
    ) -> Result<()> {
        for link in self.links {
            match link {
                Link::Smpp(link) => {
                    link.start(
                        Arc::clone(gateway),
                        Some(Arc::clone(&self.hub)),
                        replies(Arc::clone(gateway), owners.clone()),
                    )
                    .context("starting the carrier link")?;
                }
                Link::Cmpp(link) => link
                    .start(Arc::clone(gateway), Arc::clone(&self.hub))
                    .context("starting the CMPP carrier link")?,
            }
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
