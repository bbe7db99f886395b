//! The api_keys table: hashes only, never keys.

use domain::{SenderId, Timestamp};
use rusqlite::params;

use super::{SqliteStore, corrupt, micros};
use crate::{KeyRing, KeyRole, StoreError};

impl KeyRing for SqliteStore {
    fn put_key(&self, hash: &str, role: KeyRole) -> Result<(), StoreError> {
        let (name, sender) = match role {
            KeyRole::Admin => ("admin", None),
            KeyRole::Carrier => ("carrier", None),
            KeyRole::Sender(id) => ("sender", Some(id.0)),
        };
        self.writer.lock().execute(
            "INSERT INTO api_keys (hash, role, sender_id, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash, name, sender, micros(Timestamp::now())],
        )?;
        Ok(())
    }

    fn keys(&self) -> Result<Vec<(String, KeyRole)>, StoreError> {
        let conn = self.reader.lock();
        let mut stmt = conn.prepare_cached("SELECT rowid, hash, role, sender_id FROM api_keys")?;
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
