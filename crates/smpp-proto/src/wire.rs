//! Primitive field readers and writers shared by every PDU body.
//!
//! Every read is bounds-checked and returns a [`DecodeError`] instead of panicking, so that the
//! body parsers above can be written as straight-line code with `?`.

use crate::error::{DecodeError, EncodeError};
use crate::status::CommandStatus;

/// A cursor over one PDU body.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub(crate) fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.buf.len())
            .ok_or(DecodeError::Truncated { field })?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.bytes(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        let b = self.bytes(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads a NUL-terminated string of at most `max` octets including the NUL.
    ///
    /// Octets are mapped one-to-one onto U+0000–U+00FF (Latin-1), so any byte string a peer sends
    /// survives a decode/encode round trip even though SMPP only promises ASCII here.
    pub(crate) fn c_string(
        &mut self,
        field: &'static str,
        max: usize,
        status: CommandStatus,
    ) -> Result<String, DecodeError> {
        let rest = &self.buf[self.pos..];
        let window = &rest[..rest.len().min(max)];
        match window.iter().position(|b| *b == 0) {
            Some(nul) => {
                let s = window[..nul].iter().map(|b| char::from(*b)).collect();
                self.pos += nul + 1;
                Ok(s)
            }
            None if rest.len() < max => Err(DecodeError::Truncated { field }),
            None => Err(DecodeError::FieldTooLong { field, max, status }),
        }
    }

    /// Errors if anything is left, for bodies that may not carry TLVs.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingOctets { extra }),
        }
    }
}

/// Appends `s` as a C-octet string of at most `max` octets including the NUL.
pub(crate) fn put_c_string(
    out: &mut Vec<u8>,
    s: &str,
    field: &'static str,
    max: usize,
) -> Result<(), EncodeError> {
    let start = out.len();
    for c in s.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(b) if b != 0 => out.push(b),
            _ => {
                out.truncate(start);
                return Err(EncodeError::InvalidCharacter { field });
            }
        }
    }
    if out.len() - start + 1 > max {
        out.truncate(start);
        return Err(EncodeError::FieldTooLong { field, max });
    }
    out.push(0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_string_limits_count_the_nul() {
        let mut r = Reader::new(b"abcde\0");
        assert_eq!(
            r.c_string("f", 5, CommandStatus::RSYSERR),
            Err(DecodeError::FieldTooLong {
                field: "f",
                max: 5,
                status: CommandStatus::RSYSERR
            })
        );
        let mut r = Reader::new(b"abcd\0x");
        assert_eq!(
            r.c_string("f", 5, CommandStatus::RSYSERR).as_deref(),
            Ok("abcd")
        );
        assert_eq!(r.remaining(), 1);
        let mut r = Reader::new(b"ab");
        assert_eq!(
            r.c_string("f", 5, CommandStatus::RSYSERR),
            Err(DecodeError::Truncated { field: "f" })
        );
        let mut out = Vec::new();
        assert!(put_c_string(&mut out, "abcde", "f", 5).is_err());
        assert!(put_c_string(&mut out, "a\u{100}", "f", 5).is_err());
        assert!(out.is_empty());
        assert!(put_c_string(&mut out, "abcd", "f", 5).is_ok());
        assert_eq!(out, b"abcd\0");
    }

    #[test]
    fn reads_past_the_end_are_errors() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16("a"), Ok(0x0102));
        assert_eq!(r.u16("b"), Err(DecodeError::Truncated { field: "b" }));
        assert_eq!(
            r.bytes(usize::MAX, "c"),
            Err(DecodeError::Truncated { field: "c" })
        );
        assert_eq!(r.u8("d"), Ok(3));
        assert!(r.is_empty());
    }
}
