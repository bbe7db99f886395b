//! submit_sm and deliver_sm (SMPP 3.4 §4.4, §4.6), which share one body layout, and the
//! message-id responses shared by submit_sm_resp, deliver_sm_resp and data_sm_resp.

use super::Address;
use crate::error::{DecodeError, EncodeError};
use crate::status::CommandStatus;
use crate::tlv::Tlvs;
use crate::wire::{Reader, put_c_string};

/// esm_class bit: short_message starts with a User Data Header.
pub const ESM_CLASS_UDHI: u8 = 0x40;
/// esm_class message-type bits (2–5) for an SMSC delivery receipt.
pub const ESM_CLASS_DELIVERY_RECEIPT: u8 = 0x04;
/// Mask of the esm_class message-type bits.
pub const ESM_CLASS_TYPE_MASK: u8 = 0x3C;

/// The body of submit_sm (ESME → SMSC) and deliver_sm (SMSC → ESME).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShortMessage {
    /// At most 5 characters; empty means the SMSC default.
    pub service_type: String,
    pub source: Address,
    pub destination: Address,
    /// Messaging mode, message type ([`ESM_CLASS_DELIVERY_RECEIPT`]) and [`ESM_CLASS_UDHI`].
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    /// Empty, or the 16-character SMPP time format.
    pub schedule_delivery_time: String,
    /// Empty, or the 16-character SMPP time format.
    pub validity_period: String,
    /// Bit 0 asks for a delivery receipt.
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    /// The alphabet of short_message / message_payload; see [`crate::text`].
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    /// The message octets (including any UDH); at most 255, longer text goes in message_payload.
    pub short_message: Vec<u8>,
    pub tlvs: Tlvs,
}

impl ShortMessage {
    /// True when esm_class marks short_message as starting with a User Data Header.
    #[must_use]
    pub fn has_udh(&self) -> bool {
        self.esm_class & ESM_CLASS_UDHI != 0
    }

    /// True when esm_class marks this deliver_sm as an SMSC delivery receipt.
    #[must_use]
    pub fn is_delivery_receipt(&self) -> bool {
        self.esm_class & ESM_CLASS_TYPE_MASK == ESM_CLASS_DELIVERY_RECEIPT
    }

    /// The message octets: message_payload when present (the spec forbids both), else
    /// short_message.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        self.tlvs.message_payload().unwrap_or(&self.short_message)
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let service_type = r.c_string("service_type", 6, CommandStatus::RINVSERTYP)?;
        let source = Address::decode(r, "source_addr", 21, CommandStatus::RINVSRCADR)?;
        let destination = Address::decode(r, "destination_addr", 21, CommandStatus::RINVDSTADR)?;
        let esm_class = r.u8("esm_class")?;
        let protocol_id = r.u8("protocol_id")?;
        let priority_flag = r.u8("priority_flag")?;
        let schedule_delivery_time =
            r.c_string("schedule_delivery_time", 17, CommandStatus::RINVSCHED)?;
        let validity_period = r.c_string("validity_period", 17, CommandStatus::RINVEXPIRY)?;
        let registered_delivery = r.u8("registered_delivery")?;
        let replace_if_present_flag = r.u8("replace_if_present_flag")?;
        let data_coding = r.u8("data_coding")?;
        let sm_default_msg_id = r.u8("sm_default_msg_id")?;
        let sm_length = r.u8("sm_length")?;
        let short_message = r.bytes(usize::from(sm_length), "short_message")?.to_vec();
        let tlvs = Tlvs::decode(r)?;
        Ok(ShortMessage {
            service_type,
            source,
            destination,
            esm_class,
            protocol_id,
            priority_flag,
            schedule_delivery_time,
            validity_period,
            registered_delivery,
            replace_if_present_flag,
            data_coding,
            sm_default_msg_id,
            short_message,
            tlvs,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let sm_length = u8::try_from(self.short_message.len()).map_err(|_| {
            EncodeError::ShortMessageTooLong {
                len: self.short_message.len(),
            }
        })?;
        put_c_string(out, &self.service_type, "service_type", 6)?;
        self.source.encode(out, "source_addr", 21)?;
        self.destination.encode(out, "destination_addr", 21)?;
        out.extend_from_slice(&[self.esm_class, self.protocol_id, self.priority_flag]);
        put_c_string(
            out,
            &self.schedule_delivery_time,
            "schedule_delivery_time",
            17,
        )?;
        put_c_string(out, &self.validity_period, "validity_period", 17)?;
        out.extend_from_slice(&[
            self.registered_delivery,
            self.replace_if_present_flag,
            self.data_coding,
            self.sm_default_msg_id,
            sm_length,
        ]);
        out.extend_from_slice(&self.short_message);
        self.tlvs.encode(out)
    }
}

/// submit_sm_resp, deliver_sm_resp and data_sm_resp: a message id and optional TLVs.
///
/// On error the SMSC may omit the body; it then decodes as empty, and an empty one is omitted
/// again when encoded with a non-zero status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmResp {
    /// The SMSC's id for the message (unused, empty, in deliver_sm_resp).
    pub message_id: String,
    pub tlvs: Tlvs,
}

impl SmResp {
    /// A response carrying `message_id`.
    #[must_use]
    pub fn new(message_id: &str) -> Self {
        SmResp {
            message_id: message_id.to_owned(),
            tlvs: Tlvs::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.message_id.is_empty() && self.tlvs.is_empty()
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.is_empty() {
            return Ok(SmResp::default());
        }
        Ok(SmResp {
            message_id: r.c_string("message_id", 65, CommandStatus::RINVMSGID)?,
            tlvs: Tlvs::decode(r)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_c_string(out, &self.message_id, "message_id", 65)?;
        self.tlvs.encode(out)
    }
}
