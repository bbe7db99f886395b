//! SMPP bind credentials: merchants' existing SMS software binds with a system_id and password
//! instead of presenting an API key.
//!
//! SMPP 3.4 caps system_id at 15 characters and the password at 8 (16 and 9 octets with the
//! terminating NUL), so a password carries at most ~47 bits of entropy. That is enough against
//! online guessing but not against an offline attack on a leaked table with a fast hash, so unlike
//! the 256-bit API keys ([`crate::access`]) the password is stored as a salted argon2id hash.

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

/// Memory blocks of binds verified earlier, reused by the next (at most [`POOLED`] kept).
///
/// Issue #14, item 6: wrong-password binds took RSS from 32 to 543 MB. Each verification
/// allocated argon2's 8 MiB on whichever blocking thread ran it, and the allocator kept that
/// memory in the thread's own arena; with dozens of blocking threads over time, dozens of
/// arenas each held a block. Reusing a few blocks keeps the memory at a few blocks, whatever
/// the number of threads (the SMPP listener also runs at most two verifications at once).
static BLOCKS: parking_lot::Mutex<Vec<Vec<Block>>> = parking_lot::Mutex::new(Vec::new());
/// Block sets kept for reuse.
const POOLED: usize = 2;
/// Most memory a stored hash may ask for, in 1 KiB blocks: what [`hasher`] uses. A stored hash
/// asking for more (written by something else) is refused rather than allocated.
const MAX_BLOCKS: usize = 8 * 1024;

/// Checks `password` against a stored PHC hash with pooled memory; constant time in the
/// comparison.
fn verify(password: &str, stored: &PasswordHash<'_>) -> bool {
    let (Ok(params), Some(expected), Some(salt)) =
        (Params::try_from(stored), stored.hash, stored.salt)
    else {
        return false;
    };
    let (Ok(algorithm), Ok(version)) = (
        Algorithm::try_from(stored.algorithm),
        Version::try_from(stored.version.unwrap_or(0x13)),
    ) else {
        return false;
    };
    let n = params.block_count();
    if n > MAX_BLOCKS {
        tracing::error!(
            blocks = n,
            "stored SMPP password hash asks for too much memory"
        );
        return false;
    }
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut blocks = {
        let mut pool = BLOCKS.lock();
        match pool.iter().position(|b| b.len() == n) {
            Some(i) => pool.swap_remove(i),
            None => vec![Block::default(); n],
        }
    };
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut blocks[..])
        .is_ok();
    {
        let mut pool = BLOCKS.lock();
        if pool.len() < POOLED {
            pool.push(blocks);
        }
    }
    let differ = out
        .iter()
        .zip(expected.as_bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    hashed && differ == 0
}

/// A system_id no one can guess from another's: `cs` and 12 random characters (SMPP allows
/// 15). Sequential ids (`cs1`, `cs2`…) told an attacker every valid id to try passwords on.
fn new_system_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let tail: String = (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("cs{tail}")
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
        self.set_smpp_credentials(sender, new_system_id())
    }

    /// A new password for `sender`'s SMPP system_id (a new system_id when it has none): the
    /// merchant's software keeps its system_id, and the old password stops binding.
    pub fn new_smpp_password(&self, sender: SenderId) -> Result<SmppCredentials, GatewayError> {
        let system_id = self
            .store
            .smpp_system_id(sender)?
            .unwrap_or_else(new_system_id);
        self.set_smpp_credentials(sender, system_id)
    }

    fn set_smpp_credentials(
        &self,
        sender: SenderId,
        system_id: String,
    ) -> Result<SmppCredentials, GatewayError> {
        if self.access.sender(sender).is_none() {
            return Err(GatewayError::UnknownSender(sender.0));
        }
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
        let ok = verify(password, &parsed);
        Ok((ok && self.access.sender(sender).is_some()).then_some(sender))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pooled_verification_agrees_with_argon2() {
        use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
        let salt = SaltString::encode_b64(&[7u8; 16]).unwrap();
        let stored = super::hasher()
            .hash_password(b"s3cret", &salt)
            .unwrap()
            .to_string();
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(super::verify("s3cret", &parsed));
        assert!(!super::verify("s3cres", &parsed));
        assert!(!super::verify("", &parsed));
        // Twice more: the pooled memory is reused, and a reused block gives the same answer.
        assert!(super::verify("s3cret", &parsed));
        assert!(super::BLOCKS.lock().len() <= super::POOLED);
    }

    #[test]
    fn system_ids_fit_smpp_and_differ() {
        let a = super::new_system_id();
        assert!(
            a.len() <= super::SMPP_SYSTEM_ID_MAX && a.starts_with("cs"),
            "{a}"
        );
        assert_ne!(a, super::new_system_id());
    }

    #[test]
    fn passwords_fit_smpp_and_differ() {
        let a = super::new_password();
        let b = super::new_password();
        assert_eq!(a.len(), super::SMPP_PASSWORD_MAX);
        assert_ne!(a, b);
    }
}
