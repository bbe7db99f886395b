//! Errors for decoding and encoding PDUs.
//!
//! Decode errors carry the `command_status` a peer should be answered with, because the only
//! useful thing a server can do with a bad PDU is tell the sender precisely what was wrong.

use crate::status::CommandStatus;

/// Why a PDU body (or its header) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// `command_length` is below the 16-octet header or above the configured maximum. The
    /// stream can no longer be framed: answer `generic_nack(ESME_RINVCMDLEN)` and close.
    #[error("command_length {length} is outside 16..={max}")]
    InvalidCommandLength { length: u32, max: u32 },
    /// The `command_id` is not one this crate handles: answer `generic_nack(ESME_RINVCMDID)`.
    #[error("unsupported command_id {command_id:#010x}")]
    UnknownCommandId { command_id: u32 },
    /// The body ended inside a mandatory field.
    #[error("body ends inside {field}")]
    Truncated { field: &'static str },
    /// A C-octet string ran past its maximum length without its terminating NUL.
    #[error("{field} is longer than {max} octets")]
    FieldTooLong {
        field: &'static str,
        max: usize,
        status: CommandStatus,
    },
    /// A known TLV had a value of the wrong size.
    #[error("TLV {tag:#06x} has invalid length {length}")]
    InvalidTlvLength { tag: u16, length: usize },
    /// The TLV area ended inside a tag, length or value.
    #[error("TLV stream is truncated")]
    TlvStreamTruncated,
    /// Octets remained after the body of a PDU that carries no TLVs.
    #[error("{extra} unexpected octets after the body")]
    TrailingOctets { extra: usize },
}

impl DecodeError {
    /// The `command_status` to answer the offending PDU with.
    #[must_use]
    pub fn command_status(&self) -> CommandStatus {
        match self {
            DecodeError::InvalidCommandLength { .. } | DecodeError::TrailingOctets { .. } => {
                CommandStatus::RINVCMDLEN
            }
            DecodeError::UnknownCommandId { .. } => CommandStatus::RINVCMDID,
            DecodeError::Truncated { .. } => CommandStatus::RINVMSGLEN,
            DecodeError::FieldTooLong { status, .. } => *status,
            DecodeError::InvalidTlvLength { .. } => CommandStatus::RINVPARLEN,
            DecodeError::TlvStreamTruncated => CommandStatus::RINVOPTPARSTREAM,
        }
    }
}

/// Why a PDU could not be encoded. These are caller bugs or oversize input, never peer input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A C-octet string does not fit its field (the limit counts the terminating NUL).
    #[error("{field} is longer than {max} octets including NUL")]
    FieldTooLong { field: &'static str, max: usize },
    /// A C-octet string holds NUL or a character outside Latin-1, which the field cannot carry.
    #[error("{field} holds a character that cannot be sent in a C-octet string")]
    InvalidCharacter { field: &'static str },
    /// short_message is longer than its one-octet length allows; use message_payload instead.
    #[error("short_message is {len} octets; at most 255 fit, use message_payload")]
    ShortMessageTooLong { len: usize },
    /// A TLV value is longer than its two-octet length allows.
    #[error("TLV {tag:#06x} value is {len} octets; at most 65535 fit")]
    TlvTooLong { tag: u16, len: usize },
    /// The encoded PDU would not fit `command_length`.
    #[error("PDU is {len} octets, too long for command_length")]
    PduTooLong { len: usize },
}
