//! data_sm (SMPP 3.4 §4.7): the TLV-centred alternative to submit_sm / deliver_sm.
//!
//! data_sm carries its text in message_payload, so its mandatory part is short and its
//! addresses may be longer (64 characters) than submit_sm's.

use super::Address;
use crate::error::{DecodeError, EncodeError};
use crate::status::CommandStatus;
use crate::tlv::Tlvs;
use crate::wire::{Reader, put_c_string};

/// The body of data_sm, sent in either direction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataSm {
    pub service_type: String,
    /// At most 64 characters (longer than submit_sm's 20).
    pub source: Address,
    /// At most 64 characters.
    pub destination: Address,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    /// message_payload and friends.
    pub tlvs: Tlvs,
}

impl DataSm {
    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DataSm {
            service_type: r.c_string("service_type", 6, CommandStatus::RINVSERTYP)?,
            source: Address::decode(r, "source_addr", 65, CommandStatus::RINVSRCADR)?,
            destination: Address::decode(r, "destination_addr", 65, CommandStatus::RINVDSTADR)?,
            esm_class: r.u8("esm_class")?,
            registered_delivery: r.u8("registered_delivery")?,
            data_coding: r.u8("data_coding")?,
            tlvs: Tlvs::decode(r)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_c_string(out, &self.service_type, "service_type", 6)?;
        self.source.encode(out, "source_addr", 65)?;
        self.destination.encode(out, "destination_addr", 65)?;
        out.extend_from_slice(&[self.esm_class, self.registered_delivery, self.data_coding]);
        self.tlvs.encode(out)
    }
}
