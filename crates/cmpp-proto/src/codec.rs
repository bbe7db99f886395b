//! Framing: turning an arbitrarily chunked byte stream into [`Pdu`]s.
//!
//! Memory is bounded: Total_Length is checked against [`Decoder::max_total_length`] as soon as
//! its four octets arrive, before any frame is buffered, and nothing is ever reserved by a
//! length a peer declared. The decoder knows the connection's [`Version`] because SUBMIT and
//! DELIVER cannot be read without it; it starts at 3.0 and is set after CONNECT.

use crate::command::CommandId;
use crate::error::DecodeError;
use crate::pdu::{Body, HEADER_LEN, Header, Pdu};
use crate::version::Version;

/// The default largest PDU accepted: a 3.0 SUBMIT to 100 destinations is about 3.6 KiB.
pub const DEFAULT_MAX_TOTAL_LENGTH: u32 = 8 * 1024;

/// A PDU that could not be decoded, with what is known of its header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct FrameError {
    /// The header, when at least 12 octets of the frame were available.
    pub header: Option<Header>,
    pub error: DecodeError,
}

impl FrameError {
    /// True when framing is lost: the connection must be closed.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        matches!(self.error, DecodeError::InvalidTotalLength { .. })
    }

    /// What to send back: the request's own response with a structure or length error when the
    /// request has a result field (SUBMIT, DELIVER, CONNECT), so the peer's window frees the
    /// slot; nothing otherwise (CMPP has no generic_nack, and answering a response would
    /// confuse the peer).
    #[must_use]
    pub fn reply(&self) -> Option<Pdu> {
        let h = self.header?;
        let id = CommandId::from_value(h.command_id)?;
        if id.is_response() || self.is_fatal() {
            return None;
        }
        Body::error_response(id, self.error.result()).map(|body| Pdu::new(h.sequence_id, body))
    }
}

/// Decodes one complete frame (Total_Length octets) with `version`'s layout.
pub fn decode_frame(frame: &[u8], version: Version) -> Result<Pdu, FrameError> {
    let header = Header::parse(frame);
    let fail = |error| FrameError { header, error };
    let Some(h) = header else {
        return Err(fail(DecodeError::InvalidTotalLength {
            length: u32::try_from(frame.len()).unwrap_or(u32::MAX),
            max: DEFAULT_MAX_TOTAL_LENGTH,
        }));
    };
    if usize::try_from(h.total_length).ok() != Some(frame.len()) {
        return Err(fail(DecodeError::InvalidTotalLength {
            length: h.total_length,
            max: u32::try_from(frame.len()).unwrap_or(u32::MAX),
        }));
    }
    let id = CommandId::from_value(h.command_id).ok_or_else(|| {
        fail(DecodeError::UnknownCommandId {
            command_id: h.command_id,
        })
    })?;
    Pdu::decode_body(id, h.sequence_id, version, &frame[HEADER_LEN..]).map_err(fail)
}

/// Splits a byte stream into PDUs. Feed it with [`Decoder::extend`], then call
/// [`Decoder::next_pdu`] until it returns `Ok(None)`.
#[derive(Debug)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Start of the unread octets in `buf`. Consumed frames are not drained one by one: with
    /// 64 SUBMITs in one read that would move the rest of the buffer 64 times.
    pos: usize,
    max_total_length: u32,
    version: Version,
    fatal: Option<FrameError>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A 3.0 decoder accepting PDUs up to [`DEFAULT_MAX_TOTAL_LENGTH`].
    #[must_use]
    pub fn new() -> Self {
        Decoder::with_max_total_length(DEFAULT_MAX_TOTAL_LENGTH)
    }

    /// A 3.0 decoder accepting PDUs up to `max` octets (never less than the header).
    #[must_use]
    pub fn with_max_total_length(max: u32) -> Self {
        Decoder {
            buf: Vec::new(),
            pos: 0,
            max_total_length: max.max(HEADER_LEN as u32),
            version: Version::V30,
            fatal: None,
        }
    }

    /// The layout used for the PDUs still to come.
    #[must_use]
    pub fn version(&self) -> Version {
        self.version
    }

    /// Switches the layout, after CONNECT settled it.
    pub fn set_version(&mut self, version: Version) {
        self.version = version;
    }

    /// The largest PDU this decoder accepts.
    #[must_use]
    pub fn max_total_length(&self) -> u32 {
        self.max_total_length
    }

    /// Octets received but not yet returned as PDUs.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Appends received octets; after a fatal error they are dropped, since the connection is
    /// going away and buffering more would only cost memory.
    pub fn extend(&mut self, bytes: &[u8]) {
        if self.fatal.is_none() {
            if self.pos > 0 {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            self.buf.extend_from_slice(bytes);
        }
    }

    /// The next complete PDU, `Ok(None)` if more input is needed, or why the next frame is bad.
    /// A non-fatal error consumes its frame; a fatal one is returned again on every later call.
    pub fn next_pdu(&mut self) -> Result<Option<Pdu>, FrameError> {
        if let Some(e) = &self.fatal {
            return Err(e.clone());
        }
        let unread = &self.buf[self.pos..];
        let Some(len_octets) = unread.get(..4) else {
            return Ok(None);
        };
        let length =
            u32::from_be_bytes([len_octets[0], len_octets[1], len_octets[2], len_octets[3]]);
        if (length as usize) < HEADER_LEN || length > self.max_total_length {
            let e = FrameError {
                header: Header::parse(unread),
                error: DecodeError::InvalidTotalLength {
                    length,
                    max: self.max_total_length,
                },
            };
            self.buf = Vec::new();
            self.pos = 0;
            self.fatal = Some(e.clone());
            return Err(e);
        }
        let Ok(frame_len) = usize::try_from(length) else {
            return Ok(None);
        };
        let Some(frame) = unread.get(..frame_len) else {
            return Ok(None);
        };
        let result = decode_frame(frame, self.version);
        self.pos += frame_len;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
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
        let pdu = Pdu::new(7, Body::ActiveTest);
        let bytes = pdu.encode(Version::V30).expect("encodes");
        let mut d = Decoder::new();
        for b in &bytes {
            assert_eq!(d.next_pdu(), Ok(None));
            d.extend(&[*b]);
        }
        assert_eq!(d.next_pdu(), Ok(Some(pdu)));
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn a_4_gib_length_is_refused_before_buffering() {
        let mut d = Decoder::new();
        d.extend(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 4]);
        let e = d.next_pdu().expect_err("refused");
        assert!(e.is_fatal());
        assert_eq!(e.reply(), None);
        d.extend(&[0; 1024]);
        assert_eq!(d.buffered(), 0);
        assert!(d.next().is_none());
    }

    #[test]
    fn a_truncated_submit_is_answered_with_a_length_error() {
        let mut frame = vec![0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 9];
        frame.extend_from_slice(&[0; 8]);
        let e = decode_frame(&frame, Version::V30).expect_err("truncated");
        assert!(!e.is_fatal());
        let reply = e.reply().expect("a SUBMIT_RESP");
        assert_eq!(reply.sequence_id, 9);
        assert!(matches!(
            reply.body,
            Body::SubmitResp(r) if r.result == crate::result::LENGTH
        ));
    }
}
