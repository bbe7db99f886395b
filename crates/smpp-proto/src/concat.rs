//! Splitting long text into concatenated segments, and reading the concatenation header of a
//! received segment.
//!
//! Two wire forms exist and carriers differ in which they accept: a User Data Header at the
//! start of short_message (IEI 0x00 with an 8-bit reference, IEI 0x08 with a 16-bit one; esm_class
//! UDHI set), or the SAR TLVs, which leave building the UDH to the SMSC. Part sizes leave room
//! for the UDH inside the 140-octet over-the-air payload; a segment boundary never falls inside
//! a surrogate pair or between a GSM escape and its extension character.

use crate::pdu::{ESM_CLASS_UDHI, ShortMessage};
use crate::text::{DCS_DEFAULT, DCS_UCS2, gsm7, ucs2};
use crate::tlv::Tlv;

/// How segments are tied together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concat {
    /// UDH IEI 0x00, 8-bit reference (the low byte of the one given): the most widely supported.
    Udh8,
    /// UDH IEI 0x08, 16-bit reference: fewer collisions, one character less per part.
    Udh16,
    /// sar_msg_ref_num / sar_total_segments / sar_segment_seqnum TLVs.
    Sar,
}

/// GSM septets that fit one unsplit message.
pub const GSM7_SINGLE: usize = 160;
/// UCS-2 code units that fit one unsplit message.
pub const UCS2_SINGLE: usize = 70;

impl Concat {
    /// Capacity of one part, in GSM septets or UCS-2 code units.
    #[must_use]
    pub fn part_capacity(self, gsm: bool) -> usize {
        match (self, gsm) {
            (Concat::Udh8 | Concat::Sar, true) => 153,
            (Concat::Udh16, true) => 152,
            (Concat::Udh8 | Concat::Sar, false) => 67,
            (Concat::Udh16, false) => 66,
        }
    }
}

/// The text does not fit 255 segments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SplitError {
    #[error("text needs {parts} segments; at most 255 are possible")]
    TooManySegments { parts: usize },
}

/// One segment to send, ready to be applied to a submit_sm or deliver_sm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    pub data_coding: u8,
    /// [`ESM_CLASS_UDHI`] when short_message starts with a UDH, else 0.
    pub esm_class_flags: u8,
    pub short_message: Vec<u8>,
    /// SAR TLVs, when [`Concat::Sar`] was used.
    pub tlvs: Vec<Tlv>,
}

impl Segment {
    /// Writes this segment into `sm`, keeping its addresses and other fields.
    pub fn apply(&self, sm: &mut ShortMessage) {
        sm.data_coding = self.data_coding;
        sm.esm_class = (sm.esm_class & !ESM_CLASS_UDHI) | self.esm_class_flags;
        sm.short_message.clone_from(&self.short_message);
        sm.tlvs.0.extend(self.tlvs.iter().cloned());
    }
}

/// Where a received segment belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConcatInfo {
    pub reference: u16,
    pub total: u8,
    /// 1-based.
    pub seq: u8,
}

impl ConcatInfo {
    fn valid(self) -> Option<Self> {
        (self.total >= 1 && self.seq >= 1 && self.seq <= self.total).then_some(self)
    }
}

/// Encodes `text` (GSM 7-bit when possible, else UCS-2) and splits it into segments. Text that
/// fits one message yields one segment with no UDH or TLVs.
pub fn split_text(text: &str, concat: Concat, reference: u16) -> Result<Vec<Segment>, SplitError> {
    let gsm = gsm7::septet_len(text).is_some();
    let cost = |c: char| {
        if gsm {
            gsm7::char_septets(c).map_or(1, |(_, n)| n)
        } else {
            ucs2::char_units(c)
        }
    };
    let encode = |s: &str| {
        if gsm {
            gsm7::encode(s).unwrap_or_default()
        } else {
            ucs2::encode(s)
        }
    };
    let data_coding = if gsm { DCS_DEFAULT } else { DCS_UCS2 };
    let total_cost: usize = text.chars().map(cost).sum();
    let single = if gsm { GSM7_SINGLE } else { UCS2_SINGLE };
    if total_cost <= single {
        return Ok(vec![Segment {
            data_coding,
            esm_class_flags: 0,
            short_message: encode(text),
            tlvs: Vec::new(),
        }]);
    }

    let capacity = concat.part_capacity(gsm);
    let mut chunks = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, c) in text.char_indices() {
        let k = cost(c);
        if used + k > capacity {
            chunks.push(&text[start..i]);
            start = i;
            used = 0;
        }
        used += k;
    }
    chunks.push(&text[start..]);
    let total = u8::try_from(chunks.len()).map_err(|_| SplitError::TooManySegments {
        parts: chunks.len(),
    })?;

    Ok(chunks
        .iter()
        .zip(1..=total)
        .map(|(chunk, seq)| {
            let body = encode(chunk);
            let [ref_hi, ref_lo] = reference.to_be_bytes();
            let (esm_class_flags, short_message, tlvs) = match concat {
                Concat::Udh8 => {
                    let mut sm = vec![0x05, 0x00, 0x03, ref_lo, total, seq];
                    sm.extend_from_slice(&body);
                    (ESM_CLASS_UDHI, sm, Vec::new())
                }
                Concat::Udh16 => {
                    let mut sm = vec![0x06, 0x08, 0x04, ref_hi, ref_lo, total, seq];
                    sm.extend_from_slice(&body);
                    (ESM_CLASS_UDHI, sm, Vec::new())
                }
                Concat::Sar => (
                    0,
                    body,
                    vec![
                        Tlv::SarMsgRefNum(reference),
                        Tlv::SarTotalSegments(total),
                        Tlv::SarSegmentSeqnum(seq),
                    ],
                ),
            };
            Segment {
                data_coding,
                esm_class_flags,
                short_message,
                tlvs,
            }
        })
        .collect())
}

/// Splits a UDH off `data`: the concatenation IE if there is one, and the text after the
/// header. `None` when the header is malformed (length past the end).
#[must_use]
pub fn parse_udh(data: &[u8]) -> Option<(Option<ConcatInfo>, &[u8])> {
    let (&udhl, rest) = data.split_first()?;
    let udhl = usize::from(udhl);
    let header = rest.get(..udhl)?;
    let text = rest.get(udhl..)?;
    let mut info = None;
    let mut ies = header;
    while let [iei, iel, tail @ ..] = ies {
        let value = tail.get(..usize::from(*iel))?;
        match (iei, value) {
            (0x00, [r, total, seq]) => {
                info = ConcatInfo {
                    reference: u16::from(*r),
                    total: *total,
                    seq: *seq,
                }
                .valid();
            }
            (0x08, [hi, lo, total, seq]) => {
                info = ConcatInfo {
                    reference: u16::from_be_bytes([*hi, *lo]),
                    total: *total,
                    seq: *seq,
                }
                .valid();
            }
            _ => {}
        }
        ies = &tail[usize::from(*iel)..];
    }
    Some((info, text))
}

/// The concatenation info of a received message and its text octets (UDH removed), from the
/// UDH when esm_class says there is one, else from the SAR TLVs.
#[must_use]
pub fn segment_of(sm: &ShortMessage) -> (Option<ConcatInfo>, &[u8]) {
    let payload = sm.payload();
    let (udh_info, text) = if sm.has_udh() {
        parse_udh(payload).unwrap_or((None, payload))
    } else {
        (None, payload)
    };
    let info = udh_info.or_else(|| {
        let (reference, total, seq) = sm.tlvs.sar()?;
        ConcatInfo {
            reference,
            total,
            seq,
        }
        .valid()
    });
    (info, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_plain_segment() {
        let segs = split_text(&"a".repeat(160), Concat::Udh8, 7).expect("fits");
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].esm_class_flags, 0);
        assert_eq!(segs[0].short_message.len(), 160);
    }

    #[test]
    fn gsm_parts_hold_153_septets_and_carry_a_udh() {
        let segs = split_text(&"a".repeat(161), Concat::Udh8, 0x1234).expect("fits");
        assert_eq!(segs.len(), 2);
        assert_eq!(&segs[0].short_message[..6], &[5, 0, 3, 0x34, 2, 1]);
        assert_eq!(segs[0].short_message.len(), 6 + 153);
        assert_eq!(segs[1].short_message.len(), 6 + 8);
        let segs = split_text(&"a".repeat(161), Concat::Udh16, 0x1234).expect("fits");
        assert_eq!(&segs[1].short_message[..7], &[6, 8, 4, 0x12, 0x34, 2, 2]);
    }

    #[test]
    fn escapes_and_surrogate_pairs_are_never_cut() {
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let segs = split_text(&text, Concat::Sar, 1).expect("fits");
        assert_eq!(
            segs[0].short_message.len(),
            152,
            "the escape moved to part two"
        );
        assert_eq!(segs[1].short_message[..2], [0x1B, 0x65]);

        let text = format!("{}😀{}", "中".repeat(66), "中".repeat(5));
        let segs = split_text(&text, Concat::Udh8, 1).expect("fits");
        assert_eq!(segs[0].short_message.len(), 6 + 66 * 2);
        assert!(ucs2::decode(&segs[1].short_message[6..]).starts_with('😀'));
    }

    #[test]
    fn too_long_text_is_refused() {
        let text = "a".repeat(153 * 255 + 1);
        assert_eq!(
            split_text(&text, Concat::Udh8, 1),
            Err(SplitError::TooManySegments { parts: 256 })
        );
    }

    #[test]
    fn malformed_udh_is_rejected() {
        assert_eq!(parse_udh(&[0x05, 0x00, 0x03]), None);
        assert_eq!(parse_udh(&[0x03, 0x00, 0x05, 0x01]), None);
        let (info, text) = parse_udh(&[0x05, 0x00, 0x03, 9, 2, 3, b'x']).expect("parses");
        assert_eq!(info, None, "seq 3 of 2 is not a valid segment");
        assert_eq!(text, b"x");
    }
}
