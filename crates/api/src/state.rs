//! What every handler can reach.

use std::sync::{Arc, OnceLock};

use gateway::Gateway;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::error::ApiError;

/// Shared state of the HTTP server.
#[derive(Clone)]
pub struct AppState {
    /// The send path.
    pub gateway: Arc<Gateway>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub(crate) metrics: PrometheusHandle,
    /// One-message submissions share commits ([`gateway::GroupCommit`]); `None` commits each
    /// alone (only to measure what sharing gains).
    pub(crate) commit: Option<gateway::GroupCommit>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The process-wide Prometheus recorder (installed once; several apps in one test process share it).
fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; metrics then go there.
            let _ = metrics::set_global_recorder(recorder);
            crate::metrics_help::describe();
            handle
        })
        .clone()
}

impl AppState {
    /// State for `gateway`.
    #[must_use]
    pub fn new(gateway: Arc<Gateway>, max_body_bytes: usize) -> Self {
        let commit = match gateway::GroupCommit::start(Arc::clone(&gateway)) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "no commit thread; each message commits alone");
                None
            }
        };
        AppState {
            gateway,
            max_body_bytes,
            metrics: recorder(),
            commit,
        }
    }

    /// The committer one-message submissions share, for other doors to share it too (the
    /// CMPP listener); `None` after [`AppState::without_group_commit`].
    #[must_use]
    pub fn group_commit(&self) -> Option<gateway::GroupCommit> {
        self.commit.clone()
    }

    /// Makes each one-message submission commit alone (the behaviour before group commit;
    /// `[http] group_commit = false`, for measuring).
    #[must_use]
    pub fn without_group_commit(mut self) -> Self {
        self.commit = None;
        self
    }

    /// Runs `f` on the gateway on a blocking thread (the gateway does disk I/O and takes locks).
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Gateway) -> Result<T, gateway::GatewayError> + Send + 'static,
        T: Send + 'static,
    {
        let gw = Arc::clone(&self.gateway);
        tokio::task::spawn_blocking(move || f(&gw))
            .await
            .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
            .map_err(ApiError::from)
    }
}
