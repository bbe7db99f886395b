//! People who sign in to the web console: operators, auditors and merchants, their passwords,
//! sessions and the limits on guessing.
//!
//! Passwords are chosen by people, so unlike the 256-bit API keys ([`crate::access`]) they are
//! stored as salted argon2id hashes (19 MiB, 2 passes: the OWASP minimum; a sign-in costs tens of
//! milliseconds, which only a guesser notices). Sessions are rows in the shared store keyed by
//! the SHA-256 of a 256-bit cookie token: every node of a cluster finds them, and a sign-out or
//! idle expiry ends them everywhere at once — a signed cookie could not be revoked. Each session
//! has its own CSRF token that every form carries.
//!
//! Failed sign-ins are counted in the store per account and per client address over a window,
//! so spreading guesses over nodes does not multiply the allowance; an unknown name counts like
//! a known one, and both answer [`GatewayError::InvalidCredentials`].

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::{SenderId, Timestamp};
use jiff::SignedDuration;
use rand::Rng;
use store::{AccountRecord, AccountRole, ConsoleAccounts, NewAccount, SessionRecord, StoreError};

use crate::access::{hash_key, new_key};
use crate::{Gateway, GatewayError, Principal};

/// A session unused this long ends.
pub const SESSION_IDLE: SignedDuration = SignedDuration::from_mins(30);
/// A session ends this long after sign-in, used or not.
pub const SESSION_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
/// Failed sign-ins are counted over this window.
pub const ATTEMPT_WINDOW: SignedDuration = SignedDuration::from_mins(15);
/// Failed sign-ins per account in the window before the account refuses every attempt.
pub const MAX_FAILURES_PER_ACCOUNT: u64 = 5;
/// Failed sign-ins per client address in the window (several people may share one address).
pub const MAX_FAILURES_PER_ADDRESS: u64 = 20;
/// A session's last use is written at most this often (every page would be a write otherwise).
const TOUCH_EVERY: SignedDuration = SignedDuration::from_mins(1);

/// Password rules: long enough to resist online guessing under the limits above, short enough
/// that hashing it bounds the work an attacker can make us do.
pub const PASSWORD_MIN: usize = 10;
/// See [`PASSWORD_MIN`].
pub const PASSWORD_MAX: usize = 200;

fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id PHC string of `password`.
pub fn hash_password(password: &str) -> Result<String, GatewayError> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| GatewayError::InvalidField(format!("salt: {e}")))?;
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| GatewayError::InvalidField(format!("hashing: {e}")))?
        .to_string())
}

fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of no password, verified against when the name is unknown, so that an unknown name
/// costs the same time as a wrong password and timing does not tell which names exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password never used").unwrap_or_default())
}

fn check_name(name: &str) -> Result<(), GatewayError> {
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(GatewayError::InvalidField(
            "an account name is 1–64 letters, digits, '.', '_', '-' or '@'".into(),
        ))
    }
}

fn check_password(password: &str) -> Result<(), GatewayError> {
    let n = password.chars().count();
    if (PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        Ok(())
    } else {
        Err(GatewayError::InvalidField(format!(
            "a password is {PASSWORD_MIN}–{PASSWORD_MAX} characters"
        )))
    }
}

/// Checks the name and password, hashes the password and stores the account: what
/// [`Gateway::create_account`] and `consentry admin create` (which opens only the store) share.
pub fn create_account(
    store: &store::Store,
    name: &str,
    role: AccountRole,
    password: &str,
    now: Timestamp,
) -> Result<AccountRecord, GatewayError> {
    check_name(name)?;
    check_password(password)?;
    let new = NewAccount {
        name: name.to_string(),
        role,
        password_hash: hash_password(password)?,
        created_at: now,
    };
    match store.create_account(&new) {
        Err(StoreError::Conflict(m)) => Err(GatewayError::AccountExists(m)),
        other => Ok(other?),
    }
}

/// A signed-in person, as each console request sees them.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    /// The account.
    pub account: AccountRecord,
    /// The session (its CSRF token is what forms must carry).
    pub session: SessionRecord,
}

impl ConsoleUser {
    /// Who the gateway treats the person as: operators and auditors see everything, a merchant
    /// its own data.
    #[must_use]
    pub fn principal(&self) -> Principal {
        match self.account.role {
            AccountRole::Operator | AccountRole::Auditor => Principal::Admin,
            AccountRole::Merchant(s) => Principal::Sender(s),
        }
    }

    /// Whether the person may change anything (auditors may not).
    #[must_use]
    pub fn may_change(&self) -> bool {
        self.account.role != AccountRole::Auditor
    }
}

/// A new session: the cookie token (shown to the browser only) and the session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Goes into the session cookie; only its hash is stored.
    pub token: String,
    /// The person.
    pub user: ConsoleUser,
}

impl Gateway {
    /// Creates a console account with `password` (hashed here).
    pub fn create_account(
        &self,
        name: &str,
        role: AccountRole,
        password: &str,
    ) -> Result<AccountRecord, GatewayError> {
        if let AccountRole::Merchant(s) = role
            && self.sender(s).is_none()
        {
            return Err(GatewayError::UnknownSender(s.0));
        }
        create_account(&self.store, name, role, password, self.clock.now())
    }

    /// A merchant's first sign-in: its API key (which only the merchant has) proves who it
    /// is, once, and sets the account's name and password. Refused when the key is not a
    /// sender's, or the sender already has an account. A wrong key counts as a failed sign-in
    /// from `address`, so the form cannot be used to guess keys faster than passwords.
    pub fn claim_merchant_account_from(
        &self,
        api_key: &str,
        name: &str,
        password: &str,
        address: &str,
    ) -> Result<AccountRecord, GatewayError> {
        let now = self.clock.now();
        let since = now.saturating_sub(ATTEMPT_WINDOW).unwrap_or(now);
        let by_address = format!("address:{address}");
        if self.store.signin_failures(&by_address, since)? >= MAX_FAILURES_PER_ADDRESS {
            return Err(GatewayError::TooManyAttempts {
                minutes: minutes(ATTEMPT_WINDOW),
            });
        }
        let Some(Principal::Sender(sender)) = self.authenticate(api_key.trim()) else {
            self.store.record_signin_failure(&[&by_address], now)?;
            return Err(GatewayError::InvalidCredentials);
        };
        self.create_account(name, AccountRole::Merchant(sender), password)
    }

    /// Signs `name` in from `address`: checks the attempt limits, the password, and opens a
    /// session. Every failure is counted against both the account name and the address.
    pub fn sign_in(
        &self,
        name: &str,
        password: &str,
        address: &str,
    ) -> Result<SignedIn, GatewayError> {
        let now = self.clock.now();
        let since = now.saturating_sub(ATTEMPT_WINDOW).unwrap_or(now);
        let name: String = name.trim().chars().take(64).collect();
        let by_account = format!("account:{name}");
        let by_address = format!("address:{address}");
        if self.store.signin_failures(&by_account, since)? >= MAX_FAILURES_PER_ACCOUNT
            || self.store.signin_failures(&by_address, since)? >= MAX_FAILURES_PER_ADDRESS
        {
            return Err(GatewayError::TooManyAttempts {
                minutes: minutes(ATTEMPT_WINDOW),
            });
        }
        let account = self.store.account_by_name(&name)?;
        let ok = password.chars().count() <= PASSWORD_MAX
            && match &account {
                Some(a) => verify_password(password, &a.password_hash),
                None => {
                    let _ = verify_password(password, decoy_hash());
                    false
                }
            };
        let account = match account {
            // The right password for a disabled account: no session, and the person is told
            // why (only someone who knows the password learns that the account exists).
            Some(a) if ok && a.disabled => {
                return Err(GatewayError::Forbidden(
                    "this account is disabled; ask an operator to enable it".into(),
                ));
            }
            Some(a) if ok => a,
            _ => {
                self.store
                    .record_signin_failure(&[&by_account, &by_address], now)?;
                // Failures older than the window count for nothing: dropping them here keeps
                // the table as small as one window's failures, whoever sends them.
                self.store.clear_signin_failures("", since)?;
                return Err(GatewayError::InvalidCredentials);
            }
        };
        self.store.clear_signin_failures(&by_account, since)?;
        // Sign-ins are rare: a good moment to sweep sessions that ran out.
        let idle = now.saturating_sub(SESSION_IDLE).unwrap_or(now);
        let old = now.saturating_sub(SESSION_LIFETIME).unwrap_or(now);
        self.store.end_stale_sessions(idle, old)?;
        let token = new_key("");
        let session = SessionRecord {
            token_hash: hash_key(&token),
            account: account.id,
            csrf: new_key(""),
            created_at: now,
            last_seen: now,
        };
        self.store.put_session(&session)?;
        Ok(SignedIn {
            token,
            user: ConsoleUser { account, session },
        })
    }

    /// The person whose session cookie carries `token`, if the session is still open: not
    /// idle past [`SESSION_IDLE`], not older than [`SESSION_LIFETIME`], and its account (and a
    /// merchant's sender) still there. Marks the session as used.
    pub fn console_user(&self, token: &str) -> Result<Option<ConsoleUser>, GatewayError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = hash_key(token);
        let Some(session) = self.store.session(&hash)? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let expired = |since: Timestamp, limit: SignedDuration| now.duration_since(since) > limit;
        if expired(session.last_seen, SESSION_IDLE) || expired(session.created_at, SESSION_LIFETIME)
        {
            self.store.end_session(&hash)?;
            return Ok(None);
        }
        let account = match self.store.account(session.account)? {
            Some(a) if !a.disabled => a,
            // Disabling ends the sessions too; this covers a session made while it happened.
            _ => {
                self.store.end_session(&hash)?;
                return Ok(None);
            }
        };
        if let Some(s) = account.role.sender()
            && self.sender(s).is_none()
        {
            return Ok(None);
        }
        if now.duration_since(session.last_seen) > TOUCH_EVERY {
            self.store.touch_session(&hash, now)?;
        }
        Ok(Some(ConsoleUser { account, session }))
    }

    /// Ends the session of `token` (sign-out).
    pub fn sign_out(&self, token: &str) -> Result<(), GatewayError> {
        Ok(self.store.end_session(&hash_key(token))?)
    }

    /// Replaces `sender`'s API key with a new one, returned once; the old key stops working
    /// on this node at once and on every node at their next reload. The operator, or the
    /// sender itself.
    pub fn rotate_key(&self, by: Principal, sender: SenderId) -> Result<String, GatewayError> {
        match by {
            Principal::Admin => {}
            Principal::Sender(own) if own == sender => {}
            _ => return Err(GatewayError::NotFound(format!("sender {sender}"))),
        }
        if self.sender(sender).is_none() {
            return Err(GatewayError::NotFound(format!("sender {sender}")));
        }
        let key = new_key("cs_live_");
        let hash = hash_key(&key);
        self.store.replace_sender_key(sender, &hash)?;
        let mut keys = self.access.keys.write();
        keys.retain(|_, p| *p != Principal::Sender(sender));
        keys.insert(hash, Principal::Sender(sender));
        Ok(key)
    }

    /// Disables or enables the account `id` on behalf of the operator `by` (the caller has
    /// checked the role); disabling ends its sessions at once. An operator cannot disable
    /// their own account (the last operator would lock everyone out).
    pub fn set_account_disabled(
        &self,
        by: &AccountRecord,
        id: u64,
        disabled: bool,
    ) -> Result<(), GatewayError> {
        if by.role != AccountRole::Operator {
            return Err(GatewayError::Forbidden("operators only".into()));
        }
        if disabled && by.id == id {
            return Err(GatewayError::InvalidField(
                "you cannot disable your own account".into(),
            ));
        }
        if self.store.set_account_disabled(id, disabled)? {
            Ok(())
        } else {
            Err(GatewayError::NotFound(format!("account {id}")))
        }
    }

    /// Every console account, by id (operators' page).
    pub fn accounts(&self) -> Result<Vec<AccountRecord>, GatewayError> {
        Ok(self.store.accounts()?)
    }

    /// Messages matching `q` as `by` may see them: a sender only its own (whatever sender it
    /// asks for), the carrier nothing.
    pub fn search_messages(
        &self,
        by: Principal,
        mut q: store::MessageQuery,
    ) -> Result<Vec<store::MessageRecord>, GatewayError> {
        match by {
            Principal::Admin => {}
            Principal::Sender(own) => q.sender = Some(own),
            Principal::Carrier => {
                return Err(GatewayError::Forbidden(
                    "the carrier key cannot read messages".into(),
                ));
            }
        }
        Ok(store::ConsoleAccounts::search_messages(&self.store, &q)?)
    }
}

impl Gateway {
    /// Messages first decided in `[from, to)` by current verdict: all for the admin, its own
    /// for a sender.
    pub fn decision_counts(
        &self,
        by: Principal,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(policy::Verdict, u64)>, GatewayError> {
        let sender = match by {
            Principal::Admin => None,
            Principal::Sender(own) => Some(own),
            Principal::Carrier => {
                return Err(GatewayError::Forbidden(
                    "the carrier key cannot read messages".into(),
                ));
            }
        };
        Ok(self.store.decision_counts(from, to, sender)?)
    }
}

fn minutes(d: SignedDuration) -> u32 {
    u32::try_from(d.as_secs() / 60).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let h = hash_password("correct horse battery").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_name("li.wei@shop").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("a b").is_err());
        assert!(check_password("short").is_err());
        assert!(check_password("long enough pw").is_ok());
    }
}
