//! SUBMIT and SUBMIT_RESP: an SP's message to one or more handsets.

use crate::error::{DecodeError, EncodeError};
use crate::version::Version;
use crate::wire::{Reader, count_u8, put_octets, put_result};

/// Most destinations one SUBMIT may name (DestUsr_tl).
pub const MAX_DESTINATIONS: usize = 100;

/// SUBMIT, with the CMPP 3.0 fields; 2.0 leaves `fee_terminal_type`, `dest_terminal_type` and
/// `link_id` unused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submit {
    /// Zero from an SP; the gateway assigns the id in SUBMIT_RESP.
    pub msg_id: u64,
    pub pk_total: u8,
    pub pk_number: u8,
    /// 1: send a status report as a DELIVER.
    pub registered_delivery: u8,
    pub msg_level: u8,
    pub service_id: String,
    /// 0 charge the destination, 1 the source, 2 the SP, 3 `fee_terminal_id`.
    pub fee_user_type: u8,
    pub fee_terminal_id: String,
    pub fee_terminal_type: u8,
    pub tp_pid: u8,
    /// 1 when `msg_content` starts with a user data header (long messages).
    pub tp_udhi: u8,
    pub msg_fmt: u8,
    /// The SP code (the CONNECT Source_Addr).
    pub msg_src: String,
    pub fee_type: String,
    pub fee_code: String,
    pub valid_time: String,
    pub at_time: String,
    /// The number the handset sees the message from: the SP's access number plus extension.
    pub src_id: String,
    pub dest_terminal_ids: Vec<String>,
    pub dest_terminal_type: u8,
    pub msg_content: Vec<u8>,
    pub link_id: String,
}

impl Default for Submit {
    fn default() -> Self {
        Submit {
            msg_id: 0,
            pk_total: 1,
            pk_number: 1,
            registered_delivery: 0,
            msg_level: 0,
            service_id: String::new(),
            fee_user_type: 2,
            fee_terminal_id: String::new(),
            fee_terminal_type: 0,
            tp_pid: 0,
            tp_udhi: 0,
            msg_fmt: 0,
            msg_src: String::new(),
            fee_type: "01".to_owned(),
            fee_code: "000000".to_owned(),
            valid_time: String::new(),
            at_time: String::new(),
            src_id: String::new(),
            dest_terminal_ids: Vec::new(),
            dest_terminal_type: 0,
            msg_content: Vec::new(),
            link_id: String::new(),
        }
    }
}

impl Submit {
    pub(crate) fn encode(&self, v: Version, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let tid = v.terminal_id_len();
        out.extend_from_slice(&self.msg_id.to_be_bytes());
        out.extend_from_slice(&[
            self.pk_total,
            self.pk_number,
            self.registered_delivery,
            self.msg_level,
        ]);
        put_octets(out, &self.service_id, 10, "Service_Id")?;
        out.push(self.fee_user_type);
        put_octets(out, &self.fee_terminal_id, tid, "Fee_terminal_Id")?;
        if v.has_terminal_types() {
            out.push(self.fee_terminal_type);
        }
        out.extend_from_slice(&[self.tp_pid, self.tp_udhi, self.msg_fmt]);
        put_octets(out, &self.msg_src, 6, "Msg_src")?;
        put_octets(out, &self.fee_type, 2, "FeeType")?;
        put_octets(out, &self.fee_code, 6, "FeeCode")?;
        put_octets(out, &self.valid_time, 17, "ValId_Time")?;
        put_octets(out, &self.at_time, 17, "At_Time")?;
        put_octets(out, &self.src_id, 21, "Src_Id")?;
        if self.dest_terminal_ids.len() > MAX_DESTINATIONS {
            return Err(EncodeError::ValueTooLarge {
                field: "DestUsr_tl",
                value: self.dest_terminal_ids.len() as u64,
            });
        }
        out.push(count_u8(self.dest_terminal_ids.len(), "DestUsr_tl")?);
        for d in &self.dest_terminal_ids {
            put_octets(out, d, tid, "Dest_terminal_Id")?;
        }
        if v.has_terminal_types() {
            out.push(self.dest_terminal_type);
        }
        out.push(count_u8(self.msg_content.len(), "Msg_Length")?);
        out.extend_from_slice(&self.msg_content);
        match v {
            Version::V30 => put_octets(out, &self.link_id, 20, "LinkID")?,
            Version::V20 => out.extend_from_slice(&[0; 8]),
        }
        Ok(())
    }

    pub(crate) fn decode(v: Version, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tid = v.terminal_id_len();
        let typed = v.has_terminal_types();
        let mut s = Submit {
            msg_id: r.u64("Msg_Id")?,
            pk_total: r.u8("Pk_total")?,
            pk_number: r.u8("Pk_number")?,
            registered_delivery: r.u8("Registered_Delivery")?,
            msg_level: r.u8("Msg_level")?,
            service_id: r.octets(10, "Service_Id")?,
            fee_user_type: r.u8("Fee_UserType")?,
            fee_terminal_id: r.octets(tid, "Fee_terminal_Id")?,
            fee_terminal_type: if typed { r.u8("Fee_terminal_type")? } else { 0 },
            tp_pid: r.u8("TP_pId")?,
            tp_udhi: r.u8("TP_udhi")?,
            msg_fmt: r.u8("Msg_Fmt")?,
            msg_src: r.octets(6, "Msg_src")?,
            fee_type: r.octets(2, "FeeType")?,
            fee_code: r.octets(6, "FeeCode")?,
            valid_time: r.octets(17, "ValId_Time")?,
            at_time: r.octets(17, "At_Time")?,
            src_id: r.octets(21, "Src_Id")?,
            ..Submit::default()
        };
        let count = r.u8("DestUsr_tl")?;
        if usize::from(count) > MAX_DESTINATIONS {
            return Err(DecodeError::OutOfRange {
                field: "DestUsr_tl",
                value: u32::from(count),
                max: MAX_DESTINATIONS as u32,
            });
        }
        for _ in 0..count {
            s.dest_terminal_ids.push(r.octets(tid, "Dest_terminal_Id")?);
        }
        if typed {
            s.dest_terminal_type = r.u8("Dest_terminal_type")?;
        }
        let len = r.u8("Msg_Length")?;
        s.msg_content = r.bytes(usize::from(len), "Msg_Content")?.to_vec();
        match v {
            Version::V30 => s.link_id = r.octets(20, "LinkID")?,
            Version::V20 => {
                r.bytes(8, "Reserve")?;
            }
        }
        Ok(s)
    }
}

/// SUBMIT_RESP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubmitResp {
    pub msg_id: u64,
    /// 0 accepted; 8 flow control (slow down and resend); see [`crate::result`].
    pub result: u32,
}

impl SubmitResp {
    pub(crate) fn encode(&self, v: Version, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.msg_id.to_be_bytes());
        put_result(out, self.result, v.result_len(), "Result")
    }

    pub(crate) fn decode(v: Version, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(SubmitResp {
            msg_id: r.u64("Msg_Id")?,
            result: r.result(v.result_len(), "Result")?,
        })
    }
}
