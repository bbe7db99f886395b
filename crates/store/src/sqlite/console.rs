//! The console tables: accounts, sessions, failed sign-ins; and the message search.

use domain::{Msisdn, SenderId, Timestamp};
use ledger::ConsentEvent;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, corrupt, from_micros, micros};
use crate::console::search_where;
use crate::values::verdict;
use crate::{
    AccountRecord, AccountRole, ConsoleAccounts, MessageQuery, MessageRecord, NewAccount,
    SessionRecord, StoreError,
};
use policy::Verdict;

const EVENTS: &str = "consent_events";

const ACCOUNT_COLUMNS: &str = "id, name, role, sender_id, password_hash, created_at, disabled";

fn account(r: &rusqlite::Row<'_>) -> Result<AccountRecord, StoreError> {
    let id: i64 = r.get(0)?;
    let role: String = r.get(2)?;
    let sender: Option<u32> = r.get(3)?;
    Ok(AccountRecord {
        id: u64::try_from(id).map_err(|e| corrupt("console_accounts", id, e))?,
        name: r.get(1)?,
        role: AccountRole::from_columns(&role, sender)
            .ok_or_else(|| corrupt("console_accounts", id, format!("role {role:?}")))?,
        password_hash: r.get(4)?,
        created_at: from_micros("console_accounts", id, r.get(5)?)?,
        disabled: r.get(6)?,
    })
}

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

impl SqliteStore {
    fn one_account(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Option<AccountRecord>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query(p)?;
        match rows.next()? {
            Some(r) => Ok(Some(account(r)?)),
            None => Ok(None),
        }
    }
}

impl ConsoleAccounts for SqliteStore {
    fn create_account(&self, new: &NewAccount) -> Result<AccountRecord, StoreError> {
        let conn = self.writer.lock();
        let inserted = conn.execute(
            "INSERT INTO console_accounts (name, role, sender_id, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                new.name,
                new.role.as_str(),
                new.role.sender().map(|s| s.0),
                new.password_hash,
                micros(new.created_at)
            ],
        );
        match inserted {
            Err(e) if is_constraint(&e) => {
                return Err(StoreError::Conflict(format!(
                    "account {:?} (or this merchant's account) exists",
                    new.name
                )));
            }
            other => other?,
        };
        let id = conn.last_insert_rowid();
        Ok(AccountRecord {
            id: u64::try_from(id).map_err(|e| corrupt("console_accounts", id, e))?,
            name: new.name.clone(),
            role: new.role,
            password_hash: new.password_hash.clone(),
            created_at: new.created_at,
            disabled: false,
        })
    }

    fn account_by_name(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.one_account(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM console_accounts WHERE name = ?1"),
            [name],
        )
    }

    fn account(&self, id: u64) -> Result<Option<AccountRecord>, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(None);
        };
        self.one_account(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM console_accounts WHERE id = ?1"),
            [id],
        )
    }

    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM console_accounts ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(account(r)?);
        }
        Ok(out)
    }

    fn put_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.writer.lock().execute(
            "INSERT INTO console_sessions (token_hash, account_id, csrf, created_at, last_seen)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                s.token_hash,
                i64::try_from(s.account).unwrap_or(i64::MAX),
                s.csrf,
                micros(s.created_at),
                micros(s.last_seen)
            ],
        )?;
        Ok(())
    }

    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        let conn = self.reader.lock();
        let row = conn
            .query_row(
                "SELECT account_id, csrf, created_at, last_seen FROM console_sessions
                 WHERE token_hash = ?1",
                [token_hash],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(account, csrf, created, seen)| {
            Ok(SessionRecord {
                token_hash: token_hash.to_string(),
                account: u64::try_from(account)
                    .map_err(|e| corrupt("console_sessions", account, e))?,
                csrf,
                created_at: from_micros("console_sessions", account, created)?,
                last_seen: from_micros("console_sessions", account, seen)?,
            })
        })
        .transpose()
    }

    fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        self.writer.lock().execute(
            "UPDATE console_sessions SET last_seen = max(last_seen, ?2) WHERE token_hash = ?1",
            params![token_hash, micros(at)],
        )?;
        Ok(())
    }

    fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.writer.lock().execute(
            "DELETE FROM console_sessions WHERE token_hash = ?1",
            [token_hash],
        )?;
        Ok(())
    }

    fn end_stale_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64, StoreError> {
        let n = self.writer.lock().execute(
            "DELETE FROM console_sessions WHERE last_seen < ?1 OR created_at < ?2",
            params![micros(idle_before), micros(created_before)],
        )?;
        Ok(n as u64)
    }

    fn record_signin_failure(&self, subjects: &[&str], at: Timestamp) -> Result<(), StoreError> {
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        for s in subjects {
            tx.execute(
                "INSERT INTO console_signin_failures (subject, at) VALUES (?1, ?2)",
                params![s, micros(at)],
            )?;
        }
        self.commit(tx)?;
        Ok(())
    }

    fn signin_failures(&self, subject: &str, since: Timestamp) -> Result<u64, StoreError> {
        let n: i64 = self.reader.lock().query_row(
            "SELECT count(*) FROM console_signin_failures WHERE subject = ?1 AND at >= ?2",
            params![subject, micros(since)],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn clear_signin_failures(
        &self,
        subject: &str,
        older_than: Timestamp,
    ) -> Result<(), StoreError> {
        self.writer.lock().execute(
            "DELETE FROM console_signin_failures WHERE subject = ?1 OR at < ?2",
            params![subject, micros(older_than)],
        )?;
        Ok(())
    }

    fn search_messages(&self, q: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError> {
        let sparse = match q.reason {
            Some(r) => self.reader.lock().query_row(
                &crate::console::sparse_reason_probe('?'),
                [r.as_str()],
                |row| row.get::<_, bool>(0),
            )?,
            None => false,
        };
        let (clause, values) = search_where(q, '?', sparse);
        let sql = q.select(super::messages::COLUMNS, &clause);
        let params = super::search_params(values);
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(super::messages::record(r)?);
        }
        Ok(out)
    }

    fn decision_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
        sender: Option<SenderId>,
    ) -> Result<Vec<(Verdict, u64)>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT coalesce(current_status, status), count(*) FROM messages
             WHERE decided_at >= ?1 AND decided_at < ?2 AND (?3 IS NULL OR sender_id = ?3)
             GROUP BY 1 ORDER BY 1",
        )?;
        let mut rows = stmt.query(params![micros(from), micros(to), sender.map(|s| s.0)])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let status: String = r.get(0)?;
            let n: i64 = r.get(1)?;
            let v = verdict(&status)
                .ok_or_else(|| corrupt("messages", 0, format!("status {status:?}")))?;
            out.push((v, u64::try_from(n).unwrap_or(0)));
        }
        Ok(out)
    }

    fn replace_sender_key(&self, sender: SenderId, hash: &str) -> Result<(), StoreError> {
        self.rotate_sender_key(sender, hash)
    }

    fn set_account_disabled(&self, id: u64, disabled: bool) -> Result<bool, StoreError> {
        let Ok(id) = i64::try_from(id) else {
            return Ok(false);
        };
        let mut conn = self.writer.lock();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE console_accounts SET disabled = ?2 WHERE id = ?1",
            params![id, disabled],
        )?;
        if disabled {
            tx.execute("DELETE FROM console_sessions WHERE account_id = ?1", [id])?;
        }
        self.commit(tx)?;
        Ok(n > 0)
    }

    fn sender_consent_events(&self, sender: SenderId) -> Result<Vec<ConsentEvent>, StoreError> {
        self.consent_events_where(
            // A sender id is set on the sender-scoped events only (a platform-wide one has
            // none), so the merchant's phones come from its index alone, row by row unread.
            "phone IN (SELECT DISTINCT phone FROM consent_events WHERE sender_id = ?1)
             AND (scope = 'platform' OR sender_id = ?1) ORDER BY phone, seq",
            params![sender.0],
        )
    }

    fn recent_sender_consents(
        &self,
        sender: SenderId,
        limit: u32,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        self.consent_events_where(
            "sender_id = ?1 AND scope = 'sender' ORDER BY recorded_at DESC, seq DESC LIMIT ?2",
            params![sender.0, limit.clamp(1, 500)],
        )
    }
}

impl SqliteStore {
    /// The events matching `rest` (a condition and its order, on `consent_events`).
    fn consent_events_where(
        &self,
        rest: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT seq, scope, sender_id, action, source, evidence, actor, at, recorded_at, phone
             FROM consent_events WHERE {rest}"
        ))?;
        let mut rows = stmt.query(p)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let phone = Msisdn::from_u64(
                u64::try_from(r.get::<_, i64>(9)?).map_err(|e| corrupt(EVENTS, seq, e))?,
            );
            out.push(super::consents::event(phone, r)?);
        }
        Ok(out)
    }
}
