//! Typed PDUs: a 12-octet header (Total_Length, Command_Id, Sequence_Id) and a body whose layout
//! depends on the [`Version`] negotiated at CONNECT.
//!
//! Bodies are modelled on CMPP 3.0, the superset. Encoding as 2.0 drops the 3.0-only fields
//! (`*_terminal_type`, LinkID) and narrows the rest; decoding 2.0 leaves them at zero or empty,
//! so `decode(encode(p, v), v)` is `p` for every PDU that came from `decode(_, v)`.

mod connect;
mod deliver;
mod query;
mod submit;

pub use connect::{
    Connect, ConnectResp, authenticator_ismg, authenticator_source, timestamp_from_fields,
};
pub use deliver::{Deliver, DeliverResp, StatusReport};
pub use query::{Cancel, CancelResp, Query, QueryResp};
pub use submit::{Submit, SubmitResp};

use crate::command::CommandId;
use crate::error::{DecodeError, EncodeError};
use crate::version::Version;
use crate::wire::Reader;

/// Octets of the header.
pub const HEADER_LEN: usize = 12;

/// The three header fields, as read from the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub total_length: u32,
    pub command_id: u32,
    pub sequence_id: u32,
}

impl Header {
    /// Reads the header from the first 12 octets, if there are that many.
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Option<Header> {
        let word = |i: usize| {
            bytes
                .get(i..i + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        Some(Header {
            total_length: word(0)?,
            command_id: word(4)?,
            sequence_id: word(8)?,
        })
    }
}

/// One operation's body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Connect(Connect),
    ConnectResp(ConnectResp),
    Terminate,
    TerminateResp,
    Submit(Box<Submit>),
    SubmitResp(SubmitResp),
    Deliver(Box<Deliver>),
    DeliverResp(DeliverResp),
    Query(Query),
    QueryResp(QueryResp),
    Cancel(Cancel),
    CancelResp(CancelResp),
    ActiveTest,
    ActiveTestResp,
}

impl Body {
    /// The Command_Id of this body.
    #[must_use]
    pub fn command_id(&self) -> CommandId {
        match self {
            Body::Connect(_) => CommandId::Connect,
            Body::ConnectResp(_) => CommandId::ConnectResp,
            Body::Terminate => CommandId::Terminate,
            Body::TerminateResp => CommandId::TerminateResp,
            Body::Submit(_) => CommandId::Submit,
            Body::SubmitResp(_) => CommandId::SubmitResp,
            Body::Deliver(_) => CommandId::Deliver,
            Body::DeliverResp(_) => CommandId::DeliverResp,
            Body::Query(_) => CommandId::Query,
            Body::QueryResp(_) => CommandId::QueryResp,
            Body::Cancel(_) => CommandId::Cancel,
            Body::CancelResp(_) => CommandId::CancelResp,
            Body::ActiveTest => CommandId::ActiveTest,
            Body::ActiveTestResp => CommandId::ActiveTestResp,
        }
    }

    fn encode(&self, v: Version, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Body::Connect(c) => c.encode(out),
            Body::ConnectResp(c) => c.encode(v, out),
            Body::Submit(s) => s.encode(v, out),
            Body::SubmitResp(r) => r.encode(v, out),
            Body::Deliver(d) => d.encode(v, out),
            Body::DeliverResp(r) => r.encode(v, out),
            Body::Query(q) => q.encode(out),
            Body::QueryResp(q) => q.encode(out),
            Body::Cancel(c) => {
                out.extend_from_slice(&c.msg_id.to_be_bytes());
                Ok(())
            }
            Body::CancelResp(c) => c.encode(v, out),
            Body::ActiveTestResp => {
                out.push(0);
                Ok(())
            }
            Body::Terminate | Body::TerminateResp | Body::ActiveTest => Ok(()),
        }
    }

    fn decode(id: CommandId, v: Version, r: &mut Reader<'_>) -> Result<Body, DecodeError> {
        let body = match id {
            CommandId::Connect => Body::Connect(Connect::decode(r)?),
            CommandId::ConnectResp => Body::ConnectResp(ConnectResp::decode(v, r)?),
            CommandId::Terminate => Body::Terminate,
            CommandId::TerminateResp => Body::TerminateResp,
            CommandId::Submit => Body::Submit(Box::new(Submit::decode(v, r)?)),
            CommandId::SubmitResp => Body::SubmitResp(SubmitResp::decode(v, r)?),
            CommandId::Deliver => Body::Deliver(Box::new(Deliver::decode(v, r)?)),
            CommandId::DeliverResp => Body::DeliverResp(DeliverResp::decode(v, r)?),
            CommandId::Query => Body::Query(Query::decode(r)?),
            CommandId::QueryResp => Body::QueryResp(QueryResp::decode(r)?),
            CommandId::Cancel => Body::Cancel(Cancel {
                msg_id: r.u64("Msg_Id")?,
            }),
            CommandId::CancelResp => Body::CancelResp(CancelResp::decode(v, r)?),
            CommandId::ActiveTest => Body::ActiveTest,
            CommandId::ActiveTestResp => {
                // The Reserved octet is missing in some clients' responses; both are accepted.
                if r.remaining() == 1 {
                    r.u8("Reserved")?;
                }
                Body::ActiveTestResp
            }
        };
        r.finish()?;
        Ok(body)
    }

    /// The response to `id` carrying `result` and no other information, for answering a request
    /// that could not be decoded or is refused before its body matters. `None` for responses
    /// and for requests whose response has no result field.
    #[must_use]
    pub fn error_response(id: CommandId, result: u32) -> Option<Body> {
        match id {
            CommandId::Connect => Some(Body::ConnectResp(ConnectResp {
                status: crate::result::CONNECT_STRUCTURE,
                authenticator: [0; 16],
                version: 0,
            })),
            CommandId::Submit => Some(Body::SubmitResp(SubmitResp { msg_id: 0, result })),
            CommandId::Deliver => Some(Body::DeliverResp(DeliverResp { msg_id: 0, result })),
            _ => None,
        }
    }
}

/// A PDU: its Sequence_Id and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    pub sequence_id: u32,
    pub body: Body,
}

impl Pdu {
    /// A PDU with `sequence_id`.
    #[must_use]
    pub fn new(sequence_id: u32, body: Body) -> Self {
        Pdu { sequence_id, body }
    }

    /// The Command_Id.
    #[must_use]
    pub fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// Encodes with the layout of `version`.
    pub fn encode(&self, version: Version) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(64);
        self.encode_into(version, &mut out)?;
        Ok(out)
    }

    /// Appends the encoding to `out` (a write buffer shared by many PDUs).
    pub fn encode_into(&self, version: Version, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.command_id().value().to_be_bytes());
        out.extend_from_slice(&self.sequence_id.to_be_bytes());
        if let Err(e) = self.body.encode(version, out) {
            out.truncate(start);
            return Err(e);
        }
        let len = out.len() - start;
        let Ok(len32) = u32::try_from(len) else {
            out.truncate(start);
            return Err(EncodeError::ValueTooLarge {
                field: "Total_Length",
                value: len as u64,
            });
        };
        out[start..start + 4].copy_from_slice(&len32.to_be_bytes());
        Ok(())
    }

    /// Decodes a body of command `id` (the header already read) with `version`'s layout.
    pub(crate) fn decode_body(
        id: CommandId,
        sequence_id: u32,
        version: Version,
        body: &[u8],
    ) -> Result<Pdu, DecodeError> {
        let body = Body::decode(id, version, &mut Reader::new(body))?;
        Ok(Pdu { sequence_id, body })
    }
}
