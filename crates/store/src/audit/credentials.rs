//! Credentials in the audit chain (issue #14, item 3): who may act is as much an outcome as
//! what was decided. A sender's key turned into an admin key in SQL, or an SMPP password
//! replaced behind consentry's back, must not pass as intact.
//!
//! Every API key issued or revoked, every SMPP password and CMPP secret set, is an append-only
//! `credential_changes` row chained as [`AuditKind::Credential`]: hashes and digests only,
//! never a secret. The live tables (`api_keys`, `smpp_credentials`, `cmpp_accounts`) are what
//! the gateway authenticates against; `audit verify` replays the chained changes
//! ([`Derived`]) and names the first live row that differs from what they leave. API keys are
//! revoked (`revoked_at`), never deleted, so the chain can prove the live set.
//!
//! Stores written before credentials were chained adopt their live rows once, as `adopted`
//! changes, when `credential_changes` is still empty (at open): an old store verifies, and any
//! later change in SQL does not.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::canon::{Canon, Digest32};
use super::{AuditKind, Broken};
use crate::KeyRole;

/// An API key (subject: the key's SHA-256, as `api_keys.hash`).
pub(crate) const API_KEY: &str = "api_key";
/// An SMPP bind credential (subject: the system_id).
pub(crate) const SMPP: &str = "smpp";
/// A CMPP account (subject: the Source_Addr).
pub(crate) const CMPP: &str = "cmpp";

/// A key issued, or an SMPP password or CMPP secret set (replacing the sender's earlier one).
pub(crate) const ISSUED: &str = "issued";
/// A key that stopped working.
pub(crate) const REVOKED: &str = "revoked";
/// A credential found live when the store first chained credentials.
pub(crate) const ADOPTED: &str = "adopted";

/// One credential as the chain and the live tables both describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credential {
    /// [`API_KEY`], [`SMPP`] or [`CMPP`].
    pub what: String,
    /// Key hash, system_id or Source_Addr.
    pub subject: String,
    /// An API key's role (`admin`, `carrier`, `sender`).
    pub role: Option<String>,
    /// The sender it acts for.
    pub sender: Option<i64>,
    /// SHA-256 (hex) of the stored password hash or secret; `None` for API keys (the subject
    /// is already a hash).
    pub secret_digest: Option<String>,
}

/// SHA-256 of `s`, hex: what the chain keeps of a stored password hash or secret.
pub(crate) fn secret_digest(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

impl Credential {
    /// An API key by its hash.
    pub fn api_key(hash: &str, role: KeyRole) -> Self {
        let (name, sender) = match role {
            KeyRole::Admin => ("admin", None),
            KeyRole::Carrier => ("carrier", None),
            KeyRole::Sender(id) => ("sender", Some(i64::from(id.0))),
        };
        Credential {
            what: API_KEY.into(),
            subject: hash.into(),
            role: Some(name.into()),
            sender,
            secret_digest: None,
        }
    }

    /// An SMPP credential with its stored (argon2) password hash.
    pub fn smpp(system_id: &str, sender: i64, password_hash: &str) -> Self {
        Credential {
            what: SMPP.into(),
            subject: system_id.into(),
            role: None,
            sender: Some(sender),
            secret_digest: Some(secret_digest(password_hash)),
        }
    }

    /// A CMPP account with its secret.
    pub fn cmpp(source_addr: &str, sender: i64, secret: &str) -> Self {
        Credential {
            what: CMPP.into(),
            subject: source_addr.into(),
            role: None,
            sender: Some(sender),
            secret_digest: Some(secret_digest(secret)),
        }
    }

    /// The digest of the change `action` of this credential at `at` (µs).
    pub fn digest(&self, action: &str, at: i64) -> Digest32 {
        let mut c = Canon::new(AuditKind::Credential);
        c.text(&self.what)
            .text(action)
            .text(&self.subject)
            .opt_text(self.role.as_deref())
            .opt_int(self.sender)
            .opt_text(self.secret_digest.as_deref())
            .int(at);
        c.finish()
    }

    /// How a report names it: never the whole hash.
    fn describe(&self) -> String {
        let short: String = self.subject.chars().take(12).collect();
        let of = self
            .sender
            .map_or_else(String::new, |s| format!(" of sender {s}"));
        match self.what.as_str() {
            API_KEY => format!(
                "{} key {short}…{of}",
                self.role.as_deref().unwrap_or("unknown")
            ),
            SMPP => format!("SMPP system_id {}{of}", self.subject),
            _ => format!("CMPP Source_Addr {}{of}", self.subject),
        }
    }
}

/// A live credential row, with the table (and, where it has one, the row id) it was read from.
#[derive(Debug, Clone)]
pub(crate) struct LiveCredential {
    pub table: &'static str,
    pub row: Option<i64>,
    pub credential: Credential,
}

/// The live set the chained changes leave, replayed in chain order.
#[derive(Debug, Default)]
pub(crate) struct Derived(BTreeMap<(String, String), Credential>);

impl Derived {
    /// Applies one chained change.
    pub fn apply(&mut self, action: &str, c: Credential) {
        if action == REVOKED {
            self.0.remove(&(c.what.clone(), c.subject.clone()));
            return;
        }
        // A sender has one SMPP credential and one CMPP account: setting one replaces the
        // other (as the store's DELETE … WHERE sender_id = … does).
        if c.what != API_KEY {
            self.0
                .retain(|(what, _), old| *what != c.what || old.sender != c.sender);
        }
        self.0.insert((c.what.clone(), c.subject.clone()), c);
    }

    /// The first live row that the chained changes do not account for, or a chained live
    /// credential with no row; `blocks` is the chain's length (where a report points).
    pub fn disagreement(mut self, live: Vec<LiveCredential>, blocks: u64) -> Option<Broken> {
        let broken = |table: &'static str, row: Option<i64>, why: String| Broken {
            block: blocks,
            kind: Some(AuditKind::Credential),
            table: Some(table),
            row,
            why,
        };
        for l in live {
            let key = (l.credential.what.clone(), l.credential.subject.clone());
            match self.0.remove(&key) {
                None => {
                    return Some(broken(
                        l.table,
                        l.row,
                        format!(
                            "{} is live, but no chained credential change issued it \
                             (written outside consentry)",
                            l.credential.describe()
                        ),
                    ));
                }
                Some(chained) if chained != l.credential => {
                    let what = if chained.secret_digest == l.credential.secret_digest {
                        format!("its chained credential changes say {}", chained.describe())
                    } else {
                        "its stored password or secret is not the one its chained credential \
                         changes set"
                            .to_string()
                    };
                    return Some(broken(
                        l.table,
                        l.row,
                        format!(
                            "{}: {what} (changed outside consentry)",
                            l.credential.describe()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        self.0.into_values().next().map(|c| {
            let table = match c.what.as_str() {
                API_KEY => "api_keys",
                SMPP => "smpp_credentials",
                _ => "cmpp_accounts",
            };
            broken(
                table,
                None,
                format!(
                    "{} is live in the chained credential changes, but its row is gone",
                    c.describe()
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_key_read_back_as_admin_disagrees_with_the_chain() {
        let mut d = Derived::default();
        d.apply(
            ISSUED,
            Credential::api_key("ab", KeyRole::Sender(domain::SenderId(3))),
        );
        let mut forged = Credential::api_key("ab", KeyRole::Admin);
        let live = |c: Credential| LiveCredential {
            table: "api_keys",
            row: Some(1),
            credential: c,
        };
        let b = d.disagreement(vec![live(forged.clone())], 1).unwrap();
        assert!(b.why.contains("admin key ab"), "{}", b.why);
        forged.role = Some("sender".into());
        forged.sender = Some(3);
        let mut d = Derived::default();
        d.apply(ISSUED, forged.clone());
        assert!(d.disagreement(vec![live(forged)], 1).is_none());
    }

    #[test]
    fn setting_a_senders_smpp_password_again_replaces_the_old_one() {
        let mut d = Derived::default();
        d.apply(ISSUED, Credential::smpp("csa", 1, "h1"));
        d.apply(ISSUED, Credential::smpp("csb", 1, "h2"));
        let live = LiveCredential {
            table: "smpp_credentials",
            row: None,
            credential: Credential::smpp("csb", 1, "h2"),
        };
        assert!(d.disagreement(vec![live], 1).is_none());
    }
}
