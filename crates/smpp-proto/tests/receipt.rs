//! Receipt text as real SMSCs write it, one case per variant seen in the wild.

use smpp_proto::receipt::{Receipt, ReceiptError, ReceiptTime, format_receipt};
use smpp_proto::tlv::Tlv;
use smpp_proto::{Address, MessageState, ShortMessage};

#[test]
fn appendix_b_example_parses_every_field() {
    let r = Receipt::parse(
        "id:0123456789 sub:001 dlvrd:001 submit date:2311281530 done date:2311281531 \
         stat:DELIVRD err:000 text:Your code is 1234",
    )
    .expect("parses");
    assert_eq!(r.id, "0123456789");
    assert_eq!(r.submitted, Some(1));
    assert_eq!(r.delivered, Some(1));
    assert_eq!(r.submit_date, ReceiptTime::parse("2311281530"));
    assert_eq!(r.done_date.map(|t| t.minute), Some(31));
    assert_eq!(r.state, Some(MessageState::Delivered));
    assert_eq!(r.error.as_deref(), Some("000"));
    assert_eq!(r.text.as_deref(), Some("Your code is 1234"));
}

#[test]
fn case_and_spacing_variants_are_tolerated() {
    let r = Receipt::parse(
        "ID: 4f2a Sub:1 Dlvrd:0 Submit_Date:231128153012 DoneDate:2311281600 Stat : undeliv Err:34 Text:",
    )
    .expect("parses");
    assert_eq!(r.id, "4f2a");
    assert_eq!(r.delivered, Some(0));
    assert_eq!(r.submit_date.and_then(|t| t.second), Some(12));
    assert_eq!(r.done_date.map(|t| t.hour), Some(16));
    assert_eq!(r.state, Some(MessageState::Undeliverable));
    assert_eq!(r.error.as_deref(), Some("34"));
    assert_eq!(r.text.as_deref(), Some(""));
}

#[test]
fn missing_fields_are_none_and_missing_id_is_an_error() {
    let r = Receipt::parse("id:77 stat:EXPIRED").expect("parses");
    assert_eq!(r.state, Some(MessageState::Expired));
    assert_eq!(r.submitted, None);
    assert_eq!(r.text, None);
    assert_eq!(Receipt::parse("stat:DELIVRD"), Err(ReceiptError::MissingId));
    assert_eq!(Receipt::parse(""), Err(ReceiptError::MissingId));
}

#[test]
fn labels_inside_the_text_field_are_not_fields() {
    let r = Receipt::parse("id:1 stat:DELIVRD text:stat:REJECTD id:2").expect("parses");
    assert_eq!(r.id, "1");
    assert_eq!(r.state, Some(MessageState::Delivered));
    assert_eq!(r.text.as_deref(), Some("stat:REJECTD id:2"));
}

#[test]
fn bad_dates_are_dropped_not_fatal() {
    let r = Receipt::parse("id:1 submit date:2313281530 done date:abc").expect("parses");
    assert_eq!(r.submit_date, None);
    assert_eq!(r.done_date, None);
}

#[test]
fn ids_match_across_hex_and_decimal() {
    let r = Receipt::parse("id:3017530 stat:DELIVRD").expect("parses");
    assert!(r.id_matches("2E0B3A"));
    assert!(r.id_matches("3017530"));
    assert!(!r.id_matches("2E0B3B"));
    let r = Receipt::parse("id:2e0b3a").expect("parses");
    assert!(r.id_matches("2E0B3A"));
    assert!(r.id_matches("3017530"));
}

#[test]
fn tlvs_win_over_text() {
    let mut sm = ShortMessage {
        esm_class: 0x04,
        short_message: b"id:111 stat:ENROUTE".to_vec(),
        ..ShortMessage::default()
    };
    sm.tlvs.push(Tlv::ReceiptedMessageId("abc".into()));
    sm.tlvs.push(Tlv::MessageState(MessageState::Delivered));
    let r = Receipt::from_deliver_sm(&sm).expect("reads");
    assert_eq!(r.id, "abc");
    assert_eq!(r.state, Some(MessageState::Delivered));

    let tlv_only = ShortMessage {
        tlvs: vec![Tlv::ReceiptedMessageId("9".into())].into(),
        ..ShortMessage::default()
    };
    assert_eq!(
        Receipt::from_deliver_sm(&tlv_only).map(|r| r.id),
        Ok("9".into())
    );
}

#[test]
fn formatted_receipts_read_back_and_carry_tlvs() {
    let r = Receipt {
        id: "A1B2".into(),
        submitted: Some(1),
        delivered: Some(1),
        submit_date: ReceiptTime::parse("2311281530"),
        done_date: ReceiptTime::parse("231128153105"),
        state: Some(MessageState::Delivered),
        error: Some("000".into()),
        text: Some("Hello from the shop, this is long".into()),
    };
    let text = format_receipt(&r);
    assert_eq!(
        text,
        "id:A1B2 sub:001 dlvrd:001 submit date:2311281530 done date:231128153105 \
         stat:DELIVRD err:000 text:Hello from the shop,"
    );
    let sm = r.to_deliver_sm(
        Address::international("447700900000"),
        Address::new(5, 0, "SHOP"),
    );
    assert!(sm.is_delivery_receipt());
    let back = Receipt::from_deliver_sm(&sm).expect("reads");
    assert_eq!(back.text.as_deref(), Some("Hello from the shop,"));
    assert_eq!(back.id, r.id);
    assert_eq!(sm.tlvs.message_state(), Some(MessageState::Delivered));
}

#[test]
fn a_chinese_message_gets_a_plain_ascii_receipt_with_an_empty_text_field() {
    // Issue 13: this receipt used to go out as UCS-2 because its text: carried Chinese.
    let r = Receipt {
        id: "42".into(),
        submitted: Some(1),
        delivered: Some(1),
        submit_date: ReceiptTime::parse("2612020930"),
        done_date: ReceiptTime::parse("2612020931"),
        state: Some(MessageState::Delivered),
        error: Some("000".into()),
        text: Some("【好店】您的验证码是 1234".into()),
    };
    let sm = r.to_deliver_sm(
        Address::international("8613800138000"),
        Address::new(5, 0, "SHOP"),
    );
    assert_eq!(sm.data_coding, 0);
    assert_eq!(
        std::str::from_utf8(&sm.short_message),
        Ok(
            "id:42 sub:001 dlvrd:001 submit date:2612020930 done date:2612020931 stat:DELIVRD err:000 text:"
        )
    );
    assert_eq!(sm.tlvs.message_state(), Some(MessageState::Delivered));
    assert_eq!(sm.tlvs.receipted_message_id(), Some("42"));
}

#[test]
fn the_text_field_keeps_only_characters_that_read_the_same_in_ascii_and_gsm() {
    use smpp_proto::receipt::ascii_text_field;
    assert_eq!(
        ascii_text_field("Your code is 1234, thanks"),
        "Your code is 1234, t"
    );
    // GSM puts other characters at the octets of $, @ and _: an ASCII reader would misread.
    assert_eq!(ascii_text_field("Pay $5 now"), "");
    assert_eq!(ascii_text_field("mail me@shop"), "");
    assert_eq!(ascii_text_field("Café"), "");
    // Only the first 20 characters matter: a Chinese tail after them does not empty the field.
    assert_eq!(
        ascii_text_field("Order 12345 shipped. 谢谢"),
        "Order 12345 shipped."
    );
    // An SMSC's odd id is sent with its unreadable characters replaced.
    let r = Receipt {
        id: "ab_1".into(),
        state: Some(MessageState::Delivered),
        ..Receipt::default()
    };
    let sm = r.to_deliver_sm(Address::international("1"), Address::new(5, 0, "S"));
    assert_eq!(sm.short_message, b"id:ab?1 stat:DELIVRD");
}
