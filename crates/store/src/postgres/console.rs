//! The console tables: accounts, sessions, failed sign-ins; and the message search.

use domain::{Msisdn, SenderId, Timestamp};
use ledger::ConsentEvent;

use super::{PgStore, corrupt, from_micros, is_unique_violation, micros, pg_err};
use crate::console::{SearchValue, search_where};
use crate::values::verdict;
use crate::{
    AccountRecord, AccountRole, ConsoleAccounts, MessageQuery, MessageRecord, NewAccount,
    SessionRecord, StoreError,
};
use policy::Verdict;

const ACCOUNT_COLUMNS: &str = "id, name, role, sender_id, password_hash, created_at, disabled";

fn account(r: &tokio_postgres::Row) -> Result<AccountRecord, StoreError> {
    let id: i64 = r.get(0);
    let role: &str = r.get(2);
    let sender: Option<i64> = r.get(3);
    let sender = sender
        .map(u32::try_from)
        .transpose()
        .map_err(|e| corrupt("console_accounts", id, e))?;
    Ok(AccountRecord {
        id: u64::try_from(id).map_err(|e| corrupt("console_accounts", id, e))?,
        name: r.get(1),
        role: AccountRole::from_columns(role, sender)
            .ok_or_else(|| corrupt("console_accounts", id, format!("role {role:?}")))?,
        password_hash: r.get(4),
        created_at: from_micros("console_accounts", id, r.get(5))?,
        disabled: r.get(6),
    })
}

impl PgStore {
    fn one_account(
        &self,
        sql: &str,
        p: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<AccountRecord>, StoreError> {
        self.run(async |c| {
            let row = c.query_opt(sql, p).await.map_err(pg_err)?;
            row.as_ref().map(account).transpose()
        })
    }
}

fn id_col(id: u64) -> i64 {
    i64::try_from(id).unwrap_or(i64::MAX)
}

impl ConsoleAccounts for PgStore {
    fn create_account(&self, new: &NewAccount) -> Result<AccountRecord, StoreError> {
        let sender = new.role.sender().map(|s| i64::from(s.0));
        self.run(async |c| {
            let row = c
                .query_one(
                    "INSERT INTO console_accounts (name, role, sender_id, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[
                        &new.name,
                        &new.role.as_str(),
                        &sender,
                        &new.password_hash,
                        &micros(new.created_at),
                    ],
                )
                .await;
            let id: i64 = match row {
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Conflict(format!(
                        "account {:?} (or this merchant's account) exists",
                        new.name
                    )));
                }
                other => other.map_err(pg_err)?.get(0),
            };
            Ok(AccountRecord {
                id: u64::try_from(id).map_err(|e| corrupt("console_accounts", id, e))?,
                name: new.name.clone(),
                role: new.role,
                password_hash: new.password_hash.clone(),
                created_at: new.created_at,
                disabled: false,
            })
        })
    }

    fn account_by_name(&self, name: &str) -> Result<Option<AccountRecord>, StoreError> {
        self.one_account(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM console_accounts WHERE name = $1"),
            &[&name],
        )
    }

    fn account(&self, id: u64) -> Result<Option<AccountRecord>, StoreError> {
        self.one_account(
            &format!("SELECT {ACCOUNT_COLUMNS} FROM console_accounts WHERE id = $1"),
            &[&id_col(id)],
        )
    }

    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    &format!("SELECT {ACCOUNT_COLUMNS} FROM console_accounts ORDER BY id"),
                    &[],
                )
                .await
                .map_err(pg_err)?;
            rows.iter().map(account).collect()
        })
    }

    fn put_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.run(async |c| {
            c.execute(
                "INSERT INTO console_sessions (token_hash, account_id, csrf, created_at, last_seen)
                 VALUES ($1, $2, $3, $4, $5)",
                &[
                    &s.token_hash,
                    &id_col(s.account),
                    &s.csrf,
                    &micros(s.created_at),
                    &micros(s.last_seen),
                ],
            )
            .await
            .map_err(pg_err)?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.run(async |c| {
            let row = c
                .query_opt(
                    "SELECT account_id, csrf, created_at, last_seen FROM console_sessions
                     WHERE token_hash = $1",
                    &[&token_hash],
                )
                .await
                .map_err(pg_err)?;
            row.map(|r| {
                let account: i64 = r.get(0);
                Ok(SessionRecord {
                    token_hash: token_hash.to_string(),
                    account: u64::try_from(account)
                        .map_err(|e| corrupt("console_sessions", account, e))?,
                    csrf: r.get(1),
                    created_at: from_micros("console_sessions", account, r.get(2))?,
                    last_seen: from_micros("console_sessions", account, r.get(3))?,
                })
            })
            .transpose()
        })
    }

    fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<(), StoreError> {
        self.run(async |c| {
            c.execute(
                "UPDATE console_sessions SET last_seen = greatest(last_seen, $2)
                 WHERE token_hash = $1",
                &[&token_hash, &micros(at)],
            )
            .await
            .map_err(pg_err)?;
            Ok(())
        })
    }

    fn end_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.run(async |c| {
            c.execute(
                "DELETE FROM console_sessions WHERE token_hash = $1",
                &[&token_hash],
            )
            .await
            .map_err(pg_err)?;
            Ok(())
        })
    }

    fn end_stale_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.run(async |c| {
            c.execute(
                "DELETE FROM console_sessions WHERE last_seen < $1 OR created_at < $2",
                &[&micros(idle_before), &micros(created_before)],
            )
            .await
            .map_err(pg_err)
        })
    }

    fn record_signin_failure(&self, subjects: &[&str], at: Timestamp) -> Result<(), StoreError> {
        let subjects: Vec<&str> = subjects.to_vec();
        self.run(async |c| {
            c.execute(
                "INSERT INTO console_signin_failures (subject, at)
                 SELECT s, $2 FROM unnest($1::text[]) AS s",
                &[&subjects, &micros(at)],
            )
            .await
            .map_err(pg_err)?;
            Ok(())
        })
    }

    fn signin_failures(&self, subject: &str, since: Timestamp) -> Result<u64, StoreError> {
        self.run(async |c| {
            let n: i64 = c
                .query_one(
                    "SELECT count(*) FROM console_signin_failures WHERE subject = $1 AND at >= $2",
                    &[&subject, &micros(since)],
                )
                .await
                .map_err(pg_err)?
                .get(0);
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn clear_signin_failures(
        &self,
        subject: &str,
        older_than: Timestamp,
    ) -> Result<(), StoreError> {
        self.run(async |c| {
            c.execute(
                "DELETE FROM console_signin_failures WHERE subject = $1 OR at < $2",
                &[&subject, &micros(older_than)],
            )
            .await
            .map_err(pg_err)?;
            Ok(())
        })
    }

    fn search_messages(&self, q: &MessageQuery) -> Result<Vec<MessageRecord>, StoreError> {
        let sparse = match q.reason {
            Some(r) => self.run(async |c| {
                let row = c
                    .query_one(&crate::console::sparse_reason_probe('$'), &[&r.as_str()])
                    .await
                    .map_err(pg_err)?;
                Ok::<bool, StoreError>(row.get(0))
            })?,
            None => false,
        };
        let (clause, values) = search_where(q, '$', sparse);
        let sql = q.select(super::messages::COLUMNS, &clause);
        let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values
            .iter()
            .map(|v| match v {
                SearchValue::Int(i) => i as &(dyn tokio_postgres::types::ToSql + Sync),
                SearchValue::Text(t) => t as &(dyn tokio_postgres::types::ToSql + Sync),
                SearchValue::Owned(t) => t as &(dyn tokio_postgres::types::ToSql + Sync),
            })
            .collect();
        self.query_records(&sql, &params)
    }

    fn decision_counts(
        &self,
        from: Timestamp,
        to: Timestamp,
        sender: Option<SenderId>,
    ) -> Result<Vec<(Verdict, u64)>, StoreError> {
        let sender = sender.map(|s| i64::from(s.0));
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT coalesce(current_status, status), count(*) FROM messages
                     WHERE decided_at >= $1 AND decided_at < $2
                       AND ($3::BIGINT IS NULL OR sender_id = $3)
                     GROUP BY 1 ORDER BY 1",
                    &[&micros(from), &micros(to), &sender],
                )
                .await
                .map_err(pg_err)?;
            rows.iter()
                .map(|r| {
                    let status: &str = r.get(0);
                    let n: i64 = r.get(1);
                    let v = verdict(status)
                        .ok_or_else(|| corrupt("messages", 0, format!("status {status:?}")))?;
                    Ok((v, u64::try_from(n).unwrap_or(0)))
                })
                .collect()
        })
    }

    fn replace_sender_key(&self, sender: SenderId, hash: &str) -> Result<(), StoreError> {
        self.rotate_sender_key(sender, hash)
    }

    fn set_account_disabled(&self, id: u64, disabled: bool) -> Result<bool, StoreError> {
        let id = id_col(id);
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let n = tx
                .execute(
                    "UPDATE console_accounts SET disabled = $2 WHERE id = $1",
                    &[&id, &disabled],
                )
                .await
                .map_err(pg_err)?;
            if disabled {
                tx.execute("DELETE FROM console_sessions WHERE account_id = $1", &[&id])
                    .await
                    .map_err(pg_err)?;
            }
            tx.commit().await.map_err(pg_err)?;
            Ok(n > 0)
        })
    }

    fn sender_consent_events(&self, sender: SenderId) -> Result<Vec<ConsentEvent>, StoreError> {
        self.consent_events_where(
            // A sender id is set on the sender-scoped events only (a platform-wide one has
            // none), so the merchant's phones come from its index alone, row by row unread.
            "phone IN (SELECT DISTINCT phone FROM consent_events WHERE sender_id = $1)
             AND (scope = 'platform' OR sender_id = $1) ORDER BY phone, seq",
            &[&i64::from(sender.0)],
        )
    }

    fn recent_sender_consents(
        &self,
        sender: SenderId,
        limit: u32,
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        self.consent_events_where(
            "sender_id = $1 AND scope = 'sender' ORDER BY recorded_at DESC, seq DESC LIMIT $2",
            &[&i64::from(sender.0), &i64::from(limit.clamp(1, 500))],
        )
    }
}

impl PgStore {
    /// The events matching `rest` (a condition and its order, on `consent_events`).
    fn consent_events_where(
        &self,
        rest: &str,
        p: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<ConsentEvent>, StoreError> {
        let sql = format!(
            "SELECT seq, scope, sender_id, action, source, evidence, actor, at, recorded_at, phone
             FROM consent_events WHERE {rest}"
        );
        self.run(async |c| {
            let rows = c.query(sql.as_str(), p).await.map_err(pg_err)?;
            rows.iter()
                .map(|r| {
                    let seq: i64 = r.get(0);
                    let phone: i64 = r.get(9);
                    let phone =
                        u64::try_from(phone).map_err(|e| corrupt("consent_events", seq, e))?;
                    super::consents::event(Msisdn::from_u64(phone), r)
                })
                .collect()
        })
    }
}
