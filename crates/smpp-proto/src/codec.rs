//! Framing: turning an arbitrary-chunked byte stream into [`Pdu`]s.
//!
//! The codec is written by hand rather than on `rusmpp`: rusmpp's framing lives in a
//! `tokio_util` codec (we want a sans-IO decoder usable from a fuzzer and a simulation), its
//! decode errors do not tell which `command_status` and sequence number to answer with, and its
//! types model SMPP 5.0 where we must speak 3.4. SMPP 3.4's subset used here is a few hundred
//! lines, and owning it keeps the "never allocate by a declared length" rule checkable.
//!
//! Memory is bounded: `command_length` is checked against [`Decoder::max_command_length`] as
//! soon as its four octets arrive, before any frame is buffered, and nothing is ever reserved
//! by a length a peer declared.

use crate::command::CommandId;
use crate::error::DecodeError;
use crate::pdu::{Body, HEADER_LEN, Header, Pdu};
use crate::status::CommandStatus;
use crate::wire::Reader;

/// The default largest PDU accepted: generous for message_payload, small enough to bound a
/// connection's memory.
pub const DEFAULT_MAX_COMMAND_LENGTH: u32 = 64 * 1024;

/// A PDU that could not be decoded, with what is known of its header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct FrameError {
    /// The header, when at least 16 octets of the frame were available.
    pub header: Option<Header>,
    pub error: DecodeError,
}

impl FrameError {
    /// True when framing is lost and the connection must be closed after sending
    /// [`FrameError::reply`].
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        matches!(self.error, DecodeError::InvalidCommandLength { .. })
    }

    /// The `command_status` to answer with.
    #[must_use]
    pub fn command_status(&self) -> CommandStatus {
        self.error.command_status()
    }

    /// What to send back: the request's own response carrying the error status when the
    /// request's type is known (so the peer's window matches it), generic_nack for an unknown
    /// command or a broken length, and nothing for a malformed response (answering a response
    /// would confuse the peer's window).
    #[must_use]
    pub fn reply(&self) -> Option<Pdu> {
        let seq = self.header.map_or(0, |h| h.sequence_number);
        let status = self.command_status();
        let id = self
            .header
            .and_then(|h| CommandId::from_value(h.command_id));
        match (&self.error, id) {
            (
                DecodeError::InvalidCommandLength { .. } | DecodeError::UnknownCommandId { .. },
                _,
            )
            | (_, None) => Some(Pdu::generic_nack(seq, status)),
            (_, Some(id)) if id.is_response() => None,
            (_, Some(id)) => Some(match Body::empty_response(id) {
                Some(body) => Pdu::response(seq, status, body),
                None => Pdu::generic_nack(seq, status),
            }),
        }
    }
}

/// Decodes one complete frame (`command_length` octets).
pub fn decode_frame(frame: &[u8]) -> Result<Pdu, FrameError> {
    let header = Header::parse(frame);
    let fail = |error| FrameError { header, error };
    let Some(h) = header else {
        return Err(fail(DecodeError::InvalidCommandLength {
            length: u32::try_from(frame.len()).unwrap_or(u32::MAX),
            max: DEFAULT_MAX_COMMAND_LENGTH,
        }));
    };
    if usize::try_from(h.command_length).ok() != Some(frame.len()) {
        return Err(fail(DecodeError::InvalidCommandLength {
            length: h.command_length,
            max: u32::try_from(frame.len()).unwrap_or(u32::MAX),
        }));
    }
    let id = CommandId::from_value(h.command_id).ok_or_else(|| {
        fail(DecodeError::UnknownCommandId {
            command_id: h.command_id,
        })
    })?;
    let body = Body::decode(id, &mut Reader::new(&frame[HEADER_LEN..])).map_err(fail)?;
    Ok(Pdu {
        sequence_number: h.sequence_number,
        command_status: h.command_status,
        body,
    })
}

/// Splits a byte stream into PDUs. Feed it with [`Decoder::extend`], then call
/// [`Decoder::next_pdu`] until it returns `Ok(None)`.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    max_command_length: u32,
    fatal: Option<FrameError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder accepting PDUs up to [`DEFAULT_MAX_COMMAND_LENGTH`].
    #[must_use]
    pub fn new() -> Self {
        Decoder::with_max_command_length(DEFAULT_MAX_COMMAND_LENGTH)
    }

    /// A decoder accepting PDUs up to `max` octets (never less than the 16-octet header).
    #[must_use]
    pub fn with_max_command_length(max: u32) -> Self {
        Decoder {
            buf: Vec::new(),
            max_command_length: max.max(16),
            fatal: None,
        }
    }

    /// The largest PDU this decoder accepts.
    #[must_use]
    pub fn max_command_length(&self) -> u32 {
        self.max_command_length
    }

    /// Octets received but not yet returned as PDUs.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Appends received octets.
    ///
    /// After a fatal error the input is dropped: the connection is going away and buffering
    /// more would only cost memory.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.fatal.is_none() {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next complete PDU, `Ok(None)` if more input is needed, or the reason the next frame
    /// is bad. A non-fatal error consumes its frame, so decoding can continue; a fatal one
    /// ([`FrameError::is_fatal`]) is returned again on every later call.
    pub fn next_pdu(&mut self) -> Result<Option<Pdu>, FrameError> {
        if let Some(e) = &self.fatal {
            return Err(e.clone());
        }
        let Some(len_octets) = self.buf.get(..4) else {
            return Ok(None);
        };
        let length =
            u32::from_be_bytes([len_octets[0], len_octets[1], len_octets[2], len_octets[3]]);
        if length < 16 || length > self.max_command_length {
            let e = FrameError {
                header: Header::parse(&self.buf),
                error: DecodeError::InvalidCommandLength {
                    length,
                    max: self.max_command_length,
                },
            };
            self.buf = Vec::new();
            self.fatal = Some(e.clone());
            return Err(e);
        }
        // The bound check above makes this conversion lossless on every supported target.
        let Ok(frame_len) = usize::try_from(length) else {
            return Ok(None);
        };
        if self.buf.len() < frame_len {
            return Ok(None);
        }
        let result = decode_frame(&self.buf[..frame_len]);
        self.buf.drain(..frame_len);
        result.map(Some)
    }
}

impl Iterator for Decoder {
    type Item = Result<Pdu, FrameError>;

    /// Yields PDUs and errors until more input is needed; stops for good after a fatal error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.fatal.is_some() {
            return None;
        }
        self.next_pdu().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_of_one_octet_still_frame() {
        let pdu = Pdu::request(7, Body::EnquireLink);
        let bytes = pdu.encode().expect("encodes");
        let mut d = Decoder::new();
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(d.next_pdu(), Ok(None), "at {i}");
            d.extend(&[*b]);
        }
        assert_eq!(d.next_pdu(), Ok(Some(pdu)));
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn a_huge_length_is_refused_before_buffering() {
        let mut d = Decoder::new();
        d.extend(&[0x80, 0, 0, 0]);
        let e = d.next_pdu().expect_err("refused");
        assert!(e.is_fatal());
        assert_eq!(
            e.reply(),
            Some(Pdu::generic_nack(0, CommandStatus::RINVCMDLEN))
        );
        d.extend(&[0; 1024]);
        assert_eq!(d.buffered(), 0);
        assert!(d.next().is_none());
    }
}
