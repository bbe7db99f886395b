//! Typed PDUs: the 16-octet header plus one [`Body`] per supported operation.
//!
//! Decoding works on one complete frame (see [`crate::codec::Decoder`] for splitting a byte
//! stream into frames); encoding produces one complete frame including `command_length`.

mod bind;
mod data_sm;
mod query_sm;
mod short_message;

pub use bind::{Bind, BindMode, BindResp, INTERFACE_VERSION, Outbind};
pub use data_sm::DataSm;
pub use query_sm::{QuerySm, QuerySmResp};
pub use short_message::{
    ESM_CLASS_DELIVERY_RECEIPT, ESM_CLASS_TYPE_MASK, ESM_CLASS_UDHI, ShortMessage, SmResp,
};

use crate::command::CommandId;
use crate::error::{DecodeError, EncodeError};
use crate::status::CommandStatus;
use crate::wire::{Reader, put_c_string};

/// Octets in the PDU header.
pub const HEADER_LEN: usize = 16;

/// An SME address: type of number, numbering plan and the digits (or alphanumeric sender id).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Address {
    /// Type of number: 0 unknown, 1 international, 5 alphanumeric, …
    pub ton: u8,
    /// Numbering plan indicator: 0 unknown, 1 E.164, …
    pub npi: u8,
    pub addr: String,
}

impl Address {
    /// An address with explicit TON and NPI.
    #[must_use]
    pub fn new(ton: u8, npi: u8, addr: &str) -> Self {
        Address {
            ton,
            npi,
            addr: addr.to_owned(),
        }
    }

    /// An international E.164 number (TON 1, NPI 1) given without the leading `+`.
    #[must_use]
    pub fn international(digits: &str) -> Self {
        Address::new(1, 1, digits)
    }

    pub(crate) fn decode(
        r: &mut Reader<'_>,
        field: &'static str,
        max: usize,
        status: CommandStatus,
    ) -> Result<Self, DecodeError> {
        Ok(Address {
            ton: r.u8(field)?,
            npi: r.u8(field)?,
            addr: r.c_string(field, max, status)?,
        })
    }

    pub(crate) fn encode(
        &self,
        out: &mut Vec<u8>,
        field: &'static str,
        max: usize,
    ) -> Result<(), EncodeError> {
        out.extend_from_slice(&[self.ton, self.npi]);
        put_c_string(out, &self.addr, field, max)
    }
}

/// The fixed 16-octet PDU header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub command_length: u32,
    pub command_id: u32,
    pub command_status: CommandStatus,
    pub sequence_number: u32,
}

impl Header {
    /// Parses the first 16 octets of `buf`, or `None` if fewer are available.
    #[must_use]
    pub fn parse(buf: &[u8]) -> Option<Header> {
        let word = |i: usize| {
            buf.get(i..i + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        Some(Header {
            command_length: word(0)?,
            command_id: word(4)?,
            command_status: CommandStatus(word(8)?),
            sequence_number: word(12)?,
        })
    }
}

/// The body of a PDU, one variant per supported operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Body {
    Bind(Bind),
    BindResp(BindResp),
    Outbind(Outbind),
    SubmitSm(ShortMessage),
    SubmitSmResp(SmResp),
    DeliverSm(ShortMessage),
    DeliverSmResp(SmResp),
    DataSm(DataSm),
    DataSmResp(SmResp),
    QuerySm(QuerySm),
    QuerySmResp(QuerySmResp),
    EnquireLink,
    EnquireLinkResp,
    Unbind,
    UnbindResp,
    GenericNack,
}

impl Body {
    /// The operation this body belongs to.
    #[must_use]
    pub fn command_id(&self) -> CommandId {
        match self {
            Body::Bind(b) => match b.mode {
                BindMode::Transmitter => CommandId::BindTransmitter,
                BindMode::Receiver => CommandId::BindReceiver,
                BindMode::Transceiver => CommandId::BindTransceiver,
            },
            Body::BindResp(b) => match b.mode {
                BindMode::Transmitter => CommandId::BindTransmitterResp,
                BindMode::Receiver => CommandId::BindReceiverResp,
                BindMode::Transceiver => CommandId::BindTransceiverResp,
            },
            Body::Outbind(_) => CommandId::Outbind,
            Body::SubmitSm(_) => CommandId::SubmitSm,
            Body::SubmitSmResp(_) => CommandId::SubmitSmResp,
            Body::DeliverSm(_) => CommandId::DeliverSm,
            Body::DeliverSmResp(_) => CommandId::DeliverSmResp,
            Body::DataSm(_) => CommandId::DataSm,
            Body::DataSmResp(_) => CommandId::DataSmResp,
            Body::QuerySm(_) => CommandId::QuerySm,
            Body::QuerySmResp(_) => CommandId::QuerySmResp,
            Body::EnquireLink => CommandId::EnquireLink,
            Body::EnquireLinkResp => CommandId::EnquireLinkResp,
            Body::Unbind => CommandId::Unbind,
            Body::UnbindResp => CommandId::UnbindResp,
            Body::GenericNack => CommandId::GenericNack,
        }
    }

    /// An empty response body for `request`, used to answer with an error status.
    #[must_use]
    pub fn empty_response(request: CommandId) -> Option<Body> {
        Some(match request {
            CommandId::BindTransmitter => Body::BindResp(BindResp::new(BindMode::Transmitter, "")),
            CommandId::BindReceiver => Body::BindResp(BindResp::new(BindMode::Receiver, "")),
            CommandId::BindTransceiver => Body::BindResp(BindResp::new(BindMode::Transceiver, "")),
            CommandId::SubmitSm => Body::SubmitSmResp(SmResp::default()),
            CommandId::DeliverSm => Body::DeliverSmResp(SmResp::default()),
            CommandId::DataSm => Body::DataSmResp(SmResp::default()),
            CommandId::QuerySm => Body::QuerySmResp(QuerySmResp::default()),
            CommandId::EnquireLink => Body::EnquireLinkResp,
            CommandId::Unbind => Body::UnbindResp,
            _ => return None,
        })
    }

    pub(crate) fn decode(id: CommandId, r: &mut Reader<'_>) -> Result<Body, DecodeError> {
        let body = match id {
            CommandId::BindTransmitter => Body::Bind(Bind::decode(BindMode::Transmitter, r)?),
            CommandId::BindReceiver => Body::Bind(Bind::decode(BindMode::Receiver, r)?),
            CommandId::BindTransceiver => Body::Bind(Bind::decode(BindMode::Transceiver, r)?),
            CommandId::BindTransmitterResp => {
                Body::BindResp(BindResp::decode(BindMode::Transmitter, r)?)
            }
            CommandId::BindReceiverResp => Body::BindResp(BindResp::decode(BindMode::Receiver, r)?),
            CommandId::BindTransceiverResp => {
                Body::BindResp(BindResp::decode(BindMode::Transceiver, r)?)
            }
            CommandId::Outbind => Body::Outbind(Outbind::decode(r)?),
            CommandId::SubmitSm => Body::SubmitSm(ShortMessage::decode(r)?),
            CommandId::SubmitSmResp => Body::SubmitSmResp(SmResp::decode(r)?),
            CommandId::DeliverSm => Body::DeliverSm(ShortMessage::decode(r)?),
            CommandId::DeliverSmResp => Body::DeliverSmResp(SmResp::decode(r)?),
            CommandId::DataSm => Body::DataSm(DataSm::decode(r)?),
            CommandId::DataSmResp => Body::DataSmResp(SmResp::decode(r)?),
            CommandId::QuerySm => Body::QuerySm(QuerySm::decode(r)?),
            CommandId::QuerySmResp => Body::QuerySmResp(QuerySmResp::decode(r)?),
            CommandId::EnquireLink => Body::EnquireLink,
            CommandId::EnquireLinkResp => Body::EnquireLinkResp,
            CommandId::Unbind => Body::Unbind,
            CommandId::UnbindResp => Body::UnbindResp,
            CommandId::GenericNack => Body::GenericNack,
        };
        r.finish()?;
        Ok(body)
    }

    fn encode(&self, status: CommandStatus, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        // Error responses conventionally carry no body; keep that when there is nothing to say.
        let omit = !status.is_ok()
            && match self {
                Body::BindResp(b) => b.is_empty(),
                Body::SubmitSmResp(b) | Body::DeliverSmResp(b) | Body::DataSmResp(b) => {
                    b.is_empty()
                }
                Body::QuerySmResp(b) => b.is_empty(),
                _ => false,
            };
        if omit {
            return Ok(());
        }
        match self {
            Body::Bind(b) => b.encode(out),
            Body::BindResp(b) => b.encode(out),
            Body::Outbind(b) => b.encode(out),
            Body::SubmitSm(b) | Body::DeliverSm(b) => b.encode(out),
            Body::SubmitSmResp(b) | Body::DeliverSmResp(b) | Body::DataSmResp(b) => b.encode(out),
            Body::DataSm(b) => b.encode(out),
            Body::QuerySm(b) => b.encode(out),
            Body::QuerySmResp(b) => b.encode(out),
            Body::EnquireLink
            | Body::EnquireLinkResp
            | Body::Unbind
            | Body::UnbindResp
            | Body::GenericNack => Ok(()),
        }
    }
}

/// One SMPP PDU: header fields (other than the derived length and id) and a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pdu {
    pub sequence_number: u32,
    pub command_status: CommandStatus,
    pub body: Body,
}

impl Pdu {
    /// A request (status zero).
    #[must_use]
    pub fn request(sequence_number: u32, body: Body) -> Pdu {
        Pdu {
            sequence_number,
            command_status: CommandStatus::ROK,
            body,
        }
    }

    /// A response with the given status.
    #[must_use]
    pub fn response(sequence_number: u32, command_status: CommandStatus, body: Body) -> Pdu {
        Pdu {
            sequence_number,
            command_status,
            body,
        }
    }

    /// generic_nack, for PDUs that cannot be answered with their own response.
    #[must_use]
    pub fn generic_nack(sequence_number: u32, status: CommandStatus) -> Pdu {
        Pdu::response(sequence_number, status, Body::GenericNack)
    }

    /// The operation.
    #[must_use]
    pub fn command_id(&self) -> CommandId {
        self.body.command_id()
    }

    /// The response to this request carrying `status` and an empty body, or generic_nack when
    /// the operation has no response of its own (outbind, or a response).
    #[must_use]
    pub fn reject(&self, status: CommandStatus) -> Pdu {
        match Body::empty_response(self.command_id()) {
            Some(body) => Pdu::response(self.sequence_number, status, body),
            None => Pdu::generic_nack(self.sequence_number, status),
        }
    }

    /// Appends the encoded PDU to `out`, leaving `out` unchanged on error.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.command_id().value().to_be_bytes());
        out.extend_from_slice(&self.command_status.0.to_be_bytes());
        out.extend_from_slice(&self.sequence_number.to_be_bytes());
        if let Err(e) = self.body.encode(self.command_status, out) {
            out.truncate(start);
            return Err(e);
        }
        let len = out.len() - start;
        let Ok(command_length) = u32::try_from(len) else {
            out.truncate(start);
            return Err(EncodeError::PduTooLong { len });
        };
        out[start..start + 4].copy_from_slice(&command_length.to_be_bytes());
        Ok(())
    }

    /// Encodes the PDU as one frame.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_into(&mut out)?;
        Ok(out)
    }
}
