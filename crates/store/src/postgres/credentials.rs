//! Chained credential changes on PostgreSQL (see [`crate::audit::credentials`]): written in the
//! transaction that changes `api_keys`, `smpp_credentials` or `cmpp_accounts`, and read back
//! for `audit verify`.

use domain::{SenderId, Timestamp};

use super::{PgStore, micros, pg_err};
use crate::audit::canon::Digest32;
use crate::audit::credentials::{ADOPTED, API_KEY, Credential, ISSUED, LiveCredential, REVOKED};
use crate::{AuditKind, KeyRole, StoreError};

/// Appends `changes` to `credential_changes` in `tx`; returns each row's id and digest, for
/// the chain.
pub(super) async fn record_credentials(
    tx: &deadpool_postgres::Transaction<'_>,
    changes: &[(&str, Credential)],
    at: Timestamp,
) -> Result<Vec<(i64, Digest32)>, StoreError> {
    let at = micros(at);
    let mut out = Vec::with_capacity(changes.len());
    for (action, c) in changes {
        let row = tx
            .query_one(
                "INSERT INTO credential_changes
                     (what, action, subject, role, sender_id, secret_digest, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[
                    &c.what,
                    action,
                    &c.subject,
                    &c.role,
                    &c.sender,
                    &c.secret_digest,
                    &at,
                ],
            )
            .await
            .map_err(pg_err)?;
        out.push((row.get(0), c.digest(action, at)));
    }
    Ok(out)
}

/// Every live credential.
pub(super) async fn live_credentials(
    c: &impl deadpool_postgres::GenericClient,
) -> Result<Vec<LiveCredential>, StoreError> {
    let mut out = Vec::new();
    for r in c
        .query(
            "SELECT id, hash, role, sender_id FROM api_keys WHERE revoked_at IS NULL ORDER BY id",
            &[],
        )
        .await
        .map_err(pg_err)?
    {
        out.push(LiveCredential {
            table: "api_keys",
            row: Some(r.get(0)),
            credential: Credential {
                what: API_KEY.into(),
                subject: r.get(1),
                role: Some(r.get(2)),
                sender: r.get(3),
                secret_digest: None,
            },
        });
    }
    for (table, sql) in [
        (
            "smpp_credentials",
            "SELECT system_id, sender_id, password_hash FROM smpp_credentials ORDER BY system_id",
        ),
        (
            "cmpp_accounts",
            "SELECT source_addr, sender_id, secret FROM cmpp_accounts ORDER BY source_addr",
        ),
    ] {
        for r in c.query(sql, &[]).await.map_err(pg_err)? {
            let (subject, sender, secret): (&str, i64, &str) = (r.get(0), r.get(1), r.get(2));
            out.push(LiveCredential {
                table,
                row: None,
                credential: if table == "smpp_credentials" {
                    Credential::smpp(subject, sender, secret)
                } else {
                    Credential::cmpp(subject, sender, secret)
                },
            });
        }
    }
    Ok(out)
}

impl PgStore {
    /// Every credential change in id order, as its action and credential.
    pub(super) fn credential_changes(&self) -> Result<Vec<(String, Credential)>, StoreError> {
        self.run(async |c| {
            let rows = c
                .query(
                    "SELECT action, what, subject, role, sender_id, secret_digest
                     FROM credential_changes ORDER BY id",
                    &[],
                )
                .await
                .map_err(pg_err)?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        r.get(0),
                        Credential {
                            what: r.get(1),
                            subject: r.get(2),
                            role: r.get(3),
                            sender: r.get(4),
                            secret_digest: r.get(5),
                        },
                    )
                })
                .collect())
        })
    }

    /// Every live credential.
    pub(super) fn live_credential_rows(&self) -> Result<Vec<LiveCredential>, StoreError> {
        self.run(async |c| live_credentials(&*c).await)
    }

    /// Adopts the live credentials of a database written before credentials were chained,
    /// once: only while `credential_changes` is empty. Locked, so nodes starting together
    /// adopt once between them.
    pub(super) fn adopt_credentials(&self) -> Result<(), StoreError> {
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            tx.batch_execute("LOCK TABLE credential_changes IN EXCLUSIVE MODE")
                .await
                .map_err(pg_err)?;
            let any: bool = tx
                .query_one("SELECT EXISTS (SELECT 1 FROM credential_changes)", &[])
                .await
                .map_err(pg_err)?
                .get(0);
            if any {
                return Ok(());
            }
            let live = live_credentials(&tx).await?;
            if live.is_empty() {
                return Ok(());
            }
            let now = Timestamp::now();
            let changes: Vec<(&str, Credential)> =
                live.into_iter().map(|l| (ADOPTED, l.credential)).collect();
            let rows = record_credentials(&tx, &changes, now).await?;
            self.chain_records(&tx, AuditKind::Credential, &rows, now)
                .await?;
            tx.commit().await.map_err(pg_err)
        })
    }

    /// Revokes every live key of `sender` and issues the key hashing to `hash`, chained, in
    /// one transaction.
    pub(super) fn rotate_sender_key(&self, sender: SenderId, hash: &str) -> Result<(), StoreError> {
        let id = i64::from(sender.0);
        self.run(async |c| {
            let tx = c.transaction().await.map_err(pg_err)?;
            let now = Timestamp::now();
            let old: Vec<String> = tx
                .query(
                    "UPDATE api_keys SET revoked_at = $2
                     WHERE role = 'sender' AND sender_id = $1 AND revoked_at IS NULL
                     RETURNING hash",
                    &[&id, &micros(now)],
                )
                .await
                .map_err(pg_err)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            tx.execute(
                "INSERT INTO api_keys (hash, role, sender_id, created_at) VALUES ($1, 'sender', $2, $3)",
                &[&hash, &id, &micros(now)],
            )
            .await
            .map_err(pg_err)?;
            let role = KeyRole::Sender(sender);
            let mut changes: Vec<(&str, Credential)> = old
                .iter()
                .map(|h| (REVOKED, Credential::api_key(h, role)))
                .collect();
            changes.push((ISSUED, Credential::api_key(hash, role)));
            let rows = record_credentials(&tx, &changes, now).await?;
            self.chain_records(&tx, AuditKind::Credential, &rows, now)
                .await?;
            tx.commit().await.map_err(pg_err)
        })
    }
}
