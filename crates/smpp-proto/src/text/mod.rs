//! Message text encodings and the `data_coding` values that label them.
//!
//! Outbound, [`encode_text`] picks GSM 7-bit when every character fits (160 per SMS) and
//! UCS-2 otherwise (70 per SMS), which is what handsets do. Inbound, [`decode_text`] never
//! fails: opt-out keywords must be read even from a partly garbled reply, so undecodable input
//! becomes U+FFFD and the rest of the text survives.

pub mod gsm7;
pub mod ucs2;

/// data_coding 0x00: SMSC default alphabet, which for us (and nearly every SMSC) is GSM 7-bit.
pub const DCS_DEFAULT: u8 = 0x00;
/// data_coding 0x01: IA5 / ASCII.
pub const DCS_IA5: u8 = 0x01;
/// data_coding 0x03: ISO-8859-1.
pub const DCS_LATIN1: u8 = 0x03;
/// data_coding 0x08: UCS-2 (UTF-16BE in practice).
pub const DCS_UCS2: u8 = 0x08;

/// The character set a data_coding value selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Alphabet {
    /// GSM 03.38 default alphabet, one septet per octet.
    Gsm7,
    /// 7-bit ASCII.
    Ascii,
    /// ISO-8859-1.
    Latin1,
    /// UCS-2 / UTF-16BE.
    Ucs2,
    /// 8-bit binary, or a national character set this crate does not decode (JIS, Cyrillic,
    /// Hebrew, KS C 5601, …).
    Octets,
}

impl Alphabet {
    /// Interprets `data_coding`: SMPP 3.4's own table for 0x00–0x0F and the GSM 03.38 coding
    /// groups above it (general data coding 0x10–0x3F, message waiting 0xC0–0xEF, message
    /// class 0xF0–0xFF), which carriers use to add a message class.
    #[must_use]
    pub fn from_data_coding(dcs: u8) -> Alphabet {
        match dcs {
            0x00 => Alphabet::Gsm7,
            0x01 => Alphabet::Ascii,
            0x03 => Alphabet::Latin1,
            0x08 => Alphabet::Ucs2,
            0x10..=0x3F => match (dcs >> 2) & 0x03 {
                0 => Alphabet::Gsm7,
                2 => Alphabet::Ucs2,
                _ => Alphabet::Octets,
            },
            0xC0..=0xDF => Alphabet::Gsm7,
            0xE0..=0xEF => Alphabet::Ucs2,
            0xF0..=0xFF if dcs & 0x04 == 0 => Alphabet::Gsm7,
            _ => Alphabet::Octets,
        }
    }
}

/// Encodes `text` in the smallest alphabet that holds it: `(DCS_DEFAULT, unpacked GSM septets)`
/// when possible, else `(DCS_UCS2, UTF-16BE)`.
#[must_use]
pub fn encode_text(text: &str) -> (u8, Vec<u8>) {
    match gsm7::encode(text) {
        Some(septets) => (DCS_DEFAULT, septets),
        None => (DCS_UCS2, ucs2::encode(text)),
    }
}

/// Decodes message octets labelled with `data_coding`.
///
/// Lossless for valid input; invalid sequences (unpaired surrogates, odd UCS-2 length, octets
/// above 0x7F in GSM or ASCII) become U+FFFD. [`Alphabet::Octets`] is decoded as Latin-1 so
/// that ASCII keywords inside stay readable; check [`Alphabet::from_data_coding`] first if
/// binary content matters.
#[must_use]
pub fn decode_text(data_coding: u8, bytes: &[u8]) -> String {
    match Alphabet::from_data_coding(data_coding) {
        Alphabet::Gsm7 => gsm7::decode(bytes),
        Alphabet::Ascii => bytes
            .iter()
            .map(|b| {
                if b.is_ascii() {
                    char::from(*b)
                } else {
                    char::REPLACEMENT_CHARACTER
                }
            })
            .collect(),
        Alphabet::Latin1 | Alphabet::Octets => latin1_decode(bytes),
        Alphabet::Ucs2 => ucs2::decode(bytes),
    }
}

/// Decodes ISO-8859-1: every octet is the code point of the same value.
#[must_use]
pub fn latin1_decode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

/// Encodes ISO-8859-1, or `None` if a character is above U+00FF.
#[must_use]
pub fn latin1_encode(text: &str) -> Option<Vec<u8>> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_gsm_when_it_fits() {
        assert_eq!(encode_text("Hi {x}"), (0, b"Hi \x1b(x\x1b)".to_vec()));
        assert_eq!(encode_text("回T退订").0, DCS_UCS2);
        assert_eq!(encode_text("").0, DCS_DEFAULT);
    }

    #[test]
    fn coding_groups_resolve_to_alphabets() {
        assert_eq!(Alphabet::from_data_coding(0x18), Alphabet::Ucs2);
        assert_eq!(Alphabet::from_data_coding(0x11), Alphabet::Gsm7);
        assert_eq!(Alphabet::from_data_coding(0xF0), Alphabet::Gsm7);
        assert_eq!(Alphabet::from_data_coding(0xF4), Alphabet::Octets);
        assert_eq!(Alphabet::from_data_coding(0x04), Alphabet::Octets);
    }

    #[test]
    fn latin1_and_ascii_decode() {
        assert_eq!(decode_text(DCS_LATIN1, b"caf\xe9"), "café");
        assert_eq!(decode_text(DCS_IA5, b"ok\xff"), "ok\u{FFFD}");
        assert_eq!(latin1_encode("café"), Some(b"caf\xe9".to_vec()));
        assert_eq!(latin1_encode("€"), None);
    }
}
