//! The Decoder against lying lengths, unknown commands, truncated bodies and arbitrary bytes.

mod common;

use common::hex;
use proptest::prelude::*;
use smpp_proto::{Body, CommandStatus, DecodeError, Decoder, Pdu, SmResp};

fn first_error(bytes: &[u8], max: u32) -> smpp_proto::FrameError {
    let mut d = Decoder::with_max_command_length(max);
    d.extend(bytes);
    d.next_pdu().expect_err("should be refused")
}

#[test]
fn lying_command_lengths_are_fatal_and_answered_with_rinvcmdlen() {
    for length in [0u32, 1, 15, 65_537, 0x8000_0000, u32::MAX] {
        let mut bytes = length.to_be_bytes().to_vec();
        bytes.extend_from_slice(&hex("00000015 00000000 0000002a"));
        let e = first_error(&bytes, 65_536);
        assert!(e.is_fatal(), "length {length}");
        assert_eq!(e.command_status(), CommandStatus::RINVCMDLEN);
        assert_eq!(
            e.reply(),
            Some(Pdu::generic_nack(42, CommandStatus::RINVCMDLEN))
        );
    }
}

#[test]
fn a_lying_length_is_refused_from_its_first_four_octets() {
    let e = first_error(&hex("0000000f"), 65_536);
    assert!(e.is_fatal());
    assert_eq!(e.header, None);
    assert_eq!(
        e.reply(),
        Some(Pdu::generic_nack(0, CommandStatus::RINVCMDLEN))
    );
}

#[test]
fn a_large_declared_length_within_limit_waits_without_reserving() {
    let mut d = Decoder::new();
    d.extend(&hex("0000ffff 00000004 00000000 00000001"));
    assert_eq!(d.next_pdu(), Ok(None));
    assert_eq!(d.buffered(), 16);
}

#[test]
fn unknown_command_id_is_nacked_with_its_sequence_and_skipped() {
    // replace_sm (0x07) is unsupported here; the enquire_link after it still decodes.
    let mut d = Decoder::new();
    d.extend(&hex(
        "00000011 00000110 00000000 0a342ee7 0f 00000010 00000015 00000000 0a342ee7",
    ));
    let e = d.next_pdu().expect_err("unknown id");
    assert!(!e.is_fatal());
    assert_eq!(e.error, DecodeError::UnknownCommandId { command_id: 0x110 });
    assert_eq!(
        e.reply(),
        Some(Pdu::generic_nack(0x0a34_2ee7, CommandStatus::RINVCMDID))
    );
    assert_eq!(
        d.next_pdu(),
        Ok(Some(Pdu::request(0x0a34_2ee7, Body::EnquireLink)))
    );
    assert_eq!(d.next_pdu(), Ok(None));
}

#[test]
fn a_truncated_request_body_gets_its_own_response_with_rinvmsglen() {
    // submit_sm whose body stops inside destination_addr.
    let e = first_error(
        &hex("00000018 00000004 00000000 00000007 00 01 01 3100 01 01 32"),
        65_536,
    );
    assert!(!e.is_fatal());
    assert_eq!(e.command_status(), CommandStatus::RINVMSGLEN);
    assert_eq!(
        e.reply(),
        Some(Pdu::response(
            7,
            CommandStatus::RINVMSGLEN,
            Body::SubmitSmResp(SmResp::default())
        ))
    );
}

#[test]
fn an_overlong_address_is_answered_with_rinvsrcadr() {
    let mut bytes = hex("00000000 00000004 00000000 00000008 00 01 01");
    bytes.extend_from_slice(&[b'9'; 30]);
    bytes.push(0);
    let len = u32::try_from(bytes.len()).expect("small");
    bytes[..4].copy_from_slice(&len.to_be_bytes());
    let e = first_error(&bytes, 65_536);
    assert_eq!(e.command_status(), CommandStatus::RINVSRCADR);
}

#[test]
fn a_broken_tlv_length_is_answered_with_rinvoptparstream() {
    // A real receipt whose receipted_message_id TLV claims 0x41 octets but carries 5.
    let e = first_error(
        &hex(
            "000000a4 00000005 00000000 00000005 00 01 01 3233343830333337363831353100 05 00 \
             56414e534f00 04 00 00 00 00 04 00 00 00 63 \
             69643a30303030303033303035207375623a30303120646c7672643a303031207375626d69742064 \
             6174653a3130303131383134333120646f6e6520646174653a3130303131383134333120737461 \
             743a44454c49565244206572723a303030207465 \
             0427000102 001e0041 3330303500",
        ),
        65_536,
    );
    assert_eq!(e.command_status(), CommandStatus::RINVOPTPARSTREAM);
    assert_eq!(
        e.reply().map(|p| p.command_id()),
        Some(smpp_proto::CommandId::DeliverSmResp)
    );
}

#[test]
fn malformed_responses_are_not_answered() {
    let e = first_error(&hex("00000011 80000004 00000000 0a342ee1 39"), 65_536);
    assert_eq!(e.command_status(), CommandStatus::RINVMSGLEN);
    assert_eq!(e.reply(), None);
}

#[test]
fn bytes_after_a_bodyless_pdu_are_a_length_error() {
    let e = first_error(&hex("00000011 00000015 00000000 00000001 00"), 65_536);
    assert!(!e.is_fatal());
    assert_eq!(
        e.reply(),
        Some(Pdu::response(
            1,
            CommandStatus::RINVCMDLEN,
            Body::EnquireLinkResp
        ))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes in arbitrary chunks never panic, never buffer more than the limit plus
    /// one chunk, and the decoder stops after a fatal error.
    #[test]
    fn arbitrary_bytes_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        cuts in proptest::collection::vec(1usize..64, 0..20),
        max in 16u32..300,
    ) {
        let mut d = Decoder::with_max_command_length(max);
        let mut rest = data.as_slice();
        let mut cuts = cuts.into_iter();
        while !rest.is_empty() {
            let n = cuts.next().unwrap_or(rest.len()).min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            prop_assert!(d.buffered() <= max as usize);
            d.extend(chunk);
            for item in d.by_ref() {
                if let Err(e) = item {
                    let _ = e.reply();
                }
            }
        }
    }

    /// Header-shaped garbage: a plausible length and a known command id with random body.
    #[test]
    fn random_bodies_of_known_commands_never_panic(
        id in prop::sample::select(vec![
            0x1u32, 0x2, 0x3, 0x4, 0x5, 0x6, 0x9, 0xB, 0x15, 0x103,
            0x8000_0000, 0x8000_0001, 0x8000_0002, 0x8000_0003, 0x8000_0004,
            0x8000_0005, 0x8000_0009, 0x8000_0103,
        ]),
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut frame = u32::try_from(body.len() + 16).unwrap_or(u32::MAX).to_be_bytes().to_vec();
        frame.extend_from_slice(&id.to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 1]);
        frame.extend_from_slice(&body);
        match smpp_proto::decode_frame(&frame) {
            Ok(pdu) => {
                // Whatever decodes must encode again and decode to the same value.
                let again = pdu.encode().map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(smpp_proto::decode_frame(&again).ok(), Some(pdu));
            }
            Err(e) => { let _ = e.reply(); }
        }
    }
}
