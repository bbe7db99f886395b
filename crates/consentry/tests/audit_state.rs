//! State that decides outcomes, outside the evidence tables (issue #14, item 3): API keys,
//! SMPP and CMPP secrets, senders' names, a message's current status, its delivery and its
//! content scores. Each is changed in SQL behind consentry's back and `consentry audit verify`
//! must name it; the routes that change them legitimately (`PATCH /v1/senders/{id}`,
//! `…/smpp-password`, `…/cmpp-secret`, `…/key`) keep the chain intact.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::process::Command;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use smpp_proto::{Bind, BindMode, Body, CommandStatus, Decoder, Pdu};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn verify(dir: &std::path::Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
        .args(["audit", "verify", "--data"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn sql(dir: &std::path::Path, q: &str) {
    let conn = rusqlite::Connection::open(dir.join("consentry.db")).unwrap();
    conn.execute_batch(q).unwrap();
}

fn assert_intact(dir: &std::path::Path) {
    let (code, out) = verify(dir);
    assert_eq!(code, Some(0), "{out}");
}

fn assert_broken(dir: &std::path::Path, expect: &[&str]) {
    let (code, out) = verify(dir);
    assert_eq!(code, Some(2), "{out}");
    for e in expect {
        assert!(out.contains(e), "expected {e:?} in: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_key_turned_into_an_admin_key_is_reported_by_verify() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (id, key) = srv.shop("好店").await;
    // A rotation revokes the old key (kept, so the chain can prove it is no longer live).
    let (s, v) = srv
        .post(&format!("/v1/senders/{id}/key"), &key, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let dir = srv.data_dir();
    assert_intact(dir);

    sql(
        dir,
        "UPDATE api_keys SET role = 'admin', sender_id = NULL
         WHERE role = 'sender' AND revoked_at IS NULL",
    );
    assert_broken(
        dir,
        &["api_keys row", "admin key", "changed outside consentry"],
    );
    sql(
        dir,
        &format!(
            "UPDATE api_keys SET role = 'sender', sender_id = {id}
             WHERE role = 'admin' AND sender_id IS NULL AND rowid > 1"
        ),
    );
    assert_intact(dir);
    // The revoked key brought back to life.
    sql(dir, "UPDATE api_keys SET revoked_at = NULL");
    assert_broken(
        dir,
        &["api_keys row", "no chained credential change issued it"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smpp_password_changed_in_sql_is_reported() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    srv.shop("好店").await;
    srv.shop("坏店").await;
    let dir = srv.data_dir();
    assert_intact(dir);
    // The second shop's password hash copied over the first's: whoever knows the second
    // password now binds as the first shop.
    sql(
        dir,
        "CREATE TABLE saved AS SELECT sender_id, password_hash FROM smpp_credentials;
         UPDATE smpp_credentials SET password_hash =
             (SELECT password_hash FROM smpp_credentials WHERE sender_id = 2)
         WHERE sender_id = 1",
    );
    assert_broken(
        dir,
        &["smpp_credentials row", "of sender 1", "password or secret"],
    );
    sql(
        dir,
        "UPDATE smpp_credentials SET password_hash =
             (SELECT password_hash FROM saved WHERE saved.sender_id = smpp_credentials.sender_id);
         DROP TABLE saved;",
    );
    assert_intact(dir);
    // Same for a CMPP secret.
    sql(
        dir,
        "UPDATE cmpp_accounts SET secret = 'AAAAAAAAAAAAAAAA' WHERE sender_id = 2",
    );
    assert_broken(
        dir,
        &["cmpp_accounts row", "of sender 2", "password or secret"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_renamed_in_sql_is_reported() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (id, _) = srv.shop("好店").await;
    let (s, v) = srv
        .call(
            Method::PATCH,
            &format!("/v1/senders/{id}"),
            Some(&srv.admin),
            Some(json!({"name": "更好的店", "signature": "【更好】"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let dir = srv.data_dir();
    assert_intact(dir);
    // The registration is chained as registered; the edit as edited.
    sql(dir, "UPDATE senders SET name = '冒名店'");
    assert_broken(dir, &[&format!("senders row {id}")]);
    sql(dir, "UPDATE senders SET name = '好店'");
    assert_intact(dir);
    sql(dir, "UPDATE sender_edits SET signature = '【冒名】'");
    assert_broken(dir, &["sender_edits row 1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_flipped_in_sql_is_reported() {
    // 22:00 in China: marketing is held for quiet hours, and then withdrawn (a re-decision).
    let srv = common::start("2026-11-11T14:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    srv.consent(&key, "13800138000", "opt_in", "sender").await;
    let held = srv
        .send(
            &key,
            "13800138000",
            "【好店】双11全场5折，回T退订",
            "marketing",
        )
        .await;
    assert_eq!(held["status"], "deferred", "{held}");
    let id = held["id"].as_u64().unwrap();
    let (s, v) = srv
        .post(&format!("/v1/messages/{id}/cancel"), &key, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Refused: no consent from this phone.
    let refused = srv
        .send(
            &key,
            "13800138001",
            "【好店】双11全场5折，回T退订",
            "marketing",
        )
        .await;
    assert_eq!(refused["status"], "rejected", "{refused}");
    let refused = refused["id"].as_u64().unwrap();
    let dir = srv.data_dir();
    assert_intact(dir);

    // The withdrawn message's current status flipped back to accepted.
    sql(
        dir,
        &format!("UPDATE messages SET current_status = 'accepted' WHERE id = {id}"),
    );
    assert_broken(
        dir,
        &[&format!("messages row {id}"), "latest chained re-decision"],
    );
    sql(
        dir,
        &format!("UPDATE messages SET current_status = 'rejected' WHERE id = {id}"),
    );
    assert_intact(dir);
    // A refused message given a current status with no re-decision behind it.
    sql(
        dir,
        &format!(
            "UPDATE messages SET current_status = 'accepted', current_reasons = '[]'
             WHERE id = {refused}"
        ),
    );
    assert_broken(
        dir,
        &[&format!("messages row {refused}"), "no chained re-decision"],
    );
    sql(
        dir,
        &format!(
            "UPDATE messages SET current_status = NULL, current_reasons = NULL WHERE id = {refused}"
        ),
    );
    assert_intact(dir);
    // A refused message marked delivered.
    sql(
        dir,
        &format!("UPDATE messages SET delivery = 'delivered' WHERE id = {refused}"),
    );
    assert_broken(
        dir,
        &[&format!("messages row {refused}"), "delivery = delivered"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_scores_edited_in_sql_are_reported() {
    let srv = common::start("2026-11-11T02:00:00Z").await;
    let (_, key) = srv.shop("好店").await;
    let sent = srv
        .send(
            &key,
            "13800138000",
            "【好店】您的订单已发货",
            "transactional",
        )
        .await;
    let id = sent["id"].as_u64().unwrap();
    let dir = srv.data_dir();
    assert_intact(dir);
    sql(
        dir,
        &format!(
            "UPDATE messages SET content_scores =
                 '{{\"category\":\"transactional\",\"scores\":{{\"marketing\":0.01}}}}'
             WHERE id = {id}"
        ),
    );
    assert_broken(
        dir,
        &[&format!("messages row {id}"), "stored fields differ"],
    );
}

async fn next_pdu(stream: &mut TcpStream, decoder: &mut Decoder) -> Pdu {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(p) = decoder.next_pdu().expect("valid PDU") {
            return p;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("a PDU within 10 s")
            .expect("read");
        assert!(n > 0, "server closed the SMPP connection");
        decoder.extend(&buf[..n]);
    }
}

async fn smpp_bind(smpp: &str, system_id: &str, password: &str) -> CommandStatus {
    let mut stream = TcpStream::connect(smpp).await.unwrap();
    let mut decoder = Decoder::new();
    let bind = Pdu::request(
        1,
        Body::Bind(Bind::new(BindMode::Transceiver, system_id, password)),
    );
    stream.write_all(&bind.encode().unwrap()).await.unwrap();
    next_pdu(&mut stream, &mut decoder).await.command_status
}

/// The status of a CMPP CONNECT as `source_addr` with `secret`.
async fn cmpp_connect(addr: &str, source_addr: &str, secret: &str) -> u32 {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let timestamp = cmpp::clock::now().connect_timestamp();
    let connect = cmpp_proto::Connect::new(
        source_addr,
        secret.as_bytes(),
        cmpp_proto::Version::V30,
        timestamp,
    );
    let bytes = cmpp_proto::Pdu::new(1, cmpp_proto::Body::Connect(connect))
        .encode(cmpp_proto::Version::V30)
        .unwrap();
    stream.write_all(&bytes).await.unwrap();
    let mut decoder = cmpp_proto::Decoder::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(pdu) = decoder.next_pdu().expect("a well-formed answer") {
            match pdu.body {
                cmpp_proto::Body::ConnectResp(r) => return r.status,
                other => panic!("CONNECT answered {other:?}"),
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(n > 0, "the listener closed the session unanswered");
        decoder.extend(&buf[..n]);
    }
}

/// The operator's routes end to end on the real binary: a new SMPP password binds and the old
/// one is refused; a new CMPP secret connects and the old one is refused; a rename shows in the
/// list, a duplicate is refused; and the chain is intact after all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_smpp_and_cmpp_secrets_and_a_rename_work_end_to_end_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, smpp, cmpp) =
        common::process::spawn_with_smpp_and_cmpp(dir.path(), None).await;
    let http = reqwest::Client::new();
    let admin = common::process::token(dir.path(), "admin.token");
    let shop = common::process::register_sender(&http, &base, &admin, "好店").await;
    common::process::register_sender(&http, &base, &admin, "坏店").await;
    let id = shop["id"].as_u64().unwrap();
    let post = |path: String, key: &str| http.post(format!("{base}{path}")).bearer_auth(key);

    // Only the operator.
    let r = post(
        format!("/v1/senders/{id}/smpp-password"),
        shop["api_key"].as_str().unwrap(),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let r = post(format!("/v1/senders/{id}/smpp-password"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let new: Value = r.json().await.unwrap();
    let (old_id, old_pw) = (
        shop["smpp_system_id"].as_str().unwrap(),
        shop["smpp_password"].as_str().unwrap(),
    );
    let (new_id, new_pw) = (
        new["smpp_system_id"].as_str().unwrap(),
        new["smpp_password"].as_str().unwrap(),
    );
    assert_eq!(
        new_id, old_id,
        "the merchant's software keeps its system_id"
    );
    assert_ne!(new_pw, old_pw);
    assert_eq!(smpp_bind(&smpp, new_id, new_pw).await, CommandStatus::ROK);
    assert_ne!(smpp_bind(&smpp, old_id, old_pw).await, CommandStatus::ROK);

    let r = post(format!("/v1/senders/{id}/cmpp-secret"), &admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let new: Value = r.json().await.unwrap();
    let addr = shop["cmpp_source_addr"].as_str().unwrap();
    assert_eq!(new["cmpp_source_addr"], addr, "{new}");
    let secret = new["cmpp_secret"].as_str().unwrap();
    assert_eq!(cmpp_connect(&cmpp, addr, secret).await, 0);
    let old = shop["cmpp_secret"].as_str().unwrap();
    assert_ne!(cmpp_connect(&cmpp, addr, old).await, 0);

    let patch = |path: String, body: Value| {
        http.patch(format!("{base}{path}"))
            .bearer_auth(&admin)
            .json(&body)
    };
    let r = patch(
        format!("/v1/senders/{id}"),
        json!({"name": "更好的店", "signature": "【更好】"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let list = common::process::get_json(&http, &format!("{base}/v1/senders"), &admin).await;
    assert_eq!(list["senders"][0]["name"], "更好的店", "{list}");
    assert_eq!(list["senders"][0]["signature"], "【更好】", "{list}");
    let r = patch(
        format!("/v1/senders/{id}"),
        json!({"name": "坏店", "signature": "【坏店】"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "duplicate_sender", "{v}");
    let r = patch("/v1/senders/999".into(), json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    child.kill().await.unwrap();
    let _ = child.wait().await;
    assert_intact(dir.path());
}
