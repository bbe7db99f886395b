//! The CONNECT handshake and which PDU each end may send when, sans-IO.
//!
//! One [`Session`] per connection, told its [`Role`]: it sees every PDU received and sent and
//! says whether each is allowed now, and carries the [`Version`] settled at CONNECT. The
//! handshake's two halves are [`ClientHandshake`] (the SP: builds CONNECT, checks the
//! gateway's AuthenticatorISMG) and [`answer_connect`] (the gateway: checks
//! AuthenticatorSource against the secret it looked up).

use crate::command::CommandId;
use crate::pdu::{Body, Connect, ConnectResp, Pdu};
use crate::result;
use crate::version::Version;

/// Which end of the link this session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The service provider: connects, submits, receives DELIVERs.
    Sp,
    /// The gateway: accepts CONNECT and SUBMIT, sends DELIVERs.
    Ismg,
}

/// Where the session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Connected, no CONNECT yet.
    Open,
    /// CONNECT sent (SP) or received (ISMG), its response pending.
    Connecting,
    /// Authenticated, speaking `Version`.
    Connected(Version),
    /// TERMINATE sent or received; only responses still flow.
    Terminating,
    /// Close the connection.
    Closed,
}

/// What to do with a received PDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound {
    /// Allowed: hand it to the application.
    Accept,
    /// Not allowed now: send this response (if any) and go on. Before CONNECT the gateway
    /// should instead close; see [`Session::receive`].
    Reject(Option<Box<Pdu>>),
    /// A response that answers nothing we could have sent: log and drop it.
    Unexpected,
}

/// Who may send each command.
fn sent_by(id: CommandId, sender: Role) -> bool {
    use CommandId as C;
    match id {
        C::Connect | C::Submit | C::Query | C::Cancel | C::DeliverResp => sender == Role::Sp,
        C::ConnectResp | C::SubmitResp | C::QueryResp | C::CancelResp | C::Deliver => {
            sender == Role::Ismg
        }
        C::Terminate | C::TerminateResp | C::ActiveTest | C::ActiveTestResp => true,
    }
}

/// One connection's protocol state.
#[derive(Clone, Debug)]
pub struct Session {
    role: Role,
    state: SessionState,
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

    /// A session whose CONNECT exchange was done elsewhere (by a [`ClientHandshake`] over the
    /// socket before the connection loop starts), speaking `version`.
    #[must_use]
    pub fn established(role: Role, version: Version) -> Self {
        Session {
            role,
            state: SessionState::Connected(version),
        }
    }

    /// The current state.
    #[must_use]
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// The version, once connected.
    #[must_use]
    pub fn version(&self) -> Option<Version> {
        match self.state {
            SessionState::Connected(v) => Some(v),
            _ => None,
        }
    }

    fn peer(&self) -> Role {
        match self.role {
            Role::Sp => Role::Ismg,
            Role::Ismg => Role::Sp,
        }
    }

    fn allowed(&self, id: CommandId, sender: Role) -> bool {
        use CommandId as C;
        use SessionState as S;
        if !sent_by(id, sender) {
            return false;
        }
        match (id, self.state) {
            (_, S::Closed) => false,
            (C::Connect, S::Open) | (C::ConnectResp, S::Connecting) => true,
            (C::Connect | C::ConnectResp, _) => false,
            (_, S::Connected(_)) => true,
            (id, S::Terminating) => id.is_response(),
            _ => false,
        }
    }

    /// Checks a received PDU and advances the state. A request refused before CONNECT is
    /// answered with nothing: the specification has the gateway close such connections.
    pub fn receive(&mut self, pdu: &Pdu) -> Inbound {
        let id = pdu.command_id();
        if !self.allowed(id, self.peer()) {
            if id.is_response() {
                return Inbound::Unexpected;
            }
            let answer = matches!(self.state, SessionState::Connected(_))
                .then(|| Body::error_response(id, result::COMMAND))
                .flatten()
                .map(|b| Box::new(Pdu::new(pdu.sequence_id, b)));
            return Inbound::Reject(answer);
        }
        self.advance(pdu);
        Inbound::Accept
    }

    /// Checks a PDU about to be sent and advances the state; `false` means do not send it.
    pub fn send(&mut self, pdu: &Pdu) -> bool {
        if !self.allowed(pdu.command_id(), self.role) {
            return false;
        }
        self.advance(pdu);
        true
    }

    /// Marks the transport gone.
    pub fn close(&mut self) {
        self.state = SessionState::Closed;
    }

    fn advance(&mut self, pdu: &Pdu) {
        use SessionState as S;
        self.state = match (&pdu.body, self.state) {
            (Body::Connect(_), S::Open) => S::Connecting,
            (Body::ConnectResp(r), S::Connecting) if r.status == result::CONNECT_OK => {
                Version::from_octet(r.version).map_or(S::Closed, S::Connected)
            }
            (Body::ConnectResp(_), S::Connecting) => S::Closed,
            (Body::Terminate, S::Connected(_)) => S::Terminating,
            (Body::TerminateResp, S::Terminating) => S::Closed,
            (_, s) => s,
        };
    }
}

/// Why the gateway did not accept our CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// A non-zero Status (2 unknown Source_Addr, 3 wrong secret, 4 version too high).
    #[error("the gateway refused CONNECT with status {0}")]
    Refused(u32),
    /// AuthenticatorISMG was not computed from our secret: not the gateway we meant.
    #[error("the gateway's AuthenticatorISMG does not match the shared secret")]
    BadAuthenticator,
    /// The gateway answered with a version we cannot speak or did not ask for.
    #[error("the gateway answered with version {0:#04x}")]
    Version(u8),
}

/// The SP's half of the handshake.
#[derive(Clone, Debug)]
pub struct ClientHandshake {
    connect: Connect,
    secret: Vec<u8>,
    requested: Version,
}

impl ClientHandshake {
    /// Prepares a CONNECT as `source_addr` asking for `version`, at `timestamp`
    /// ([`crate::pdu::timestamp_from_fields`]).
    #[must_use]
    pub fn new(source_addr: &str, secret: &[u8], version: Version, timestamp: u32) -> Self {
        ClientHandshake {
            connect: Connect::new(source_addr, secret, version, timestamp),
            secret: secret.to_vec(),
            requested: version,
        }
    }

    /// The CONNECT to send.
    #[must_use]
    pub fn request(&self, sequence_id: u32) -> Pdu {
        Pdu::new(sequence_id, Body::Connect(self.connect.clone()))
    }

    /// Checks the CONNECT_RESP: the version to speak from now on, or why not.
    pub fn accept(&self, resp: &ConnectResp) -> Result<Version, ConnectError> {
        if resp.status != result::CONNECT_OK {
            return Err(ConnectError::Refused(resp.status));
        }
        let version = Version::from_octet(resp.version)
            .filter(|v| *v <= self.requested)
            .ok_or(ConnectError::Version(resp.version))?;
        if !resp.verify(&self.connect, version, &self.secret) {
            return Err(ConnectError::BadAuthenticator);
        }
        Ok(version)
    }
}

/// The gateway's half: the CONNECT_RESP for `connect`, given the secret looked up for its
/// Source_Addr (`None`: unknown), and the version agreed on when the status is 0.
///
/// The Timestamp is not checked against the clock: SP clocks in the field are often minutes
/// off, and the specification defines no window. A captured CONNECT can therefore be
/// replayed; the secret never can be read from it.
#[must_use]
pub fn answer_connect(
    connect: &Connect,
    highest: Version,
    secret: Option<&[u8]>,
) -> (ConnectResp, Option<Version>) {
    let reply_version = Version::from_octet(connect.version)
        .filter(|v| *v <= highest)
        .unwrap_or(highest);
    let Some(secret) = secret else {
        let r = ConnectResp::answer(connect, result::CONNECT_INVALID_SOURCE, reply_version, b"");
        return (r, None);
    };
    let Some(version) = Version::negotiate(connect.version, highest) else {
        let status = result::CONNECT_VERSION_TOO_HIGH;
        return (
            ConnectResp::answer(connect, status, reply_version, secret),
            None,
        );
    };
    if !connect.verify(secret) {
        let r = ConnectResp::answer(connect, result::CONNECT_AUTH, version, b"");
        return (r, None);
    }
    (
        ConnectResp::answer(connect, result::CONNECT_OK, version, secret),
        Some(version),
    )
}
