//! The merchant listener through the wire: binds, submissions through the policy, receipts,
//! multipart, replies.

mod common;

use std::time::Duration;

use common::{Esme, SIGNATURE, rig};
use smpp_proto::concat::{Concat, split_text};
use smpp_proto::{Address, BindMode, Body, CommandStatus, MessageState, Receipt, ShortMessage};
use store::{Delivery, MessageLog};

fn submit(to: &str, text: &str, service_type: &str, registered_delivery: u8) -> ShortMessage {
    let (data_coding, short_message) = smpp_proto::text::encode_text(text);
    ShortMessage {
        service_type: service_type.into(),
        source: Address::new(5, 0, "SHOP"),
        destination: Address::international(to),
        registered_delivery,
        data_coding,
        short_message,
        ..ShortMessage::default()
    }
}

#[tokio::test]
async fn binds_answer_with_the_right_status() {
    let r = rig().await;
    let mut ok = Esme::connect(r.addr).await;
    let resp = ok
        .bind(BindMode::Transceiver, &r.creds.system_id, &r.creds.password)
        .await;
    assert_eq!(resp.command_status, CommandStatus::ROK);
    let Body::BindResp(b) = resp.body else {
        panic!("not a bind_resp: {resp:?}")
    };
    assert_eq!(b.system_id, "consentry");

    let mut wrong = Esme::connect(r.addr).await;
    let resp = wrong
        .bind(BindMode::Transmitter, &r.creds.system_id, "nopenope")
        .await;
    assert_eq!(resp.command_status, CommandStatus::RINVPASWD);
    let resp = wrong.bind(BindMode::Transmitter, "nobody", "x").await;
    assert_eq!(resp.command_status, CommandStatus::RINVSYSID);
    // A bound session refuses a second bind.
    ok.request(Body::Bind(smpp_proto::Bind::new(
        BindMode::Transmitter,
        &r.creds.system_id,
        &r.creds.password,
    )))
    .await;
    let again = ok.recv().await.expect("resp");
    assert_eq!(again.command_status, CommandStatus::RALYBND);
}

#[tokio::test]
async fn submit_before_bind_is_refused() {
    let r = rig().await;
    let mut e = Esme::connect(r.addr).await;
    e.request(Body::SubmitSm(submit("8613800138000", "hi", "TXN", 0)))
        .await;
    let resp = e.recv().await.expect("resp");
    assert_eq!(resp.command_status, CommandStatus::RINVBNDSTS);
}

#[tokio::test]
async fn an_accepted_message_gets_its_id_then_a_receipt_and_its_state_is_recorded() {
    let r = rig().await;
    let mut e = Esme::connect(r.addr).await;
    e.bind(BindMode::Transceiver, &r.creds.system_id, &r.creds.password)
        .await;
    let text = format!("{SIGNATURE}您的订单已发货");
    let seq = e
        .request(Body::SubmitSm(submit("8613800138000", &text, "TXN", 1)))
        .await;
    let mut delivers = Vec::new();
    let resp = e.recv_skipping(&mut delivers).await.expect("resp");
    assert_eq!(resp.sequence_number, seq);
    assert_eq!(resp.command_status, CommandStatus::ROK);
    let Body::SubmitSmResp(sr) = resp.body else {
        panic!("{resp:?}")
    };
    let id: u64 = sr.message_id.parse().expect("decimal id");
    let receipt = match delivers.pop() {
        Some(p) => p,
        None => e.recv().await.expect("receipt"),
    };
    let Body::DeliverSm(sm) = &receipt.body else {
        panic!("{receipt:?}")
    };
    let r2 = Receipt::from_deliver_sm(sm).expect("receipt");
    assert_eq!(r2.id, sr.message_id);
    assert_eq!(r2.state, Some(MessageState::Delivered));
    e.send(&smpp_proto::Pdu::response(
        receipt.sequence_number,
        CommandStatus::ROK,
        Body::DeliverSmResp(smpp_proto::SmResp::default()),
    ))
    .await;
    assert!(r.gateway.drain(Duration::from_secs(5)));
    let m = r.gateway.store().message(id).expect("store").expect("row");
    assert_eq!(m.text, text);
    assert_eq!(m.delivery, Delivery::Delivered);
}

#[tokio::test]
async fn a_rejected_message_gets_the_policy_status_and_a_receipt_naming_the_reason() {
    let r = rig().await;
    let mut e = Esme::connect(r.addr).await;
    e.bind(BindMode::Transceiver, &r.creds.system_id, &r.creds.password)
        .await;
    // Marketing (no service_type) to a phone that never consented.
    let text = format!("{SIGNATURE}双11全场五折 回T退订");
    e.request(Body::SubmitSm(submit("8613800138001", &text, "", 1)))
        .await;
    let mut delivers = Vec::new();
    let resp = e.recv_skipping(&mut delivers).await.expect("resp");
    assert_eq!(resp.command_status, CommandStatus::POLICY_REJECTED);
    let receipt = match delivers.pop() {
        Some(p) => p,
        None => e.recv().await.expect("receipt"),
    };
    let Body::DeliverSm(sm) = &receipt.body else {
        panic!("{receipt:?}")
    };
    let rc = Receipt::from_deliver_sm(sm).expect("receipt");
    assert_eq!(rc.state, Some(MessageState::Rejected));
    assert_eq!(rc.error.as_deref(), Some("101"), "no_consent");
    let id: u64 = rc.id.parse().expect("id");
    let m = r.gateway.store().message(id).expect("store").expect("row");
    assert_eq!(m.status, policy::Verdict::Rejected);

    // Without registered_delivery there is no receipt.
    e.request(Body::SubmitSm(submit("8613800138002", &text, "", 0)))
        .await;
    let resp = e.recv().await.expect("resp");
    assert_eq!(resp.command_status, CommandStatus::POLICY_REJECTED);
    e.request(Body::EnquireLink).await;
    let next = e.recv().await.expect("enquire_link_resp");
    assert!(matches!(next.body, Body::EnquireLinkResp), "{next:?}");
}

#[tokio::test]
async fn a_two_part_ucs2_message_is_reassembled_before_the_policy_sees_it() {
    let r = rig().await;
    let mut e = Esme::connect(r.addr).await;
    e.bind(BindMode::Transmitter, &r.creds.system_id, &r.creds.password)
        .await;
    let text = format!(
        "{SIGNATURE}您的快递已到达小区驿站，请凭取件码123456在今晚八点前领取，逾期将退回寄件人。如有疑问请致电客服热线。感谢您的支持，祝您生活愉快！"
    );
    let segs = split_text(&text, Concat::Udh8, 42).expect("split");
    assert_eq!(segs.len(), 2);
    let mut last = None;
    for seg in &segs {
        let mut sm = submit("8613800138003", "", "TXN", 0);
        seg.apply(&mut sm);
        e.request(Body::SubmitSm(sm)).await;
        let resp = e.recv().await.expect("resp");
        assert_eq!(resp.command_status, CommandStatus::ROK);
        last = Some(resp);
    }
    let Some(Body::SubmitSmResp(sr)) = last.map(|p| p.body) else {
        panic!("no response")
    };
    let id: u64 = sr
        .message_id
        .parse()
        .expect("the last part carries the message id");
    let m = r.gateway.store().message(id).expect("store").expect("row");
    assert_eq!(m.text, text);
}

#[tokio::test]
async fn replies_reach_the_merchants_receiver_bind_and_unbind_is_clean() {
    let r = rig().await;
    let mut rx = Esme::connect(r.addr).await;
    let resp = rx
        .bind(BindMode::Receiver, &r.creds.system_id, &r.creds.password)
        .await;
    assert_eq!(resp.command_status, CommandStatus::ROK);
    assert!(r.hub.deliver_reply(
        r.sender.id,
        "8613800138000",
        &r.sender.source_number,
        "好的 谢谢"
    ));
    let mo = rx.recv().await.expect("deliver_sm");
    let Body::DeliverSm(sm) = &mo.body else {
        panic!("{mo:?}")
    };
    assert_eq!(sm.destination.addr, r.sender.source_number);
    assert_eq!(
        smpp_proto::text::decode_text(sm.data_coding, sm.payload()),
        "好的 谢谢"
    );
    // A receiver bind may not submit.
    rx.request(Body::SubmitSm(submit("8613800138000", "x", "TXN", 0)))
        .await;
    let refused = rx.recv().await.expect("resp");
    assert_eq!(refused.command_status, CommandStatus::RINVBNDSTS);
    let seq = rx.request(Body::Unbind).await;
    let resp = rx.recv().await.expect("unbind_resp");
    assert_eq!(resp.sequence_number, seq);
    assert!(matches!(resp.body, Body::UnbindResp));
    assert!(rx.closed().await);
}

#[tokio::test]
async fn query_sm_reports_the_delivery_state_and_data_sm_is_refused() {
    let r = rig().await;
    let mut e = Esme::connect(r.addr).await;
    e.bind(BindMode::Transmitter, &r.creds.system_id, &r.creds.password)
        .await;
    let text = format!("{SIGNATURE}您的订单已签收");
    e.request(Body::SubmitSm(submit("8613800138004", &text, "TXN", 0)))
        .await;
    let resp = e.recv().await.expect("resp");
    let Body::SubmitSmResp(sr) = resp.body else {
        panic!("{resp:?}")
    };
    assert!(r.gateway.drain(Duration::from_secs(5)));
    // Loopback delivers at hand-off; the state is recorded right after.
    let mut state = None;
    for _ in 0..50 {
        e.request(Body::QuerySm(smpp_proto::QuerySm {
            message_id: sr.message_id.clone(),
            ..smpp_proto::QuerySm::default()
        }))
        .await;
        let q = e.recv().await.expect("query_sm_resp");
        assert_eq!(q.command_status, CommandStatus::ROK, "{q:?}");
        let Body::QuerySmResp(qr) = q.body else {
            panic!("{q:?}")
        };
        state = Some(qr.message_state);
        if qr.message_state == MessageState::Delivered {
            assert!(!qr.final_date.is_empty());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(state, Some(MessageState::Delivered));
    // Someone else's (or no) message: query fails rather than leaking it.
    e.request(Body::QuerySm(smpp_proto::QuerySm {
        message_id: "999999".into(),
        ..smpp_proto::QuerySm::default()
    }))
    .await;
    let q = e.recv().await.expect("query_sm_resp");
    assert_eq!(q.command_status, CommandStatus::RQUERYFAIL);
    e.request(Body::DataSm(smpp_proto::DataSm::default())).await;
    let d = e.recv().await.expect("data_sm_resp");
    assert!(matches!(d.body, Body::DataSmResp(_)), "{d:?}");
    assert_eq!(d.command_status, CommandStatus::RINVCMDID);
}
