//! DELIVER and DELIVER_RESP: the gateway's messages to the SP — replies from handsets (MO) and,
//! with Registered_Delivery = 1, status reports whose Msg_Content is a fixed binary layout.

use crate::error::{DecodeError, EncodeError};
use crate::version::Version;
use crate::wire::{Reader, count_u8, put_octets, put_result};

/// DELIVER, with the CMPP 3.0 fields; 2.0 leaves `src_terminal_type` and `link_id` unused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Deliver {
    pub msg_id: u64,
    /// The SP's number the handset wrote to (Dest_Id).
    pub dest_id: String,
    pub service_id: String,
    pub tp_pid: u8,
    pub tp_udhi: u8,
    pub msg_fmt: u8,
    /// The handset (for a status report: the destination of the reported message).
    pub src_terminal_id: String,
    pub src_terminal_type: u8,
    /// 1: `msg_content` is a [`StatusReport`]; 0: a message from a handset.
    pub registered_delivery: u8,
    pub msg_content: Vec<u8>,
    pub link_id: String,
}

impl Deliver {
    /// A DELIVER carrying `report` (Msg_Fmt 0, Registered_Delivery 1).
    pub fn report(
        msg_id: u64,
        dest_id: &str,
        report: &StatusReport,
        v: Version,
    ) -> Result<Self, EncodeError> {
        Ok(Deliver {
            msg_id,
            dest_id: dest_id.to_owned(),
            src_terminal_id: report.dest_terminal_id.clone(),
            registered_delivery: 1,
            msg_content: report.encode(v)?,
            ..Deliver::default()
        })
    }

    /// The status report, when this DELIVER is one.
    #[must_use]
    pub fn status_report(&self, v: Version) -> Option<Result<StatusReport, DecodeError>> {
        (self.registered_delivery == 1).then(|| StatusReport::decode(&self.msg_content, v))
    }

    pub(crate) fn encode(&self, v: Version, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.msg_id.to_be_bytes());
        put_octets(out, &self.dest_id, 21, "Dest_Id")?;
        put_octets(out, &self.service_id, 10, "Service_Id")?;
        out.extend_from_slice(&[self.tp_pid, self.tp_udhi, self.msg_fmt]);
        put_octets(
            out,
            &self.src_terminal_id,
            v.terminal_id_len(),
            "Src_terminal_Id",
        )?;
        if v.has_terminal_types() {
            out.push(self.src_terminal_type);
        }
        out.push(self.registered_delivery);
        out.push(count_u8(self.msg_content.len(), "Msg_Length")?);
        out.extend_from_slice(&self.msg_content);
        match v {
            Version::V30 => put_octets(out, &self.link_id, 20, "LinkID"),
            Version::V20 => {
                out.extend_from_slice(&[0; 8]);
                Ok(())
            }
        }
    }

    pub(crate) fn decode(v: Version, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut d = Deliver {
            msg_id: r.u64("Msg_Id")?,
            dest_id: r.octets(21, "Dest_Id")?,
            service_id: r.octets(10, "Service_Id")?,
            tp_pid: r.u8("TP_pid")?,
            tp_udhi: r.u8("TP_udhi")?,
            msg_fmt: r.u8("Msg_Fmt")?,
            src_terminal_id: r.octets(v.terminal_id_len(), "Src_terminal_Id")?,
            ..Deliver::default()
        };
        if v.has_terminal_types() {
            d.src_terminal_type = r.u8("Src_terminal_type")?;
        }
        d.registered_delivery = r.u8("Registered_Delivery")?;
        let len = r.u8("Msg_Length")?;
        d.msg_content = r.bytes(usize::from(len), "Msg_Content")?.to_vec();
        match v {
            Version::V30 => d.link_id = r.octets(20, "LinkID")?,
            Version::V20 => {
                r.bytes(8, "Reserved")?;
            }
        }
        Ok(d)
    }
}

/// The Msg_Content of a status report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusReport {
    /// The Msg_Id the gateway gave the reported SUBMIT.
    pub msg_id: u64,
    /// DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN, REJECTD, or a gateway's own
    /// seven-character code (e.g. `MK:0001`).
    pub stat: String,
    /// YYMMDDHHMM.
    pub submit_time: String,
    /// YYMMDDHHMM.
    pub done_time: String,
    pub dest_terminal_id: String,
    pub smsc_sequence: u32,
}

impl StatusReport {
    /// Octets of the layout for `v`: 71 in 3.0, 60 in 2.0.
    #[must_use]
    pub fn len(v: Version) -> usize {
        8 + 7 + 10 + 10 + v.terminal_id_len() + 4
    }

    /// True when `stat` reports delivery.
    #[must_use]
    pub fn is_delivered(&self) -> bool {
        self.stat == "DELIVRD"
    }

    /// Encodes with `v`'s Dest_terminal_Id width.
    pub fn encode(&self, v: Version) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(StatusReport::len(v));
        out.extend_from_slice(&self.msg_id.to_be_bytes());
        put_octets(&mut out, &self.stat, 7, "Stat")?;
        put_octets(&mut out, &self.submit_time, 10, "Submit_time")?;
        put_octets(&mut out, &self.done_time, 10, "Done_time")?;
        put_octets(
            &mut out,
            &self.dest_terminal_id,
            v.terminal_id_len(),
            "Dest_terminal_Id",
        )?;
        out.extend_from_slice(&self.smsc_sequence.to_be_bytes());
        Ok(out)
    }

    /// Decodes a status report. The layout follows the content's length when it is exactly one
    /// of the two (some implementations send the 60-octet 2.0 report on 3.0 links), else
    /// `v`'s; trailing octets are ignored because some gateways pad the content.
    pub fn decode(content: &[u8], v: Version) -> Result<Self, DecodeError> {
        let layout = if content.len() == StatusReport::len(Version::V20) {
            Version::V20
        } else if content.len() == StatusReport::len(Version::V30) {
            Version::V30
        } else {
            v
        };
        let mut r = Reader::new(content);
        Ok(StatusReport {
            msg_id: r.u64("Msg_Id")?,
            stat: r.octets(7, "Stat")?,
            submit_time: r.octets(10, "Submit_time")?,
            done_time: r.octets(10, "Done_time")?,
            dest_terminal_id: r.octets(layout.terminal_id_len(), "Dest_terminal_Id")?,
            smsc_sequence: r.u32("SMSC_sequence")?,
        })
    }
}

/// DELIVER_RESP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliverResp {
    pub msg_id: u64,
    pub result: u32,
}

impl DeliverResp {
    pub(crate) fn encode(&self, v: Version, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.extend_from_slice(&self.msg_id.to_be_bytes());
        put_result(out, self.result, v.result_len(), "Result")
    }

    pub(crate) fn decode(v: Version, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DeliverResp {
            msg_id: r.u64("Msg_Id")?,
            result: r.result(v.result_len(), "Result")?,
        })
    }
}
