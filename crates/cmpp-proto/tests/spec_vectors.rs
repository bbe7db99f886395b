//! Byte layouts written out by hand from the CMPP 3.0 and 2.0 specifications' field tables
//! (field order and widths), not produced by this crate's encoder. The MD5 values were computed
//! separately with Python's hashlib over the byte strings the specification describes.

use cmpp_proto::{
    Body, ClientHandshake, Connect, ConnectResp, Deliver, MsgId, Pdu, StatusReport, Submit,
    SubmitResp, Version, answer_connect, decode_frame, pdu::authenticator_source, result,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Appends `s` NUL-padded to `width`.
fn padded(out: &mut Vec<u8>, s: &str, width: usize) {
    out.extend_from_slice(s.as_bytes());
    out.resize(out.len() + width - s.len(), 0);
}

fn header(out: &mut Vec<u8>, command: u32, seq: u32) {
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&command.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
}

fn seal(mut out: Vec<u8>) -> Vec<u8> {
    let len = u32::try_from(out.len()).expect("small").to_be_bytes();
    out[..4].copy_from_slice(&len);
    out
}

#[test]
fn connect_carries_md5_of_addr_nine_zeros_secret_and_ten_digit_timestamp() {
    // MD5("901234" ‖ 9×00 ‖ "secret" ‖ "1202093015")
    let auth = hex("d945d998ea14d0a43675c0514decf754");
    let mut want = Vec::new();
    header(&mut want, 0x0000_0001, 1);
    want.extend_from_slice(b"901234");
    want.extend_from_slice(&auth);
    want.push(0x30);
    want.extend_from_slice(&1_202_093_015u32.to_be_bytes());
    let want = seal(want);
    assert_eq!(want.len(), 39);

    let sp = ClientHandshake::new("901234", b"secret", Version::V30, 1_202_093_015);
    assert_eq!(sp.request(1).encode(Version::V30), Ok(want.clone()));
    let Ok(Pdu {
        body: Body::Connect(c),
        ..
    }) = decode_frame(&want, Version::V30)
    else {
        panic!("decodes");
    };
    assert!(c.verify(b"secret"));
    assert!(!c.verify(b"Secret"));

    // January: the timestamp 0102030405 travels as 102030405 but is hashed with its zero.
    assert_eq!(
        authenticator_source("901234", b"secret", 102_030_405).to_vec(),
        hex("1c39df8b9c01798a8f35c3c785cf91ce")
    );
}

#[test]
fn connect_resp_is_21_octets_in_3_0_and_18_in_2_0_with_authenticator_ismg() {
    let connect = Connect::new("901234", b"secret", Version::V30, 1_202_093_015);
    // MD5(00000000 ‖ AuthenticatorSource ‖ "secret") and MD5(00 ‖ … ) for 2.0.
    for (v, status_octets, ismg) in [
        (Version::V30, 4, "3e7967259e3224f1bc95a26f81b1602f"),
        (Version::V20, 1, "ec3340cd818571bd97e3a03d5f9cb7b3"),
    ] {
        let mut want = Vec::new();
        header(&mut want, 0x8000_0001, 1);
        want.extend_from_slice(&vec![0; status_octets]);
        want.extend_from_slice(&hex(ismg));
        want.push(v.octet());
        let want = seal(want);
        let resp = ConnectResp::answer(&connect, result::CONNECT_OK, v, b"secret");
        assert_eq!(
            Pdu::new(1, Body::ConnectResp(resp.clone())).encode(v),
            Ok(want.clone())
        );
        // Decoding follows the body length, whichever version the decoder was told.
        let got = decode_frame(&want, Version::V30).expect("decodes");
        assert_eq!(got.body, Body::ConnectResp(resp));
    }
}

#[test]
fn the_gateway_refuses_unknown_addr_wrong_secret_and_newer_versions() {
    let c = Connect::new("901234", b"secret", Version::V30, 1);
    assert_eq!(answer_connect(&c, Version::V30, None).0.status, 2);
    assert_eq!(answer_connect(&c, Version::V30, Some(b"other")).0.status, 3);
    assert_eq!(
        answer_connect(&c, Version::V20, Some(b"secret")).0.status,
        4
    );
    // pycmpp announces 2.0 as 0x21: the 2.0 layout, answered as 0x20.
    let old = Connect {
        version: 0x21,
        ..Connect::new("901234", b"secret", Version::V20, 1)
    };
    let (resp, v) = answer_connect(&old, Version::V30, Some(b"secret"));
    assert_eq!(
        (resp.status, resp.version, v),
        (0, 0x20, Some(Version::V20))
    );
}

fn submit_body(v: Version, content: &[u8]) -> Vec<u8> {
    let tid = v.terminal_id_len();
    let mut b = Vec::new();
    b.extend_from_slice(&[0; 8]); // Msg_Id
    b.extend_from_slice(&[1, 1, 1, 0]); // Pk_total, Pk_number, Registered_Delivery, Msg_level
    padded(&mut b, "MI", 10); // Service_Id
    b.push(2); // Fee_UserType
    padded(&mut b, "", tid); // Fee_terminal_Id
    if v == Version::V30 {
        b.push(0); // Fee_terminal_type
    }
    b.extend_from_slice(&[0, 0, 8]); // TP_pId, TP_udhi, Msg_Fmt
    padded(&mut b, "901234", 6); // Msg_src
    padded(&mut b, "01", 2); // FeeType
    padded(&mut b, "000000", 6); // FeeCode
    padded(&mut b, "", 17); // ValId_Time
    padded(&mut b, "", 17); // At_Time
    padded(&mut b, "1065801234", 21); // Src_Id
    b.push(1); // DestUsr_tl
    padded(&mut b, "13800138000", tid);
    if v == Version::V30 {
        b.push(0); // Dest_terminal_type
    }
    b.push(u8::try_from(content.len()).expect("short"));
    b.extend_from_slice(content);
    b.extend_from_slice(&vec![0; if v == Version::V30 { 20 } else { 8 }]); // LinkID / Reserve
    b
}

#[test]
fn submit_layouts_differ_in_terminal_widths_types_and_trailer() {
    let content = [0x90, 0x00, 0x8B, 0xA2]; // 退订 in UCS-2
    for (v, total) in [(Version::V30, 12 + 183 + 4), (Version::V20, 12 + 147 + 4)] {
        let mut want = Vec::new();
        header(&mut want, 0x0000_0004, 5);
        want.extend_from_slice(&submit_body(v, &content));
        let want = seal(want);
        assert_eq!(want.len(), total, "{v:?}");
        let submit = Submit {
            registered_delivery: 1,
            service_id: "MI".into(),
            msg_fmt: 8,
            msg_src: "901234".into(),
            src_id: "1065801234".into(),
            dest_terminal_ids: vec!["13800138000".into()],
            msg_content: content.to_vec(),
            ..Submit::default()
        };
        let pdu = Pdu::new(5, Body::Submit(Box::new(submit)));
        assert_eq!(pdu.encode(v), Ok(want.clone()), "{v:?}");
        assert_eq!(decode_frame(&want, v), Ok(pdu));
    }
    // Msg_src sits at body offset 47 in 2.0, as SP software reading [47:53] expects.
    let body = submit_body(Version::V20, &content);
    assert_eq!(&body[47..53], b"901234");
}

#[test]
fn submit_resp_result_is_four_octets_in_3_0_and_one_in_2_0() {
    let id = MsgId {
        month: 12,
        day: 2,
        hour: 9,
        minute: 30,
        second: 15,
        gateway: 0x01_2345,
        sequence: 7,
    };
    // 1100 00010 01001 011110 001111 then the gateway code and sequence.
    let packed: u64 = (0b1100 << 60)
        | (0b00010 << 55)
        | (0b01001 << 50)
        | (0b011110 << 44)
        | (0b001111 << 38)
        | (0x01_2345 << 16)
        | 7;
    assert_eq!(id.pack(), packed);
    for (v, tail) in [(Version::V30, vec![0, 0, 0, 8]), (Version::V20, vec![8])] {
        let mut want = Vec::new();
        header(&mut want, 0x8000_0004, 5);
        want.extend_from_slice(&packed.to_be_bytes());
        want.extend_from_slice(&tail);
        let want = seal(want);
        let pdu = Pdu::new(
            5,
            Body::SubmitResp(SubmitResp {
                msg_id: packed,
                result: 8,
            }),
        );
        assert_eq!(pdu.encode(v), Ok(want.clone()));
        assert_eq!(decode_frame(&want, v), Ok(pdu));
    }
}

#[test]
fn a_status_report_is_71_octets_in_3_0_and_60_in_2_0() {
    for (v, tid, len) in [(Version::V30, 32, 71), (Version::V20, 21, 60)] {
        let mut content = Vec::new();
        content.extend_from_slice(&0x0102_0304_0506_0708u64.to_be_bytes());
        padded(&mut content, "DELIVRD", 7);
        padded(&mut content, "2612020930", 10);
        padded(&mut content, "2612020931", 10);
        padded(&mut content, "13800138000", tid);
        content.extend_from_slice(&42u32.to_be_bytes());
        assert_eq!(content.len(), len);

        let mut want = Vec::new();
        header(&mut want, 0x0000_0005, 9);
        want.extend_from_slice(&[0; 8]); // Msg_Id of the DELIVER itself
        padded(&mut want, "1065801234", 21); // Dest_Id
        padded(&mut want, "", 10); // Service_Id
        want.extend_from_slice(&[0, 0, 0]); // TP_pid, TP_udhi, Msg_Fmt
        padded(&mut want, "13800138000", tid); // Src_terminal_Id
        if v == Version::V30 {
            want.push(0); // Src_terminal_type
        }
        want.push(1); // Registered_Delivery: a status report
        want.push(u8::try_from(len).expect("short"));
        want.extend_from_slice(&content);
        want.extend_from_slice(&vec![0; if v == Version::V30 { 20 } else { 8 }]);
        let want = seal(want);

        let report = StatusReport {
            msg_id: 0x0102_0304_0506_0708,
            stat: "DELIVRD".into(),
            submit_time: "2612020930".into(),
            done_time: "2612020931".into(),
            dest_terminal_id: "13800138000".into(),
            smsc_sequence: 42,
        };
        let deliver = Deliver::report(0, "1065801234", &report, v).expect("encodes");
        let pdu = Pdu::new(9, Body::Deliver(Box::new(deliver)));
        assert_eq!(pdu.encode(v), Ok(want.clone()), "{v:?}");
        let Ok(Pdu {
            body: Body::Deliver(d),
            ..
        }) = decode_frame(&want, v)
        else {
            panic!("decodes");
        };
        assert_eq!(d.status_report(v), Some(Ok(report.clone())));
        assert!(report.is_delivered());
        // The report's own length picks its layout even on a connection of the other version.
        let other = if v == Version::V30 {
            Version::V20
        } else {
            Version::V30
        };
        assert_eq!(StatusReport::decode(&content, other), Ok(report));
    }
}

#[test]
fn active_test_resp_has_one_reserved_octet_and_terminate_none() {
    let resp = Pdu::new(3, Body::ActiveTestResp)
        .encode(Version::V30)
        .expect("encodes");
    assert_eq!(resp, hex("0000000d800000080000000300"));
    // Some clients leave the Reserved octet out; it is accepted.
    assert_eq!(
        decode_frame(&hex("0000000c8000000800000003"), Version::V30),
        Ok(Pdu::new(3, Body::ActiveTestResp))
    );
    let term = Pdu::new(4, Body::Terminate)
        .encode(Version::V20)
        .expect("encodes");
    assert_eq!(term, hex("0000000c0000000200000004"));
}
