//! Protocol versions and their negotiation.
//!
//! The Version octet carries the major version in the high nibble and the minor in the low
//! one: 0x30 is CMPP 3.0 and 0x20 is 2.0. Deployed 2.0 software also sends 0x21 (PyPI
//! `pycmpp` does), so the wire layout follows the major version only. The field widths that
//! differ are collected here so that PDU code asks the version instead of branching on numbers.

/// The wire layout in use on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// CMPP 2.0: 21-octet terminal ids, one-octet results, no `*_type` fields, 8-octet Reserve.
    V20,
    /// CMPP 3.0: 32-octet terminal ids with a type octet, four-octet results, LinkID.
    V30,
}

impl Version {
    /// The Version octet this crate sends.
    #[must_use]
    pub fn octet(self) -> u8 {
        match self {
            Version::V20 => 0x20,
            Version::V30 => 0x30,
        }
    }

    /// The layout a Version octet asks for; `None` for majors other than 2 and 3.
    #[must_use]
    pub fn from_octet(v: u8) -> Option<Version> {
        match v >> 4 {
            2 => Some(Version::V20),
            3 => Some(Version::V30),
            _ => None,
        }
    }

    /// What a gateway supporting up to `highest` agrees to when a client asks for `requested`:
    /// the requested layout when it is supported, else `None`. A client asking for a newer major
    /// than the gateway knows gets "version too high" (CONNECT status 4) rather than a layout it
    /// did not ask for, because the two ends would disagree on every SUBMIT.
    #[must_use]
    pub fn negotiate(requested: u8, highest: Version) -> Option<Version> {
        Version::from_octet(requested).filter(|v| *v <= highest)
    }

    /// Octets of a terminal id (Dest_terminal_Id, Src_terminal_Id, Fee_terminal_Id).
    #[must_use]
    pub fn terminal_id_len(self) -> usize {
        match self {
            Version::V20 => 21,
            Version::V30 => 32,
        }
    }

    /// Octets of a status or result field (CONNECT_RESP Status, SUBMIT_RESP and DELIVER_RESP
    /// Result, CANCEL_RESP Success_Id).
    #[must_use]
    pub fn result_len(self) -> usize {
        match self {
            Version::V20 => 1,
            Version::V30 => 4,
        }
    }

    /// True when terminal ids are followed by a `*_terminal_type` octet.
    #[must_use]
    pub fn has_terminal_types(self) -> bool {
        self == Version::V30
    }

    /// Octets after the message content: LinkID (3.0) or Reserve (2.0).
    #[must_use]
    pub fn trailer_len(self) -> usize {
        match self {
            Version::V20 => 8,
            Version::V30 => 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majors_pick_the_layout() {
        assert_eq!(Version::from_octet(0x30), Some(Version::V30));
        assert_eq!(Version::from_octet(0x21), Some(Version::V20));
        assert_eq!(Version::from_octet(0x13), None);
        assert_eq!(Version::negotiate(0x20, Version::V30), Some(Version::V20));
        assert_eq!(Version::negotiate(0x30, Version::V20), None);
        assert_eq!(Version::negotiate(0x40, Version::V30), None);
    }
}
