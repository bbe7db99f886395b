//! The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.
//!
//! SMPP carries data_coding 0x00 text *unpacked*: one septet per octet. The packing helpers
//! are for the rare peer that sends packed septets (and for UDH-aligned over-the-air data).

/// The escape septet that selects the extension table for the next septet.
pub const ESCAPE: u8 = 0x1B;

/// Default alphabet, indexed by septet. 0x1B (escape) maps to U+00A0 only so the table is
/// total; the encoder never emits it for a character and the decoder treats it as an escape.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{A0}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// Extension table: (septet after ESC, character).
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// The septets for one character: one from the default table, two (ESC + code) from the
/// extension table, or `None` when GSM 7-bit cannot represent it.
#[must_use]
pub fn char_septets(c: char) -> Option<([u8; 2], usize)> {
    if let Some(i) = BASIC
        .iter()
        .position(|b| *b == c)
        .filter(|i| *i != usize::from(ESCAPE))
    {
        return u8::try_from(i).ok().map(|s| ([s, 0], 1));
    }
    EXTENSION
        .iter()
        .find(|(_, e)| *e == c)
        .map(|(code, _)| ([ESCAPE, *code], 2))
}

/// Encodes `text` as unpacked septets, or `None` if any character is not representable.
#[must_use]
pub fn encode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        let (septets, n) = char_septets(c)?;
        out.extend_from_slice(&septets[..n]);
    }
    Some(out)
}

/// The number of septets `text` needs, or `None` if it is not representable.
#[must_use]
pub fn septet_len(text: &str) -> Option<usize> {
    text.chars().map(|c| char_septets(c).map(|(_, n)| n)).sum()
}

/// Decodes unpacked septets.
///
/// Octets above 0x7F are not septets and become U+FFFD. An escape followed by a septet with no
/// extension meaning decodes as that septet's default-table character, as TS 23.038 asks; a
/// trailing lone escape becomes U+FFFD.
#[must_use]
pub fn decode(septets: &[u8]) -> String {
    let mut out = String::with_capacity(septets.len());
    let mut iter = septets.iter().copied();
    while let Some(s) = iter.next() {
        if s == ESCAPE {
            match iter.next() {
                Some(next) => {
                    let ext = EXTENSION.iter().find(|(code, _)| *code == next);
                    out.push(match ext {
                        Some((_, c)) => *c,
                        None => basic(next),
                    });
                }
                None => out.push(char::REPLACEMENT_CHARACTER),
            }
        } else {
            out.push(basic(s));
        }
    }
    out
}

fn basic(septet: u8) -> char {
    BASIC
        .get(usize::from(septet))
        .copied()
        .unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Packs septets into octets, LSB first, after `fill_bits` (0–6) of padding that align the
/// text after a UDH.
#[must_use]
pub fn pack(septets: &[u8], fill_bits: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(septets.len() * 7 / 8 + 2);
    let mut acc: u32 = 0;
    let mut bits: u32 = u32::from(fill_bits % 7);
    for s in septets {
        acc |= u32::from(s & 0x7F) << bits;
        bits += 7;
        while bits >= 8 {
            out.push((acc & 0xFF) as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    if bits > 0 {
        out.push((acc & 0xFF) as u8);
    }
    out
}

/// Unpacks `count` septets from packed octets, skipping `fill_bits` (0–6) of padding. Stops
/// early if `packed` is too short.
#[must_use]
pub fn unpack(packed: &[u8], count: usize, fill_bits: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(count.min(packed.len() * 8 / 7 + 1));
    let mut bit = usize::from(fill_bits % 7);
    while out.len() < count {
        let byte = bit / 8;
        let shift = bit % 8;
        let Some(lo) = packed.get(byte) else { break };
        let mut v = u16::from(*lo) >> shift;
        if shift > 1 {
            match packed.get(byte + 1) {
                Some(hi) => v |= u16::from(*hi) << (8 - shift),
                None => break,
            }
        }
        out.push((v & 0x7F) as u8);
        bit += 7;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_characters_take_two_septets() {
        assert_eq!(encode("a€"), Some(vec![0x61, 0x1B, 0x65]));
        assert_eq!(septet_len("{x}"), Some(5));
        assert_eq!(encode("中"), None);
        assert_eq!(encode("\u{A0}"), None, "the escape slot is not a character");
        assert_eq!(decode(&[0x1B, 0x65, 0x00, 0x1B]), "€@\u{FFFD}");
        assert_eq!(decode(&[0x1B, 0x41, 0x80]), "A\u{FFFD}");
    }

    #[test]
    fn packing_matches_the_classic_hello_vector() {
        // "hellohello" packs to E8 32 9B FD 46 97 D9 EC 37 (TS 23.038 worked example).
        let septets = encode("hellohello").expect("gsm");
        let packed = pack(&septets, 0);
        assert_eq!(
            packed,
            [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
        assert_eq!(unpack(&packed, septets.len(), 0), septets);
        let shifted = pack(&septets, 1);
        assert_eq!(unpack(&shifted, septets.len(), 1), septets);
    }
}
