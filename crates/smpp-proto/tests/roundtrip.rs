//! Property tests: encode→decode is the identity for every PDU type, every text encoding,
//! split→reassemble and receipt format→parse.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use smpp_proto::concat::{Concat, split_text};
use smpp_proto::reassembly::Outcome;
use smpp_proto::receipt::{Receipt, ReceiptTime};
use smpp_proto::text::{self, gsm7};
use smpp_proto::tlv::{Tlv, Tlvs, tag};
use smpp_proto::{
    Address, Bind, BindMode, BindResp, Body, CommandStatus, DataSm, Decoder, MessageState, Outbind,
    Pdu, QuerySm, QuerySmResp, Reassembler, ShortMessage, SmResp, decode_frame,
};

/// A C-octet string value that fits a field of `max` octets including the NUL.
fn c_string(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(1u8..=255, 0..max)
        .prop_map(|v| v.into_iter().map(char::from).collect())
}

fn address(max: usize) -> impl Strategy<Value = Address> {
    (any::<u8>(), any::<u8>(), c_string(max - 1)).prop_map(|(ton, npi, addr)| Address {
        ton,
        npi,
        addr,
    })
}

fn tlv() -> impl Strategy<Value = Tlv> {
    let known = [
        tag::MESSAGE_PAYLOAD,
        tag::SAR_MSG_REF_NUM,
        tag::SAR_TOTAL_SEGMENTS,
        tag::SAR_SEGMENT_SEQNUM,
        tag::RECEIPTED_MESSAGE_ID,
        tag::MESSAGE_STATE,
        tag::USER_MESSAGE_REFERENCE,
        tag::SC_INTERFACE_VERSION,
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Tlv::MessagePayload),
        any::<u16>().prop_map(Tlv::SarMsgRefNum),
        any::<u8>().prop_map(Tlv::SarTotalSegments),
        any::<u8>().prop_map(Tlv::SarSegmentSeqnum),
        c_string(64).prop_map(Tlv::ReceiptedMessageId),
        any::<u8>().prop_map(|v| Tlv::MessageState(MessageState::from(v))),
        any::<u16>().prop_map(Tlv::UserMessageReference),
        any::<u8>().prop_map(Tlv::ScInterfaceVersion),
        (
            any::<u16>().prop_filter("unknown tag", move |t| !known.contains(t)),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(tag, value)| Tlv::Other { tag, value }),
    ]
}

fn tlvs() -> impl Strategy<Value = Tlvs> {
    proptest::collection::vec(tlv(), 0..4).prop_map(Tlvs)
}

fn bind_mode() -> impl Strategy<Value = BindMode> {
    prop_oneof![
        Just(BindMode::Transmitter),
        Just(BindMode::Receiver),
        Just(BindMode::Transceiver)
    ]
}

fn short_message() -> impl Strategy<Value = ShortMessage> {
    (
        (c_string(5), address(21), address(21), any::<[u8; 3]>()),
        (c_string(16), c_string(16), any::<[u8; 4]>()),
        (proptest::collection::vec(any::<u8>(), 0..=255), tlvs()),
    )
        .prop_map(
            |((service_type, source, destination, a), (sched, validity, b), (sm, tlvs))| {
                ShortMessage {
                    service_type,
                    source,
                    destination,
                    esm_class: a[0],
                    protocol_id: a[1],
                    priority_flag: a[2],
                    schedule_delivery_time: sched,
                    validity_period: validity,
                    registered_delivery: b[0],
                    replace_if_present_flag: b[1],
                    data_coding: b[2],
                    sm_default_msg_id: b[3],
                    short_message: sm,
                    tlvs,
                }
            },
        )
}

fn sm_resp() -> impl Strategy<Value = SmResp> {
    (c_string(64), tlvs()).prop_map(|(message_id, tlvs)| SmResp { message_id, tlvs })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        (
            bind_mode(),
            c_string(15),
            c_string(8),
            c_string(12),
            any::<u8>(),
            address(41)
        )
            .prop_map(
                |(mode, system_id, password, system_type, interface_version, address_range)| {
                    Body::Bind(Bind {
                        mode,
                        system_id,
                        password,
                        system_type,
                        interface_version,
                        address_range,
                    })
                }
            ),
        (bind_mode(), c_string(15), tlvs()).prop_map(|(mode, system_id, tlvs)| Body::BindResp(
            BindResp {
                mode,
                system_id,
                tlvs
            }
        )),
        (c_string(15), c_string(8)).prop_map(|(system_id, password)| Body::Outbind(Outbind {
            system_id,
            password
        })),
        short_message().prop_map(Body::SubmitSm),
        short_message().prop_map(Body::DeliverSm),
        sm_resp().prop_map(Body::SubmitSmResp),
        sm_resp().prop_map(Body::DeliverSmResp),
        sm_resp().prop_map(Body::DataSmResp),
        (
            c_string(5),
            address(65),
            address(65),
            any::<[u8; 3]>(),
            tlvs()
        )
            .prop_map(|(service_type, source, destination, f, tlvs)| Body::DataSm(
                DataSm {
                    service_type,
                    source,
                    destination,
                    esm_class: f[0],
                    registered_delivery: f[1],
                    data_coding: f[2],
                    tlvs,
                }
            )),
        (c_string(64), address(21))
            .prop_map(|(message_id, source)| Body::QuerySm(QuerySm { message_id, source })),
        (c_string(64), c_string(16), any::<u8>(), any::<u8>()).prop_map(
            |(message_id, final_date, s, error_code)| {
                Body::QuerySmResp(QuerySmResp {
                    message_id,
                    final_date,
                    message_state: MessageState::from(s),
                    error_code,
                })
            }
        ),
        Just(Body::EnquireLink),
        Just(Body::EnquireLinkResp),
        Just(Body::Unbind),
        Just(Body::UnbindResp),
        Just(Body::GenericNack),
    ]
}

fn pdu() -> impl Strategy<Value = Pdu> {
    (any::<u32>(), prop_oneof![Just(0u32), any::<u32>()], body()).prop_map(|(seq, status, body)| {
        Pdu {
            sequence_number: seq,
            command_status: CommandStatus(status),
            body,
        }
    })
}

/// Characters GSM 03.38 can carry, so generated text exercises the GSM path too.
fn gsm_text() -> impl Strategy<Value = String> {
    let chars: Vec<char> = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCXYZÄÖÑÜ§¿abcxyzäöñüà^{}\\[~]|€\u{0C}"
        .chars()
        .collect();
    proptest::collection::vec(prop::sample::select(chars), 0..400)
        .prop_map(|v| v.into_iter().collect())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![gsm_text(), ".{0,300}", "[a-z退订回T😀€{}]{0,400}"]
}

fn receipt_time() -> impl Strategy<Value = ReceiptTime> {
    (
        0u8..100,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        proptest::option::of(0u8..60),
    )
        .prop_map(|(year, month, day, hour, minute, second)| ReceiptTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_pdu_round_trips(pdu in pdu()) {
        let bytes = pdu.encode().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decode_frame(&bytes), Ok(pdu.clone()));
        // And through the streaming decoder in two chunks.
        let mut d = Decoder::new();
        let cut = bytes.len() / 3;
        d.extend(&bytes[..cut]);
        prop_assert_eq!(d.next_pdu(), Ok(None));
        d.extend(&bytes[cut..]);
        prop_assert_eq!(d.next_pdu(), Ok(Some(pdu)));
    }

    #[test]
    fn text_round_trips_in_the_chosen_alphabet(s in any_text()) {
        let (dcs, bytes) = text::encode_text(&s);
        prop_assert_eq!(dcs == text::DCS_DEFAULT, gsm7::septet_len(&s).is_some());
        prop_assert_eq!(text::decode_text(dcs, &bytes), s);
    }

    #[test]
    fn ucs2_and_latin1_round_trip(s in ".{0,200}", l in "[\u{1}-\u{ff}]{0,200}") {
        prop_assert_eq!(text::decode_text(text::DCS_UCS2, &text::ucs2::encode(&s)), s);
        let bytes = text::latin1_encode(&l).ok_or_else(|| TestCaseError::fail("latin1"))?;
        prop_assert_eq!(text::decode_text(text::DCS_LATIN1, &bytes), l);
    }

    #[test]
    fn septet_packing_round_trips(septets in proptest::collection::vec(0u8..128, 0..300), fill in 0u8..7) {
        let packed = gsm7::pack(&septets, fill);
        prop_assert_eq!(gsm7::unpack(&packed, septets.len(), fill), septets);
    }

    #[test]
    fn arbitrary_octets_decode_without_panicking(dcs in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = text::decode_text(dcs, &bytes);
    }

    #[test]
    fn split_then_reassemble_is_identity(
        s in any_text(),
        concat in prop_oneof![Just(Concat::Udh8), Just(Concat::Udh16), Just(Concat::Sar)],
        reference in any::<u16>(),
        rotate in 0usize..8,
    ) {
        let segments = split_text(&s, concat, reference).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut pdus = Vec::new();
        for seg in &segments {
            // Every part fits the 140-octet air interface (GSM septets counted packed).
            let udh = if seg.esm_class_flags == 0 { 0 } else { usize::from(seg.short_message[0]) + 1 };
            let body = seg.short_message.len() - udh;
            let air = if seg.data_coding == 0 { udh + (body * 7).div_ceil(8) } else { udh + body };
            prop_assert!(air <= 140 || segments.len() == 1, "part is {} octets", air);
            let mut sm = ShortMessage { source: Address::international("1"), ..ShortMessage::default() };
            seg.apply(&mut sm);
            pdus.push(sm);
        }
        let n = pdus.len();
        pdus.rotate_left(rotate % n);
        let mut r = Reassembler::new(8, Duration::from_secs(60));
        let now = Instant::now();
        let mut out = None;
        for p in &pdus {
            if let Outcome::Complete(m) = r.accept(p, now) {
                prop_assert!(out.is_none(), "completed twice");
                out = Some(m);
            }
        }
        let m = out.ok_or_else(|| TestCaseError::fail("never completed"))?;
        prop_assert_eq!(m.text(), s);
        prop_assert_eq!(usize::from(m.segments), n);
    }

    #[test]
    fn receipts_format_then_parse(
        id in "[0-9A-Fa-f]{1,20}",
        submitted in proptest::option::of(0u32..1000),
        delivered in proptest::option::of(0u32..1000),
        submit_date in proptest::option::of(receipt_time()),
        done_date in proptest::option::of(receipt_time()),
        state in proptest::option::of((1u8..=8).prop_map(MessageState::from)),
        error in proptest::option::of("[0-9]{1,3}"),
        text in proptest::option::of("[^\u{0}]{0,20}"),
    ) {
        let r = Receipt { id, submitted, delivered, submit_date, done_date, state, error, text };
        prop_assert_eq!(Receipt::parse(&r.to_string()), Ok(r));
    }
}
