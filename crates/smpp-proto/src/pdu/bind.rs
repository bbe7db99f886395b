//! bind_transmitter / bind_receiver / bind_transceiver, their responses, and outbind
//! (SMPP 3.4 §4.1).
//!
//! The three binds share one layout, so they are one struct with a [`BindMode`]; the session
//! state machine needs the mode anyway to know which operations the bind allows.

use super::Address;
use crate::error::{DecodeError, EncodeError};
use crate::status::CommandStatus;
use crate::tlv::Tlvs;
use crate::wire::{Reader, put_c_string};

/// The interface_version this crate speaks (3.4).
pub const INTERFACE_VERSION: u8 = 0x34;

/// Which directions of traffic a bind allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BindMode {
    /// ESME submits, SMSC does not deliver.
    Transmitter,
    /// SMSC delivers, ESME does not submit.
    Receiver,
    /// Both directions on one connection.
    Transceiver,
}

impl BindMode {
    /// True when the ESME may send submit_sm / query_sm / data_sm to the SMSC.
    #[must_use]
    pub fn can_submit(self) -> bool {
        matches!(self, BindMode::Transmitter | BindMode::Transceiver)
    }

    /// True when the SMSC may send deliver_sm / data_sm to the ESME.
    #[must_use]
    pub fn can_receive(self) -> bool {
        matches!(self, BindMode::Receiver | BindMode::Transceiver)
    }
}

/// A bind request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    pub mode: BindMode,
    /// Identifies the ESME (at most 15 characters).
    pub system_id: String,
    /// At most 8 characters.
    pub password: String,
    /// At most 12 characters; often empty.
    pub system_type: String,
    /// Always [`INTERFACE_VERSION`] when we send; peers may claim 0x33 or 0x50.
    pub interface_version: u8,
    /// The addresses this ESME serves (a regular expression in the spec; usually empty).
    pub address_range: Address,
}

impl Bind {
    /// A bind with empty system_type and address_range, speaking SMPP 3.4.
    #[must_use]
    pub fn new(mode: BindMode, system_id: &str, password: &str) -> Self {
        Bind {
            mode,
            system_id: system_id.to_owned(),
            password: password.to_owned(),
            system_type: String::new(),
            interface_version: INTERFACE_VERSION,
            address_range: Address::default(),
        }
    }

    pub(crate) fn decode(mode: BindMode, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let bind = Bind {
            mode,
            system_id: r.c_string("system_id", 16, CommandStatus::RINVSYSID)?,
            password: r.c_string("password", 9, CommandStatus::RINVPASWD)?,
            system_type: r.c_string("system_type", 13, CommandStatus::RINVSYSTYP)?,
            interface_version: r.u8("interface_version")?,
            address_range: Address::decode(r, "address_range", 41, CommandStatus::RBINDFAIL)?,
        };
        r.finish()?;
        Ok(bind)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_c_string(out, &self.system_id, "system_id", 16)?;
        put_c_string(out, &self.password, "password", 9)?;
        put_c_string(out, &self.system_type, "system_type", 13)?;
        out.push(self.interface_version);
        self.address_range.encode(out, "address_range", 41)
    }
}

/// A bind response. On error the SMSC may omit the body; it then decodes as empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindResp {
    pub mode: BindMode,
    /// Identifies the SMSC.
    pub system_id: String,
    /// Usually carries sc_interface_version.
    pub tlvs: Tlvs,
}

impl BindResp {
    /// A response with only the SMSC's system_id.
    #[must_use]
    pub fn new(mode: BindMode, system_id: &str) -> Self {
        BindResp {
            mode,
            system_id: system_id.to_owned(),
            tlvs: Tlvs::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.system_id.is_empty() && self.tlvs.is_empty()
    }

    pub(crate) fn decode(mode: BindMode, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.is_empty() {
            return Ok(BindResp::new(mode, ""));
        }
        Ok(BindResp {
            mode,
            system_id: r.c_string("system_id", 16, CommandStatus::RINVSYSID)?,
            tlvs: Tlvs::decode(r)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_c_string(out, &self.system_id, "system_id", 16)?;
        self.tlvs.encode(out)
    }
}

/// Sent by an SMSC to ask the ESME to bind_receiver back to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbind {
    pub system_id: String,
    pub password: String,
}

impl Outbind {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let o = Outbind {
            system_id: r.c_string("system_id", 16, CommandStatus::RINVSYSID)?,
            password: r.c_string("password", 9, CommandStatus::RINVPASWD)?,
        };
        r.finish()?;
        Ok(o)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_c_string(out, &self.system_id, "system_id", 16)?;
        put_c_string(out, &self.password, "password", 9)
    }
}
