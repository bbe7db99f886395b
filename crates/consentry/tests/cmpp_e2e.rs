//! CMPP end to end through the real `consentry serve` binary.
//!
//! - As a carrier: `[[carrier]] kind = "cmpp"` points at a test ISMG run here — our own
//!   `cmpp::CmppServer` with an accept-all `Submissions` that records what arrives and pushes
//!   status reports and handset replies through its `ServerHandle`, as a China Mobile gateway
//!   would. A message submitted over HTTP reaches it as a CMPP SUBMIT, its DELIVRD report marks
//!   the message delivered, and a "TD" from the handset opts the phone out (and reaches the
//!   merchant's CMPP connection), so the next marketing is refused.
//! - As a listener for merchants: a `CmppClient` connects with the `cmpp_source_addr` and
//!   `cmpp_secret` of `POST /v1/senders`; marketing without consent is refused with Result 101
//!   and a `CS:0101` report, with consent it is accepted and reported DELIVRD, and a wrong
//!   secret is refused at CONNECT.
//! - After a kill -9 with a message handed off but never acknowledged, the restarted gateway
//!   sends it to the ISMG exactly once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use cmpp::{
    Account, Accounts, ClientConfig, CmppClient, CmppServer, DeliverHandler, LinkState,
    MobileOriginated, Outgoing, Report, ServerConfig, ServerHandle, Submission, Submissions,
    Verdict,
};
use cmpp_proto::{StatusReport, Version};
use parking_lot::Mutex;
use reqwest::Client;
use serde_json::{Value, json};

const ISMG_SP: &str = "901234";
const ISMG_SECRET: &str = "ismg-secret";
const ACCESS_NUMBER: &str = "1069012345";
const PLATFORM_NUMBER: &str = "1069000012345";
const PHONE: &str = "+8613800138000";
const MARKETING: &str = "【Good Shop】双十一全场五折，今晚开抢！回T退订";

/// The carrier's gateway: accepts every SUBMIT and keeps it.
#[derive(Default)]
struct Ismg {
    got: Mutex<Vec<Submission>>,
}

impl Accounts for Ismg {
    fn lookup(&self, source_addr: &str) -> Option<Account> {
        (source_addr == ISMG_SP).then(|| Account {
            id: 1,
            secret: ISMG_SECRET.as_bytes().to_vec(),
        })
    }
}

impl Submissions for Ismg {
    fn submit(&self, s: Submission) -> Verdict {
        self.got.lock().push(s);
        Verdict::Accept
    }
}

struct RunningIsmg {
    ismg: Arc<Ismg>,
    handle: ServerHandle,
    port: u16,
}

async fn ismg_on(listen: &str) -> RunningIsmg {
    let ismg = Arc::new(Ismg::default());
    let server = CmppServer::new(
        ServerConfig {
            listen: listen.into(),
            gateway_code: 77,
            ..ServerConfig::default()
        },
        ismg.clone(),
        ismg.clone(),
    )
    .expect("test ISMG");
    let handle = server.handle();
    let listener = server.bind().await.expect("bind the test ISMG");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });
    RunningIsmg { ismg, handle, port }
}

fn carrier_config(port: u16) -> String {
    format!(
        "[policy]\nquiet_hours_start = \"00:00\"\nquiet_hours_end = \"00:00\"\n\
         [gateway]\nplatform_number = \"{PLATFORM_NUMBER}\"\n\
         [[carrier]]\nname = \"cmcc\"\nkind = \"cmpp\"\nversion = \"3.0\"\nhost = \"127.0.0.1\"\n\
         port = {port}\nsource_addr = \"{ISMG_SP}\"\nshared_secret = \"{ISMG_SECRET}\"\n\
         service_id = \"MCN\"\nsrc_id = \"{ACCESS_NUMBER}\"\nmax_tps = 0\nreconnect_max_secs = 1\n"
    )
}

/// What a merchant's CMPP link was delivered.
#[derive(Default)]
struct MerchantInbox {
    reports: Mutex<Vec<StatusReport>>,
    replies: Mutex<Vec<MobileOriginated>>,
}

impl DeliverHandler for MerchantInbox {
    fn on_report(&self, r: &StatusReport) -> Result<(), String> {
        self.reports.lock().push(r.clone());
        Ok(())
    }
    fn on_mo(&self, mo: &MobileOriginated) -> Result<(), String> {
        self.replies.lock().push(mo.clone());
        Ok(())
    }
}

fn merchant_link(addr: &str, sender: &Value, secret: &str) -> ClientConfig {
    ClientConfig {
        addr: addr.into(),
        source_addr: sender["cmpp_source_addr"]
            .as_str()
            .expect("cmpp_source_addr")
            .into(),
        shared_secret: secret.into(),
        version: Version::V30,
        src_id: sender["source_number"]
            .as_str()
            .expect("source_number")
            .into(),
        response_timeout: Duration::from_secs(10),
        reconnect_min: Duration::from_millis(100),
        reconnect_max: Duration::from_millis(500),
        ..ClientConfig::default()
    }
}

/// The test ISMG reports every part of `got` delivered to `destination`.
fn report_delivered(ismg: &RunningIsmg, got: &Submission, destination: &str) {
    let t = cmpp::clock::now().report_time();
    for &msg_id in &got.msg_ids {
        assert!(ismg.handle.report(
            1,
            &Report {
                msg_id,
                src_id: got.src_id.clone(),
                destination: destination.into(),
                stat: "DELIVRD".into(),
                submit_time: t.clone(),
                done_time: t.clone(),
            },
        ));
    }
}

/// The merchant's consent state for `PHONE`, read until it is `opted_out` (10 s at most).
async fn consent_state_until_opted_out(http: &Client, base: &str, key: &str) -> Value {
    let mut state = Value::Null;
    for _ in 0..200 {
        let view =
            common::process::get_json(http, &format!("{base}/v1/consents/{PHONE}"), key).await;
        state = view["senders"][0]["state"].clone();
        if state == "opted_out" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    state
}

async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..300 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn post(http: &Client, url: &str, key: &str, body: Value) -> Value {
    http.post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
        .json()
        .await
        .expect("json")
}

async fn post_status(http: &Client, url: &str, key: &str, body: Value) -> (u16, Value) {
    let resp = http
        .post(url)
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

async fn consent(http: &Client, base: &str, key: &str, phone: &str) {
    let v = post(
        http,
        &format!("{base}/v1/consents"),
        key,
        json!({"phone": phone, "action": "opt_in", "scope": "sender", "source": "web",
               "evidence": "checkbox on the order page"}),
    )
    .await;
    assert!(v["error"].is_null(), "{v}");
}

async fn message_until(http: &Client, base: &str, key: &str, id: u64, delivery: &str) -> Value {
    let mut shown = Value::Null;
    for _ in 0..200 {
        shown = common::process::get_json(http, &format!("{base}/v1/messages/{id}"), key).await;
        if shown["delivery"] == delivery {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shown
}

fn reason_codes(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|r| r["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cmpp_carrier_gets_the_submit_its_report_delivers_and_a_td_reply_opts_out() {
    let ismg = ismg_on("127.0.0.1:0").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    std::fs::write(&config, carrier_config(ismg.port)).expect("config");
    let data = dir.path().join("data");
    let (_child, base, cmpp_addr) = common::process::spawn_with_cmpp(&data, Some(&config)).await;
    let admin = common::process::token(&data, "admin.token");
    let http = Client::new();
    let sender = common::process::register_sender(&http, &base, &admin, "Good Shop").await;
    let key = sender["api_key"].as_str().expect("api_key");
    let source = sender["source_number"].as_str().expect("source_number");
    let extension = source.strip_prefix(PLATFORM_NUMBER).expect("an extension");

    // The merchant also listens over CMPP, where the handset's reply is forwarded.
    let inbox = Arc::new(MerchantInbox::default());
    let secret = sender["cmpp_secret"].as_str().expect("cmpp_secret");
    let merchant = CmppClient::start(merchant_link(&cmpp_addr, &sender, secret), inbox.clone());
    assert!(merchant.connected(Duration::from_secs(10)).await.is_some());

    consent(&http, &base, key, PHONE).await;
    let sent = post(
        &http,
        &format!("{base}/v1/messages"),
        key,
        json!({"to": PHONE, "text": MARKETING, "category": "marketing"}),
    )
    .await;
    assert_eq!(sent["status"], "accepted", "{sent}");
    let id = sent["id"].as_u64().expect("id");

    wait_for("the SUBMIT at the ISMG", || {
        !ismg.ismg.got.lock().is_empty()
    })
    .await;
    let got = ismg.ismg.got.lock()[0].clone();
    assert_eq!(got.text, MARKETING);
    assert_eq!(got.destinations, ["8613800138000"]);
    assert_eq!(got.source_addr, ISMG_SP);
    assert_eq!(got.service_id, "MCN");
    assert_eq!(got.src_id, format!("{ACCESS_NUMBER}{extension}"));
    assert!(got.wants_report);
    let submitted = message_until(&http, &base, key, id, "submitted").await;
    assert_eq!(submitted["delivery"], "submitted", "{submitted}");

    report_delivered(&ismg, &got, &got.destinations[0]);
    let delivered = message_until(&http, &base, key, id, "delivered").await;
    assert_eq!(delivered["delivery"], "delivered", "{delivered}");

    // The handset answers "TD" to the number it saw.
    assert!(ismg.handle.mo(1, "8613800138000", &got.src_id, "TD", 1));
    let state = consent_state_until_opted_out(&http, &base, key).await;
    assert_eq!(state, "opted_out", "the TD reply opts the phone out");
    wait_for("the reply at the merchant", || {
        !inbox.replies.lock().is_empty()
    })
    .await;
    let reply = inbox.replies.lock()[0].clone();
    assert_eq!(
        (reply.from.as_str(), reply.text.as_str()),
        ("8613800138000", "TD")
    );

    let again = post(
        &http,
        &format!("{base}/v1/messages"),
        key,
        json!({"to": PHONE, "text": format!("{MARKETING} "), "category": "marketing"}),
    )
    .await;
    assert_eq!(again["status"], "rejected", "{again}");
    assert!(
        reason_codes(&again).contains(&"opted_out".to_string()),
        "{again}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    // What else reached the ISMG is the platform's opt-out confirmation, no marketing.
    let later: Vec<String> = ismg.ismg.got.lock()[1..]
        .iter()
        .map(|s| s.text.clone())
        .collect();
    assert!(
        later.iter().all(|t| !t.contains("双十一")),
        "no more marketing reached the ISMG: {later:?}"
    );
    merchant.shutdown();
}

/// #13: some ISMGs take national numbers only. With `national_numbers = true` the SUBMIT
/// names `13800138000`, and the report and the handset's "TD" written the same way still
/// reach the message and the ledger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ismg_that_takes_national_numbers_gets_them_and_its_reports_and_replies_still_count() {
    let ismg = ismg_on("127.0.0.1:0").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    std::fs::write(
        &config,
        format!("{}national_numbers = true\n", carrier_config(ismg.port)),
    )
    .expect("config");
    let data = dir.path().join("data");
    let (_child, base, _) = common::process::spawn_with_cmpp(&data, Some(&config)).await;
    let admin = common::process::token(&data, "admin.token");
    let http = Client::new();
    let sender = common::process::register_sender(&http, &base, &admin, "Good Shop").await;
    let key = sender["api_key"].as_str().expect("api_key");
    consent(&http, &base, key, PHONE).await;
    let sent = post(
        &http,
        &format!("{base}/v1/messages"),
        key,
        json!({"to": PHONE, "text": MARKETING, "category": "marketing"}),
    )
    .await;
    assert_eq!(sent["status"], "accepted", "{sent}");
    let id = sent["id"].as_u64().expect("id");
    wait_for("the SUBMIT at the ISMG", || {
        !ismg.ismg.got.lock().is_empty()
    })
    .await;
    let got = ismg.ismg.got.lock()[0].clone();
    assert_eq!(got.destinations, ["13800138000"], "no country code");
    message_until(&http, &base, key, id, "submitted").await;
    report_delivered(&ismg, &got, "13800138000");
    let delivered = message_until(&http, &base, key, id, "delivered").await;
    assert_eq!(delivered["delivery"], "delivered", "{delivered}");
    assert!(ismg.handle.mo(1, "13800138000", &got.src_id, "TD", 1));
    let state = consent_state_until_opted_out(&http, &base, key).await;
    assert_eq!(
        state, "opted_out",
        "the national-number TD opts the phone out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_over_cmpp_is_refused_without_consent_reported_with_it_and_needs_its_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    std::fs::write(
        &config,
        "[policy]\nquiet_hours_start = \"00:00\"\nquiet_hours_end = \"00:00\"\n",
    )
    .expect("config");
    let data = dir.path().join("data");
    let (_child, base, cmpp_addr) = common::process::spawn_with_cmpp(&data, Some(&config)).await;
    let admin = common::process::token(&data, "admin.token");
    let http = Client::new();
    let sender = common::process::register_sender(&http, &base, &admin, "Good Shop").await;
    let key = sender["api_key"].as_str().expect("api_key");
    let source_addr = sender["cmpp_source_addr"].as_str().expect("source addr");
    assert_eq!(source_addr.len(), 6, "{sender}");
    let secret = sender["cmpp_secret"].as_str().expect("cmpp_secret");
    assert_eq!(secret.len(), 16, "{sender}");

    // A wrong secret is refused at CONNECT (status 3), and the link says so.
    let wrong = CmppClient::start(
        merchant_link(&cmpp_addr, &sender, "not-the-secret"),
        Arc::new(MerchantInbox::default()),
    );
    for _ in 0..100 {
        if wrong.state() == LinkState::Refused(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(wrong.state(), LinkState::Refused(3));
    wrong.shutdown();

    let inbox = Arc::new(MerchantInbox::default());
    let link = CmppClient::start(merchant_link(&cmpp_addr, &sender, secret), inbox.clone());
    assert_eq!(
        link.connected(Duration::from_secs(10)).await,
        Some(Version::V30)
    );
    let refused = link
        .submit(&Outgoing {
            destination: "13800138001".into(),
            text: MARKETING.into(),
            extension: String::new(),
            report: true,
        })
        .await
        .expect("answered");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].result, 101, "no_consent");
    wait_for("the refusal's report", || !inbox.reports.lock().is_empty()).await;
    let report = inbox.reports.lock()[0].clone();
    assert_eq!(report.msg_id, refused[0].msg_id);
    assert_eq!(report.stat, "CS:0101");
    assert_eq!(report.dest_terminal_id, "13800138001");

    consent(&http, &base, key, "+8613800138002").await;
    let accepted = link
        .submit(&Outgoing {
            destination: "8613800138002".into(),
            text: MARKETING.into(),
            extension: String::new(),
            report: true,
        })
        .await
        .expect("answered");
    assert_eq!(accepted[0].result, 0);
    wait_for("the DELIVRD report", || {
        inbox
            .reports
            .lock()
            .iter()
            .any(|r| r.msg_id == accepted[0].msg_id)
    })
    .await;
    let delivered = inbox
        .reports
        .lock()
        .iter()
        .find(|r| r.msg_id == accepted[0].msg_id)
        .cloned()
        .expect("report");
    assert_eq!(delivered.stat, "DELIVRD");

    // The decisions are the gateway's own, recorded with their reasons: in a fresh store the
    // refusal is message 1 and the accepted one message 2.
    let first = common::process::get_json(&http, &format!("{base}/v1/messages/1"), key).await;
    assert_eq!(first["status"], "rejected", "{first}");
    assert!(
        reason_codes(&first).contains(&"no_consent".into()),
        "{first}"
    );
    let second = message_until(&http, &base, key, 2, "delivered").await;
    assert_eq!(second["status"], "accepted", "{second}");
    assert_eq!(second["delivery"], "delivered", "{second}");
    link.shutdown();
}

/// A message handed to the CMPP link while the ISMG is unreachable, then a kill -9: the
/// restarted gateway finds it handed off without a Msg_Id and sends it once, not twice (the
/// dispatcher's resume and the link's resend name the same message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_off_never_acknowledged_before_a_kill_is_sent_once_after_the_restart() {
    // A port nothing listens on yet: bind, note it, and let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    std::fs::write(
        &config,
        format!("{}[store]\ndurability = \"normal\"\n", carrier_config(port)),
    )
    .expect("config");
    let data = dir.path().join("data");
    let (mut child, base) = common::process::spawn(&data, Some(&config)).await;
    let admin = common::process::token(&data, "admin.token");
    let http = Client::new();
    let sender = common::process::register_sender(&http, &base, &admin, "Good Shop").await;
    let key = sender["api_key"].as_str().expect("api_key");
    let sent = post(
        &http,
        &format!("{base}/v1/messages"),
        key,
        json!({"to": PHONE, "text": "【Good Shop】您的订单已发货", "category": "transactional"}),
    )
    .await;
    let id = sent["id"].as_u64().expect("id");
    let handed = message_until(&http, &base, key, id, "submitted").await;
    assert_eq!(handed["delivery"], "submitted", "{handed}");
    child.kill().await.expect("kill -9");
    let _ = child.wait().await;

    let ismg = ismg_on(&format!("127.0.0.1:{port}")).await;
    let (_child, base) = common::process::spawn(&data, Some(&config)).await;
    wait_for("the resent SUBMIT", || !ismg.ismg.got.lock().is_empty()).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got = ismg.ismg.got.lock().clone();
    assert_eq!(got.len(), 1, "sent once: {got:?}");
    assert_eq!(got[0].text, "【Good Shop】您的订单已发货");
    let shown = common::process::get_json(&http, &format!("{base}/v1/messages/{id}"), key).await;
    assert_eq!(shown["delivery"], "submitted", "{shown}");
}

/// Marketing handed to the CMPP link while the ISMG is unreachable waits in the link; an
/// opt-out acknowledged meanwhile stops it at the wire when the ISMG comes back (the check
/// runs in the link task right before the first part is written), and the message reads
/// `not_sent`, refused `opted_out`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opt_out_while_the_ismg_is_down_stops_the_queued_marketing_at_the_wire() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    std::fs::write(&config, carrier_config(port)).expect("config");
    let data = dir.path().join("data");
    let (_child, base) = common::process::spawn(&data, Some(&config)).await;
    let admin = common::process::token(&data, "admin.token");
    let http = Client::new();
    let sender = common::process::register_sender(&http, &base, &admin, "Good Shop").await;
    let key = sender["api_key"].as_str().expect("api_key");
    consent(&http, &base, key, PHONE).await;
    let sent = post(
        &http,
        &format!("{base}/v1/messages"),
        key,
        json!({"to": PHONE, "text": MARKETING, "category": "marketing"}),
    )
    .await;
    assert_eq!(sent["status"], "accepted", "{sent}");
    let id = sent["id"].as_u64().expect("id");
    let handed = message_until(&http, &base, key, id, "submitted").await;
    assert_eq!(handed["delivery"], "submitted", "{handed}");

    let v = post(
        &http,
        &format!("{base}/v1/consents"),
        key,
        json!({"phone": PHONE, "action": "opt_out", "scope": "sender", "source": "web",
               "evidence": "unsubscribed on the order page"}),
    )
    .await;
    assert!(v["error"].is_null(), "{v}");

    let ismg = ismg_on(&format!("127.0.0.1:{port}")).await;
    let stopped = message_until(&http, &base, key, id, "not_sent").await;
    assert_eq!(stopped["delivery"], "not_sent", "{stopped}");
    assert!(
        reason_codes(&stopped).contains(&"opted_out".into()),
        "{stopped}"
    );
    assert!(ismg.ismg.got.lock().is_empty(), "nothing reached the ISMG");
}

fn python_peers_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import pycmpp.cmpp, cmppy"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let msg =
            "python3 with PyPI pycmpp and cmppy is not installed: run .ci/setup-cmpp-peers.sh";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have the CMPP interop peers: {msg}"
        );
        eprintln!("SKIPPED: {msg}");
    }
    ok
}

/// The PyPI clients (`tests/interop/cmpp_peers.py`: pycmpp speaking 2.0, cmppy 3.0) against
/// `consentry serve --cmpp` with a merchant's issued account: their marketing (Service_Id
/// empty reads as marketing) to a consenting phone is decided, accepted, and reported
/// DELIVRD to each part's Msg_Id; a wrong secret is refused at CONNECT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pycmpp_and_cmppy_submit_through_consentry_serve_and_get_reports() {
    if !python_peers_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    // Three marketing texts to one phone in a minute: the caps and the duplicate window, which
    // would rightly refuse that, are opened so the peers' reports can be read.
    std::fs::write(
        &config,
        "[policy]\nquiet_hours_start = \"00:00\"\nquiet_hours_end = \"00:00\"\n\
         max_marketing_per_sender_per_day = 10\nmax_marketing_per_recipient_per_day = 10\n\
         duplicate_window_minutes = 0\n",
    )
    .expect("config");
    let data = dir.path().join("data");
    let (_child, base, cmpp_addr) = common::process::spawn_with_cmpp(&data, Some(&config)).await;
    let admin = common::process::token(&data, "admin.token");
    let http = Client::new();
    let sender = common::process::register_sender(&http, &base, &admin, "好店").await;
    let key = sender["api_key"].as_str().expect("api_key");
    consent(&http, &base, key, PHONE).await;
    let port = cmpp_addr.rsplit(':').next().expect("port").to_owned();
    let sp = sender["cmpp_source_addr"].as_str().expect("source addr");
    let secret = sender["cmpp_secret"].as_str().expect("secret");
    let short = "【好店】双十一全场五折，今晚开抢！回T退订";
    let long = "【好店】双十一全场五折，今晚八点开抢，前一千名下单再送精美礼品一份，会员另享积分翻倍，\
                数量有限先到先得，详情请打开好店App查看活动页面。回T退订";
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/interop/cmpp_peers.py");
    let run = |secret: String| {
        let script = script.clone();
        let (port, sp) = (port.clone(), sp.to_owned());
        async move {
            let out = tokio::process::Command::new("python3")
                .arg(script)
                .args([
                    port.as_str(),
                    sp.as_str(),
                    secret.as_str(),
                    "13800138000",
                    short,
                    long,
                ])
                .output()
                .await
                .expect("python3 cmpp_peers.py");
            let line = String::from_utf8_lossy(&out.stdout).to_string();
            serde_json::from_str::<Value>(line.trim())
                .unwrap_or_else(|_| panic!("{line}\n{}", String::from_utf8_lossy(&out.stderr)))
        }
    };

    let v = run(secret.to_owned()).await;
    let py = &v["pycmpp"];
    assert_eq!(py["connect_status"], 0, "{v}");
    let resps = py["submit_resps"].as_array().expect("resps");
    assert_eq!(resps.len(), 1 + long.chars().count().div_ceil(64), "{v}");
    assert!(resps.iter().all(|x| x["result"] == 0), "accepted: {v}");
    let reports = py["reports"].as_array().expect("reports");
    for resp in resps {
        assert!(
            reports
                .iter()
                .any(|rep| rep["msg_id"] == resp["msg_id"] && rep["stat"] == "DELIVRD"),
            "no DELIVRD report for {resp}: {v}"
        );
    }
    let cm = &v["cmppy"];
    assert_eq!(cm["connect_status"], 0, "{v}");
    assert_eq!(cm["ismg_verified"], true, "{v}");
    assert_eq!(cm["submit_resps"][0]["result"], 0, "{v}");
    assert_eq!(
        cm["reports"][0]["msg_id"], cm["submit_resps"][0]["msg_id"],
        "{v}"
    );
    assert_eq!(cm["reports"][0]["stat"], "DELIVRD", "{v}");

    let wrong = run("guess".into()).await;
    assert_eq!(wrong["pycmpp"]["connect_status"], 3, "{wrong}");
    assert_eq!(wrong["cmppy"]["connect_status"], 3, "{wrong}");
}

/// An SP withdraws a message held for quiet hours with CANCEL (issue #13: QUERY and CANCEL
/// against message state): the gateway records it `rejected` / `cancelled` and never sends it;
/// a second CANCEL, or one for a message not held, says it could not. QUERY answers the SP's
/// day from the message log: one message, one user, waiting — then failed once withdrawn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_cancels_a_held_message_over_cmpp_and_queries_its_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("consentry.toml");
    std::fs::write(&config, common::cmpp_raw::quiet_now_config()).expect("config");
    let data = dir.path().join("data");
    let (_child, base, cmpp_addr) = common::process::spawn_with_cmpp(&data, Some(&config)).await;
    let admin = common::process::token(&data, "admin.token");
    let http = Client::new();
    let sender = common::process::register_sender(&http, &base, &admin, "Good Shop").await;
    let key = sender["api_key"].as_str().expect("api_key");
    let secret = sender["cmpp_secret"].as_str().expect("cmpp_secret");
    let source_addr = sender["cmpp_source_addr"].as_str().expect("source addr");
    consent(&http, &base, key, PHONE).await;
    consent(&http, &base, key, "+8613800138003").await;

    let inbox = Arc::new(MerchantInbox::default());
    let link = CmppClient::start(merchant_link(&cmpp_addr, &sender, secret), inbox.clone());
    assert!(link.connected(Duration::from_secs(10)).await.is_some());
    let held = link
        .submit(&Outgoing {
            destination: "8613800138000".into(),
            text: MARKETING.into(),
            extension: String::new(),
            report: true,
        })
        .await
        .expect("answered");
    assert_eq!(held[0].result, 0, "a held message is accepted for later");
    let message = common::process::get_json(&http, &format!("{base}/v1/messages/1"), key).await;
    assert_eq!(message["status"], "deferred", "{message}");

    let day = cmpp::clock::now().report_time()[..6].to_string();
    let mut raw = common::cmpp_raw::RawSession::connect(&cmpp_addr, source_addr, secret).await;
    let q = raw.query(&format!("20{day}")).await;
    assert_eq!(
        (q.mt_tl_msg, q.mt_tl_usr, q.mt_scs, q.mt_wt, q.mt_fl),
        (1, 1, 0, 1, 0),
        "{q:?}"
    );

    assert_eq!(raw.cancel(held[0].msg_id).await, 0, "withdrawn");
    let message = common::process::get_json(&http, &format!("{base}/v1/messages/1"), key).await;
    assert_eq!(message["status"], "rejected", "{message}");
    assert_eq!(reason_codes(&message), vec!["cancelled".to_string()]);
    assert_eq!(message["delivery"], "not_sent", "{message}");
    assert_eq!(raw.cancel(held[0].msg_id).await, 1, "withdrawn once only");
    assert_eq!(raw.cancel(0x1234_5678).await, 1, "a Msg_Id never given");

    let q = raw.query(&format!("20{day}")).await;
    assert_eq!((q.mt_tl_msg, q.mt_wt, q.mt_fl), (1, 0, 1), "{q:?}");
    // Another day is empty, and a Time that is no date answers this connection's count.
    let empty = raw.query("20000101").await;
    assert_eq!(empty.mt_tl_msg, 0, "{empty:?}");

    // The HTTP route withdraws by the gateway's id; a message not held is 409.
    let again = link
        .submit(&Outgoing {
            destination: "8613800138003".into(),
            text: MARKETING.into(),
            extension: String::new(),
            report: false,
        })
        .await
        .expect("answered");
    assert_eq!(again[0].result, 0);
    let cancel_url = format!("{base}/v1/messages/2/cancel");
    let (status, body) = post_status(&http, &cancel_url, key, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "rejected", "{body}");
    let (status, body) = post_status(&http, &cancel_url, key, json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "not_cancellable", "{body}");
    link.shutdown();
}
