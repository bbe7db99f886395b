//! The carrier client against a scripted SMSC: window cap, throttling, a dropped connection,
//! and receipts mapped back to our messages, without losing or duplicating acknowledged
//! messages.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use common::{SIGNATURE, open_gateway};
use gateway::{Principal, Submission};
use parking_lot::Mutex;
use smpp::{BindType, CarrierConfig, CarrierKind, MobileOriginated, ReceiptIdBase, SmppCarrier};
use smpp_proto::{BindResp, Body, CommandStatus, Decoder, MessageState, Pdu, Receipt, SmResp};
use store::{Delivery, MessageLog, SmppRegistry};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Default)]
struct Seen {
    /// Text of every submit_sm answered with ROK, with the id given.
    accepted: Vec<(String, String)>,
    /// Most submit_sm received and not yet answered at once.
    max_outstanding: usize,
    connections: usize,
}

/// A scripted SMSC: holds responses for 300 ms on the first connection (to see the window),
/// throttles the first submit_sm of the second connection, closes the first connection after
/// its 5th acknowledgement, and sends a receipt for every accepted message.
async fn smsc(listener: TcpListener, seen: Arc<Mutex<Seen>>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let conn = {
            let mut s = seen.lock();
            s.connections += 1;
            s.connections
        };
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            let mut decoder = Decoder::new();
            let mut buf = vec![0u8; 8192];
            let mut held: Vec<Pdu> = Vec::new();
            let start = tokio::time::Instant::now();
            let mut acked = 0;
            let mut throttled = false;
            let mut seq = 1000;
            loop {
                let n = match tokio::time::timeout(Duration::from_millis(50), stream.read(&mut buf))
                    .await
                {
                    Ok(Ok(0) | Err(_)) => return,
                    Ok(Ok(n)) => n,
                    Err(_) => 0,
                };
                decoder.extend(&buf[..n]);
                let mut out = Vec::new();
                while let Ok(Some(pdu)) = decoder.next_pdu() {
                    match &pdu.body {
                        Body::Bind(b) => {
                            let r = Pdu::response(
                                pdu.sequence_number,
                                CommandStatus::ROK,
                                Body::BindResp(BindResp::new(b.mode, "mock")),
                            );
                            r.encode_into(&mut out).expect("encode");
                        }
                        Body::EnquireLink => {
                            Pdu::response(
                                pdu.sequence_number,
                                CommandStatus::ROK,
                                Body::EnquireLinkResp,
                            )
                            .encode_into(&mut out)
                            .expect("encode");
                        }
                        Body::SubmitSm(_) => held.push(pdu),
                        _ => {}
                    }
                }
                {
                    let mut s = seen.lock();
                    s.max_outstanding = s.max_outstanding.max(held.len());
                }
                if conn == 1 && start.elapsed() < Duration::from_millis(300) {
                    stream.write_all(&out).await.expect("write");
                    continue;
                }
                for pdu in held.drain(..) {
                    let Body::SubmitSm(sm) = &pdu.body else {
                        continue;
                    };
                    if conn == 2 && !throttled {
                        throttled = true;
                        Pdu::response(
                            pdu.sequence_number,
                            CommandStatus::RTHROTTLED,
                            Body::SubmitSmResp(SmResp::default()),
                        )
                        .encode_into(&mut out)
                        .expect("encode");
                        continue;
                    }
                    let text = smpp_proto::text::decode_text(sm.data_coding, sm.payload());
                    let id = {
                        let mut s = seen.lock();
                        let id = format!("{:X}", 0xC000 + s.accepted.len());
                        s.accepted.push((text, id.clone()));
                        id
                    };
                    Pdu::response(
                        pdu.sequence_number,
                        CommandStatus::ROK,
                        Body::SubmitSmResp(SmResp::new(&id)),
                    )
                    .encode_into(&mut out)
                    .expect("encode");
                    // The receipt names the id in decimal; we answered in hex.
                    let receipt = Receipt {
                        id: u64::from_str_radix(&id, 16).expect("hex").to_string(),
                        state: Some(MessageState::Delivered),
                        ..Receipt::default()
                    };
                    seq += 1;
                    Pdu::request(
                        seq,
                        Body::DeliverSm(
                            receipt.to_deliver_sm(sm.destination.clone(), sm.source.clone()),
                        ),
                    )
                    .encode_into(&mut out)
                    .expect("encode");
                    acked += 1;
                    if conn == 1 && acked == 5 {
                        // Close without a reset (which could discard what we just wrote):
                        // shut our side, then drain the client's until it closes too.
                        let _ = stream.write_all(&out).await;
                        let _ = stream.shutdown().await;
                        while let Ok(Ok(n)) =
                            tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf))
                                .await
                        {
                            if n == 0 {
                                break;
                            }
                        }
                        return;
                    }
                }
                stream.write_all(&out).await.expect("write");
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_a_dropped_link_lose_and_duplicate_nothing_acknowledged() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let seen: Arc<Mutex<Seen>> = Arc::default();
    tokio::spawn(smsc(listener, Arc::clone(&seen)));

    let (carrier, link) = SmppCarrier::new(carrier_config(port)).expect("carrier");
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = open_gateway(dir.path(), carrier);
    let (sender, _) = gateway.create_sender("Shop", SIGNATURE).expect("sender");
    let _workers = gateway.start();
    let no_replies = |_: &MobileOriginated| Ok(());
    link.start(Arc::clone(&gateway), None, Arc::new(no_replies))
        .expect("link");

    let mut ids = HashMap::new();
    for i in 0..20 {
        let to = [format!("+86138001380{i:02}")];
        let text = format!("{SIGNATURE}取件码 {i}");
        let out = gateway
            .submit(
                Principal::Sender(sender.id),
                &Submission {
                    to: &to,
                    text: &text,
                    category: domain::Category::Verification,
                },
            )
            .expect("submit");
        assert_eq!(
            out[0].status,
            policy::Verdict::Accepted,
            "{:?}",
            out[0].reasons
        );
        ids.insert(text, out[0].id);
    }
    let mut done = false;
    for _ in 0..200 {
        done = ids.values().all(|id| {
            gateway
                .store()
                .message(*id)
                .ok()
                .flatten()
                .is_some_and(|m| m.delivery == Delivery::Delivered)
        });
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = seen.lock();
    let states: Vec<_> = ids
        .values()
        .map(|id| {
            gateway
                .store()
                .message(*id)
                .ok()
                .flatten()
                .map(|m| m.delivery)
        })
        .collect();
    assert!(
        done,
        "not all delivered; SMSC accepted {}: {states:?}",
        s.accepted.len()
    );
    assert!(s.connections >= 2, "the link reconnected");
    assert!(
        s.max_outstanding <= 3,
        "window 3 exceeded: {}",
        s.max_outstanding
    );
    assert_eq!(
        s.accepted.len(),
        20,
        "each message acknowledged exactly once"
    );
    let mut texts: Vec<&String> = s.accepted.iter().map(|(t, _)| t).collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 20);
    // The carrier's ids are persisted, so receipts after a restart still find our messages.
    for (text, carrier_id) in &s.accepted {
        let ours = gateway
            .store()
            .message_by_carrier_id("mock", carrier_id)
            .expect("store");
        assert_eq!(ours, ids.get(text).copied(), "{text}");
    }
}

/// Submits verification code number `i` to `to`; returns the message id.
fn submit_code(gateway: &gateway::Gateway, sender: domain::SenderId, to: &str, i: usize) -> u64 {
    let text = format!("{SIGNATURE}验证码 {i}");
    gateway
        .submit(
            Principal::Sender(sender),
            &Submission {
                to: &[to.to_owned()],
                text: &text,
                category: domain::Category::Verification,
            },
        )
        .expect("submit")[0]
        .id
}

fn carrier_config(port: u16) -> CarrierConfig {
    CarrierConfig {
        name: "mock".into(),
        kind: CarrierKind::Smpp,
        host: "127.0.0.1".into(),
        port,
        system_id: "consentry".into(),
        password: "pw".into(),
        system_type: String::new(),
        bind: BindType::Transceiver,
        window: 3,
        max_tps: 0,
        response_timeout_secs: 5,
        enquire_link_secs: 30,
        reconnect_max_secs: 1,
        queue: 100,
        routes: Vec::new(),
        // The scripted SMSC answers with hex ids and reports them in decimal.
        receipt_id_base: ReceiptIdBase::HexToDecimal,
    }
}

/// First run of a restart test: the carrier is down, five verification codes are handed off
/// (to +861390013900 … 04) and wait in the link's queue when the process "dies".
async fn hand_off_while_the_carrier_is_down(dir: &std::path::Path) -> Vec<u64> {
    // First run: the carrier is down, so hand-offs wait in the link's queue.
    let down = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let down_port = down.local_addr().expect("addr").port();
    drop(down);
    let (carrier, link) = SmppCarrier::new(carrier_config(down_port)).expect("carrier");
    let gateway = open_gateway(dir, carrier);
    let (sender, _) = gateway.create_sender("Shop", SIGNATURE).expect("sender");
    let workers = gateway.start();
    let no_replies = |_: &MobileOriginated| Ok(());
    let task = link
        .start(Arc::clone(&gateway), None, Arc::new(no_replies))
        .expect("link");
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(submit_code(
            &gateway,
            sender.id,
            &format!("+86139001390{i:02}"),
            i,
        ));
    }
    assert!(gateway.drain(Duration::from_secs(5)), "handed off");
    for id in &ids {
        let m = gateway.store().message(*id).expect("store").expect("row");
        assert_eq!(m.delivery, Delivery::Submitted);
    }
    // The process "dies": link, workers and gateway go away with the queue.
    task.abort();
    drop(workers);
    drop(gateway);
    ids
}

async fn all_delivered(gateway: &gateway::Gateway, ids: &[u64]) -> bool {
    for _ in 0..200 {
        let done = ids.iter().all(|id| {
            gateway
                .store()
                .message(*id)
                .ok()
                .flatten()
                .is_some_and(|m| m.delivery == Delivery::Delivered)
        });
        if done {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resends_what_was_handed_off_but_never_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ids = hand_off_while_the_carrier_is_down(dir.path()).await;
    let no_replies = |_: &MobileOriginated| Ok(());

    // Second run, carrier up: what was queued is sent, once.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let seen: Arc<Mutex<Seen>> = Arc::default();
    tokio::spawn(smsc(listener, Arc::clone(&seen)));
    let (carrier, link) = SmppCarrier::new(carrier_config(port)).expect("carrier");
    let gateway = open_gateway(dir.path(), carrier);
    let _workers = gateway.start();
    link.start(Arc::clone(&gateway), None, Arc::new(no_replies))
        .expect("link");
    assert!(
        all_delivered(&gateway, &ids).await,
        "resent after the restart"
    );
    assert_eq!(seen.lock().accepted.len(), 5, "each exactly once");
}

/// With two carriers routed by prefix, each link resends after a restart only what is routed
/// to it: every message once, through the carrier of its number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_each_routed_carrier_resends_only_its_own_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ids = hand_off_while_the_carrier_is_down(dir.path()).await;
    let no_replies = |_: &MobileOriginated| Ok(());
    let mut carriers = Vec::new();
    let mut links = Vec::new();
    let mut seens = Vec::new();
    for (name, routes) in [
        (
            "a",
            vec!["8613900139000".to_owned(), "+8613900139001".into()],
        ),
        ("b", vec![]),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
        let port = listener.local_addr().expect("addr").port();
        let seen: Arc<Mutex<Seen>> = Arc::default();
        tokio::spawn(smsc(listener, Arc::clone(&seen)));
        let (carrier, link) = SmppCarrier::new(CarrierConfig {
            name: name.into(),
            ..carrier_config(port)
        })
        .expect("carrier");
        carriers.push((carrier as Arc<dyn gateway::Carrier>, routes));
        links.push((name, link));
        seens.push(seen);
    }
    let routed = Arc::new(gateway::RoutedCarriers::new(carriers).expect("routes"));
    let gateway = open_gateway(dir.path(), Arc::clone(&routed) as Arc<dyn gateway::Carrier>);
    let _workers = gateway.start();
    for (name, link) in links {
        let routed = Arc::clone(&routed);
        link.serving(move |phone| {
            routed
                .route(phone.as_u64())
                .is_some_and(|c| c.name() == name)
        })
        .start(Arc::clone(&gateway), None, Arc::new(no_replies))
        .expect("link");
    }
    assert!(
        all_delivered(&gateway, &ids).await,
        "resent after the restart"
    );
    let texts = |seen: &Arc<Mutex<Seen>>| {
        let mut t: Vec<String> = seen
            .lock()
            .accepted
            .iter()
            .map(|(text, _)| text.clone())
            .collect();
        t.sort();
        t
    };
    let codes = |range: std::ops::Range<u32>| -> Vec<String> {
        range.map(|i| format!("{SIGNATURE}验证码 {i}")).collect()
    };
    assert_eq!(texts(&seens[0]), codes(0..2));
    assert_eq!(texts(&seens[1]), codes(2..5));
}

/// An SMSC that numbers its messages from 1 in hex and sends every receipt, in decimal, only
/// once it has `n` messages: by then hex `10` (the 16th) and decimal `10` (the 10th) are both
/// known ids. Odd-numbered messages are reported undeliverable.
async fn late_receipts_smsc(listener: TcpListener, n: usize) {
    let Ok((mut stream, _)) = listener.accept().await else {
        return;
    };
    let mut decoder = Decoder::new();
    let mut buf = vec![0u8; 8192];
    let mut submitted = Vec::new();
    let mut seq = 5000;
    loop {
        let Ok(read) = stream.read(&mut buf).await else {
            return;
        };
        if read == 0 {
            return;
        }
        decoder.extend(&buf[..read]);
        let mut out = Vec::new();
        while let Ok(Some(pdu)) = decoder.next_pdu() {
            let (status, body) = match &pdu.body {
                Body::Bind(b) => (
                    CommandStatus::ROK,
                    Body::BindResp(BindResp::new(b.mode, "mock")),
                ),
                Body::EnquireLink => (CommandStatus::ROK, Body::EnquireLinkResp),
                Body::SubmitSm(sm) => {
                    submitted.push((sm.destination.clone(), sm.source.clone()));
                    let id = format!("{:x}", submitted.len());
                    (CommandStatus::ROK, Body::SubmitSmResp(SmResp::new(&id)))
                }
                _ => continue,
            };
            Pdu::response(pdu.sequence_number, status, body)
                .encode_into(&mut out)
                .expect("encode");
        }
        if submitted.len() == n {
            for (i, (destination, source)) in submitted.drain(..).enumerate() {
                let number = i + 1;
                let receipt = Receipt {
                    id: number.to_string(),
                    state: Some(if number % 2 == 1 {
                        MessageState::Undeliverable
                    } else {
                        MessageState::Delivered
                    }),
                    ..Receipt::default()
                };
                seq += 1;
                Pdu::request(
                    seq,
                    Body::DeliverSm(receipt.to_deliver_sm(destination, source)),
                )
                .encode_into(&mut out)
                .expect("encode");
            }
        }
        stream.write_all(&out).await.expect("write");
    }
}

/// Receipts name the right message when the carrier's decimal ids are also valid hex ids of
/// other messages: the base is configured, not guessed per receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_in_another_base_match_their_own_message() {
    const N: usize = 20;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(late_receipts_smsc(listener, N));
    let (carrier, link) = SmppCarrier::new(CarrierConfig {
        window: 50,
        ..carrier_config(port)
    })
    .expect("carrier");
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = open_gateway(dir.path(), carrier);
    let (sender, _) = gateway.create_sender("Shop", SIGNATURE).expect("sender");
    let _workers = gateway.start();
    let no_replies = |_: &MobileOriginated| Ok(());
    link.start(Arc::clone(&gateway), None, Arc::new(no_replies))
        .expect("link");
    let mut ids = Vec::new();
    // One at a time, so the SMSC numbers them in submission order.
    for i in 0..N {
        let id = submit_code(&gateway, sender.id, &format!("+86139001391{i:02}"), i);
        ids.push(id);
        assert!(gateway.drain(Duration::from_secs(5)), "handed off");
        for _ in 0..100 {
            if gateway
                .store()
                .message(id)
                .ok()
                .flatten()
                .is_some_and(|m| m.delivery == Delivery::Submitted)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let want = |i: usize| {
        if (i + 1) % 2 == 1 {
            Delivery::Failed
        } else {
            Delivery::Delivered
        }
    };
    let mut states = Vec::new();
    for _ in 0..200 {
        states = ids
            .iter()
            .map(|id| {
                gateway
                    .store()
                    .message(*id)
                    .expect("store")
                    .expect("row")
                    .delivery
            })
            .collect::<Vec<_>>();
        if states.iter().enumerate().all(|(i, d)| *d == want(i)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let expected: Vec<Delivery> = (0..N).map(want).collect();
    assert_eq!(states, expected);
}

fn opt(
    gateway: &gateway::Gateway,
    sender: domain::SenderId,
    phone: &str,
    action: domain::ConsentAction,
) {
    gateway
        .record_consents(
            Principal::Admin,
            &[gateway::ConsentRequest {
                phone: phone.into(),
                action,
                scope: domain::Scope::Sender,
                sender: Some(sender),
                source: domain::ConsentSource::Web,
                evidence: "test".into(),
                at: None,
            }],
        )
        .expect("consent");
}

/// The ordering promise across a carrier outage: marketing accepted and handed to the link
/// while the carrier is down waits in the link's queue; the consumer opts out meanwhile; when
/// the carrier comes back the message is not sent, and says why. A notice queued behind it
/// still goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketing_queued_during_an_outage_is_not_sent_after_an_opt_out() {
    let down = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = down.local_addr().expect("addr").port();
    drop(down);
    let (carrier, link) = SmppCarrier::new(carrier_config(port)).expect("carrier");
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = open_gateway(dir.path(), carrier);
    let (sender, _) = gateway.create_sender("Shop", SIGNATURE).expect("sender");
    let _workers = gateway.start();
    let no_replies = |_: &MobileOriginated| Ok(());
    link.start(Arc::clone(&gateway), None, Arc::new(no_replies))
        .expect("link");
    const PHONE: &str = "+8613900139777";
    opt(&gateway, sender.id, PHONE, domain::ConsentAction::OptIn);
    let submit = |text: String, category| {
        gateway
            .submit(
                Principal::Sender(sender.id),
                &Submission {
                    to: &[PHONE.to_owned()],
                    text: &text,
                    category,
                },
            )
            .expect("submit")[0]
            .id
    };
    let ad = submit(
        format!("{SIGNATURE}双11全场5折，回T退订"),
        domain::Category::Marketing,
    );
    let notice = submit(
        format!("{SIGNATURE}您的订单已发货"),
        domain::Category::Transactional,
    );
    assert!(gateway.drain(Duration::from_secs(5)), "handed to the link");
    let delivery = |id| gateway.store().message(id).expect("store").expect("row");
    assert_eq!(delivery(ad).delivery, Delivery::Submitted);
    // The consumer refuses while the carrier is unreachable.
    opt(&gateway, sender.id, PHONE, domain::ConsentAction::OptOut);
    // The carrier comes back on the same port.
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("same port");
    let seen: Arc<Mutex<Seen>> = Arc::default();
    tokio::spawn(smsc(listener, Arc::clone(&seen)));
    let mut done = false;
    for _ in 0..200 {
        done = delivery(notice).delivery == Delivery::Delivered
            && delivery(ad).delivery == Delivery::NotSent;
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let m = delivery(ad);
    assert!(
        done,
        "notice {:?}, ad {:?}",
        delivery(notice).delivery,
        m.delivery
    );
    assert_eq!(m.status, policy::Verdict::Rejected);
    assert!(
        m.reasons
            .iter()
            .any(|r| r.code == policy::ReasonCode::OptedOut),
        "{:?}",
        m.reasons
    );
    let texts: Vec<String> = seen
        .lock()
        .accepted
        .iter()
        .map(|(t, _)| t.clone())
        .collect();
    assert_eq!(texts, [format!("{SIGNATURE}您的订单已发货")]);
}

/// An SMSC that delivers a two-part reply across a dropped connection: part 1 on the first
/// connection (acknowledged), then it closes; part 2 on the next one, as carriers redeliver.
async fn split_reply_smsc(listener: TcpListener, from: String, to: String, text: String) {
    let segments =
        smpp_proto::concat::split_text(&text, smpp_proto::concat::Concat::Udh8, 7).expect("split");
    assert_eq!(segments.len(), 2, "the test needs a two-part reply");
    for (conn, segment) in segments.iter().enumerate() {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let mut decoder = Decoder::new();
        let mut buf = vec![0u8; 8192];
        let mut sent = false;
        loop {
            let read = match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            decoder.extend(&buf[..read]);
            let mut out = Vec::new();
            let mut acked = false;
            while let Ok(Some(pdu)) = decoder.next_pdu() {
                match &pdu.body {
                    Body::Bind(b) => Pdu::response(
                        pdu.sequence_number,
                        CommandStatus::ROK,
                        Body::BindResp(BindResp::new(b.mode, "mock")),
                    )
                    .encode_into(&mut out)
                    .expect("encode"),
                    Body::EnquireLink => Pdu::response(
                        pdu.sequence_number,
                        CommandStatus::ROK,
                        Body::EnquireLinkResp,
                    )
                    .encode_into(&mut out)
                    .expect("encode"),
                    Body::DeliverSmResp(_) => acked = true,
                    _ => {}
                }
            }
            if !sent {
                let mut sm = smpp_proto::ShortMessage {
                    source: smpp_proto::Address::international(&from),
                    destination: smpp_proto::Address::new(0, 1, &to),
                    ..smpp_proto::ShortMessage::default()
                };
                segment.apply(&mut sm);
                Pdu::request(
                    100 + u32::try_from(conn).expect("small"),
                    Body::DeliverSm(sm),
                )
                .encode_into(&mut out)
                .expect("encode");
                sent = true;
            }
            stream.write_all(&out).await.expect("write");
            if acked && conn == 0 {
                // Part 1 was acknowledged: drop the connection before part 2.
                let _ = stream.shutdown().await;
                break;
            }
        }
    }
    // Keep the second connection's peer alive until the test ends.
    std::future::pending::<()>().await;
}

/// A two-part opt-out whose parts arrive on two connections (the link dropped in between)
/// still opts the phone out: segments wait across reconnections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_part_reply_completes_across_a_reconnection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let (carrier, link) = SmppCarrier::new(carrier_config(port)).expect("carrier");
    let dir = tempfile::tempdir().expect("tempdir");
    let gateway = open_gateway(dir.path(), carrier);
    let (sender, _) = gateway.create_sender("Shop", SIGNATURE).expect("sender");
    const PHONE: &str = "+8613900139555";
    opt(&gateway, sender.id, PHONE, domain::ConsentAction::OptIn);
    let text = format!(
        "退订。{}",
        "我已经说过很多次了，请不要再给我发送任何营销短信，".repeat(3)
    );
    tokio::spawn(split_reply_smsc(
        listener,
        PHONE.trim_start_matches('+').to_owned(),
        sender.source_number.clone(),
        text,
    ));
    let _workers = gateway.start();
    let replies = Arc::clone(&gateway);
    let on_reply = move |mo: &MobileOriginated| {
        replies
            // The test's clock is not the wall clock `received_at` is read from.
            .handle_reply(&mo.from, &mo.to, &mo.text, None)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    link.start(Arc::clone(&gateway), None, Arc::new(on_reply))
        .expect("link");
    let mut state = String::new();
    for _ in 0..100 {
        let view = gateway
            .consents(Principal::Admin, PHONE, None)
            .expect("consents");
        state = view.senders[0].state.to_owned();
        if state == "opted_out" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "opted_out");
}

/// Marketing handed to the link before a restart, resumed after it during quiet hours, is
/// decided again (deferred) and sent in the morning — not skipped as "already resumed" (found in
/// review: it stayed `submitted` and was never sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_marketing_deferred_at_the_wire_is_sent_in_the_morning() {
    let dir = tempfile::tempdir().expect("tempdir");
    const PHONE: &str = "+8613900139888";
    let text = format!("{SIGNATURE}双11全场5折，回T退订");
    // Run 1, noon, the carrier down: the ad waits in the link's queue when the process dies.
    let down = TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let port = down.local_addr().expect("addr").port();
    drop(down);
    let ad = {
        let (carrier, link) = SmppCarrier::new(carrier_config(port)).expect("carrier");
        let gateway = open_gateway(dir.path(), carrier);
        let (sender, _) = gateway.create_sender("Shop", SIGNATURE).expect("sender");
        opt(&gateway, sender.id, PHONE, domain::ConsentAction::OptIn);
        let workers = gateway.start();
        let task = link
            .start(
                Arc::clone(&gateway),
                None,
                Arc::new(|_: &MobileOriginated| Ok(())),
            )
            .expect("link");
        let ad = gateway
            .submit(
                Principal::Sender(sender.id),
                &Submission {
                    to: &[PHONE.to_owned()],
                    text: &text,
                    category: domain::Category::Marketing,
                },
            )
            .expect("submit")[0]
            .id;
        assert!(gateway.drain(Duration::from_secs(5)), "handed to the link");
        task.abort();
        drop(workers);
        ad
    };
    // Run 2 at 22:00 in Shanghai (quiet hours), the carrier up.
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("same port");
    let seen: Arc<Mutex<Seen>> = Arc::default();
    tokio::spawn(smsc(listener, Arc::clone(&seen)));
    let (carrier, link) = SmppCarrier::new(carrier_config(port)).expect("carrier");
    let clock = domain::ManualClock::new("2026-11-28T14:00:00Z".parse().expect("time"));
    let gateway = gateway::Gateway::open(
        store::Store::open_sqlite(dir.path(), store::Durability::Normal).expect("store"),
        gateway::GatewayConfig::default(),
        policy::Policy::new(&policy::PolicyConfig::default()).expect("policy"),
        Arc::new(clock.clone()),
        carrier,
    )
    .expect("gateway");
    let _workers = gateway.start();
    link.start(
        Arc::clone(&gateway),
        None,
        Arc::new(|_: &MobileOriginated| Ok(())),
    )
    .expect("link");
    let status = |gateway: &gateway::Gateway| {
        gateway
            .store()
            .message(ad)
            .expect("store")
            .expect("row")
            .status
    };
    for _ in 0..100 {
        if status(&gateway) == policy::Verdict::Deferred {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status(&gateway),
        policy::Verdict::Deferred,
        "decided again at the wire"
    );
    assert!(
        seen.lock().accepted.is_empty(),
        "nothing sent in quiet hours"
    );
    // Morning.
    clock.set("2026-11-29T01:00:00Z".parse().expect("time"));
    gateway.tick().expect("tick");
    let mut sent = false;
    for _ in 0..200 {
        sent = seen.lock().accepted.iter().any(|(t, _)| *t == text);
        if sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sent, "the ad goes out in the morning");
}
