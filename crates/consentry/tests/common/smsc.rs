//! The npm `smpp` package as a carrier's SMSC (`tests/interop/smsc.js`, installed by
//! `.ci/setup-smpp-peers.sh`).

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop")
}

pub fn npm_smpp_installed() -> bool {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && interop_dir()
            .join("node_modules/smpp/package.json")
            .exists();
    if !ok {
        let msg = "npm package smpp is not installed: run .ci/setup-smpp-peers.sh";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have the SMPP interop peers: {msg}"
        );
        eprintln!("SKIPPED: {msg}");
    }
    ok
}

/// An npm `smpp` SMSC (`tests/interop/smsc.js`) with the events it prints collected.
pub struct Smsc {
    _child: Child,
    pub stdin: tokio::process::ChildStdin,
    pub port: String,
    events: std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
}

impl Smsc {
    pub async fn start() -> Smsc {
        let mut child = Command::new("node")
            .arg(interop_dir().join("smsc.js"))
            .args(["consentry", "secret"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node smsc.js");
        let stdin = child.stdin.take().expect("stdin");
        let mut out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let port = loop {
            let line = out
                .next_line()
                .await
                .expect("read")
                .expect("smsc.js exited");
            if let Some(p) = line.strip_prefix("LISTEN ") {
                break p.trim().to_string();
            }
        };
        let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&events);
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().expect("events").push(v);
                }
            }
        });
        Smsc {
            _child: child,
            stdin,
            port,
            events,
        }
    }

    /// Destinations of the submit_sm this SMSC accepted.
    pub fn destinations(&self) -> Vec<String> {
        self.events
            .lock()
            .expect("events")
            .iter()
            .filter(|e| e["event"] == "submit")
            .filter_map(|e| e["destination"].as_str().map(str::to_owned))
            .collect()
    }
}
