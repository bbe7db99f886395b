//! A gateway served over real HTTP on a free port, with a manual clock, for end-to-end tests.

#![allow(dead_code, clippy::unwrap_used)]

pub mod cmpp_raw;
pub mod process;
pub mod smsc;

use std::sync::Arc;

use domain::{Clock, ManualClock, Timestamp};
use gateway::{Gateway, GatewayConfig, LoopbackCarrier};
use policy::{Policy, PolicyConfig};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use store::{Durability, KeyRole, Store};

pub struct Server {
    pub base: String,
    pub admin: String,
    pub clock: ManualClock,
    pub gateway: Arc<Gateway>,
    pub http: Client,
    _workers: gateway::Workers,
    _dir: tempfile::TempDir,
}

pub async fn start(at: &str) -> Server {
    start_with(
        at,
        PolicyConfig::default(),
        GatewayConfig {
            tick_ms: 20,
            ..GatewayConfig::default()
        },
    )
    .await
}

pub async fn start_with(at: &str, policy: PolicyConfig, config: GatewayConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(at.parse::<Timestamp>().unwrap());
    let store = Store::open_sqlite(dir.path(), Durability::Normal).unwrap();
    let clock_dyn: Arc<dyn Clock> = Arc::new(clock.clone());
    let gateway = Gateway::open(
        store,
        config,
        Policy::new(&policy).unwrap(),
        clock_dyn,
        Arc::new(LoopbackCarrier),
    )
    .unwrap();
    let admin = gateway
        .ensure_key(KeyRole::Admin, "cs_admin_", &dir.path().join("admin.token"))
        .unwrap()
        .unwrap();
    let workers = gateway.start();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = api::AppState::new(Arc::clone(&gateway), 4 << 20);
    tokio::spawn(api::serve(listener, state, std::future::pending()));
    Server {
        base,
        admin,
        clock,
        gateway,
        http: Client::new(),
        _workers: workers,
        _dir: dir,
    }
}

impl Server {
    /// The data directory of the server's store.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(key), Some(body)).await
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(key), None).await
    }

    /// Registers a shop; returns (id, api key).
    pub async fn shop(&self, name: &str) -> (u64, String) {
        let (s, v) = self
            .post(
                "/v1/senders",
                &self.admin,
                json!({"name": name, "signature": format!("【{name}】")}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (
            v["id"].as_u64().unwrap(),
            v["api_key"].as_str().unwrap().to_string(),
        )
    }

    pub async fn consent(&self, key: &str, phone: &str, action: &str, scope: &str) -> Value {
        let (s, v) = self
            .post("/v1/consents", key, json!({"phone": phone, "action": action, "scope": scope, "source": "web", "evidence": "checkbox on order page"}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    }

    pub async fn send(&self, key: &str, to: &str, text: &str, category: &str) -> Value {
        let (s, v) = self
            .post(
                "/v1/messages",
                key,
                json!({"to": to, "text": text, "category": category}),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }

    /// Waits until the dispatcher has handed off everything accepted, then reads the inbox.
    pub async fn inbox(&self, phone: &str) -> Vec<Value> {
        let gw = Arc::clone(&self.gateway);
        tokio::task::spawn_blocking(move || assert!(gw.drain(std::time::Duration::from_secs(10))))
            .await
            .unwrap();
        let (s, v) = self
            .get(&format!("/v1/phones/{phone}/inbox"), &self.admin)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["messages"].as_array().unwrap().clone()
    }
}

pub fn codes(decision: &Value) -> Vec<String> {
    decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}
