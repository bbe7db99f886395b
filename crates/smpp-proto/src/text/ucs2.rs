//! UCS-2 (data_coding 0x08), read as UTF-16 big-endian.
//!
//! Handsets and SMSCs send characters outside the BMP (emoji, rare CJK) as surrogate pairs
//! under the UCS-2 label, so decoding accepts pairs; unpaired surrogates and a dangling odd
//! octet become U+FFFD rather than an error, so one bad character never loses a reply.

/// Encodes `text` as UTF-16BE.
#[must_use]
pub fn encode(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// Decodes UTF-16BE, replacing invalid sequences with U+FFFD.
#[must_use]
pub fn decode(bytes: &[u8]) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    let mut out: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if bytes.len() % 2 == 1 {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// The number of UTF-16 code units `c` needs: 2 for a surrogate pair.
#[must_use]
pub fn char_units(c: char) -> usize {
    c.len_utf16()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_and_emoji_round_trip() {
        let s = "退订 😀";
        let bytes = encode(s);
        assert_eq!(&bytes[..4], &[0x90, 0x00, 0x8B, 0xA2]);
        assert_eq!(bytes.len(), 2 * 3 + 4);
        assert_eq!(decode(&bytes), s);
    }

    #[test]
    fn broken_input_becomes_replacement_characters() {
        assert_eq!(decode(&[0xD8, 0x3D, 0x00, 0x41]), "\u{FFFD}A");
        assert_eq!(decode(&[0x00, 0x41, 0x00]), "A\u{FFFD}");
    }
}
