//! The bind state machine from both ends of the link.

use smpp_proto::session::Inbound;
use smpp_proto::{
    Bind, BindMode, BindResp, Body, CommandStatus, Pdu, Role, Session, SessionState, ShortMessage,
    SmResp,
};

fn bind(seq: u32, mode: BindMode) -> Pdu {
    Pdu::request(seq, Body::Bind(Bind::new(mode, "merchant", "pw")))
}

fn bind_resp(seq: u32, mode: BindMode, status: CommandStatus) -> Pdu {
    Pdu::response(
        seq,
        status,
        Body::BindResp(BindResp::new(mode, "consentry")),
    )
}

fn submit(seq: u32) -> Pdu {
    Pdu::request(seq, Body::SubmitSm(ShortMessage::default()))
}

fn deliver(seq: u32) -> Pdu {
    Pdu::request(seq, Body::DeliverSm(ShortMessage::default()))
}

fn rejected_with(inbound: Inbound) -> Option<(smpp_proto::CommandId, CommandStatus, u32)> {
    match inbound {
        Inbound::Reject(p) => Some((p.command_id(), p.command_status, p.sequence_number)),
        _ => None,
    }
}

#[test]
fn server_refuses_submit_before_bind_with_rinvbndsts() {
    let mut s = Session::new(Role::Smsc);
    assert_eq!(
        rejected_with(s.receive(&submit(3))),
        Some((
            smpp_proto::CommandId::SubmitSmResp,
            CommandStatus::RINVBNDSTS,
            3
        ))
    );
    assert_eq!(s.state(), SessionState::Open);
}

#[test]
fn server_bind_flow_and_already_bound() {
    let mut s = Session::new(Role::Smsc);
    assert_eq!(s.receive(&bind(1, BindMode::Transceiver)), Inbound::Accept);
    assert_eq!(s.state(), SessionState::Binding(BindMode::Transceiver));
    // A second bind while the first is pending, or after it succeeded: RALYBND.
    assert_eq!(
        rejected_with(s.receive(&bind(2, BindMode::Transmitter))).map(|r| r.1),
        Some(CommandStatus::RALYBND)
    );
    s.send(&bind_resp(1, BindMode::Transceiver, CommandStatus::ROK))
        .expect("allowed");
    assert_eq!(s.state(), SessionState::Bound(BindMode::Transceiver));
    assert_eq!(
        rejected_with(s.receive(&bind(3, BindMode::Transceiver))),
        Some((
            smpp_proto::CommandId::BindTransceiverResp,
            CommandStatus::RALYBND,
            3
        ))
    );
    assert_eq!(s.receive(&submit(4)), Inbound::Accept);
    s.send(&deliver(1)).expect("trx may receive");
}

#[test]
fn failed_bind_returns_to_open() {
    let mut s = Session::new(Role::Smsc);
    assert_eq!(s.receive(&bind(1, BindMode::Transmitter)), Inbound::Accept);
    s.send(&bind_resp(
        1,
        BindMode::Transmitter,
        CommandStatus::RINVPASWD,
    ))
    .expect("allowed");
    assert_eq!(s.state(), SessionState::Open);
    assert_eq!(s.receive(&bind(2, BindMode::Transmitter)), Inbound::Accept);
}

#[test]
fn bind_mode_limits_directions() {
    let mut s = Session::new(Role::Smsc);
    s.receive(&bind(1, BindMode::Receiver));
    s.send(&bind_resp(1, BindMode::Receiver, CommandStatus::ROK))
        .expect("allowed");
    assert_eq!(
        rejected_with(s.receive(&submit(2))).map(|r| r.1),
        Some(CommandStatus::RINVBNDSTS),
        "a receiver may not submit"
    );
    s.send(&deliver(5)).expect("receivers get deliveries");

    let mut s = Session::new(Role::Smsc);
    s.receive(&bind(1, BindMode::Transmitter));
    s.send(&bind_resp(1, BindMode::Transmitter, CommandStatus::ROK))
        .expect("allowed");
    assert!(
        s.send(&deliver(5)).is_err(),
        "transmitters get no deliveries"
    );
}

#[test]
fn operations_from_the_wrong_side_are_rinvcmdid() {
    let mut s = Session::new(Role::Esme);
    s.send(&bind(1, BindMode::Transceiver)).expect("allowed");
    assert_eq!(
        s.receive(&bind_resp(1, BindMode::Transceiver, CommandStatus::ROK)),
        Inbound::Accept
    );
    let got = rejected_with(s.receive(&submit(9)));
    assert_eq!(
        got,
        Some((
            smpp_proto::CommandId::SubmitSmResp,
            CommandStatus::RINVCMDID,
            9
        ))
    );
    assert!(
        s.send(&deliver(2)).is_err(),
        "an ESME never sends deliver_sm"
    );
}

#[test]
fn client_bind_unbind_lifecycle() {
    let mut s = Session::new(Role::Esme);
    assert!(s.send(&submit(1)).is_err(), "not bound yet");
    s.send(&bind(1, BindMode::Transmitter)).expect("allowed");
    // A bind_resp of another mode does not count.
    assert_eq!(
        s.receive(&bind_resp(1, BindMode::Receiver, CommandStatus::ROK)),
        Inbound::Unexpected
    );
    assert_eq!(
        s.receive(&bind_resp(1, BindMode::Transmitter, CommandStatus::ROK)),
        Inbound::Accept
    );
    assert_eq!(s.bound_mode(), Some(BindMode::Transmitter));
    s.send(&submit(2)).expect("bound");
    s.send(&Pdu::request(3, Body::Unbind)).expect("bound");
    assert_eq!(s.state(), SessionState::Unbinding);
    assert!(
        s.send(&submit(4)).is_err(),
        "no new requests while unbinding"
    );
    // The submit_sm_resp still in flight is accepted, then the unbind_resp closes.
    let resp = Pdu::response(2, CommandStatus::ROK, Body::SubmitSmResp(SmResp::new("1")));
    assert_eq!(s.receive(&resp), Inbound::Accept);
    assert_eq!(
        s.receive(&Pdu::response(3, CommandStatus::ROK, Body::UnbindResp)),
        Inbound::Accept
    );
    assert_eq!(s.state(), SessionState::Closed);
    assert_eq!(
        rejected_with(s.receive(&Pdu::request(9, Body::EnquireLink))).map(|r| r.1),
        Some(CommandStatus::RINVBNDSTS)
    );
}

#[test]
fn peer_unbind_is_answered_then_closed() {
    let mut s = Session::new(Role::Smsc);
    s.receive(&bind(1, BindMode::Transceiver));
    s.send(&bind_resp(1, BindMode::Transceiver, CommandStatus::ROK))
        .expect("allowed");
    assert_eq!(s.receive(&Pdu::request(2, Body::Unbind)), Inbound::Accept);
    s.send(&Pdu::response(2, CommandStatus::ROK, Body::UnbindResp))
        .expect("allowed");
    assert_eq!(s.state(), SessionState::Closed);
}

#[test]
fn enquire_link_works_before_bind_and_stray_responses_are_unexpected() {
    let mut s = Session::new(Role::Smsc);
    assert_eq!(
        s.receive(&Pdu::request(1, Body::EnquireLink)),
        Inbound::Accept
    );
    let stray = Pdu::response(
        5,
        CommandStatus::ROK,
        Body::DeliverSmResp(SmResp::default()),
    );
    assert_eq!(s.receive(&stray), Inbound::Unexpected);
}

#[test]
fn outbind_asks_the_client_to_bind_receiver() {
    let mut s = Session::new(Role::Esme);
    let outbind = Pdu::request(1, Body::Outbind(smpp_proto::Outbind::default()));
    assert_eq!(s.receive(&outbind), Inbound::Accept);
    s.send(&bind(1, BindMode::Receiver)).expect("allowed");
    let mut server = Session::new(Role::Smsc);
    assert!(server.send(&outbind).is_ok());
    let mut server_bound = Session::new(Role::Smsc);
    server_bound.receive(&bind(1, BindMode::Receiver));
    server_bound
        .send(&bind_resp(1, BindMode::Receiver, CommandStatus::ROK))
        .expect("allowed");
    assert!(
        server_bound.send(&outbind).is_err(),
        "outbind only before a bind"
    );
}
