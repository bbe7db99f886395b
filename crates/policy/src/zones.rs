//! Recipients' local time: which zone a number lives in, its local day, and quiet windows.

use std::collections::HashMap;

use domain::{Msisdn, Timestamp};
use jiff::tz::TimeZone;

use crate::ConfigError;

/// A time of day, in seconds after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalTime(pub u32);

impl LocalTime {
    /// Parses "HH:MM".
    pub fn parse(key: &'static str, value: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::BadTime {
            key,
            value: value.to_string(),
        };
        let (h, m) = value.split_once(':').ok_or_else(bad)?;
        let h: u32 = h.trim().parse().map_err(|_| bad())?;
        let m: u32 = m.trim().parse().map_err(|_| bad())?;
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(LocalTime(h * 3600 + m * 60))
    }
}

/// Zone lookup by the number's country calling code.
#[derive(Debug, Clone)]
pub struct Zones {
    by_code: HashMap<u16, TimeZone>,
    default: TimeZone,
}

/// Where a number stands in its local calendar at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalClock {
    /// Days since 1970-01-01 in local time: the key of daily caps.
    pub day: i32,
    /// Seconds since local midnight.
    pub time_of_day: u32,
}

impl Zones {
    pub(crate) fn new(
        default: &str,
        by_code: &std::collections::BTreeMap<String, String>,
    ) -> Result<Self, ConfigError> {
        let zone = |key: &str, name: &str| {
            TimeZone::get(name).map_err(|_| ConfigError::BadZone {
                key: key.to_string(),
                value: name.to_string(),
            })
        };
        let mut map = HashMap::new();
        for (code, name) in by_code {
            let c: u16 = code
                .trim_start_matches('+')
                .parse()
                .map_err(|_| ConfigError::BadCallingCode(code.clone()))?;
            map.insert(c, zone(&format!("timezones.{code}"), name)?);
        }
        Ok(Zones {
            by_code: map,
            default: zone("default_timezone", default)?,
        })
    }

    /// The zone `phone` lives in.
    #[must_use]
    pub fn zone(&self, phone: Msisdn) -> &TimeZone {
        if self.by_code.is_empty() {
            return &self.default;
        }
        self.by_code
            .get(&phone.country_code())
            .unwrap_or(&self.default)
    }

    /// `phone`'s local day and time of day at `now`.
    #[must_use]
    pub fn local(&self, phone: Msisdn, now: Timestamp) -> LocalClock {
        let offset = self.zone(phone).to_offset(now);
        let local = now.as_second() + i64::from(offset.seconds());
        LocalClock {
            day: i32::try_from(local.div_euclid(86_400)).unwrap_or(0),
            time_of_day: u32::try_from(local.rem_euclid(86_400)).unwrap_or(0),
        }
    }

    /// The next instant after `now` at which `phone`'s local clock reads `at`.
    #[must_use]
    pub fn next_local(&self, phone: Msisdn, now: Timestamp, at: LocalTime) -> Option<Timestamp> {
        let tz = self.zone(phone);
        let zoned = now.to_zoned_datetime(tz.clone());
        let secs = i32::try_from(at.0).ok()?;
        let time = jiff::civil::Time::new(
            i8::try_from(secs / 3600).ok()?,
            i8::try_from(secs % 3600 / 60).ok()?,
            0,
            0,
        )
        .ok()?;
        let today = zoned
            .date()
            .to_datetime(time)
            .to_zoned_datetime(tz.clone())
            .ok()?;
        if today.timestamp() > now {
            return Some(today.timestamp());
        }
        let tomorrow = zoned.date().tomorrow().ok()?.to_datetime(time);
        Some(tomorrow.to_zoned_datetime(tz.clone()).ok()?.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Region;

    #[test]
    fn shanghai_local_day_and_time() {
        let zones = Zones::new("Asia/Shanghai", &Default::default()).unwrap();
        let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
        // 2026-11-10T16:30Z is 00:30 on the 11th in Shanghai.
        let l = zones.local(phone, "2026-11-10T16:30:00Z".parse().unwrap());
        assert_eq!(l.time_of_day, 30 * 60);
        let l2 = zones.local(phone, "2026-11-10T15:59:00Z".parse().unwrap());
        assert_eq!(l.day, l2.day + 1);
    }

    #[test]
    fn next_local_is_tomorrow_once_passed() {
        let zones = Zones::new("Asia/Shanghai", &Default::default()).unwrap();
        let phone = Msisdn::parse("13800138000", Region::CN).unwrap();
        let eight = LocalTime::parse("k", "08:00").unwrap();
        // 21:00 Shanghai on the 11th → 08:00 on the 12th = 00:00Z on the 12th.
        let at = zones.next_local(phone, "2026-11-11T13:00:00Z".parse().unwrap(), eight);
        assert_eq!(at, Some("2026-11-12T00:00:00Z".parse().unwrap()));
        // 03:00 Shanghai on the 12th → 08:00 the same day.
        let at = zones.next_local(phone, "2026-11-11T19:00:00Z".parse().unwrap(), eight);
        assert_eq!(at, Some("2026-11-12T00:00:00Z".parse().unwrap()));
    }

    #[test]
    fn bad_times_are_errors() {
        for bad in ["24:00", "8", "aa:bb", "12:60"] {
            assert!(LocalTime::parse("quiet_hours_start", bad).is_err(), "{bad}");
        }
    }
}
