//! Primitive field readers and writers shared by every PDU body.
//!
//! Every read is bounds-checked and returns a [`DecodeError`] instead of panicking. CMPP's
//! strings are fixed-width octet strings padded with NUL (not NUL-terminated): a field may be
//! full width with no NUL at all.

use crate::error::{DecodeError, EncodeError};

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

    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.bytes(N, field)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.bytes(1, field)?[0])
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// A result field one (2.0) or four (3.0) octets wide.
    pub(crate) fn result(&mut self, width: usize, field: &'static str) -> Result<u32, DecodeError> {
        if width == 1 {
            self.u8(field).map(u32::from)
        } else {
            self.u32(field)
        }
    }

    /// A fixed-width octet string; the value ends at the first NUL. Octets map one-to-one onto
    /// U+0000–U+00FF so any peer bytes survive a decode/encode round trip.
    pub(crate) fn octets(
        &mut self,
        width: usize,
        field: &'static str,
    ) -> Result<String, DecodeError> {
        let raw = self.bytes(width, field)?;
        let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
        let value = &raw[..end];
        // Nearly every field is empty or ASCII: copy those as they are (no allocation when
        // empty) instead of widening octet by octet; that halves a SUBMIT's decode time.
        match std::str::from_utf8(value) {
            Ok(s) if value.is_ascii() => Ok(s.to_owned()),
            _ => Ok(value.iter().map(|b| char::from(*b)).collect()),
        }
    }

    /// Errors if anything is left.
    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingOctets { extra }),
        }
    }
}

/// Appends `s` as a NUL-padded octet string of exactly `width` octets.
pub(crate) fn put_octets(
    out: &mut Vec<u8>,
    s: &str,
    width: usize,
    field: &'static str,
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
    let len = out.len() - start;
    if len > width {
        out.truncate(start);
        return Err(EncodeError::FieldTooLong { field, max: width });
    }
    out.resize(start + width, 0);
    Ok(())
}

/// Appends a result field one (2.0) or four (3.0) octets wide.
pub(crate) fn put_result(
    out: &mut Vec<u8>,
    value: u32,
    width: usize,
    field: &'static str,
) -> Result<(), EncodeError> {
    if width == 1 {
        let b = u8::try_from(value).map_err(|_| EncodeError::ValueTooLarge {
            field,
            value: u64::from(value),
        })?;
        out.push(b);
    } else {
        out.extend_from_slice(&value.to_be_bytes());
    }
    Ok(())
}

/// A length or count octet.
pub(crate) fn count_u8(n: usize, field: &'static str) -> Result<u8, EncodeError> {
    u8::try_from(n).map_err(|_| EncodeError::ValueTooLarge {
        field,
        value: n as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octet_strings_are_padded_and_may_fill_their_width() {
        let mut out = Vec::new();
        put_octets(&mut out, "abc", 5, "f").expect("fits");
        put_octets(&mut out, "vwxyz", 5, "f").expect("exactly fits");
        assert_eq!(out, b"abc\0\0vwxyz");
        assert!(put_octets(&mut out, "toolong", 5, "f").is_err());
        assert!(put_octets(&mut out, "中", 5, "f").is_err());
        assert_eq!(out.len(), 10);
        let mut r = Reader::new(&out);
        assert_eq!(r.octets(5, "f").as_deref(), Ok("abc"));
        assert_eq!(r.octets(5, "f").as_deref(), Ok("vwxyz"));
        assert_eq!(r.octets(1, "f"), Err(DecodeError::Truncated { field: "f" }));
    }

    #[test]
    fn results_take_the_versions_width() {
        let mut out = Vec::new();
        put_result(&mut out, 8, 1, "r").expect("fits");
        put_result(&mut out, 8, 4, "r").expect("fits");
        assert_eq!(out, [8, 0, 0, 0, 8]);
        assert!(put_result(&mut out, 300, 1, "r").is_err());
        let mut r = Reader::new(&out);
        assert_eq!(r.result(1, "r"), Ok(8));
        assert_eq!(r.result(4, "r"), Ok(8));
        assert_eq!(
            r.bytes(usize::MAX, "x"),
            Err(DecodeError::Truncated { field: "x" })
        );
    }
}
