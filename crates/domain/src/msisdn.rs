//! Recipient numbers in E.164.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The region a number without a `+` prefix is read in (ISO 3166 alpha-2, e.g. `CN`).
pub type Region = phonenumber::country::Id;

/// Why a string is not a number the gateway can send to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid phone number {input:?}: {why}")]
pub struct InvalidNumber {
    /// The input as given (cut to 64 characters).
    pub input: String,
    /// What is wrong with it.
    pub why: String,
}

/// A valid phone number in E.164 form.
///
/// Held as the digits of the E.164 form in a `u64` (at most 15 digits fit easily): the consent
/// index keeps one per recipient in memory, and 8 bytes a number is what lets a ledger of a
/// million phones stay small.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Msisdn(u64);

/// The characters a phone number may be written with.
const PHONE_CHARS: &str = "0123456789+ -.()";

impl Msisdn {
    /// Parses a number as people write it (spaces, dashes, `00` or `+` prefixes), reading numbers
    /// without a country code in `region`, and checks that it is a valid number for its country.
    pub fn parse(input: &str, region: Region) -> Result<Self, InvalidNumber> {
        let invalid = |why: String| InvalidNumber {
            input: input.chars().take(64).collect(),
            why,
        };
        if input.len() > 64 {
            return Err(invalid("longer than 64 characters".into()));
        }
        // libphonenumber reads past junk (`9343494745 0*` parsed as a number): only what people
        // write in a phone number is let through, as the OpenAPI pattern says (issue #14, 8).
        if let Some(c) = input.chars().find(|c| !PHONE_CHARS.contains(*c)) {
            return Err(invalid(format!(
                "{c:?} is not part of a phone number (digits, `+`, spaces, `-`, `.`, brackets)"
            )));
        }
        let fast = china_mobile::block_of(input, region);
        if let Some((national, block)) = fast {
            match china_mobile::known(block) {
                Some(true) => return Ok(Msisdn(china_mobile::E164_BASE + national)),
                Some(false) => return Err(invalid("not a valid number for its country".into())),
                None => {}
            }
        }
        let parsed = phonenumber::parse(Some(region), input).map_err(|e| invalid(e.to_string()))?;
        let valid = phonenumber::is_valid(&parsed);
        if let Some((_, block)) = fast {
            china_mobile::learn(block, valid);
        }
        if !valid {
            return Err(invalid("not a valid number for its country".into()));
        }
        let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
        let digits = e164.trim_start_matches('+');
        digits
            .parse::<u64>()
            .map(Msisdn)
            .map_err(|e| invalid(e.to_string()))
    }

    /// Rebuilds a number from [`Msisdn::as_u64`], as stored. Not a validation: use only on values
    /// this type produced.
    #[must_use]
    pub const fn from_u64(digits: u64) -> Self {
        Msisdn(digits)
    }

    /// The E.164 digits as an integer (`+8613800138000` → `8613800138000`).
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The number without its country calling code (`13800138000` for `+8613800138000`), as
    /// gateways that take national numbers want it.
    #[must_use]
    pub fn national(self) -> u64 {
        let code = u64::from(self.country_code());
        if code == 0 {
            return self.0;
        }
        let digits = self.0.checked_ilog10().map_or(1, |d| d + 1);
        let code_digits = code.checked_ilog10().map_or(1, |d| d + 1);
        self.0 % 10u64.pow(digits.saturating_sub(code_digits))
    }

    /// The country calling code (`86` for China), found by the E.164 prefix.
    ///
    /// Called for every decision (quiet hours and local days depend on the recipient's zone),
    /// so it works on the integer with a table of assigned codes instead of formatting.
    #[must_use]
    pub fn country_code(self) -> u16 {
        let digits = self.0.checked_ilog10().map_or(1, |d| d + 1);
        let table = calling_codes();
        // Calling codes are prefix-free and 1–3 digits long; try the shortest first.
        for len in 1..=3u32 {
            if len > digits {
                break;
            }
            let prefix = self.0 / 10u64.pow(digits - len);
            if let Ok(code) = u16::try_from(prefix)
                && table.get(usize::from(code)).copied().unwrap_or(false)
            {
                return code;
            }
        }
        0
    }
}

/// The common case, Chinese mobile numbers, without the general parser.
///
/// `phonenumber` costs several microseconds a number (regular expressions behind a global
/// lock), which on a 10,000-recipient batch or an SMPP window is most of the decision's time.
/// Every Chinese number of 11 digits starting 13–19 is valid or not according to its first seven
/// digits alone (checked against the shipped metadata over all 700,000 such blocks, and by a
/// test comparing both paths), so the general parser is asked once per block and the answer is
/// kept in a lock-free table.
mod china_mobile {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU8, Ordering};

    use super::Region;

    /// `+86` followed by 11 national digits, as the integer form of [`super::Msisdn`].
    pub const E164_BASE: u64 = 86 * 100_000_000_000;
    const FIRST_BLOCK: u64 = 1_300_000;
    const BLOCKS: usize = 700_000;

    fn table() -> &'static [AtomicU8] {
        static T: OnceLock<Box<[AtomicU8]>> = OnceLock::new();
        T.get_or_init(|| (0..BLOCKS).map(|_| AtomicU8::new(0)).collect())
    }

    /// The national number and its block, for `13800138000` read in `CN` or `+8613800138000`
    /// read anywhere; `None` for every other form (the general parser handles those).
    pub fn block_of(input: &str, region: Region) -> Option<(u64, usize)> {
        let national = match (input.len(), input.strip_prefix("+86")) {
            (11, _) if region == Region::CN => input,
            (14, Some(rest)) => rest,
            _ => return None,
        };
        let b = national.as_bytes();
        if b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n: u64 = national.parse().ok()?;
        let block = usize::try_from(n / 10_000 - FIRST_BLOCK).ok()?;
        (block < BLOCKS).then_some((n, block))
    }

    /// What is known of a block: valid, invalid, or not asked yet.
    pub fn known(block: usize) -> Option<bool> {
        match table()[block].load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }

    /// Keeps the general parser's answer for a block.
    pub fn learn(block: usize, valid: bool) {
        table()[block].store(if valid { 1 } else { 2 }, Ordering::Relaxed);
    }
}

/// Which of 0..1000 are assigned country calling codes, from libphonenumber's metadata.
fn calling_codes() -> &'static [bool; 1000] {
    static TABLE: std::sync::OnceLock<[bool; 1000]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = [false; 1000];
        for (code, slot) in t.iter_mut().enumerate().skip(1) {
            if let Ok(c) = u16::try_from(code) {
                *slot = phonenumber::metadata::DATABASE
                    .by_code(&c)
                    .is_some_and(|m| !m.is_empty());
            }
        }
        t
    })
}

impl fmt::Display for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

impl fmt::Debug for Msisdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Msisdn(+{})", self.0)
    }
}

impl FromStr for Msisdn {
    type Err = InvalidNumber;
    /// Parses E.164 only (`+` and digits); use [`Msisdn::parse`] for user input.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.starts_with('+') {
            return Err(InvalidNumber {
                input: s.chars().take(64).collect(),
                why: "expected E.164 with a leading +".into(),
            });
        }
        Msisdn::parse(s, Region::CN)
    }
}

impl Serialize for Msisdn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Msisdn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// Issue #14, item 8 (found by schemathesis): libphonenumber read `9343494745 0*` as a
    /// number; only the characters people write numbers with pass.
    #[test]
    fn a_number_with_junk_in_it_is_refused() {
        for junk in ["9343494745 0*", "13800138000#", "138-0013-8000 ext 1"] {
            let err = Msisdn::parse(junk, Region::CN).unwrap_err();
            assert!(
                err.to_string().contains("not part of a phone number"),
                "{junk}: {err}"
            );
        }
        assert!(Msisdn::parse("(+86) 138.0013.8000", Region::CN).is_ok());
    }

    #[test]
    fn national_chinese_mobile_gets_plus86() {
        let n = Msisdn::parse("13800138000", Region::CN).unwrap();
        assert_eq!(n.to_string(), "+8613800138000");
        assert_eq!(n.country_code(), 86);
        assert_eq!(n.national(), 13_800_138_000);
        let uk = Msisdn::parse("+447911123456", Region::CN).unwrap();
        assert_eq!(uk.national(), 7_911_123_456);
    }

    #[test]
    fn international_forms_agree() {
        let a = Msisdn::parse("+86 138-0013-8000", Region::CN).unwrap();
        let b = Msisdn::parse("008613800138000", Region::CN).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            Msisdn::parse("+14155552671", Region::CN)
                .unwrap()
                .country_code(),
            1
        );
        assert_eq!(
            Msisdn::parse("+447911123456", Region::CN)
                .unwrap()
                .country_code(),
            44
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "abc",
            "12345",
            "+",
            "+999999999999999999999",
            "１３８",
            "\u{0}\u{1}",
        ] {
            assert!(Msisdn::parse(bad, Region::CN).is_err(), "{bad:?}");
        }
        assert!(Msisdn::parse(&"9".repeat(10_000), Region::CN).is_err());
    }

    /// The block table must give exactly the general parser's answer.
    #[test]
    fn chinese_mobile_fast_path_agrees_with_the_parser() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for i in 0..8_000u64 {
            // A simple LCG spreads numbers over every 13x–19x block.
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let national = 13_000_000_000 + (x >> 11) % 7_000_000_000;
            let forms = [national.to_string(), format!("+86{national}")];
            let form = &forms[usize::try_from(i % 2).unwrap()];
            let slow = phonenumber::parse(Some(Region::CN), form.as_str())
                .ok()
                .filter(phonenumber::is_valid)
                .map(|p| p.format().mode(phonenumber::Mode::E164).to_string());
            // Twice: the first may fill the table, the second must read it.
            for _ in 0..2 {
                let fast = Msisdn::parse(form, Region::CN).ok().map(|m| m.to_string());
                assert_eq!(fast, slow, "{form}");
            }
        }
    }

    #[test]
    fn round_trips_through_u64_and_serde() {
        let n = Msisdn::parse("13800138000", Region::CN).unwrap();
        assert_eq!(Msisdn::from_u64(n.as_u64()), n);
        let json = serde_json_like(&n);
        assert_eq!(json, "+8613800138000");
    }

    fn serde_json_like(n: &Msisdn) -> String {
        n.to_string()
    }
}
