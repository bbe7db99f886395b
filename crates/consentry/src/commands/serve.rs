//! `consentry serve`.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use store::KeyRole;

use super::{Common, lock_data_dir};
use crate::config::Backend;

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Address for the HTTP API (overrides `[http] listen`); port 0 picks a free port.
    #[arg(long)]
    http: Option<String>,
    /// Address for the SMPP listener (overrides `[smpp] listen`); port 0 picks a free port.
    #[arg(long)]
    smpp: Option<String>,
    /// Runs the CMPP listener on this address (overrides `[cmpp] listen` and `enabled`).
    #[arg(long)]
    cmpp: Option<String>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.common.load()?;
    if config.cluster.enabled() {
        if config.store.backend != Backend::Postgres {
            bail!(
                "[cluster] nats is set, so [store] backend must be \"postgres\" (every node shares it)"
            );
        }
        config.cluster.validate().map_err(|e| anyhow::anyhow!(e))?;
    }
    let _lock = lock_data_dir(&args.common.data, "serving")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    // The broker first: a wrong address fails before anything else is touched.
    let nats = if config.cluster.enabled() {
        Some(runtime.block_on(cluster::connect(&config.cluster))?)
    } else {
        None
    };
    let smpp_parts = super::smpp_link::prepare(&config)?;
    let gateway = args
        .common
        .open_gateway_with(&config, Arc::clone(&smpp_parts.carrier))?;
    let data = &args.common.data;
    for (role, prefix, file, label) in [
        (KeyRole::Admin, "cs_admin_", "admin.token", "admin"),
        (KeyRole::Carrier, "cs_carrier_", "carrier.token", "carrier"),
    ] {
        let path = data.join(file);
        // The key itself goes only to the 0600 file: stdout ends up in journals and
        // container logs that more people can read.
        if gateway.ensure_key(role, prefix, &path)?.is_some() {
            println!("created the {label} key in {} (mode 0600)", path.display());
        }
    }
    let mut state = api::AppState::new(Arc::clone(&gateway), config.http.max_body_bytes);
    if !config.http.group_commit {
        state = state.without_group_commit();
    }
    // The CMPP listener records through the same committer as one-message HTTP requests.
    let commits = state.group_commit();
    let (app, node) = match nats {
        Some(client) => {
            smpp_parts.resume_on_takeover(&gateway);
            let node = cluster::Node::start(
                cluster::Parts {
                    config: config.cluster.clone(),
                    leases: Arc::new(super::connect_postgres(&config)?),
                    gateway: Arc::clone(&gateway),
                    app: api::app(state),
                    limit: config.http.max_body_bytes,
                    client,
                    hub: Some(Arc::clone(&smpp_parts.hub)),
                },
                runtime.handle(),
            )?;
            println!(
                "consentry node {} owns {} of {} partitions",
                config.cluster.node,
                node.parts.held().len(),
                config.cluster.partitions
            );
            (node.app.clone(), Some(node))
        }
        None => (api::app(state), None),
    };
    let stats = gateway.stats();
    tracing::info!(
        events = stats.consent_events,
        phones = stats.phones,
        deferred = stats.deferred,
        "ledger loaded"
    );
    let owners = node.as_ref().map(|n| n.replies.clone());
    let workers = gateway.start();
    let listen = args.http.clone().unwrap_or(config.http.listen.clone());
    runtime.block_on(async move {
        // Before the carriers start: their first reports must find CMPP merchants waiting.
        if let Some(listen) = args
            .cmpp
            .clone()
            .or_else(|| config.cmpp.enabled.then(|| config.cmpp.listen.clone()))
        {
            let commits = match commits {
                Some(c) => c,
                None => gateway::GroupCommit::start(Arc::clone(&gateway))
                    .context("starting the CMPP committer")?,
            };
            let addr = crate::cmpp::start_listener(
                &gateway,
                &smpp_parts.hub,
                commits,
                &config.cmpp,
                listen,
                shutdown_signal(),
            )
            .await?;
            // Tests and scripts read this line to find the port.
            println!("consentry cmpp listening on {addr}");
        }
        smpp_parts
            .start(
                &gateway,
                &config,
                args.smpp.clone(),
                shutdown_signal(),
                owners,
            )
            .await?;
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        // Tests and scripts read this line to find the port.
        println!("consentry listening on http://{addr}");
        api::serve_limited(listener, app, config.http.limits(), shutdown_signal())
            .await
            .context("serving HTTP")
    })?;
    // A clean stop gives the partitions back at once, so the others take over without waiting
    // for the leases to run out.
    if let Some(mut node) = node {
        node.keeper.stop();
    }
    drop(workers);
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
