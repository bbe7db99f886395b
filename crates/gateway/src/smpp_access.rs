//! SMPP bind credentials: merchants' existing SMS software binds with a system_id and password
//! instead of presenting an API key.
//!
//! SMPP 3.4 caps system_id at 15 characters and the password at 8 (16 and 9 octets with the
//! terminating NUL), so a password carries at most ~47 bits of entropy. That is enough against
//! online guessing but not against an offline attack on a leaked table with a fast hash, so unlike
//! the 256-bit API keys ([`crate::access`]) the password is stored as a salted argon2id hash.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::SenderId;
use rand::Rng;
use store::SmppRegistry;

use crate::{Gateway, GatewayError};

/// SMPP's limit on system_id, in characters.
pub const SMPP_SYSTEM_ID_MAX: usize = 15;
/// SMPP's limit on the password, in characters.
pub const SMPP_PASSWORD_MAX: usize = 8;

/// Credentials issued to a sender; the password is shown once and stored hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmppCredentials {
    pub system_id: String,
    pub password: String,
}

/// argon2id with modest memory: a bind costs tens of milliseconds, and the SMPP server bounds how
/// many run at once, so a bind flood costs time, not memory.
fn hasher() -> Argon2<'static> {
    let params = Params::new(8 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn new_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..SMPP_PASSWORD_MAX)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

impl Gateway {
    /// Issues SMPP credentials to `sender`, replacing any it had.
    pub fn issue_smpp_credentials(
        &self,
        sender: SenderId,
    ) -> Result<SmppCredentials, GatewayError> {
        if self.access.sender(sender).is_none() {
            return Err(GatewayError::UnknownSender(sender.0));
        }
        let system_id = format!("cs{}", sender.0);
        let password = new_password();
        let mut salt = [0u8; 16];
        rand::rng().fill(&mut salt);
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| GatewayError::InvalidField(format!("salt: {e}")))?;
        let hash = hasher()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| GatewayError::InvalidField(format!("hashing: {e}")))?
            .to_string();
        self.store.put_smpp_credential(&system_id, sender, &hash)?;
        Ok(SmppCredentials {
            system_id,
            password,
        })
    }

    /// The sender that `system_id` and `password` authenticate, or `None` (unknown system_id,
    /// wrong password, or a suspended sender is still returned: suspension is a policy decision,
    /// made per message, so its rejections are explained). Slow by design; call it off the
    /// async runtime.
    pub fn authenticate_smpp(
        &self,
        system_id: &str,
        password: &str,
    ) -> Result<Option<SenderId>, GatewayError> {
        if system_id.is_empty()
            || system_id.len() > SMPP_SYSTEM_ID_MAX
            || password.len() > SMPP_PASSWORD_MAX
        {
            return Ok(None);
        }
        let Some((sender, stored)) = self.store.smpp_credential(system_id)? else {
            return Ok(None);
        };
        let Ok(parsed) = PasswordHash::new(&stored) else {
            tracing::error!(system_id, "stored SMPP password hash is unreadable");
            return Ok(None);
        };
        let ok = hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok((ok && self.access.sender(sender).is_some()).then_some(sender))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_fit_smpp_and_differ() {
        let a = super::new_password();
        let b = super::new_password();
        assert_eq!(a.len(), super::SMPP_PASSWORD_MAX);
        assert_ne!(a, b);
    }
}
