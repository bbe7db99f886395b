//! The handshake and the per-state rules, played from both ends of one connection.

use cmpp_proto::{
    Body, ClientHandshake, ConnectError, ConnectResp, Inbound, Pdu, Role, Session, SessionState,
    SubmitResp, Version, answer_connect, result,
};

fn submit(seq: u32) -> Pdu {
    Pdu::new(seq, Body::Submit(Box::default()))
}

#[test]
fn a_2_0_client_and_a_3_0_gateway_agree_on_2_0() {
    let mut sp = Session::new(Role::Sp);
    let mut ismg = Session::new(Role::Ismg);
    let hs = ClientHandshake::new("901234", b"pw", Version::V20, 1_202_000_000);
    let connect = hs.request(1);
    assert!(sp.send(&connect));
    assert_eq!(ismg.receive(&connect), Inbound::Accept);
    let Body::Connect(c) = &connect.body else {
        unreachable!()
    };
    let (resp, agreed) = answer_connect(c, Version::V30, Some(b"pw"));
    assert_eq!(agreed, Some(Version::V20));
    let resp_pdu = Pdu::new(1, Body::ConnectResp(resp.clone()));
    assert!(ismg.send(&resp_pdu));
    assert_eq!(sp.receive(&resp_pdu), Inbound::Accept);
    assert_eq!(hs.accept(&resp), Ok(Version::V20));
    assert_eq!(sp.version(), Some(Version::V20));
    assert_eq!(ismg.version(), Some(Version::V20));
}

#[test]
fn the_client_refuses_a_gateway_that_does_not_know_the_secret_or_upgrades() {
    let hs = ClientHandshake::new("901234", b"pw", Version::V20, 7);
    let Body::Connect(c) = hs.request(1).body else {
        unreachable!()
    };
    let forged = ConnectResp::answer(&c, 0, Version::V20, b"guess");
    assert_eq!(hs.accept(&forged), Err(ConnectError::BadAuthenticator));
    let upgraded = ConnectResp::answer(&c, 0, Version::V30, b"pw");
    assert_eq!(hs.accept(&upgraded), Err(ConnectError::Version(0x30)));
    let refused = ConnectResp::answer(&c, result::CONNECT_AUTH, Version::V20, b"");
    assert_eq!(hs.accept(&refused), Err(ConnectError::Refused(3)));
}

#[test]
fn nothing_but_connect_flows_before_connect_and_only_responses_after_terminate() {
    let mut ismg = Session::new(Role::Ismg);
    // A SUBMIT before CONNECT is refused without an answer: the gateway closes.
    assert_eq!(ismg.receive(&submit(1)), Inbound::Reject(None));
    let hs = ClientHandshake::new("901234", b"pw", Version::V30, 7);
    assert_eq!(ismg.receive(&hs.request(2)), Inbound::Accept);
    let Body::Connect(c) = hs.request(2).body else {
        unreachable!()
    };
    let (resp, _) = answer_connect(&c, Version::V30, Some(b"pw"));
    assert!(ismg.send(&Pdu::new(2, Body::ConnectResp(resp))));
    assert_eq!(ismg.state(), SessionState::Connected(Version::V30));

    // A second CONNECT is refused; a SUBMIT is accepted; an ISMG-only command from the SP is
    // answered with its own response carrying "command error" where it has one.
    assert!(matches!(ismg.receive(&hs.request(3)), Inbound::Reject(_)));
    assert_eq!(ismg.receive(&submit(4)), Inbound::Accept);
    let bogus = Pdu::new(
        5,
        Body::SubmitResp(SubmitResp {
            msg_id: 0,
            result: 0,
        }),
    );
    assert_eq!(ismg.receive(&bogus), Inbound::Unexpected);
    assert!(!ismg.send(&submit(6)), "the gateway never sends SUBMIT");

    assert_eq!(ismg.receive(&Pdu::new(7, Body::Terminate)), Inbound::Accept);
    assert_eq!(ismg.state(), SessionState::Terminating);
    assert!(matches!(ismg.receive(&submit(8)), Inbound::Reject(None)));
    assert!(ismg.send(&Pdu::new(7, Body::TerminateResp)));
    assert_eq!(ismg.state(), SessionState::Closed);
}
