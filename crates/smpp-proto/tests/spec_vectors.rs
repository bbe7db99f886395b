//! Known byte vectors: PDUs captured from real SMSCs and simulators (published as test data by
//! other SMPP implementations) and hand-assembled from the SMPP 3.4 field tables.
//! Each is decoded, checked field by field, and re-encoded to the same octets where the
//! encoding is canonical.

mod common;

use common::hex;
use smpp_proto::receipt::Receipt;
use smpp_proto::text::decode_text;
use smpp_proto::tlv::Tlv;
use smpp_proto::{
    Address, Bind, BindMode, BindResp, Body, CommandStatus, DataSm, MessageState, Outbind, Pdu,
    QuerySm, QuerySmResp, ShortMessage, SmResp, decode_frame,
};

fn decode(h: &str) -> Pdu {
    decode_frame(&hex(h)).expect("valid vector")
}

fn assert_canonical(h: &str) -> Pdu {
    let pdu = decode(h);
    assert_eq!(
        pdu.encode().expect("encodes"),
        hex(h),
        "re-encoding {pdu:?}"
    );
    pdu
}

#[test]
fn enquire_link_and_resp() {
    let pdu = assert_canonical("00000010 00000015 00000000 0a342ee7");
    assert_eq!(pdu, Pdu::request(171_192_039, Body::EnquireLink));
    let pdu = assert_canonical("00000010 80000015 00000000 0a342eed");
    assert_eq!(pdu.body, Body::EnquireLinkResp);
    assert_eq!(pdu.sequence_number, 171_192_045);
}

#[test]
fn unbind_and_resp_and_generic_nack() {
    assert_eq!(
        assert_canonical("00000010 00000006 00000000 00000002").body,
        Body::Unbind
    );
    assert_eq!(
        assert_canonical("00000010 80000006 00000000 00000002").body,
        Body::UnbindResp
    );
    let nack = assert_canonical("00000010 80000000 00000003 00000005");
    assert_eq!(nack, Pdu::generic_nack(5, CommandStatus::RINVCMDID));
}

#[test]
fn bind_transmitter_receiver_transceiver() {
    let pdu = assert_canonical(
        "00000025 00000002 00000000 0003995f 7477697474657200 7477697474657200 00 34 00 00 00",
    );
    let mut expected = Bind::new(BindMode::Transmitter, "twitter", "twitter");
    assert_eq!(pdu.body, Body::Bind(expected.clone()));

    let pdu = assert_canonical(
        "00000025 00000001 00000000 00039961 7477697474657200 7477697474657200 00 34 00 00 00",
    );
    expected.mode = BindMode::Receiver;
    assert_eq!(pdu.body, Body::Bind(expected));

    let pdu = assert_canonical(
        "00000023 00000009 00000000 00039951 414c4c5f545700 414c4c5f545700 00 34 01 02 00",
    );
    let Body::Bind(b) = pdu.body else {
        panic!("bind")
    };
    assert_eq!(
        (b.mode, b.system_id.as_str()),
        (BindMode::Transceiver, "ALL_TW")
    );
    assert_eq!(b.address_range, Address::new(1, 2, ""));
}

#[test]
fn bind_responses_with_and_without_tlvs() {
    let pdu =
        assert_canonical("0000001d 80000009 00000000 00039943 536d7363204757 00 0210 0001 34");
    let mut expected = BindResp::new(BindMode::Transceiver, "Smsc GW");
    expected.tlvs.push(Tlv::ScInterfaceVersion(0x34));
    assert_eq!(pdu.body, Body::BindResp(expected));

    let pdu = assert_canonical("0000001d 80000002 00000000 0003995f 5457495454455200 0210 0001 34");
    assert!(matches!(pdu.body, Body::BindResp(ref b) if b.mode == BindMode::Transmitter));

    // A failed bind that still names the SMSC.
    let pdu = assert_canonical("00000015 80000009 0000000e 00004db3 534d534300");
    assert_eq!(pdu.command_status, CommandStatus::RINVPASWD);
    assert!(matches!(pdu.body, Body::BindResp(ref b) if b.system_id == "SMSC"));
}

#[test]
fn outbind_layout() {
    let pdu = Pdu::request(
        1,
        Body::Outbind(Outbind {
            system_id: "smsc".into(),
            password: "pw".into(),
        }),
    );
    assert_eq!(
        pdu.encode().expect("encodes"),
        hex("00000018 0000000b 00000000 00000001 736d736300 707700")
    );
}

#[test]
fn submit_sm_resp_variants() {
    let pdu = assert_canonical("0000001c 80000004 00000000 0a342ee1 393432353834333135393400");
    assert_eq!(pdu.body, Body::SubmitSmResp(SmResp::new("94258431594")));
    // No body at all (some SMSCs), and an explicit empty id: both decode to an empty id.
    assert_eq!(
        decode("00000010 80000004 00000000 0a342ee1").body,
        Body::SubmitSmResp(SmResp::default())
    );
    assert_eq!(
        decode("00000011 80000004 00000000 0a342ee1 00").body,
        Body::SubmitSmResp(SmResp::default())
    );
    // An error response with no body is re-encoded without one.
    let throttled = Pdu::response(
        9,
        CommandStatus::RTHROTTLED,
        Body::SubmitSmResp(SmResp::default()),
    );
    assert_eq!(
        throttled.encode().expect("encodes"),
        hex("00000010 80000004 00000058 00000009")
    );
}

#[test]
fn deliver_sm_resp_and_data_sm_resp() {
    let pdu = assert_canonical("0000001c 80000005 00000000 00116ac7 393432353834333135393400");
    assert_eq!(pdu.body, Body::DeliverSmResp(SmResp::new("94258431594")));
    let pdu = assert_canonical("00000011 80000005 00000000 00116ac7 00");
    assert_eq!(pdu.body, Body::DeliverSmResp(SmResp::default()));
    let pdu = assert_canonical("0000001c 80000103 00000000 00116ac7 393432353834333135393400");
    assert_eq!(pdu.body, Body::DataSmResp(SmResp::new("94258431594")));
}

#[test]
fn deliver_sm_with_latin1_text() {
    let pdu = assert_canonical(
        "0000004d 00000005 00000000 9f88f124 4157534244 00 01 01 313635303535353132333400 \
         01 01 313737333535353430373000 00 00 00 00 00 00 00 03 00 11 \
         7468657265206973206e6f2073706f6f6e",
    );
    let Body::DeliverSm(sm) = pdu.body else {
        panic!("deliver_sm")
    };
    assert_eq!(sm.service_type, "AWSBD");
    assert_eq!(sm.source, Address::international("16505551234"));
    assert_eq!(sm.destination, Address::international("17735554070"));
    assert_eq!(
        decode_text(sm.data_coding, &sm.short_message),
        "there is no spoon"
    );
}

#[test]
fn deliver_sm_with_unknown_tlvs_preserved() {
    let pdu = assert_canonical(
        "00000040 00000005 00000000 00000003 00 02 01 383736353433323100 04 09 343034303400 \
         00 00 00 00 00 00 00 00 00 08 4024232125262F3A 000E 0001 01 0006 0001 01",
    );
    let Body::DeliverSm(sm) = pdu.body else {
        panic!("deliver_sm")
    };
    // 0x24 is the currency sign in GSM 03.38, not the dollar.
    assert_eq!(decode_text(0, &sm.short_message), "¡¤#!%&/:");
    assert_eq!(
        sm.tlvs.0,
        vec![
            Tlv::Other {
                tag: 0x000E,
                value: vec![1]
            },
            Tlv::Other {
                tag: 0x0006,
                value: vec![1]
            },
        ]
    );
}

#[test]
fn delivery_receipt_with_hex_tlv_id_and_decimal_text_id() {
    let pdu = assert_canonical(
        "000000BA 00000005 00000000 00000002 00 01 01 343439353133363139323000 01 01 \
         343034303400 04 00 00 00 00 00 00 00 00 6E \
         69643A30303539313133393738207375623A30303120646C7672643A303031207375626D69742064 \
         6174653A3130303231303137333020646F6E6520646174653A3130303231303137333120737461 \
         743A44454C49565244206572723A30303020746578743A4024232125262F3A \
         000E000101 0006000101 001E0008 3338363031666100 04270001 02",
    );
    let Body::DeliverSm(sm) = pdu.body else {
        panic!("deliver_sm")
    };
    assert!(sm.is_delivery_receipt());
    let r = Receipt::from_deliver_sm(&sm).expect("receipt");
    assert_eq!(r.id, "38601fa", "the TLV wins over the text id 0059113978");
    assert!(
        r.id_matches("0059113978"),
        "same message: 0x38601fa = 59113978"
    );
    assert_eq!(r.state, Some(MessageState::Delivered));
    assert_eq!(r.submitted, Some(1));
    assert_eq!(
        r.done_date.map(|t| (t.year, t.month, t.day, t.minute)),
        Some((10, 2, 10, 31))
    );
}

#[test]
fn submit_sm_layout_from_the_field_table() {
    let mut sm = ShortMessage {
        source: Address::new(5, 0, "SHOP"),
        destination: Address::international("447700900123"),
        registered_delivery: 1,
        short_message: b"Hi".to_vec(),
        ..ShortMessage::default()
    };
    sm.tlvs.push(Tlv::UserMessageReference(0x0102));
    let bytes = Pdu::request(2, Body::SubmitSm(sm))
        .encode()
        .expect("encodes");
    let expected = hex(
        "00000039 00000004 00000000 00000002 00 05 00 53484f5000 01 01 34343737303039303031323300 \
         00 00 00 00 00 01 00 00 00 02 4869 0204 0002 0102",
    );
    assert_eq!(bytes, expected);
}

#[test]
fn data_sm_and_query_sm_layouts() {
    let mut d = DataSm {
        source: Address::international("1"),
        destination: Address::international("2"),
        data_coding: 8,
        ..DataSm::default()
    };
    d.tlvs.push(Tlv::MessagePayload(vec![0x4F, 0x60]));
    let bytes = Pdu::request(3, Body::DataSm(d)).encode().expect("encodes");
    assert_eq!(
        bytes,
        hex("00000022 00000103 00000000 00000003 00 01 01 3100 01 01 3200 00 00 08 0424 0002 4f60")
    );

    let q = Pdu::request(
        4,
        Body::QuerySm(QuerySm {
            message_id: "12".into(),
            source: Address::international("1"),
        }),
    );
    assert_eq!(
        q.encode().expect("encodes"),
        hex("00000017 00000003 00000000 00000004 313200 01 01 3100")
    );
    let r = assert_canonical("00000016 80000003 00000000 00000004 313200 00 02 00");
    assert_eq!(
        r.body,
        Body::QuerySmResp(QuerySmResp {
            message_id: "12".into(),
            final_date: String::new(),
            message_state: MessageState::Delivered,
            error_code: 0,
        })
    );
}
