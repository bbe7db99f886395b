//! CMPP accounts: merchants' CMPP software connects with a six-character Source_Addr (the SP
//! code) and a shared secret instead of presenting an API key.
//!
//! CONNECT proves the secret with `MD5(Source_Addr ‖ 0×9 ‖ secret ‖ timestamp)`, which can only
//! be checked by computing the same digest, so unlike the SMPP password
//! ([`crate::smpp_access`]) the secret cannot be stored as a slow hash. It is kept as issued in
//! the store's `cmpp_accounts` (see [`store::CmppRegistry`] for how it is protected), shown
//! to the merchant once, and read only to check a CONNECT. To make up for that it is long:
//! 16 characters from 56 (about 93 bits), far beyond what the SMPP password's 8 allow.

use domain::SenderId;
use rand::Rng;
use store::CmppRegistry;

use crate::{Gateway, GatewayError};

/// CMPP's Source_Addr width.
pub const CMPP_SOURCE_ADDR_LEN: usize = 6;
/// Characters in an issued secret.
pub const CMPP_SECRET_LEN: usize = 16;

/// An account issued to a sender; the secret is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmppCredentials {
    pub source_addr: String,
    pub secret: String,
}

/// The Source_Addr of `sender`: its id in six decimal digits. SP codes are digits in practice,
/// and a sender id is unique, so no two senders share one.
fn source_addr_of(sender: SenderId) -> Option<String> {
    (sender.0 < 1_000_000).then(|| format!("{:06}", sender.0))
}

fn new_secret() -> String {
    // No look-alikes (0/O, 1/l/I): secrets are copied into SP software by hand.
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..CMPP_SECRET_LEN)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

impl Gateway {
    /// Issues a CMPP account to `sender`, replacing any it had.
    pub fn issue_cmpp_credentials(
        &self,
        sender: SenderId,
    ) -> Result<CmppCredentials, GatewayError> {
        if self.access.sender(sender).is_none() {
            return Err(GatewayError::UnknownSender(sender.0));
        }
        let source_addr = source_addr_of(sender).ok_or_else(|| {
            GatewayError::InvalidField(format!(
                "sender {} has no six-digit CMPP Source_Addr (ids above 999999)",
                sender.0
            ))
        })?;
        let secret = new_secret();
        self.store.put_cmpp_account(&source_addr, sender, &secret)?;
        Ok(CmppCredentials {
            source_addr,
            secret,
        })
    }

    /// The sender that connects as `source_addr` and the secret its CONNECT must be computed
    /// with, or `None` (no such account, or its sender is gone). A suspended sender is still
    /// returned: suspension is a per-message policy decision, so its refusals are explained.
    pub fn cmpp_account(
        &self,
        source_addr: &str,
    ) -> Result<Option<(SenderId, String)>, GatewayError> {
        if source_addr.is_empty() || source_addr.len() > CMPP_SOURCE_ADDR_LEN {
            return Ok(None);
        }
        let Some((sender, secret)) = self.store.cmpp_account(source_addr)? else {
            return Ok(None);
        };
        Ok(self
            .access
            .sender(sender)
            .is_some()
            .then_some((sender, secret)))
    }
}

#[cfg(test)]
mod tests {
    use domain::SenderId;

    #[test]
    fn source_addrs_are_six_digits_and_secrets_differ() {
        assert_eq!(
            super::source_addr_of(SenderId(42)).as_deref(),
            Some("000042")
        );
        assert_eq!(
            super::source_addr_of(SenderId(999_999)).as_deref(),
            Some("999999")
        );
        assert_eq!(super::source_addr_of(SenderId(1_000_000)), None);
        let (a, b) = (super::new_secret(), super::new_secret());
        assert_eq!(a.len(), super::CMPP_SECRET_LEN);
        assert_ne!(a, b);
    }
}
