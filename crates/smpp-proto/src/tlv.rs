//! Optional parameters (TLVs, SMPP 3.4 §5.3).
//!
//! The tags consentry acts on are typed; every other tag is kept as [`Tlv::Other`] so a PDU can
//! be relayed or re-encoded without losing what a carrier added.

use crate::error::{DecodeError, EncodeError};
use crate::message_state::MessageState;
use crate::wire::Reader;

/// TLV tag numbers used by this crate.
pub mod tag {
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    pub const USER_MESSAGE_REFERENCE: u16 = 0x0204;
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    pub const MESSAGE_STATE: u16 = 0x0427;
}

/// Maximum octets of receipted_message_id, including its NUL.
const RECEIPTED_ID_MAX: usize = 65;

/// One optional parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tlv {
    /// Message text longer than short_message can hold (up to 64 KiB).
    MessagePayload(Vec<u8>),
    /// Reference shared by all segments of a SAR-concatenated message.
    SarMsgRefNum(u16),
    /// Number of segments in a SAR-concatenated message (1–255).
    SarTotalSegments(u8),
    /// This segment's 1-based position.
    SarSegmentSeqnum(u8),
    /// The SMSC message id a delivery receipt is about.
    ReceiptedMessageId(String),
    /// The final state a delivery receipt reports.
    MessageState(MessageState),
    /// An ESME-assigned reference echoed back with replies.
    UserMessageReference(u16),
    /// The SMPP version the SMSC supports, sent in bind responses.
    ScInterfaceVersion(u8),
    /// Any other tag, kept verbatim.
    Other { tag: u16, value: Vec<u8> },
}

impl Tlv {
    /// The tag number.
    #[must_use]
    pub fn tag(&self) -> u16 {
        match self {
            Tlv::MessagePayload(_) => tag::MESSAGE_PAYLOAD,
            Tlv::SarMsgRefNum(_) => tag::SAR_MSG_REF_NUM,
            Tlv::SarTotalSegments(_) => tag::SAR_TOTAL_SEGMENTS,
            Tlv::SarSegmentSeqnum(_) => tag::SAR_SEGMENT_SEQNUM,
            Tlv::ReceiptedMessageId(_) => tag::RECEIPTED_MESSAGE_ID,
            Tlv::MessageState(_) => tag::MESSAGE_STATE,
            Tlv::UserMessageReference(_) => tag::USER_MESSAGE_REFERENCE,
            Tlv::ScInterfaceVersion(_) => tag::SC_INTERFACE_VERSION,
            Tlv::Other { tag, .. } => *tag,
        }
    }

    fn decode(tag: u16, value: &[u8]) -> Result<Tlv, DecodeError> {
        let bad_len = || DecodeError::InvalidTlvLength {
            tag,
            length: value.len(),
        };
        let u8_value = || match value {
            [v] => Ok(*v),
            _ => Err(bad_len()),
        };
        let u16_value = || match value {
            [a, b] => Ok(u16::from_be_bytes([*a, *b])),
            _ => Err(bad_len()),
        };
        Ok(match tag {
            tag::MESSAGE_PAYLOAD => Tlv::MessagePayload(value.to_vec()),
            tag::SAR_MSG_REF_NUM => Tlv::SarMsgRefNum(u16_value()?),
            tag::SAR_TOTAL_SEGMENTS => Tlv::SarTotalSegments(u8_value()?),
            tag::SAR_SEGMENT_SEQNUM => Tlv::SarSegmentSeqnum(u8_value()?),
            tag::MESSAGE_STATE => Tlv::MessageState(MessageState::from(u8_value()?)),
            tag::USER_MESSAGE_REFERENCE => Tlv::UserMessageReference(u16_value()?),
            tag::SC_INTERFACE_VERSION => Tlv::ScInterfaceVersion(u8_value()?),
            tag::RECEIPTED_MESSAGE_ID => {
                // Some SMSCs omit the NUL; accept both forms, stop at the first NUL.
                let end = value.iter().position(|b| *b == 0).unwrap_or(value.len());
                if value.len() > RECEIPTED_ID_MAX || end >= RECEIPTED_ID_MAX {
                    return Err(bad_len());
                }
                Tlv::ReceiptedMessageId(value[..end].iter().map(|b| char::from(*b)).collect())
            }
            _ => Tlv::Other {
                tag,
                value: value.to_vec(),
            },
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let mut value = Vec::new();
        match self {
            Tlv::MessagePayload(v) | Tlv::Other { value: v, .. } => value.extend_from_slice(v),
            Tlv::SarMsgRefNum(v) | Tlv::UserMessageReference(v) => {
                value.extend_from_slice(&v.to_be_bytes());
            }
            Tlv::SarTotalSegments(v) | Tlv::SarSegmentSeqnum(v) | Tlv::ScInterfaceVersion(v) => {
                value.push(*v);
            }
            Tlv::MessageState(s) => value.push(u8::from(*s)),
            Tlv::ReceiptedMessageId(id) => {
                crate::wire::put_c_string(
                    &mut value,
                    id,
                    "receipted_message_id",
                    RECEIPTED_ID_MAX,
                )?;
            }
        }
        let tag = self.tag();
        let len = u16::try_from(value.len()).map_err(|_| EncodeError::TlvTooLong {
            tag,
            len: value.len(),
        })?;
        out.extend_from_slice(&tag.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&value);
        Ok(())
    }
}

/// The TLVs of one PDU, in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tlvs(pub Vec<Tlv>);

impl Tlvs {
    /// No TLVs.
    #[must_use]
    pub fn new() -> Self {
        Tlvs(Vec::new())
    }

    /// True when there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends one TLV.
    pub fn push(&mut self, tlv: Tlv) {
        self.0.push(tlv);
    }

    /// Iterates in wire order.
    pub fn iter(&self) -> std::slice::Iter<'_, Tlv> {
        self.0.iter()
    }

    /// The message_payload value, if present.
    #[must_use]
    pub fn message_payload(&self) -> Option<&[u8]> {
        self.iter().find_map(|t| match t {
            Tlv::MessagePayload(v) => Some(v.as_slice()),
            _ => None,
        })
    }

    /// The receipted_message_id value, if present.
    #[must_use]
    pub fn receipted_message_id(&self) -> Option<&str> {
        self.iter().find_map(|t| match t {
            Tlv::ReceiptedMessageId(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// The message_state value, if present.
    #[must_use]
    pub fn message_state(&self) -> Option<MessageState> {
        self.iter().find_map(|t| match t {
            Tlv::MessageState(v) => Some(*v),
            _ => None,
        })
    }

    /// The user_message_reference value, if present.
    #[must_use]
    pub fn user_message_reference(&self) -> Option<u16> {
        self.iter().find_map(|t| match t {
            Tlv::UserMessageReference(v) => Some(*v),
            _ => None,
        })
    }

    /// `(reference, total, seqnum)` when all three SAR TLVs are present.
    #[must_use]
    pub fn sar(&self) -> Option<(u16, u8, u8)> {
        let reference = self.iter().find_map(|t| match t {
            Tlv::SarMsgRefNum(v) => Some(*v),
            _ => None,
        })?;
        let total = self.iter().find_map(|t| match t {
            Tlv::SarTotalSegments(v) => Some(*v),
            _ => None,
        })?;
        let seq = self.iter().find_map(|t| match t {
            Tlv::SarSegmentSeqnum(v) => Some(*v),
            _ => None,
        })?;
        Some((reference, total, seq))
    }

    /// Reads TLVs until the body ends.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Tlvs, DecodeError> {
        let mut items = Vec::new();
        while !r.is_empty() {
            let tag = r
                .u16("tlv tag")
                .map_err(|_| DecodeError::TlvStreamTruncated)?;
            let len = r
                .u16("tlv length")
                .map_err(|_| DecodeError::TlvStreamTruncated)?;
            let value = r
                .bytes(usize::from(len), "tlv value")
                .map_err(|_| DecodeError::TlvStreamTruncated)?;
            items.push(Tlv::decode(tag, value)?);
        }
        Ok(Tlvs(items))
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.iter().try_for_each(|t| t.encode(out))
    }
}

impl From<Vec<Tlv>> for Tlvs {
    fn from(v: Vec<Tlv>) -> Self {
        Tlvs(v)
    }
}

impl<'a> IntoIterator for &'a Tlvs {
    type Item = &'a Tlv;
    type IntoIter = std::slice::Iter<'a, Tlv>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(tlvs: &Tlvs) -> Tlvs {
        let mut out = Vec::new();
        tlvs.encode(&mut out).expect("encodes");
        Tlvs::decode(&mut Reader::new(&out)).expect("decodes")
    }

    #[test]
    fn known_tags_have_their_spec_layout() {
        let mut out = Vec::new();
        Tlv::SarMsgRefNum(0x1234).encode(&mut out).expect("encodes");
        assert_eq!(out, [0x02, 0x0C, 0x00, 0x02, 0x12, 0x34]);
        out.clear();
        Tlv::ReceiptedMessageId("ab".into())
            .encode(&mut out)
            .expect("encodes");
        assert_eq!(out, [0x00, 0x1E, 0x00, 0x03, b'a', b'b', 0]);
    }

    #[test]
    fn unknown_tags_are_preserved() {
        let tlvs = Tlvs(vec![
            Tlv::Other {
                tag: 0x1403,
                value: vec![1, 2, 3],
            },
            Tlv::MessageState(MessageState::Delivered),
        ]);
        assert_eq!(round_trip(&tlvs), tlvs);
        assert_eq!(tlvs.message_state(), Some(MessageState::Delivered));
    }

    #[test]
    fn malformed_streams_are_rejected() {
        let bad_len = [0x04, 0x27, 0x00, 0x02, 0x01, 0x02];
        assert_eq!(
            Tlvs::decode(&mut Reader::new(&bad_len)),
            Err(DecodeError::InvalidTlvLength {
                tag: 0x0427,
                length: 2
            })
        );
        let truncated = [0x04, 0x24, 0x00, 0x05, 0x01];
        assert_eq!(
            Tlvs::decode(&mut Reader::new(&truncated)),
            Err(DecodeError::TlvStreamTruncated)
        );
        assert_eq!(
            Tlvs::decode(&mut Reader::new(&[0x04])),
            Err(DecodeError::TlvStreamTruncated)
        );
    }
}
