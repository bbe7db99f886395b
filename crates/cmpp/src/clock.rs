//! Wall-clock fields in China Standard Time (UTC+8, no daylight saving), where ISMGs and SP
//! software read CONNECT Timestamps, Msg_Id times and status-report times.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

/// Month, day, hour, minute, second and two-digit year of `t` in UTC+8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fields {
    pub year: u8,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// The fields of `t` in China Standard Time.
#[must_use]
pub fn china_fields(t: Timestamp) -> Fields {
    let dt = TimeZone::fixed(Offset::constant(8)).to_datetime(t);
    let two = |v: i8| u8::try_from(v).unwrap_or(0);
    Fields {
        year: u8::try_from(dt.year().rem_euclid(100)).unwrap_or(0),
        month: two(dt.month()),
        day: two(dt.day()),
        hour: two(dt.hour()),
        minute: two(dt.minute()),
        second: two(dt.second()),
    }
}

/// The fields of now.
#[must_use]
pub fn now() -> Fields {
    china_fields(Timestamp::now())
}

impl Fields {
    /// The CONNECT Timestamp (MMDDHHMMSS).
    #[must_use]
    pub fn connect_timestamp(self) -> u32 {
        cmpp_proto::pdu::timestamp_from_fields(
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
        )
    }

    /// A status report time (YYMMDDHHMM).
    #[must_use]
    pub fn report_time(self) -> String {
        format!(
            "{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_midnight_is_eight_in_the_morning_in_china() {
        let t: Timestamp = "2026-01-02T00:30:05Z".parse().expect("time");
        let f = china_fields(t);
        assert_eq!(
            (f.month, f.day, f.hour, f.minute, f.second),
            (1, 2, 8, 30, 5)
        );
        assert_eq!(f.connect_timestamp(), 102_083_005);
        assert_eq!(f.report_time(), "2601020830");
    }
}
