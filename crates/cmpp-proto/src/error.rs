//! Errors for decoding and encoding PDUs.
//!
//! CMPP has no generic_nack: a peer learns about a bad request only from the request's own
//! response (a Result of 1 "structure error" or 4 "length error"), and about a bad response not
//! at all. Decode errors therefore carry the result code to answer with.

/// Why a PDU (or its header) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Total_Length is below the 12-octet header or above the configured maximum. The stream
    /// can no longer be framed: close the connection.
    #[error("Total_Length {length} is outside 12..={max}")]
    InvalidTotalLength { length: u32, max: u32 },
    /// A Command_Id this crate does not handle.
    #[error("unsupported Command_Id {command_id:#010x}")]
    UnknownCommandId { command_id: u32 },
    /// The body ended inside a field.
    #[error("body ends inside {field}")]
    Truncated { field: &'static str },
    /// Octets remained after the last field.
    #[error("{extra} unexpected octets after the body")]
    TrailingOctets { extra: usize },
    /// A count or length field is outside what the protocol allows.
    #[error("{field} is {value}, more than {max}")]
    OutOfRange {
        field: &'static str,
        value: u32,
        max: u32,
    },
}

impl DecodeError {
    /// The SUBMIT_RESP / DELIVER_RESP Result to answer the offending request with: 4 (length
    /// error) for framing and length problems, 1 (structure error) for the rest.
    #[must_use]
    pub fn result(&self) -> u32 {
        match self {
            DecodeError::InvalidTotalLength { .. }
            | DecodeError::Truncated { .. }
            | DecodeError::TrailingOctets { .. } => crate::result::LENGTH,
            DecodeError::UnknownCommandId { .. } => crate::result::COMMAND,
            DecodeError::OutOfRange { .. } => crate::result::STRUCTURE,
        }
    }
}

/// Why a PDU could not be encoded: caller bugs or oversize input, never peer input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An octet string does not fit its fixed width.
    #[error("{field} is longer than {max} octets")]
    FieldTooLong { field: &'static str, max: usize },
    /// An octet string holds a character outside Latin-1 or a NUL, which a fixed-width field
    /// cannot carry.
    #[error("{field} holds a character that cannot be sent in an octet string")]
    InvalidCharacter { field: &'static str },
    /// A value does not fit the width the version gives it (a result above 255 in CMPP 2.0,
    /// more than 255 destinations, content over 255 octets).
    #[error("{field} value {value} does not fit")]
    ValueTooLarge { field: &'static str, value: u64 },
}
