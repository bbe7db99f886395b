//! End to end through the real binary with an SMPP carrier from `[[carrier]]`: the npm `smpp`
//! package plays the carrier (installed by `.ci/setup-smpp-peers.sh`). A message sent over HTTP
//! reaches it and its receipt marks the message delivered; a "TD" the carrier delivers from the
//! handset opts the phone out. Skips without the peer on a developer machine; fails in CI.

mod common;

use common::smsc::{Smsc, npm_smpp_installed};

use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_smpp_carrier_delivers_reports_and_relays_an_opt_out() {
    if !npm_smpp_installed() {
        return;
    }
    let smsc = Smsc::start().await;
    let (mut smsc_in, port) = (smsc.stdin, smsc.port);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    std::fs::write(
        &config,
        format!(
            "[[carrier]]\nname = \"npm\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {port}\n\
             system_id = \"consentry\"\npassword = \"secret\"\nmax_tps = 0\nreconnect_max_secs = 1\n\
             receipt_id_base = \"hex_to_decimal\"\n"
        ),
    )
    .expect("config");
    let data = dir.path().join("data");
    let (_child, base) = common::process::spawn(&data, Some(&config)).await;
    let admin = std::fs::read_to_string(data.join("admin.token")).expect("admin token");
    let admin = admin.trim();
    let http = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let sender: Value = http
        .post(format!("{base}/v1/senders"))
        .bearer_auth(admin)
        .json(&json!({"name": "Good Shop", "signature": "【好店】"}))
        .send()
        .await
        .expect("POST /v1/senders")
        .json()
        .await
        .expect("json");
    let key = sender["api_key"].as_str().expect("api_key");
    let source = sender["source_number"].as_str().expect("source_number");

    let sent: Value = http
        .post(format!("{base}/v1/messages"))
        .bearer_auth(key)
        .json(&json!({"to": "+8613800138000", "text": "【好店】您的订单已发货", "category": "transactional"}))
        .send()
        .await
        .expect("POST /v1/messages")
        .json()
        .await
        .expect("json");
    let id = sent["id"].as_u64().unwrap_or_else(|| panic!("{sent}"));
    let shown = delivery_of(&http, &base, key, id, "delivered").await;
    assert_eq!(shown["delivery"], "delivered", "{shown}");

    let consent = json!({"phone": "+8613800138000", "action": "opt_in", "scope": "sender",
        "source": "web", "evidence": "signup form"});
    let r = http
        .post(format!("{base}/v1/consents"))
        .bearer_auth(key)
        .json(&consent)
        .send()
        .await
        .expect("POST /v1/consents");
    assert!(r.status().is_success(), "{:?}", r.text().await);
    smsc_in
        .write_all(format!("MO 8613800138000 {source} TD\n").as_bytes())
        .await
        .expect("inject MO");
    let state = consent_state(&http, &base, key, "+8613800138000", "opted_out").await;
    assert_eq!(state, "opted_out", "the TD reply opts the phone out");
}

fn carrier_entry(name: &str, port: &str, routes: &str) -> String {
    format!(
        "[[carrier]]\nname = \"{name}\"\nkind = \"smpp\"\nhost = \"127.0.0.1\"\nport = {port}\n\
         system_id = \"consentry\"\npassword = \"secret\"\nmax_tps = 0\nreconnect_max_secs = 1\n\
         routes = {routes}\nreceipt_id_base = \"hex_to_decimal\"\n"
    )
}

async fn post(http: &Client, url: &str, key: &str, body: &Value) -> Value {
    http.post(url)
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
        .json()
        .await
        .expect("json")
}

async fn delivery_of(http: &Client, base: &str, key: &str, id: u64, want: &str) -> Value {
    let mut shown = Value::Null;
    for _ in 0..200 {
        shown = common::process::get_json(http, &format!("{base}/v1/messages/{id}"), key).await;
        if shown["delivery"] == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shown
}

/// The sender's consent state for `phone`, once it is `want` (or after 10 s).
async fn consent_state(http: &Client, base: &str, key: &str, phone: &str, want: &str) -> Value {
    let mut state = Value::Null;
    for _ in 0..200 {
        let view =
            common::process::get_json(http, &format!("{base}/v1/consents/{phone}"), key).await;
        state = view["senders"][0]["state"].clone();
        if state == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    state
}

/// An aggregator reaching two operators: each `[[carrier]]` serves its number prefixes, every
/// message goes to the SMSC its recipient belongs to, receipts from both mark delivery, a
/// reply through the second opts out, and a number neither serves fails visibly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_carriers_are_chosen_by_the_recipients_prefix() {
    if !npm_smpp_installed() {
        return;
    }
    let (mobile, telecom) = (Smsc::start().await, Smsc::start().await);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    std::fs::write(
        &config,
        carrier_entry("cmcc", &mobile.port, r#"["86138", "86139"]"#)
            + &carrier_entry("ctcc", &telecom.port, r#"["+86189"]"#),
    )
    .expect("config");
    let data = dir.path().join("data");
    let (_child, base) = common::process::spawn(&data, Some(&config)).await;
    let admin = std::fs::read_to_string(data.join("admin.token")).expect("admin token");
    let http = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let sender = post(
        &http,
        &format!("{base}/v1/senders"),
        admin.trim(),
        &json!({"name": "Good Shop", "signature": "【好店】"}),
    )
    .await;
    let key = sender["api_key"].as_str().expect("api_key");
    let source = sender["source_number"].as_str().expect("source_number");
    let mut ids = Vec::new();
    for to in [
        "+8613800138000",
        "+8618900189000",
        "+8613900139000",
        "+447911123456",
    ] {
        let sent = post(
            &http,
            &format!("{base}/v1/messages"),
            key,
            &json!({"to": to, "text": "【好店】您的订单已发货", "category": "transactional"}),
        )
        .await;
        ids.push(sent["id"].as_u64().unwrap_or_else(|| panic!("{sent}")));
    }
    for &id in &ids[..3] {
        let shown = delivery_of(&http, &base, key, id, "delivered").await;
        assert_eq!(shown["delivery"], "delivered", "{shown}");
    }
    let mut to_mobile = mobile.destinations();
    to_mobile.sort();
    assert_eq!(to_mobile, ["8613800138000", "8613900139000"]);
    assert_eq!(telecom.destinations(), ["8618900189000"]);
    // No carrier serves +44 (a valid UK mobile): the hand-off fails and the message says so.
    let shown = delivery_of(&http, &base, key, ids[3], "failed").await;
    assert_eq!(shown["delivery"], "failed", "{shown}");

    // The Telecom subscriber replies TD through Telecom's SMSC.
    let consent = json!({"phone": "+8618900189000", "action": "opt_in", "scope": "sender",
        "source": "web", "evidence": "signup form"});
    post(&http, &format!("{base}/v1/consents"), key, &consent).await;
    let mut telecom_in = telecom.stdin;
    telecom_in
        .write_all(format!("MO 8618900189000 {source} TD\n").as_bytes())
        .await
        .expect("inject MO");
    let state = consent_state(&http, &base, key, "+8618900189000", "opted_out").await;
    assert_eq!(
        state, "opted_out",
        "the TD through the second carrier opts out"
    );
}

/// Route mistakes stop start-up with a message naming the entry, before anything binds.
#[test]
fn conflicting_carrier_routes_stop_start_up_naming_the_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (config, want) in [
        (
            carrier_entry("cmcc", "2775", "[]") + &carrier_entry("ctcc", "2776", "[]"),
            "cmcc and ctcc both have no routes",
        ),
        (
            carrier_entry("cmcc", "2775", r#"["86138"]"#)
                + &carrier_entry("ctcc", "2776", r#"["+86138"]"#),
            "given to both cmcc and ctcc",
        ),
        (
            carrier_entry("cmcc", "2775", r#"["86-138"]"#),
            "carrier cmcc: route \"86-138\"",
        ),
        (
            carrier_entry("cmcc", "2775", "[]") + &carrier_entry("cmcc", "2776", r#"["86189"]"#),
            "name \"cmcc\" is used twice",
        ),
    ] {
        let path = dir.path().join("consentry.toml");
        std::fs::write(&path, config).expect("config");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["serve", "--http", "127.0.0.1:0", "--data"])
            .arg(dir.path().join("data"))
            .arg("--config")
            .arg(&path)
            .output()
            .expect("run consentry");
        assert!(!out.status.success(), "started with {want:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{want:?} not in: {err}");
    }
}
