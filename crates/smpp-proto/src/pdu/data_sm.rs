//! data_sm (SMPP 3.4 §4.7) and query_sm / query_sm_resp (§4.8).
//!
//! data_sm carries its text in message_payload, so its mandatory part is short; query_sm is
//! grouped here because both are small "other message operations".

use super::Address;
use crate::error::{DecodeError, EncodeError};
use crate::message_state::MessageState;
use crate::status::CommandStatus;
use crate::tlv::Tlvs;
use crate::wire::{Reader, put_c_string};

/// The body of data_sm, sent in either direction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataSm {
    pub service_type: String,
    /// At most 64 characters (longer than submit_sm's 20).
    pub source: Address,
    /// At most 64 characters.
    pub destination: Address,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    /// message_payload and friends.
    pub tlvs: Tlvs,
}

impl DataSm {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DataSm {
            service_type: r.c_string("service_type", 6, CommandStatus::RINVSERTYP)?,
            source: Address::decode(r, "source_addr", 65, CommandStatus::RINVSRCADR)?,
            destination: Address::decode(r, "destination_addr", 65, CommandStatus::RINVDSTADR)?,
            esm_class: r.u8("esm_class")?,
            registered_delivery: r.u8("registered_delivery")?,
            data_coding: r.u8("data_coding")?,
            tlvs: Tlvs::decode(r)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_c_string(out, &self.service_type, "service_type", 6)?;
        self.source.encode(out, "source_addr", 65)?;
        self.destination.encode(out, "destination_addr", 65)?;
        out.extend_from_slice(&[self.esm_class, self.registered_delivery, self.data_coding]);
        self.tlvs.encode(out)
    }
}

/// query_sm: ask the SMSC for the state of a message it accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuerySm {
    pub message_id: String,
    /// Must match the source of the original submit_sm.
    pub source: Address,
}

impl QuerySm {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let q = QuerySm {
            message_id: r.c_string("message_id", 65, CommandStatus::RINVMSGID)?,
            source: Address::decode(r, "source_addr", 21, CommandStatus::RINVSRCADR)?,
        };
        r.finish()?;
        Ok(q)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_c_string(out, &self.message_id, "message_id", 65)?;
        self.source.encode(out, "source_addr", 21)
    }
}

/// query_sm_resp. On error the SMSC may omit the body; it then decodes as the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuerySmResp {
    pub message_id: String,
    /// Empty while the message is not final, else the SMPP time it became final.
    pub final_date: String,
    pub message_state: MessageState,
    /// Network-specific error code, 0 when none.
    pub error_code: u8,
}

impl Default for QuerySmResp {
    fn default() -> Self {
        QuerySmResp {
            message_id: String::new(),
            final_date: String::new(),
            message_state: MessageState::Other(0),
            error_code: 0,
        }
    }
}

impl QuerySmResp {
    pub(crate) fn is_empty(&self) -> bool {
        *self == QuerySmResp::default()
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.is_empty() {
            return Ok(QuerySmResp::default());
        }
        let q = QuerySmResp {
            message_id: r.c_string("message_id", 65, CommandStatus::RINVMSGID)?,
            final_date: r.c_string("final_date", 17, CommandStatus::RQUERYFAIL)?,
            message_state: MessageState::from(r.u8("message_state")?),
            error_code: r.u8("error_code")?,
        };
        r.finish()?;
        Ok(q)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_c_string(out, &self.message_id, "message_id", 65)?;
        put_c_string(out, &self.final_date, "final_date", 17)?;
        out.extend_from_slice(&[u8::from(self.message_state), self.error_code]);
        Ok(())
    }
}
