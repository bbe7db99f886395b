//! The bind state machine, sans-IO, for either end of the link.
//!
//! The same rules serve our client (an ESME binding to carriers) and our server (an SMSC for
//! merchants): a [`Session`] is told its [`Role`], sees every PDU received and sent, and says
//! whether each is allowed now. A disallowed request comes back as the response to send
//! (`ESME_RINVBNDSTS`, `ESME_RALYBND`, or generic_nack `ESME_RINVCMDID` for an operation the
//! peer's role may never send), so the I/O layer never has to know the table.

use crate::command::CommandId;
use crate::pdu::{BindMode, Body, Pdu};
use crate::status::CommandStatus;

/// Which end of the link this session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The External Short Message Entity: binds, submits, receives deliveries.
    Esme,
    /// The Short Message Service Centre: accepts binds and submissions, delivers.
    Smsc,
}

impl Role {
    fn peer(self) -> Role {
        match self {
            Role::Esme => Role::Smsc,
            Role::Smsc => Role::Esme,
        }
    }
}

/// Where the session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Connected, not bound.
    Open,
    /// A bind was sent (ESME) or received (SMSC) and its response is pending.
    Binding(BindMode),
    /// Bound: the mode decides which operations flow.
    Bound(BindMode),
    /// An unbind was sent or received; only responses still flow.
    Unbinding,
    /// Unbind completed: close the connection.
    Closed,
}

/// What to do with a received PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// Allowed: hand it to the application.
    Accept,
    /// Not allowed: send this response instead of processing the request.
    Reject(Box<Pdu>),
    /// A response or generic_nack that makes no sense now: log it and drop it (answering a
    /// response would only confuse the peer).
    Unexpected,
}

/// A PDU the application tried to send that the session state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error("{command:?} may not be sent as {role:?} in state {state:?}")]
    NotAllowed {
        command: CommandId,
        role: Role,
        state: SessionState,
    },
}

/// The bind state of one connection.
#[derive(Clone, Debug)]
pub struct Session {
    role: Role,
    state: SessionState,
}

/// Who may send each operation, checked before state.
fn sent_by(id: CommandId, sender: Role) -> bool {
    use CommandId as C;
    match id {
        C::BindTransmitter
        | C::BindReceiver
        | C::BindTransceiver
        | C::SubmitSm
        | C::QuerySm
        | C::DeliverSmResp => sender == Role::Esme,
        C::BindTransmitterResp
        | C::BindReceiverResp
        | C::BindTransceiverResp
        | C::Outbind
        | C::DeliverSm
        | C::SubmitSmResp
        | C::QuerySmResp => sender == Role::Smsc,
        _ => true,
    }
}

/// Whether `sender` may send `pdu` in `state`; the error is the status to refuse it with.
fn permitted(sender: Role, pdu: &Pdu, state: SessionState) -> Result<(), CommandStatus> {
    use CommandId as C;
    use SessionState as S;
    let id = pdu.command_id();
    if !sent_by(id, sender) {
        return Err(CommandStatus::RINVCMDID);
    }
    let esme_to_smsc = sender == Role::Esme;
    let ok = match (id, state) {
        (_, S::Closed) => false,
        (C::BindTransmitter | C::BindReceiver | C::BindTransceiver, S::Open) => true,
        (
            C::BindTransmitter | C::BindReceiver | C::BindTransceiver,
            S::Binding(_) | S::Bound(_),
        ) => {
            return Err(CommandStatus::RALYBND);
        }
        (C::BindTransmitterResp | C::BindReceiverResp | C::BindTransceiverResp, S::Binding(m)) => {
            matches!(&pdu.body, Body::BindResp(b) if b.mode == m)
        }
        (C::Outbind, S::Open) => true,
        (C::EnquireLink | C::EnquireLinkResp | C::GenericNack, _) => true,
        (C::Unbind, S::Bound(_)) | (C::UnbindResp, S::Unbinding) => true,
        (id, S::Unbinding) => id.is_response(),
        (C::SubmitSm | C::SubmitSmResp | C::QuerySm | C::QuerySmResp, S::Bound(m)) => {
            m.can_submit()
        }
        (C::DeliverSm | C::DeliverSmResp, S::Bound(m)) => m.can_receive(),
        // data_sm flows ESME→SMSC on transmitter binds and SMSC→ESME on receiver binds; its
        // response flows the other way.
        (C::DataSm, S::Bound(m)) => {
            if esme_to_smsc {
                m.can_submit()
            } else {
                m.can_receive()
            }
        }
        (C::DataSmResp, S::Bound(m)) => {
            if esme_to_smsc {
                m.can_receive()
            } else {
                m.can_submit()
            }
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(CommandStatus::RINVBNDSTS)
    }
}

impl Session {
    /// A freshly connected session.
    #[must_use]
    pub fn new(role: Role) -> Self {
        Session {
            role,
            state: SessionState::Open,
        }
    }

    /// This end's role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current state.
    #[must_use]
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The bind mode when bound.
    #[must_use]
    pub fn bound_mode(&self) -> Option<BindMode> {
        match self.state {
            SessionState::Bound(m) => Some(m),
            _ => None,
        }
    }

    /// Checks a received PDU and advances the state.
    pub fn receive(&mut self, pdu: &Pdu) -> Inbound {
        if let Err(status) = permitted(self.role.peer(), pdu, self.state) {
            return if pdu.command_id().is_response() {
                Inbound::Unexpected
            } else {
                Inbound::Reject(Box::new(pdu.reject(status)))
            };
        }
        self.advance(pdu);
        Inbound::Accept
    }

    /// Checks a PDU the application is about to send and advances the state.
    pub fn send(&mut self, pdu: &Pdu) -> Result<(), SessionError> {
        permitted(self.role, pdu, self.state).map_err(|_| SessionError::NotAllowed {
            command: pdu.command_id(),
            role: self.role,
            state: self.state,
        })?;
        self.advance(pdu);
        Ok(())
    }

    /// Marks the transport gone; every later PDU is refused.
    pub fn close(&mut self) {
        self.state = SessionState::Closed;
    }

    fn advance(&mut self, pdu: &Pdu) {
        use SessionState as S;
        self.state = match (&pdu.body, self.state) {
            (Body::Bind(b), S::Open) => S::Binding(b.mode),
            (Body::BindResp(b), S::Binding(_)) if pdu.command_status.is_ok() => S::Bound(b.mode),
            (Body::BindResp(_) | Body::GenericNack, S::Binding(_)) => S::Open,
            (Body::Unbind, S::Bound(_)) => S::Unbinding,
            (Body::UnbindResp, S::Unbinding) => S::Closed,
            (_, s) => s,
        };
    }
}
