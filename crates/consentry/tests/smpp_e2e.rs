//! End to end through the real binary: a sender registered over HTTP binds over SMPP with the
//! credentials it was given, submits, gets a receipt, and HTTP shows the delivery.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::time::Duration;

use reqwest::Client;
use serde_json::{Value, json};
use smpp_proto::{
    Address, Bind, BindMode, Body, CommandStatus, Decoder, Pdu, Receipt, ShortMessage,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_registered_over_http_submits_over_smpp_and_sees_the_receipt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_child, base, smpp) = common::process::spawn_with_smpp(dir.path(), None).await;
    let admin = std::fs::read_to_string(dir.path().join("admin.token")).expect("admin token");
    let http = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let created: Value = http
        .post(format!("{base}/v1/senders"))
        .bearer_auth(admin.trim())
        .json(&json!({"name": "Good Shop", "signature": "【好店】"}))
        .send()
        .await
        .expect("POST /v1/senders")
        .json()
        .await
        .expect("json");
    let system_id = created["smpp_system_id"].as_str().expect("smpp_system_id");
    let password = created["smpp_password"].as_str().expect("smpp_password");
    let api_key = created["api_key"].as_str().expect("api_key");
    assert!(system_id.len() <= 15 && password.len() == 8, "{created}");

    let mut stream = TcpStream::connect(&smpp).await.expect("connect SMPP");
    let mut decoder = Decoder::new();
    let bind = Pdu::request(
        1,
        Body::Bind(Bind::new(BindMode::Transceiver, system_id, password)),
    );
    stream
        .write_all(&bind.encode().expect("encode"))
        .await
        .expect("write");
    let resp = next_pdu(&mut stream, &mut decoder).await;
    assert_eq!(resp.command_status, CommandStatus::ROK, "{resp:?}");

    let (data_coding, short_message) = smpp_proto::text::encode_text("【好店】您的订单已发货");
    let submit = Pdu::request(
        2,
        Body::SubmitSm(ShortMessage {
            service_type: "TXN".into(),
            destination: Address::international("8613800138000"),
            registered_delivery: 1,
            data_coding,
            short_message,
            ..ShortMessage::default()
        }),
    );
    stream
        .write_all(&submit.encode().expect("encode"))
        .await
        .expect("write");
    let mut id = None;
    let mut receipt = None;
    while id.is_none() || receipt.is_none() {
        let p = next_pdu(&mut stream, &mut decoder).await;
        match p.body {
            Body::SubmitSmResp(r) => {
                assert_eq!(p.command_status, CommandStatus::ROK);
                id = Some(r.message_id);
            }
            Body::DeliverSm(sm) => receipt = Some(Receipt::from_deliver_sm(&sm).expect("receipt")),
            other => panic!("unexpected {other:?}"),
        }
    }
    let id = id.expect("id");
    assert_eq!(receipt.expect("receipt").id, id);

    // The loopback handset reports delivery at hand-off; the dispatcher records it in the same
    // batch a moment later.
    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = http
            .get(format!("{base}/v1/messages/{id}"))
            .bearer_auth(api_key)
            .send()
            .await
            .expect("GET message")
            .json()
            .await
            .expect("json");
        if shown["delivery"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(shown["delivery"], "delivered", "{shown}");
    assert_eq!(shown["text"], "【好店】您的订单已发货", "{shown}");
}

/// Issue #14, item 9: a reply posted over HTTP (`POST /v1/inbound`, the carrier's HTTP feed) was
/// not forwarded to the merchant bound over SMPP, although docs/SMPP.md says replies to a
/// sender's number are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_posted_over_http_reaches_the_merchant_bound_over_smpp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_child, base, smpp) = common::process::spawn_with_smpp(dir.path(), None).await;
    let admin = common::process::token(dir.path(), "admin.token");
    let carrier = common::process::token(dir.path(), "carrier.token");
    let http = Client::new();
    let created = common::process::register_sender(&http, &base, &admin, "好店").await;
    let system_id = created["smpp_system_id"].as_str().expect("smpp_system_id");
    let password = created["smpp_password"].as_str().expect("smpp_password");
    let number = created["source_number"].as_str().expect("source_number");

    let mut stream = TcpStream::connect(&smpp).await.expect("connect SMPP");
    let mut decoder = Decoder::new();
    let bind = Pdu::request(
        1,
        Body::Bind(Bind::new(BindMode::Receiver, system_id, password)),
    );
    stream
        .write_all(&bind.encode().expect("encode"))
        .await
        .expect("write");
    let resp = next_pdu(&mut stream, &mut decoder).await;
    assert_eq!(resp.command_status, CommandStatus::ROK, "{resp:?}");

    let r = http
        .post(format!("{base}/v1/inbound"))
        .bearer_auth(&carrier)
        .json(&json!({"from": "13800138000", "to": number, "text": "退订"}))
        .send()
        .await
        .expect("POST /v1/inbound");
    assert!(r.status().is_success(), "{:?}", r.text().await);

    let p = next_pdu(&mut stream, &mut decoder).await;
    let Body::DeliverSm(sm) = p.body else {
        panic!("expected the reply as deliver_sm, got {p:?}");
    };
    assert_eq!(sm.source.addr, "8613800138000", "{sm:?}");
    assert_eq!(sm.destination.addr, number, "{sm:?}");
    let text = smpp_proto::text::decode_text(sm.data_coding, &sm.short_message);
    assert_eq!(text, "退订", "{sm:?}");
}

async fn bind(smpp: &str, mode: BindMode, system_id: &str, password: &str) -> (TcpStream, Decoder) {
    let mut stream = TcpStream::connect(smpp).await.expect("connect SMPP");
    let mut decoder = Decoder::new();
    let bind = Pdu::request(1, Body::Bind(Bind::new(mode, system_id, password)));
    stream
        .write_all(&bind.encode().expect("encode"))
        .await
        .expect("write");
    let resp = next_pdu(&mut stream, &mut decoder).await;
    assert_eq!(resp.command_status, CommandStatus::ROK, "{resp:?}");
    (stream, decoder)
}

/// Issue #13: receipts and replies for a merchant with no receiving bind were dropped. They now
/// wait, and reach the merchant's next receiver bind, in the order they arose: here three
/// receipts for messages submitted on a transmitter bind, then a reply posted over HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_and_replies_for_a_merchant_not_bound_to_receive_wait_for_its_receiver() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_child, base, smpp) = common::process::spawn_with_smpp(dir.path(), None).await;
    let admin = common::process::token(dir.path(), "admin.token");
    let carrier = common::process::token(dir.path(), "carrier.token");
    let http = Client::new();
    let created = common::process::register_sender(&http, &base, &admin, "好店").await;
    let system_id = created["smpp_system_id"].as_str().expect("smpp_system_id");
    let password = created["smpp_password"].as_str().expect("smpp_password");
    let number = created["source_number"].as_str().expect("source_number");
    let key = created["api_key"].as_str().expect("api_key");

    let (mut tx, mut tx_decoder) = bind(&smpp, BindMode::Transmitter, system_id, password).await;
    let mut ids = Vec::new();
    for seq in 2..5u32 {
        let (data_coding, short_message) = smpp_proto::text::encode_text("【好店】您的订单已发货");
        let submit = Pdu::request(
            seq,
            Body::SubmitSm(ShortMessage {
                service_type: "TXN".into(),
                destination: Address::international(&format!("86138001380{seq:02}")),
                registered_delivery: 1,
                data_coding,
                short_message,
                ..ShortMessage::default()
            }),
        );
        tx.write_all(&submit.encode().expect("encode"))
            .await
            .expect("write");
        let p = next_pdu(&mut tx, &mut tx_decoder).await;
        let Body::SubmitSmResp(r) = p.body else {
            panic!("expected submit_sm_resp, got {p:?}");
        };
        ids.push(r.message_id);
    }
    // Delivered (the loopback handset reports at hand-off): the receipts exist, and wait.
    for id in &ids {
        let mut shown = Value::Null;
        for _ in 0..100 {
            shown =
                common::process::get_json(&http, &format!("{base}/v1/messages/{id}"), key).await;
            if shown["delivery"] == "delivered" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(shown["delivery"], "delivered", "{shown}");
    }
    let r = http
        .post(format!("{base}/v1/inbound"))
        .bearer_auth(&carrier)
        .json(&json!({"from": "13800138000", "to": number, "text": "几点到？"}))
        .send()
        .await
        .expect("POST /v1/inbound");
    assert!(r.status().is_success(), "{:?}", r.text().await);

    let (mut rx, mut rx_decoder) = bind(&smpp, BindMode::Receiver, system_id, password).await;
    let mut receipts = Vec::new();
    for _ in 0..3 {
        let p = next_pdu(&mut rx, &mut rx_decoder).await;
        let Body::DeliverSm(sm) = p.body else {
            panic!("expected a waiting receipt, got {p:?}");
        };
        receipts.push(Receipt::from_deliver_sm(&sm).expect("a receipt").id);
    }
    receipts.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(receipts, want, "every receipt, once");
    let p = next_pdu(&mut rx, &mut rx_decoder).await;
    let Body::DeliverSm(sm) = p.body else {
        panic!("expected the waiting reply, got {p:?}");
    };
    let text = smpp_proto::text::decode_text(sm.data_coding, &sm.short_message);
    assert_eq!(
        text, "几点到？",
        "the reply after the receipts that came before it"
    );
}
