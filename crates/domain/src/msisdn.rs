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
        let parsed = phonenumber::parse(Some(region), input).map_err(|e| invalid(e.to_string()))?;
        if !phonenumber::is_valid(&parsed) {
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

    #[test]
    fn national_chinese_mobile_gets_plus86() {
        let n = Msisdn::parse("13800138000", Region::CN).unwrap();
        assert_eq!(n.to_string(), "+8613800138000");
        assert_eq!(n.country_code(), 86);
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
