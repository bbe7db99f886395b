//! CONNECT and CONNECT_RESP: the SP proves it knows the shared secret without sending it.
//!
//! AuthenticatorSource = MD5(Source_Addr ‖ 9 × 0x00 ‖ secret ‖ Timestamp as 10 ASCII digits),
//! Timestamp being MMDDHHMMSS read as a decimal number and sent as a 32-bit integer (so
//! 0102030405 travels as 102030405 and must be re-padded to ten digits before hashing).
//! AuthenticatorISMG = MD5(Status ‖ AuthenticatorSource ‖ secret), Status in its wire width
//! (four octets in 3.0, one in 2.0), so the SP can tell a genuine gateway from an impostor.

use md5::{Digest, Md5};

use crate::error::{DecodeError, EncodeError};
use crate::version::Version;
use crate::wire::{Reader, put_octets, put_result};

/// Octets of Source_Addr (the SP code).
pub const SOURCE_ADDR_LEN: usize = 6;

/// The Timestamp field for a wall-clock time (month 1–12, day 1–31, and so on).
#[must_use]
pub fn timestamp_from_fields(month: u8, day: u8, hour: u8, minute: u8, second: u8) -> u32 {
    [month, day, hour, minute, second]
        .into_iter()
        .fold(0u32, |acc, f| acc * 100 + u32::from(f % 100))
}

/// AuthenticatorSource for `source_addr`, `secret` and `timestamp`.
#[must_use]
pub fn authenticator_source(source_addr: &str, secret: &[u8], timestamp: u32) -> [u8; 16] {
    let mut h = Md5::new();
    // Source_Addr is hashed as sent: Latin-1 octets, as many as the string has.
    let addr: Vec<u8> = source_addr
        .chars()
        .filter_map(|c| u8::try_from(u32::from(c)).ok())
        .collect();
    h.update(&addr);
    h.update([0u8; 9]);
    h.update(secret);
    h.update(format!("{timestamp:010}").as_bytes());
    h.finalize().into()
}

/// AuthenticatorISMG for a CONNECT_RESP with `status`.
#[must_use]
pub fn authenticator_ismg(
    status: u32,
    version: Version,
    source: &[u8; 16],
    secret: &[u8],
) -> [u8; 16] {
    let mut h = Md5::new();
    let mut status_bytes = Vec::with_capacity(4);
    // A status that does not fit 2.0's octet is hashed as its low octet, as it is sent.
    let status = if version.result_len() == 1 {
        status & 0xFF
    } else {
        status
    };
    let _ = put_result(&mut status_bytes, status, version.result_len(), "Status");
    h.update(&status_bytes);
    h.update(source);
    h.update(secret);
    h.finalize().into()
}

/// Compares without an early exit, so the time taken says nothing about how many octets of a
/// guessed authenticator were right.
fn same(a: &[u8; 16], b: &[u8; 16]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// CONNECT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connect {
    pub source_addr: String,
    pub authenticator: [u8; 16],
    /// The Version octet as sent (0x30, 0x20, or 0x21 from some 2.0 software).
    pub version: u8,
    pub timestamp: u32,
}

impl Connect {
    /// A CONNECT for `source_addr` that proves knowledge of `secret`.
    #[must_use]
    pub fn new(source_addr: &str, secret: &[u8], version: Version, timestamp: u32) -> Self {
        Connect {
            source_addr: source_addr.to_owned(),
            authenticator: authenticator_source(source_addr, secret, timestamp),
            version: version.octet(),
            timestamp,
        }
    }

    /// True when the AuthenticatorSource was computed with `secret`.
    #[must_use]
    pub fn verify(&self, secret: &[u8]) -> bool {
        same(
            &self.authenticator,
            &authenticator_source(&self.source_addr, secret, self.timestamp),
        )
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_octets(out, &self.source_addr, SOURCE_ADDR_LEN, "Source_Addr")?;
        out.extend_from_slice(&self.authenticator);
        out.push(self.version);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        Ok(())
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Connect {
            source_addr: r.octets(SOURCE_ADDR_LEN, "Source_Addr")?,
            authenticator: r.array("AuthenticatorSource")?,
            version: r.u8("Version")?,
            timestamp: r.u32("Timestamp")?,
        })
    }
}

/// CONNECT_RESP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectResp {
    /// 0 accepted; see [`crate::result`] for the refusals.
    pub status: u32,
    pub authenticator: [u8; 16],
    /// The version the gateway speaks on this connection.
    pub version: u8,
}

impl ConnectResp {
    /// The answer to `connect` with `status`, authenticated with `secret` (an empty secret for
    /// refusals where none is known: the SP cannot verify those and need not).
    #[must_use]
    pub fn answer(connect: &Connect, status: u32, version: Version, secret: &[u8]) -> Self {
        ConnectResp {
            status,
            authenticator: authenticator_ismg(status, version, &connect.authenticator, secret),
            version: version.octet(),
        }
    }

    /// True when the gateway computed AuthenticatorISMG from our `connect` and `secret`.
    #[must_use]
    pub fn verify(&self, connect: &Connect, version: Version, secret: &[u8]) -> bool {
        same(
            &self.authenticator,
            &authenticator_ismg(self.status, version, &connect.authenticator, secret),
        )
    }

    pub(crate) fn encode(&self, v: Version, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_result(out, self.status, v.result_len(), "Status")?;
        out.extend_from_slice(&self.authenticator);
        out.push(self.version);
        Ok(())
    }

    /// The status width follows the body's length (21 octets in 3.0, 18 in 2.0) rather than the
    /// version asked for, because a gateway that downgrades answers in the layout it chose.
    pub(crate) fn decode(v: Version, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let width = match r.remaining() {
            21 => 4,
            18 => 1,
            _ => v.result_len(),
        };
        Ok(ConnectResp {
            status: r.result(width, "Status")?,
            authenticator: r.array("AuthenticatorISMG")?,
            version: r.u8("Version")?,
        })
    }
}
