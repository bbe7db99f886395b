//! Shared settings changed on one node — senders, keys, suspensions — are in the database at
//! once, but every node decides from its in-memory copy. So after such a change the node that
//! made it asks every live node to reload (`<prefix>.node.<name>.reload`, request/reply) and
//! answers its caller only when each has done so or the lease time has passed: a node that did
//! not answer in a lease time cannot reach NATS, so it renews no lease and acts for no phone.
//! Every node also reloads once a lease round as a safety net.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use gateway::Gateway;
use store::postgres::PgStore;

/// Reload requests, sent and served.
pub struct Control {
    client: async_nats::Client,
    prefix: String,
    node: String,
    store: Arc<PgStore>,
    gateway: Arc<Gateway>,
    lease: Duration,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl Control {
    /// Control for `node`.
    pub fn new(
        client: async_nats::Client,
        prefix: &str,
        node: &str,
        store: Arc<PgStore>,
        gateway: Arc<Gateway>,
        lease: Duration,
    ) -> Self {
        Control {
            client,
            prefix: prefix.to_string(),
            node: node.to_string(),
            store,
            gateway,
            lease,
        }
    }

    fn subject(&self, node: &str) -> String {
        format!("{}.node.{node}.reload", self.prefix)
    }

    /// Serves this node's reload requests until the connection closes.
    pub async fn serve(self: Arc<Self>) -> Result<(), async_nats::SubscribeError> {
        let mut sub = self.client.subscribe(self.subject(&self.node)).await?;
        tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                let gw = Arc::clone(&self.gateway);
                let ok = tokio::task::spawn_blocking(move || gw.reload_access())
                    .await
                    .map(|r| r.is_ok())
                    .unwrap_or(false);
                if let Some(reply) = msg.reply {
                    let answer: &'static [u8] = if ok { b"ok" } else { b"failed" };
                    let _ = self.client.publish(reply, answer.into()).await;
                }
            }
        });
        Ok(())
    }

    /// Makes every live node reload; returns the nodes that did not confirm in time.
    pub async fn broadcast(&self) -> Vec<String> {
        let store = Arc::clone(&self.store);
        let alive = self.lease * 2;
        let nodes = tokio::task::spawn_blocking(move || store.live_nodes(alive))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let calls = nodes.iter().map(|n| {
            let request = async_nats::Request::new()
                .payload(bytes::Bytes::new())
                .timeout(Some(self.lease));
            let subject = self.subject(n);
            async move {
                match self.client.send_request(subject, request).await {
                    Ok(m) if m.payload.as_ref() == b"ok" => None,
                    _ => Some(n.clone()),
                }
            }
        });
        let missing: Vec<String> = futures_util::future::join_all(calls)
            .await
            .into_iter()
            .flatten()
            .collect();
        if !missing.is_empty() {
            tracing::warn!(
                ?missing,
                "nodes did not confirm a settings reload within the lease time"
            );
        }
        missing
    }
}
