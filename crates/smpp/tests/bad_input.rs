//! Bad input over the wire: lying lengths, truncation, unknown commands, a client that never
//! reads, a flood of connections. Each must get the right answer or a closed socket, and never
//! disturb the other sessions.

mod common;

use std::time::Duration;

use common::{Esme, SIGNATURE, rig, rig_with};
use smpp::ServerConfig;
use smpp_proto::{Address, BindMode, Body, CommandStatus, Pdu, ShortMessage};
use tokio::io::AsyncWriteExt;

fn header(length: u32, command_id: u32, seq: u32) -> Vec<u8> {
    let mut h = Vec::new();
    for w in [length, command_id, 0, seq] {
        h.extend_from_slice(&w.to_be_bytes());
    }
    h
}

/// A bound session still works: submits a transactional message and gets ROK.
async fn still_serves(r: &common::Rig) {
    let mut e = Esme::connect(r.addr).await;
    let resp = e
        .bind(BindMode::Transmitter, &r.creds.system_id, &r.creds.password)
        .await;
    assert_eq!(resp.command_status, CommandStatus::ROK);
    let (data_coding, short_message) =
        smpp_proto::text::encode_text(&format!("{SIGNATURE}验证码 {}", e.seq));
    e.request(Body::SubmitSm(ShortMessage {
        service_type: "OTP".into(),
        destination: Address::international("8613900139000"),
        data_coding,
        short_message,
        ..ShortMessage::default()
    }))
    .await;
    let resp = e.recv().await.expect("submit_sm_resp");
    assert_eq!(resp.command_status, CommandStatus::ROK, "{resp:?}");
}

#[tokio::test]
async fn lying_command_lengths_get_generic_nack_and_a_closed_socket() {
    let r = rig().await;
    for length in [0u32, 15, 1 << 31, u32::MAX] {
        let mut e = Esme::connect(r.addr).await;
        e.write_raw(&header(length, 0x15, 9)).await;
        let nack = e.recv().await.expect("generic_nack");
        assert!(matches!(nack.body, Body::GenericNack), "{length}: {nack:?}");
        assert_eq!(nack.command_status, CommandStatus::RINVCMDLEN, "{length}");
        assert!(e.closed().await, "{length}: connection left open");
    }
    still_serves(&r).await;
}

#[tokio::test]
async fn unknown_commands_are_nacked_and_the_session_goes_on() {
    let r = rig().await;
    let mut e = Esme::connect(r.addr).await;
    e.bind(BindMode::Transceiver, &r.creds.system_id, &r.creds.password)
        .await;
    e.write_raw(&header(16, 0x0000_0099, 77)).await;
    let nack = e.recv().await.expect("generic_nack");
    assert!(matches!(nack.body, Body::GenericNack));
    assert_eq!(nack.command_status, CommandStatus::RINVCMDID);
    assert_eq!(nack.sequence_number, 77);
    // A known command with a malformed body gets its own response with an error status.
    let mut bad_submit = header(20, 0x04, 78);
    bad_submit.extend_from_slice(&[0xFF; 4]); // service_type without its NUL, then nothing
    e.write_raw(&bad_submit).await;
    let resp = e.recv().await.expect("submit_sm_resp");
    assert!(matches!(resp.body, Body::SubmitSmResp(_)), "{resp:?}");
    assert!(!resp.command_status.is_ok());
    e.request(Body::EnquireLink).await;
    let ok = e.recv().await.expect("enquire_link_resp");
    assert!(matches!(ok.body, Body::EnquireLinkResp));
}

#[tokio::test]
async fn a_truncated_pdu_then_hangup_leaves_the_server_serving() {
    let r = rig().await;
    for cut in [1usize, 4, 10, 17, 30] {
        let mut e = Esme::connect(r.addr).await;
        let bind = Pdu::request(
            1,
            Body::Bind(smpp_proto::Bind::new(
                BindMode::Transmitter,
                &r.creds.system_id,
                &r.creds.password,
            )),
        )
        .encode()
        .expect("encode");
        e.write_raw(&bind[..cut.min(bind.len() - 1)]).await;
        let _ = e.stream.shutdown().await;
    }
    still_serves(&r).await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_without_stalling_others() {
    let config = ServerConfig {
        outbound_queue: 16,
        write_timeout_secs: 1,
        ..ServerConfig::default()
    };
    let r = rig_with(config, None).await;
    let mut hog = Esme::connect(r.addr).await;
    hog.bind(BindMode::Transceiver, &r.creds.system_id, &r.creds.password)
        .await;
    // 16 MB of enquire_link: the responses fill every buffer between us and the server.
    let one = Pdu::request(5, Body::EnquireLink).encode().expect("encode");
    let burst: Vec<u8> = one
        .iter()
        .copied()
        .cycle()
        .take(one.len() * 65_536)
        .collect();
    let writer = tokio::spawn(async move {
        let mut hog = hog;
        for _ in 0..16 {
            if hog.stream.write_all(&burst).await.is_err() {
                break;
            }
        }
        hog
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Meanwhile another merchant session is served promptly.
    tokio::time::timeout(Duration::from_secs(10), still_serves(&r))
        .await
        .expect("other sessions are not blocked");
    // The hog is closed once its writes have been blocked for the write timeout.
    let mut closed = false;
    for _ in 0..100 {
        if r.server.open_sessions() <= 1 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed, "{} sessions still open", r.server.open_sessions());
    writer.abort();
}

#[tokio::test]
async fn a_flood_of_connections_is_capped_and_binds_work_after_it() {
    let config = ServerConfig {
        max_sessions: 4,
        ..ServerConfig::default()
    };
    let r = rig_with(config, None).await;
    let mut flood = Vec::new();
    for _ in 0..64 {
        flood.push(Esme::connect(r.addr).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(r.server.open_sessions(), 4);
    // Connections beyond the cap were closed at once.
    let mut closed = 0;
    for e in flood.iter_mut().skip(4) {
        if e.closed().await {
            closed += 1;
        }
    }
    assert_eq!(closed, 60);
    // Wrong passwords three times close the connection.
    let mut guesser = flood.swap_remove(0);
    for _ in 0..3 {
        let resp = guesser
            .bind(BindMode::Transmitter, &r.creds.system_id, "guess")
            .await;
        assert_eq!(resp.command_status, CommandStatus::RINVPASWD);
    }
    assert!(guesser.closed().await);
    drop(flood);
    drop(guesser);
    tokio::time::sleep(Duration::from_millis(300)).await;
    still_serves(&r).await;
}

#[tokio::test]
async fn a_connection_that_never_binds_is_closed_and_frees_its_slot() {
    let config = ServerConfig {
        max_sessions: 1,
        bind_timeout_secs: 1,
        ..ServerConfig::default()
    };
    let r = rig_with(config, None).await;
    let mut idle = Esme::connect(r.addr).await;
    // A header's worth of a PDU that never completes: the decoder holds at most one frame.
    idle.write_raw(&header(60_000, 0x04, 3)[..8]).await;
    assert!(idle.closed().await, "closed after the bind timeout");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(r.server.open_sessions(), 0);
    still_serves(&r).await;
}

#[tokio::test]
async fn oversized_multipart_segments_are_refused_before_they_are_held() {
    let r = rig().await;
    let mut e = Esme::connect(r.addr).await;
    e.bind(BindMode::Transmitter, &r.creds.system_id, &r.creds.password)
        .await;
    // A UDH saying "part 1 of 255": more parts than any message may have.
    let mut short_message = vec![0x05, 0x00, 0x03, 0x2A, 0xFF, 0x01];
    short_message.extend_from_slice(b"hello");
    e.request(Body::SubmitSm(ShortMessage {
        destination: Address::international("8613900139000"),
        esm_class: smpp_proto::pdu::ESM_CLASS_UDHI,
        short_message,
        ..ShortMessage::default()
    }))
    .await;
    let resp = e.recv().await.expect("submit_sm_resp");
    assert_eq!(resp.command_status, CommandStatus::RINVMSGLEN);
    // A 2-part segment carried in a 60 KB message_payload.
    let mut payload = vec![0x05, 0x00, 0x03, 0x2B, 0x02, 0x01];
    payload.extend(std::iter::repeat_n(b'a', 60_000));
    let mut sm = ShortMessage {
        destination: Address::international("8613900139000"),
        esm_class: smpp_proto::pdu::ESM_CLASS_UDHI,
        ..ShortMessage::default()
    };
    sm.tlvs.push(smpp_proto::Tlv::MessagePayload(payload));
    e.request(Body::SubmitSm(sm)).await;
    let resp = e.recv().await.expect("submit_sm_resp");
    assert_eq!(resp.command_status, CommandStatus::RINVMSGLEN);
    still_serves(&r).await;
}

/// Issue #14, item 5: 256 slots in all and none per address, and an unbound connection kept its
/// slot 10 s — 300 held connections let 2 of 25 real binds through. Now one address holds at
/// most `max_sessions_per_address`, connections that never bind at most `max_unbound`, and
/// each for `bind_timeout_secs`; a merchant elsewhere binds every time.
#[tokio::test]
async fn held_unbound_connections_from_one_address_leave_room_for_binds_from_others() {
    let config = ServerConfig {
        max_sessions: 64,
        max_sessions_per_address: 8,
        max_unbound: 16,
        bind_timeout_secs: 1,
        ..ServerConfig::default()
    };
    let r = rig_with(config, None).await;
    let attacker: std::net::IpAddr = "127.0.0.2".parse().unwrap();
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(Esme::connect_from(r.addr, attacker).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(r.server.open_sessions(), 8, "one address holds 8 at most");
    for i in 0..25 {
        let mut e = Esme::connect(r.addr).await;
        let resp = e
            .bind(BindMode::Transmitter, &r.creds.system_id, &r.creds.password)
            .await;
        assert_eq!(resp.command_status, CommandStatus::ROK, "bind {i}");
    }
    // The attacker's connections that never bound are closed after the bind timeout.
    let mut closed = 0;
    for e in held.iter_mut().take(8) {
        if e.closed().await {
            closed += 1;
        }
    }
    assert_eq!(closed, 8);
}
