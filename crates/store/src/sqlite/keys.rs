//! The api_keys table (hashes only, never keys) and the chained credential changes behind
//! it, the SMPP credentials and the CMPP accounts (see [`crate::audit::credentials`]).

use domain::{SenderId, Timestamp};
use rusqlite::{Connection, Transaction, TransactionBehavior, params};

use super::{SqliteStore, corrupt, micros};
use crate::audit::canon::Digest32;
use crate::audit::credentials::{ADOPTED, Credential, ISSUED, LiveCredential, REVOKED};
use crate::{AuditKind, KeyRing, KeyRole, StoreError};

/// Appends `changes` to `credential_changes` in `tx`; returns each row's id and digest, for
/// the chain.
pub(super) fn record_credentials(
    tx: &Transaction<'_>,
    changes: &[(&str, Credential)],
    at: Timestamp,
) -> Result<Vec<(i64, Digest32)>, StoreError> {
    let at = micros(at);
    let mut stmt = tx.prepare_cached(
        "INSERT INTO credential_changes (what, action, subject, role, sender_id, secret_digest, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut out = Vec::with_capacity(changes.len());
    for (action, c) in changes {
        stmt.execute(params![
            c.what,
            action,
            c.subject,
            c.role,
            c.sender,
            c.secret_digest,
            at
        ])?;
        out.push((tx.last_insert_rowid(), c.digest(action, at)));
    }
    Ok(out)
}

/// Every live credential, as the verifier and the adoption of an old store read them.
pub(super) fn live_credentials(conn: &Connection) -> Result<Vec<LiveCredential>, StoreError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT rowid, hash, role, sender_id FROM api_keys WHERE revoked_at IS NULL ORDER BY rowid",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        out.push(LiveCredential {
            table: "api_keys",
            row: Some(r.get(0)?),
            credential: Credential {
                what: crate::audit::credentials::API_KEY.into(),
                subject: r.get(1)?,
                role: Some(r.get(2)?),
                sender: r.get(3)?,
                secret_digest: None,
            },
        });
    }
    for (table, sql) in [
        (
            "smpp_credentials",
            "SELECT rowid, system_id, sender_id, password_hash FROM smpp_credentials ORDER BY rowid",
        ),
        (
            "cmpp_accounts",
            "SELECT rowid, source_addr, sender_id, secret FROM cmpp_accounts ORDER BY rowid",
        ),
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (subject, sender): (String, i64) = (r.get(1)?, r.get(2)?);
            let secret: String = r.get(3)?;
            out.push(LiveCredential {
                table,
                row: Some(r.get(0)?),
                credential: if table == "smpp_credentials" {
                    Credential::smpp(&subject, sender, &secret)
                } else {
                    Credential::cmpp(&subject, sender, &secret)
                },
            });
        }
    }
    Ok(out)
}

/// Every credential change in id order, as its action and credential.
pub(super) fn credential_changes(
    conn: &Connection,
) -> Result<Vec<(String, Credential)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT action, what, subject, role, sender_id, secret_digest FROM credential_changes
         ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            Credential {
                what: r.get(1)?,
                subject: r.get(2)?,
                role: r.get(3)?,
                sender: r.get(4)?,
                secret_digest: r.get(5)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

impl SqliteStore {
    /// Adopts the live credentials of a store written before credentials were chained, once:
    /// only while `credential_changes` is empty (see [`crate::audit::credentials`]).
    pub(super) fn adopt_credentials(&self) -> Result<(), StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let any: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM credential_changes)",
            [],
            |r| r.get(0),
        )?;
        if any {
            return Ok(());
        }
        let live = live_credentials(&tx)?;
        if live.is_empty() {
            return Ok(());
        }
        let now = Timestamp::now();
        let changes: Vec<(&str, Credential)> =
            live.into_iter().map(|l| (ADOPTED, l.credential)).collect();
        let rows = record_credentials(&tx, &changes, now)?;
        let chain = self.chain_records(&tx, AuditKind::Credential, &rows, now)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(())
    }

    /// Revokes every live key of `sender` and issues the key hashing to `hash`, chained, in
    /// one transaction: the old keys stop working when this returns.
    pub(super) fn rotate_sender_key(&self, sender: SenderId, hash: &str) -> Result<(), StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let now = Timestamp::now();
        let old: Vec<String> = {
            let mut stmt = tx.prepare_cached(
                "SELECT hash FROM api_keys
                 WHERE role = 'sender' AND sender_id = ?1 AND revoked_at IS NULL ORDER BY rowid",
            )?;
            stmt.query_map([sender.0], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        tx.execute(
            "UPDATE api_keys SET revoked_at = ?2
             WHERE role = 'sender' AND sender_id = ?1 AND revoked_at IS NULL",
            params![sender.0, micros(now)],
        )?;
        tx.execute(
            "INSERT INTO api_keys (hash, role, sender_id, created_at) VALUES (?1, 'sender', ?2, ?3)",
            params![hash, sender.0, micros(now)],
        )?;
        let role = KeyRole::Sender(sender);
        let mut changes: Vec<(&str, Credential)> = old
            .iter()
            .map(|h| (REVOKED, Credential::api_key(h, role)))
            .collect();
        changes.push((ISSUED, Credential::api_key(hash, role)));
        let rows = record_credentials(&tx, &changes, now)?;
        let chain = self.chain_records(&tx, AuditKind::Credential, &rows, now)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(())
    }
}

impl KeyRing for SqliteStore {
    fn put_key(&self, hash: &str, role: KeyRole) -> Result<(), StoreError> {
        let (name, sender) = match role {
            KeyRole::Admin => ("admin", None),
            KeyRole::Carrier => ("carrier", None),
            KeyRole::Sender(id) => ("sender", Some(id.0)),
        };
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let now = Timestamp::now();
        tx.execute(
            "INSERT INTO api_keys (hash, role, sender_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash, name, sender, micros(now)],
        )?;
        let rows = record_credentials(&tx, &[(ISSUED, Credential::api_key(hash, role))], now)?;
        let chain = self.chain_records(&tx, AuditKind::Credential, &rows, now)?;
        self.commit(tx)?;
        self.install_chain(chain);
        Ok(())
    }

    fn keys(&self) -> Result<Vec<(String, KeyRole)>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT rowid, hash, role, sender_id FROM api_keys WHERE revoked_at IS NULL",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<u32>>(3)?,
            ))
        })?;
        rows.map(|row| {
            let (rowid, hash, role, sender) = row?;
            let role = match (role.as_str(), sender) {
                ("admin", _) => KeyRole::Admin,
                ("carrier", _) => KeyRole::Carrier,
                ("sender", Some(id)) => KeyRole::Sender(SenderId(id)),
                (other, _) => return Err(corrupt("api_keys", rowid, format!("role {other:?}"))),
            };
            Ok((hash, role))
        })
        .collect()
    }
}
