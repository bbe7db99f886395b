//! QUERY (the SP's traffic counters for a day) and CANCEL (withdraw a queued message).

use crate::error::{DecodeError, EncodeError};
use crate::version::Version;
use crate::wire::{Reader, put_octets, put_result};

/// QUERY: the same layout in 2.0 and 3.0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    /// YYYYMMDD.
    pub time: String,
    /// 0 all services, 1 the service in `query_code`.
    pub query_type: u8,
    pub query_code: String,
}

impl Query {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_octets(out, &self.time, 8, "Time")?;
        out.push(self.query_type);
        put_octets(out, &self.query_code, 10, "Query_Code")?;
        out.extend_from_slice(&[0; 8]);
        Ok(())
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let q = Query {
            time: r.octets(8, "Time")?,
            query_type: r.u8("Query_Type")?,
            query_code: r.octets(10, "Query_Code")?,
        };
        r.bytes(8, "Reserve")?;
        Ok(q)
    }
}

/// QUERY_RESP: message counts for the day (MT total, users, sent, waiting, failed; MO sent,
/// waiting, failed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryResp {
    pub time: String,
    pub query_type: u8,
    pub query_code: String,
    pub mt_tl_msg: u32,
    pub mt_tl_usr: u32,
    pub mt_scs: u32,
    pub mt_wt: u32,
    pub mt_fl: u32,
    pub mo_scs: u32,
    pub mo_wt: u32,
    pub mo_fl: u32,
}

impl QueryResp {
    fn counters(&self) -> [u32; 8] {
        [
            self.mt_tl_msg,
            self.mt_tl_usr,
            self.mt_scs,
            self.mt_wt,
            self.mt_fl,
            self.mo_scs,
            self.mo_wt,
            self.mo_fl,
        ]
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_octets(out, &self.time, 8, "Time")?;
        out.push(self.query_type);
        put_octets(out, &self.query_code, 10, "Query_Code")?;
        for c in self.counters() {
            out.extend_from_slice(&c.to_be_bytes());
        }
        Ok(())
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut q = QueryResp {
            time: r.octets(8, "Time")?,
            query_type: r.u8("Query_Type")?,
            query_code: r.octets(10, "Query_Code")?,
            ..QueryResp::default()
        };
        let mut c = [0u32; 8];
        for slot in &mut c {
            *slot = r.u32("counter")?;
        }
        [
            q.mt_tl_msg,
            q.mt_tl_usr,
            q.mt_scs,
            q.mt_wt,
            q.mt_fl,
            q.mo_scs,
            q.mo_wt,
            q.mo_fl,
        ] = c;
        Ok(q)
    }
}

/// CANCEL: withdraw the message with `msg_id` if the gateway still holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancel {
    pub msg_id: u64,
}

/// CANCEL_RESP: Success_Id 0 withdrawn, 1 not (already sent or unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CancelResp {
    pub success: u32,
}

impl CancelResp {
    pub(crate) fn encode(&self, v: Version, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_result(out, self.success, v.result_len(), "Success_Id")
    }

    pub(crate) fn decode(v: Version, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(CancelResp {
            success: r.result(v.result_len(), "Success_Id")?,
        })
    }
}
