//! Helpers shared by the integration tests.

/// Decodes a hex string (whitespace ignored); panics on bad test data, never on PDU input.
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).expect("ascii hex");
            u8::from_str_radix(text, 16).expect("valid hex in test data")
        })
        .collect()
}
