//! The operator's changes to a registered sender: its name and signature (chained edits) and
//! new SMPP and CMPP secrets (chained credential changes). Each secret is returned once.

use domain::SenderId;
use store::{SenderRecord, SenderRegistry};

use crate::{CmppCredentials, Gateway, GatewayError, SmppCredentials};

impl Gateway {
    /// Renames `sender` and sets its signature, under the same rules as a registration (no
    /// other sender may have the pair: `duplicate_sender`). `actor` is who edited it, kept in
    /// the chained edit.
    pub fn edit_sender(
        &self,
        sender: SenderId,
        name: &str,
        signature: &str,
        actor: &str,
    ) -> Result<SenderRecord, GatewayError> {
        if self.access.sender(sender).is_none() {
            return Err(GatewayError::NotFound(format!("sender {sender}")));
        }
        let (name, signature) = self.new_identity(name, signature, Some(sender))?;
        let record = self
            .store
            .edit_sender(sender, name, signature, actor)?
            .ok_or_else(|| GatewayError::NotFound(format!("sender {sender}")))?;
        self.access
            .senders
            .write()
            .insert(record.id, record.clone());
        Ok(record)
    }

    /// A new SMPP password for `sender` (same system_id); the earlier one stops binding.
    pub fn reset_smpp_password(&self, sender: SenderId) -> Result<SmppCredentials, GatewayError> {
        if self.access.sender(sender).is_none() {
            return Err(GatewayError::NotFound(format!("sender {sender}")));
        }
        self.new_smpp_password(sender)
    }

    /// A new CMPP secret for `sender` (same Source_Addr); the earlier one stops connecting.
    pub fn reset_cmpp_secret(&self, sender: SenderId) -> Result<CmppCredentials, GatewayError> {
        if self.access.sender(sender).is_none() {
            return Err(GatewayError::NotFound(format!("sender {sender}")));
        }
        self.issue_cmpp_credentials(sender)
    }
}
