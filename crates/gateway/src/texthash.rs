//! A stable hash of message text for the duplicate window.

/// FNV-1a, 64 bits. Written here rather than taken from std because the value is stored and
/// compared across restarts and upgrades, and std's hashers promise no stability.
#[must_use]
pub fn text_hash(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_vector() {
        assert_eq!(super::text_hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::text_hash("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
