//! What carriers send us besides responses: replies from handsets, and the hook they go to.

use std::sync::Arc;

use domain::Timestamp;
use gateway::{Carrier, CarrierError, Outbound};
use smpp_proto::MessageState;

use crate::Hub;

/// A mobile-originated message: a consumer texting one of our source numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobileOriginated {
    /// The handset, as the carrier wrote it (digits, usually without `+`).
    pub from: String,
    /// The number texted (a sender's source number).
    pub to: String,
    pub text: String,
    pub received_at: Timestamp,
}

/// Reply handling (opt-outs and the rest), implemented by the binary over the gateway. Called
/// off the async runtime, so it may block on the store; the carrier's deliver_sm is answered
/// only after it returns, so a failure (`Err`) makes the carrier redeliver rather than lose an
/// opt-out.
pub trait ReplyHandler: Send + Sync {
    fn on_reply(&self, mo: &MobileOriginated) -> Result<(), String>;
}

impl<F> ReplyHandler for F
where
    F: Fn(&MobileOriginated) -> Result<(), String> + Send + Sync,
{
    fn on_reply(&self, mo: &MobileOriginated) -> Result<(), String> {
        self(mo)
    }
}

/// Wraps a carrier that reports delivery at hand-off (the loopback handset) so that merchants
/// bound over SMPP get their receipts from it too.
pub struct ReceiptingCarrier {
    inner: Arc<dyn Carrier>,
    hub: Arc<Hub>,
}

impl ReceiptingCarrier {
    #[must_use]
    pub fn new(inner: Arc<dyn Carrier>, hub: Arc<Hub>) -> Self {
        ReceiptingCarrier { inner, hub }
    }
}

impl Carrier for ReceiptingCarrier {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn hand_off(&self, msg: &Outbound) -> Result<bool, CarrierError> {
        let delivered = self.inner.hand_off(msg)?;
        if delivered {
            // Non-blocking: the hub only try_sends into bounded session queues.
            self.hub
                .report(msg.id, MessageState::Delivered, None, Timestamp::now());
        }
        Ok(delivered)
    }
}
