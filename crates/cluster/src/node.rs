//! One node of the cluster put together: the broker connection, the partition map on the
//! gateway and the store's fence, the serving of owned partitions, the settings control, the
//! lease keeper, and the HTTP layer that routes to owners.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use gateway::Gateway;
use parking_lot::Mutex;
use store::postgres::PgStore;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::control::Control;
use crate::keeper::Serving;
use crate::{ClusterConfig, ClusterError, Keeper, Partitions, Router};

/// Connects to `[cluster] nats`; the error names the key and the address.
pub async fn connect(config: &ClusterConfig) -> Result<async_nats::Client, ClusterError> {
    let fail = |message: String| ClusterError::Nats {
        address: config.nats.clone(),
        message,
    };
    let connecting = async_nats::ConnectOptions::new()
        .name(format!("consentry-{}", config.node))
        .connection_timeout(Duration::from_secs(3))
        // Keep trying after a NATS restart; while disconnected the node renews no lease.
        .retry_on_initial_connect()
        .connect(config.nats.as_str());
    // `retry_on_initial_connect` would wait forever for a wrong address: bound the first try.
    let client = tokio::time::timeout(Duration::from_secs(5), connecting)
        .await
        .map_err(|_| fail("no answer within 5 s".into()))?
        .map_err(|e| fail(e.to_string()))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while client.connection_state() != async_nats::connection::State::Connected {
        if tokio::time::Instant::now() > deadline {
            return Err(fail("could not connect within 5 s".into()));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(client)
}

/// Subscriptions to owned partitions' forwarded requests.
struct NatsServing {
    client: async_nats::Client,
    prefix: String,
    local: Arc<crate::forward::Local>,
    limit: usize,
    rt: Handle,
    subs: Mutex<HashMap<u32, JoinHandle<()>>>,
    parts: Arc<Partitions>,
}

impl Serving for NatsServing {
    fn start(&self, part: u32) -> Result<(), String> {
        let subject = format!("{}.p.{part}.http", self.prefix);
        let sub = self
            .rt
            .block_on(self.client.subscribe(subject))
            .map_err(|e| e.to_string())?;
        // The subscription must be on the server before the lease is trusted, or a forwarded
        // request could find no responder although this node owns the partition.
        self.rt
            .block_on(self.client.flush())
            .map_err(|e| e.to_string())?;
        let task = self.rt.spawn(crate::forward::serve(
            self.client.clone(),
            sub,
            Arc::clone(&self.local),
            self.limit,
            Arc::clone(&self.parts),
            part,
        ));
        if let Some(old) = self.subs.lock().insert(part, task) {
            old.abort();
        }
        Ok(())
    }

    fn stop(&self, part: u32) {
        if let Some(task) = self.subs.lock().remove(&part) {
            task.abort();
        }
    }

    fn connected(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }
}

/// A running node.
pub struct Node {
    /// The lease keeper (drop or stop it to give the partitions back).
    pub keeper: Keeper,
    /// The HTTP app with the routing layer.
    pub app: axum::Router,
    /// The partition map.
    pub parts: Arc<Partitions>,
    /// Sends handsets' replies that carrier links here received to their phones' owners.
    pub replies: ReplyForwarder,
}

/// Sends a handset's reply to the owner of its phone's partition (a carrier link may be bound
/// on any node; the reply must be enforced where the phone's ledger is decided).
#[derive(Clone)]
pub struct ReplyForwarder {
    router: Arc<crate::route::Router>,
    rt: Handle,
}

impl std::fmt::Debug for ReplyForwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyForwarder").finish_non_exhaustive()
    }
}

impl ReplyForwarder {
    /// Forwards `reply` and waits for the owner's answer. `Err` when it was not handled and
    /// may be later (no owner, broker or storage down): the carrier should deliver it again.
    /// A reply the owner can never handle (an unparseable number) is `Ok` after a warning,
    /// as on one node. Call from a thread outside the runtime (the carrier link's recorder).
    pub fn forward(&self, reply: &crate::forward::ForwardedReply) -> Result<(), String> {
        self.rt.block_on(self.router.forward_reply(reply))
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node").finish_non_exhaustive()
    }
}

/// Everything a node is started from.
pub struct Parts {
    /// `[cluster]`.
    pub config: ClusterConfig,
    /// A store handle for leases (its own pool: lease renewal must not queue behind traffic).
    pub leases: Arc<PgStore>,
    /// The gateway, opened without loading any phone.
    pub gateway: Arc<Gateway>,
    /// The node's routes (`api::app`).
    pub app: axum::Router,
    /// Largest request body.
    pub limit: usize,
    /// The broker connection.
    pub client: async_nats::Client,
    /// The node's SMPP hub: submit_sm for phones other nodes own are decided there, and
    /// receipts and replies reach merchants bound to other nodes.
    pub hub: Option<Arc<smpp::Hub>>,
}

impl Node {
    /// Puts the gateway under the partition map, fences its store, starts serving reload
    /// requests and the lease keeper, and builds the routed app. Call from outside the
    /// runtime `rt` (the keeper's first round runs here and waits on it).
    pub fn start(p: Parts, rt: &Handle) -> Result<Node, ClusterError> {
        p.config.validate().map_err(ClusterError::Config)?;
        let parts = Arc::new(Partitions::new(&p.config.node, p.config.partitions));
        match p.gateway.store() {
            store::Store::Postgres(pg) => pg.set_fence(Arc::clone(&parts) as _),
            _ => {
                return Err(ClusterError::Config(
                    "[cluster] needs [store] backend = \"postgres\"".into(),
                ));
            }
        }
        p.gateway.set_ownership(Arc::clone(&parts) as _);
        let control = Arc::new(Control::new(
            p.client.clone(),
            &p.config.prefix,
            &p.config.node,
            Arc::clone(&p.leases),
            Arc::clone(&p.gateway),
            p.config.lease(),
        ));
        rt.block_on(Arc::clone(&control).serve())
            .map_err(|e| ClusterError::Nats {
                address: p.config.nats.clone(),
                message: e.to_string(),
            })?;
        let commit = gateway::GroupCommit::start(Arc::clone(&p.gateway))
            .map_err(|e| ClusterError::Config(format!("starting the group commit: {e}")))?;
        let serving = Arc::new(NatsServing {
            client: p.client.clone(),
            prefix: p.config.prefix.clone(),
            local: Arc::new(crate::forward::Local {
                app: p.app.clone(),
                gateway: Arc::clone(&p.gateway),
                hub: p.hub.clone(),
                commit,
            }),
            limit: p.limit,
            rt: rt.clone(),
            subs: Mutex::new(HashMap::new()),
            parts: Arc::clone(&parts),
        });
        let router = Arc::new(Router {
            parts: Arc::clone(&parts),
            client: p.client.clone(),
            prefix: p.config.prefix.clone(),
            app: p.app.clone(),
            region: p.gateway.policy().region(),
            limit: p.limit,
            timeout: Duration::from_millis(p.config.request_timeout_ms),
            control,
            gateway: Arc::clone(&p.gateway),
        });
        if let Some(hub) = &p.hub {
            let remote = Arc::new(crate::smpp::SmppRemote::new(
                Arc::clone(&router),
                rt.clone(),
                hub,
            ));
            remote.take_reports();
            hub.set_remote(remote);
        }
        let keeper = Keeper::start(
            &p.config,
            p.leases,
            Arc::clone(&p.gateway),
            Arc::clone(&parts),
            serving,
        )?;
        let app = p.app.layer(axum::middleware::from_fn_with_state(
            Arc::clone(&router),
            crate::route::route,
        ));
        Ok(Node {
            keeper,
            app,
            parts,
            replies: ReplyForwarder {
                router,
                rt: rt.clone(),
            },
        })
    }
}
