//! Msg_Fmt: how Msg_Content's octets are text.
//!
//! SP software in China sends 8 (UCS-2, big-endian) for almost everything with Chinese in it,
//! 15 (GB 2312 / GBK) from older systems, and 0 (ASCII) for Latin text. GBK goes through
//! `encoding_rs` (the WHATWG GBK decoder, a superset of GB 2312) rather than a table of our own.

use encoding_rs::GBK;

/// Msg_Fmt 0: ASCII.
pub const ASCII: u8 = 0;
/// Msg_Fmt 3: SIM card write.
pub const SIM_WRITE: u8 = 3;
/// Msg_Fmt 4: binary.
pub const BINARY: u8 = 4;
/// Msg_Fmt 8: UCS-2, big-endian.
pub const UCS2: u8 = 8;
/// Msg_Fmt 15: GB 2312 / GBK.
pub const GBK_FMT: u8 = 15;

/// Octets Msg_Content may hold when Msg_Fmt is 0 (the spec says "under 160").
pub const MAX_ASCII_OCTETS: usize = 159;
/// Octets Msg_Content may hold for every other Msg_Fmt.
pub const MAX_OCTETS: usize = 140;

/// Why text could not be encoded in the requested Msg_Fmt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// The text holds a character the format cannot carry.
    #[error("the text cannot be written in Msg_Fmt {fmt}")]
    Unrepresentable { fmt: u8 },
    /// The format is not a text format this crate writes.
    #[error("Msg_Fmt {fmt} is not a text format")]
    NotText { fmt: u8 },
}

/// Decodes Msg_Content. Never fails: undecodable octets become U+FFFD so that a reply with one
/// bad octet still reaches the opt-out parser. Binary and unknown formats read as Latin-1.
#[must_use]
pub fn decode_text(fmt: u8, octets: &[u8]) -> String {
    match fmt {
        UCS2 => {
            let units = octets
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        GBK_FMT => GBK.decode_without_bom_handling(octets).0.into_owned(),
        _ => octets.iter().map(|b| char::from(*b)).collect(),
    }
}

/// Encodes `text` in `fmt` (0, 8 or 15).
pub fn encode_as(fmt: u8, text: &str) -> Result<Vec<u8>, TextError> {
    match fmt {
        ASCII if text.is_ascii() => Ok(text.as_bytes().to_vec()),
        ASCII => Err(TextError::Unrepresentable { fmt }),
        UCS2 => Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect()),
        GBK_FMT => {
            let (bytes, _, unmappable) = GBK.encode(text);
            if unmappable {
                Err(TextError::Unrepresentable { fmt })
            } else {
                Ok(bytes.into_owned())
            }
        }
        _ => Err(TextError::NotText { fmt }),
    }
}

/// The cheapest format every handset reads: ASCII for ASCII text, UCS-2 otherwise.
#[must_use]
pub fn encode_text(text: &str) -> (u8, Vec<u8>) {
    if text.is_ascii() {
        (ASCII, text.as_bytes().to_vec())
    } else {
        (
            UCS2,
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_formats_round_trip() {
        for (fmt, text) in [
            (ASCII, "TD to stop"),
            (UCS2, "回T退订 😀"),
            (GBK_FMT, "回T退订"),
        ] {
            let bytes = encode_as(fmt, text).expect("representable");
            assert_eq!(decode_text(fmt, &bytes), text, "fmt {fmt}");
        }
        // 退 is 0x9000 in UCS-2 and 0xCDCB in GBK.
        assert_eq!(encode_as(UCS2, "退"), Ok(vec![0x90, 0x00]));
        assert_eq!(encode_as(GBK_FMT, "退"), Ok(vec![0xCD, 0xCB]));
        assert!(encode_as(ASCII, "退").is_err());
        assert!(encode_as(GBK_FMT, "😀").is_err());
        assert!(encode_as(BINARY, "x").is_err());
    }

    #[test]
    fn bad_octets_decode_to_replacement_characters() {
        assert_eq!(decode_text(UCS2, &[0xD8, 0x00]), "\u{FFFD}");
        assert_eq!(decode_text(UCS2, &[0x00]), "\0");
        assert_eq!(decode_text(GBK_FMT, &[0xFF]), "\u{FFFD}");
        assert_eq!(encode_text("hi"), (ASCII, b"hi".to_vec()));
        assert_eq!(encode_text("退").0, UCS2);
    }
}
