//! query_sm and query_sm_resp (SMPP 3.4 §4.8): polling the state of a submitted message,
//! for carriers that send no delivery receipts.

use super::Address;
use crate::error::{DecodeError, EncodeError};
use crate::message_state::MessageState;
use crate::status::CommandStatus;
use crate::wire::{Reader, put_c_string};

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
