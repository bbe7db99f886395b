//! What a gateway sends us besides responses: status reports and replies from handsets.

use cmpp_proto::StatusReport;

/// A mobile-originated message: a handset texting one of the SP's numbers. Long replies are
/// joined before they get here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileOriginated {
    /// The handset (Src_terminal_Id), as the gateway wrote it.
    pub from: String,
    /// The SP number texted (Dest_Id): the access number and the extension after it.
    pub to: String,
    pub service_id: String,
    pub text: String,
}

/// Where DELIVERs go; implemented by the binary over the gateway (receipts update delivery,
/// replies feed opt-outs). Called on a blocking thread, so it may wait on the store. The
/// DELIVER_RESP is sent only after it returns: `Err` answers Result 9 so the gateway delivers
/// again rather than losing an opt-out.
pub trait DeliverHandler: Send + Sync {
    fn on_report(&self, report: &StatusReport) -> Result<(), String>;
    fn on_mo(&self, mo: &MobileOriginated) -> Result<(), String>;
}
