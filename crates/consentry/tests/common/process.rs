//! The real `consentry serve` binary as a child process, for tests that kill it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts `consentry serve` on `data` (HTTP and SMPP on free loopback ports, `config` merged
/// over the defaults if given); returns the child and the HTTP base URL it printed.
pub async fn spawn(data: &Path, config: Option<&Path>) -> (Child, String) {
    let (child, http, _smpp) = spawn_with_smpp(data, config).await;
    (child, http)
}

/// [`spawn`], also returning the SMPP listener's address.
pub async fn spawn_with_smpp(data: &Path, config: Option<&Path>) -> (Child, String, String) {
    let (child, http, smpp, _) = spawn_listeners(data, config, false).await;
    (child, http, smpp)
}

/// [`spawn`] with the SMPP and CMPP listeners on free ports: the child, the HTTP base URL and
/// both listeners' addresses.
pub async fn spawn_with_smpp_and_cmpp(
    data: &Path,
    config: Option<&Path>,
) -> (Child, String, String, String) {
    let (child, http, smpp, cmpp) = spawn_listeners(data, config, true).await;
    (
        child,
        http,
        smpp,
        cmpp.expect("the CMPP listener's address"),
    )
}

/// [`spawn`] with the CMPP listener on a free port too; returns the child, the HTTP base URL
/// and the CMPP listener's address.
pub async fn spawn_with_cmpp(data: &Path, config: Option<&Path>) -> (Child, String, String) {
    let (child, http, _, cmpp) = spawn_listeners(data, config, true).await;
    (child, http, cmpp.expect("the CMPP listener's address"))
}

async fn spawn_listeners(
    data: &Path,
    config: Option<&Path>,
    cmpp: bool,
) -> (Child, String, String, Option<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_consentry"));
    cmd.args([
        "serve",
        "--http",
        "127.0.0.1:0",
        "--smpp",
        "127.0.0.1:0",
        "--data",
    ])
    .arg(data);
    if cmpp {
        cmd.args(["--cmpp", "127.0.0.1:0"]);
    }
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let mut child = cmd
        // `CONSENTRY_TEST_RUST_LOG=cluster=debug,smpp=info` with `CONSENTRY_TEST_LOGS=1`
        // shows more of a spawned node's story.
        .env(
            "RUST_LOG",
            std::env::var("CONSENTRY_TEST_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::piped())
        .stderr(match std::env::var_os("CONSENTRY_TEST_LOGS") {
            Some(_) => Stdio::inherit(),
            None => Stdio::null(),
        })
        .kill_on_drop(true)
        .spawn()
        .expect("start consentry");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let (http, smpp, cmpp) = tokio::time::timeout(Duration::from_secs(60), async {
        let (mut smpp, mut cmpp) = (None, None);
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(addr) = line.strip_prefix("consentry smpp listening on ") {
                smpp = Some(addr.trim().to_string());
            }
            if let Some(addr) = line.strip_prefix("consentry cmpp listening on ") {
                cmpp = Some(addr.trim().to_string());
            }
            if let Some(addr) = line.strip_prefix("consentry listening on ") {
                return (
                    addr.trim().to_string(),
                    smpp.expect("SMPP starts before HTTP"),
                    cmpp,
                );
            }
        }
        panic!("consentry exited before listening");
    })
    .await
    .expect("consentry did not start in time");
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, http, smpp, cmpp)
}

/// A key file written by `serve` in its data directory (`admin.token`, `carrier.token`).
pub fn token(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file))
        .expect("token file")
        .trim()
        .to_string()
}

/// Registers a shop over HTTP on a spawned gateway; returns `POST /v1/senders`'s answer
/// (`id`, `api_key`, `source_number`, SMPP credentials).
pub async fn register_sender(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    name: &str,
) -> serde_json::Value {
    http.post(format!("{base}/v1/senders"))
        .bearer_auth(admin)
        .json(&serde_json::json!({"name": name, "signature": format!("【{name}】")}))
        .send()
        .await
        .expect("POST /v1/senders")
        .json()
        .await
        .expect("sender JSON")
}

/// `GET url` with `key` on a spawned gateway, as JSON.
pub async fn get_json(http: &reqwest::Client, url: &str, key: &str) -> serde_json::Value {
    http.get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}
