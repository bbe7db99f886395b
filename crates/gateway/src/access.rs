//! Who is calling: senders, the operator, the carrier feed — and the keys that prove it.
//!
//! Keys are 32 random bytes shown once; only their SHA-256 is stored. A salted slow hash (argon2)
//! protects low-entropy passwords against guessing; for 256-bit random keys a plain SHA-256 is
//! equally unguessable and costs a microsecond per request instead of tens of milliseconds.

use std::collections::BTreeMap;

use domain::SenderId;
use parking_lot::RwLock;
use rand::RngCore;
use rustc_hash::FxHashMap;
use sha2::{Digest, Sha256};
use store::{KeyRole, SenderRecord};

/// An authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// The platform operator: sees and changes everything.
    Admin,
    /// The carrier's inbound feed (mobile-originated replies).
    Carrier,
    /// One merchant: sees and changes only its own data.
    Sender(SenderId),
}

impl Principal {
    /// How the principal appears as the `actor` of ledger events.
    #[must_use]
    pub fn actor(self) -> String {
        match self {
            Principal::Admin => "admin".into(),
            Principal::Carrier => "carrier".into(),
            Principal::Sender(id) => format!("sender:{id}"),
        }
    }
}

impl From<KeyRole> for Principal {
    fn from(r: KeyRole) -> Self {
        match r {
            KeyRole::Admin => Principal::Admin,
            KeyRole::Carrier => Principal::Carrier,
            KeyRole::Sender(id) => Principal::Sender(id),
        }
    }
}

/// A new random key with a readable prefix (`cs_admin_…`, `cs_live_…`).
#[must_use]
pub fn new_key(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// The stored form of a key.
#[must_use]
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Senders and key hashes, in memory.
#[derive(Debug, Default)]
pub struct Access {
    pub(crate) keys: RwLock<FxHashMap<String, Principal>>,
    pub(crate) senders: RwLock<BTreeMap<SenderId, SenderRecord>>,
}

impl Access {
    /// The principal a presented key authenticates as.
    #[must_use]
    pub fn authenticate(&self, key: &str) -> Option<Principal> {
        if key.is_empty() || key.len() > 256 {
            return None;
        }
        self.keys.read().get(&hash_key(key)).copied()
    }

    /// A registered sender.
    #[must_use]
    pub fn sender(&self, id: SenderId) -> Option<SenderRecord> {
        self.senders.read().get(&id).cloned()
    }

    /// The sender whose source number is `number`.
    #[must_use]
    pub fn sender_by_source(&self, number: &str) -> Option<SenderRecord> {
        self.senders
            .read()
            .values()
            .find(|s| s.source_number == number)
            .cloned()
    }
}
