//! The 64-bit Msg_Id: when, which gateway, and a sequence number, packed into one integer.
//!
//! Layout, most significant bit first: month (4 bits), day (5), hour (5), minute (6),
//! second (6), gateway code (22), sequence (16). Ids are compared as opaque `u64` everywhere
//! else in this crate, because carriers' ISMGs do not all fill the fields as documented; the
//! structure matters when we are the gateway and must mint ids that real SP software accepts.

/// A Msg_Id split into its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MsgId {
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// The ISMG's code, 22 bits.
    pub gateway: u32,
    pub sequence: u16,
}

/// The largest gateway code that fits its 22 bits.
pub const MAX_GATEWAY_CODE: u32 = (1 << 22) - 1;

impl MsgId {
    /// Packs the fields; each is masked to its width, so out-of-range input cannot spill into
    /// its neighbour.
    #[must_use]
    pub fn pack(self) -> u64 {
        (u64::from(self.month & 0x0F) << 60)
            | (u64::from(self.day & 0x1F) << 55)
            | (u64::from(self.hour & 0x1F) << 50)
            | (u64::from(self.minute & 0x3F) << 44)
            | (u64::from(self.second & 0x3F) << 38)
            | (u64::from(self.gateway & MAX_GATEWAY_CODE) << 16)
            | u64::from(self.sequence)
    }

    /// Splits a Msg_Id into its fields. Every `u64` splits; whether the fields are a plausible
    /// date is [`MsgId::is_plausible`].
    #[must_use]
    pub fn unpack(id: u64) -> MsgId {
        let bits = |shift: u32, width: u32| (id >> shift) & ((1 << width) - 1);
        // Each value is masked to at most 22 bits above, so the narrowing cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        MsgId {
            month: bits(60, 4) as u8,
            day: bits(55, 5) as u8,
            hour: bits(50, 5) as u8,
            minute: bits(44, 6) as u8,
            second: bits(38, 6) as u8,
            gateway: bits(16, 22) as u32,
            sequence: bits(0, 16) as u16,
        }
    }

    /// True when the time fields form a possible date and time.
    #[must_use]
    pub fn is_plausible(&self) -> bool {
        (1..=12).contains(&self.month)
            && (1..=31).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60
    }
}

/// Mints Msg_Ids for one gateway code: the caller supplies the wall-clock fields (this crate
/// has no clock), the generator the wrapping 16-bit sequence.
#[derive(Clone, Debug)]
pub struct MsgIdGenerator {
    gateway: u32,
    next: u16,
}

impl MsgIdGenerator {
    /// A generator for `gateway` (masked to 22 bits), starting at sequence `first`.
    #[must_use]
    pub fn new(gateway: u32, first: u16) -> Self {
        MsgIdGenerator {
            gateway: gateway & MAX_GATEWAY_CODE,
            next: first,
        }
    }

    /// The next id at `(month, day, hour, minute, second)`.
    pub fn next(&mut self, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> u64 {
        let sequence = self.next;
        self.next = self.next.wrapping_add(1);
        MsgId {
            month,
            day,
            hour,
            minute,
            second,
            gateway: self.gateway,
            sequence,
        }
        .pack()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_land_on_their_bits() {
        // 12-31 23:59:59, gateway 0x3FFFFF, sequence 0xFFFF: every field at its maximum.
        let id = MsgId {
            month: 12,
            day: 31,
            hour: 23,
            minute: 59,
            second: 59,
            gateway: MAX_GATEWAY_CODE,
            sequence: 0xFFFF,
        };
        let packed = id.pack();
        assert_eq!(packed >> 60, 12);
        assert_eq!((packed >> 55) & 0x1F, 31);
        assert_eq!((packed >> 16) & 0x3F_FFFF, 0x3F_FFFF);
        assert_eq!(MsgId::unpack(packed), id);
        // A single-field id shows the shift directly: second 1 is bit 39 (bit 38 zero-based).
        let one_second = MsgId {
            second: 1,
            ..MsgId::unpack(0)
        };
        assert_eq!(one_second.pack(), 1 << 38);
    }

    #[test]
    fn the_generator_wraps_its_sequence() {
        let mut g = MsgIdGenerator::new(u32::MAX, 0xFFFF);
        let a = MsgId::unpack(g.next(1, 2, 3, 4, 5));
        let b = MsgId::unpack(g.next(1, 2, 3, 4, 5));
        assert_eq!((a.sequence, b.sequence), (0xFFFF, 0));
        assert_eq!(a.gateway, MAX_GATEWAY_CODE);
        assert!(a.is_plausible());
        assert!(!MsgId::unpack(0).is_plausible());
    }
}
