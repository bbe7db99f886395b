//! Long messages: TP_udhi = 1 and a User Data Header in front of each part's Msg_Content.
//!
//! CMPP carries concatenation only in the GSM 03.40 UDH (`05 00 03 ref total seq`, or the
//! 16-bit-reference form `06 08 04 ref ref total seq`); Pk_total / Pk_number are set to match
//! but many gateways ignore them, so the UDH is what this crate reads. Long text is sent in
//! UCS-2 (or GBK when asked): whether a gateway packs Msg_Fmt 0 into GSM 7-bit before the
//! UDH differs between ISMGs, while 8-bit parts of at most 140 octets read the same everywhere.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::text::{self, MAX_ASCII_OCTETS, MAX_OCTETS, TextError};

/// Octets of the 8-bit-reference UDH this crate writes.
pub const UDH_LEN: usize = 6;
/// Most parts one message may have (Pk_total is one octet).
pub const MAX_PARTS: usize = 255;

/// One Msg_Content ready for a SUBMIT or DELIVER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub msg_fmt: u8,
    /// TP_udhi: the content starts with a UDH.
    pub udhi: bool,
    pub pk_total: u8,
    pub pk_number: u8,
    pub content: Vec<u8>,
}

/// Why text could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    #[error(transparent)]
    Text(#[from] TextError),
    /// More than 255 parts.
    #[error("the text needs more than {MAX_PARTS} parts")]
    TooLong,
}

/// Splits `text` into parts: one ASCII part up to 159 characters, one UCS-2 part up to 70,
/// otherwise UCS-2 parts of 67 characters behind a UDH with `reference`.
pub fn split(text: &str, reference: u8) -> Result<Vec<Part>, SplitError> {
    if text.is_ascii() && text.len() <= MAX_ASCII_OCTETS {
        return Ok(vec![single(text::ASCII, text.as_bytes().to_vec())]);
    }
    split_as(text::UCS2, text, reference)
}

/// Splits `text` written in `fmt` (8 or 15) into parts of at most 140 octets, never cutting a
/// character in two.
pub fn split_as(fmt: u8, text: &str, reference: u8) -> Result<Vec<Part>, SplitError> {
    let whole = text::encode_as(fmt, text)?;
    let limit = if fmt == text::ASCII {
        MAX_ASCII_OCTETS
    } else {
        MAX_OCTETS
    };
    if whole.len() <= limit {
        return Ok(vec![single(fmt, whole)]);
    }
    let room = MAX_OCTETS - UDH_LEN;
    let mut bodies: Vec<Vec<u8>> = vec![Vec::new()];
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let encoded = text::encode_as(fmt, c.encode_utf8(&mut buf))?;
        let fits = bodies
            .last()
            .is_some_and(|b| b.len() + encoded.len() <= room);
        if !fits {
            bodies.push(Vec::new());
        }
        if let Some(b) = bodies.last_mut() {
            b.extend_from_slice(&encoded);
        }
    }
    let total = u8::try_from(bodies.len()).map_err(|_| SplitError::TooLong)?;
    Ok(bodies
        .into_iter()
        .zip(1..=total)
        .map(|(body, n)| {
            let mut content = vec![0x05, 0x00, 0x03, reference, total, n];
            content.extend_from_slice(&body);
            Part {
                msg_fmt: fmt,
                udhi: true,
                pk_total: total,
                pk_number: n,
                content,
            }
        })
        .collect())
}

fn single(msg_fmt: u8, content: Vec<u8>) -> Part {
    Part {
        msg_fmt,
        udhi: false,
        pk_total: 1,
        pk_number: 1,
        content,
    }
}

/// The concatenation element of a UDH.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Concat {
    pub reference: u16,
    pub total: u8,
    pub number: u8,
}

/// Reads the UDH at the start of `content`: the concatenation element if there is one, and
/// the header's length (so the caller can skip it). `None` when the header is malformed.
#[must_use]
pub fn parse_udh(content: &[u8]) -> Option<(Option<Concat>, usize)> {
    let udhl = usize::from(*content.first()?);
    let header = content.get(1..=udhl)?;
    let mut found = None;
    let mut i = 0;
    while i < header.len() {
        let iei = header[i];
        let len = usize::from(*header.get(i + 1)?);
        let data = header.get(i + 2..i + 2 + len)?;
        found = match (iei, data) {
            (0x00, [r, t, n]) => Some(Concat {
                reference: u16::from(*r),
                total: *t,
                number: *n,
            }),
            (0x08, [r1, r2, t, n]) => Some(Concat {
                reference: u16::from_be_bytes([*r1, *r2]),
                total: *t,
                number: *n,
            }),
            _ => found,
        };
        i += 2 + len;
    }
    Some((found, udhl + 1))
}

/// Why a part was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReassemblyError {
    #[error("the user data header is malformed")]
    BadHeader,
    #[error("part {number} of {total} is out of range")]
    BadNumber { number: u8, total: u8 },
    #[error("a message of {total} parts is more than the {max} allowed")]
    TooManyParts { total: u8, max: u8 },
}

struct Partial {
    fmt: u8,
    parts: Vec<Option<Vec<u8>>>,
    started: Instant,
}

/// Joins UDH-concatenated parts from many senders with bounded memory: at most `capacity`
/// messages are held (the oldest is dropped for a new one), each for at most `timeout`.
pub struct Reassembler {
    capacity: usize,
    timeout: Duration,
    max_parts: u8,
    held: HashMap<(String, u16, u8), Partial>,
}

impl Reassembler {
    /// Holds at most `capacity` incomplete messages of at most 16 parts each.
    #[must_use]
    pub fn new(capacity: usize, timeout: Duration) -> Self {
        Reassembler {
            capacity: capacity.max(1),
            timeout,
            max_parts: 16,
            held: HashMap::new(),
        }
    }

    /// Incomplete messages held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True when nothing is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Takes one part (`content` including its UDH) from `sender`. Returns the whole message's
    /// Msg_Fmt and octets (UDHs removed) once the last part arrives; a content without a
    /// concatenation element is returned as it is, less its header.
    pub fn accept(
        &mut self,
        sender: &str,
        fmt: u8,
        content: &[u8],
        now: Instant,
    ) -> Result<Option<(u8, Vec<u8>)>, ReassemblyError> {
        let (concat, header_len) = parse_udh(content).ok_or(ReassemblyError::BadHeader)?;
        let body = content.get(header_len..).unwrap_or_default().to_vec();
        let Some(c) = concat else {
            return Ok(Some((fmt, body)));
        };
        if c.number == 0 || c.number > c.total {
            return Err(ReassemblyError::BadNumber {
                number: c.number,
                total: c.total,
            });
        }
        if c.total > self.max_parts {
            return Err(ReassemblyError::TooManyParts {
                total: c.total,
                max: self.max_parts,
            });
        }
        if c.total == 1 {
            return Ok(Some((fmt, body)));
        }
        self.expire(now);
        let key = (sender.to_owned(), c.reference, c.total);
        if !self.held.contains_key(&key) && self.held.len() >= self.capacity {
            let oldest = self
                .held
                .iter()
                .min_by_key(|(_, p)| p.started)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.held.remove(&k);
            }
        }
        let partial = self.held.entry(key.clone()).or_insert_with(|| Partial {
            fmt,
            parts: vec![None; usize::from(c.total)],
            started: now,
        });
        if let Some(slot) = partial.parts.get_mut(usize::from(c.number) - 1) {
            *slot = Some(body);
        }
        if partial.parts.iter().any(Option::is_none) {
            return Ok(None);
        }
        let done = self.held.remove(&key).map(|p| {
            let whole = p.parts.into_iter().flatten().flatten().collect();
            (p.fmt, whole)
        });
        Ok(done)
    }

    /// Drops messages whose first part came `timeout` or longer before `now`.
    pub fn expire(&mut self, now: Instant) -> usize {
        let before = self.held.len();
        let timeout = self.timeout;
        self.held
            .retain(|_, p| now.saturating_duration_since(p.started) < timeout);
        before - self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part_and_long_text_splits_on_characters() {
        assert_eq!(split("hello", 1).expect("splits").len(), 1);
        let seventy: String = "退".repeat(70);
        assert_eq!(split(&seventy, 1).expect("splits").len(), 1);
        let parts = split(&"退".repeat(71), 9).expect("splits");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].content[..6], [5, 0, 3, 9, 2, 1]);
        assert_eq!(parts[0].content.len(), 6 + 134);
        // An emoji (a surrogate pair) straddling the boundary moves whole to the next part.
        let text = format!("{}😀tail", "退".repeat(66));
        let parts = split(&text, 1).expect("splits");
        assert_eq!(parts[0].content.len(), 6 + 132);
    }

    #[test]
    fn parts_reassemble_in_any_order() {
        let text = "退订".repeat(60);
        let parts = split_as(text::GBK_FMT, &text, 7).expect("splits");
        assert!(parts.len() > 1);
        let mut r = Reassembler::new(4, Duration::from_secs(60));
        let now = Instant::now();
        let mut out = None;
        for p in parts.iter().rev() {
            out = r.accept("1380", p.msg_fmt, &p.content, now).expect("valid");
        }
        let (fmt, bytes) = out.expect("complete");
        assert_eq!(text::decode_text(fmt, &bytes), text);
        assert!(r.is_empty());
    }

    #[test]
    fn bad_headers_and_stale_parts_are_dropped() {
        let mut r = Reassembler::new(1, Duration::from_secs(1));
        let now = Instant::now();
        assert_eq!(
            r.accept("a", 8, &[5, 0, 3, 1, 2, 3], now),
            Err(ReassemblyError::BadNumber {
                number: 3,
                total: 2
            })
        );
        assert_eq!(
            r.accept("a", 8, &[9, 0], now),
            Err(ReassemblyError::BadHeader)
        );
        assert_eq!(r.accept("a", 8, &[5, 0, 3, 1, 2, 1, 0x41], now), Ok(None));
        // A second message evicts the first (capacity 1), and both expire.
        assert_eq!(r.accept("b", 8, &[5, 0, 3, 1, 2, 1, 0x41], now), Ok(None));
        assert_eq!(r.len(), 1);
        assert_eq!(r.expire(now + Duration::from_secs(1)), 1);
        assert_eq!(
            parse_udh(&[6, 8, 4, 1, 2, 3, 1]),
            Some((
                Some(Concat {
                    reference: 0x0102,
                    total: 3,
                    number: 1
                }),
                7
            ))
        );
    }
}
