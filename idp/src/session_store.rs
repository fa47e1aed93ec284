//! Sign-in sessions in the provider's own SQLite database: a restart keeps everybody signed in, and
//! expired sessions are deleted (the in-memory store never forgot one, so anonymous traffic grew it
//! without bound). `tower-sessions-sqlx-store` needs sqlx 0.8 and we are on 0.9, so this is its four
//! queries over our pool. Only a session with something in it is ever stored (tower-sessions skips
//! empty ones), and rows are keyed by a hash of the cookie's id, like tokens.

use async_trait::async_trait;
use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone, Debug)]
pub struct SqliteSessions {
    pool: SqlitePool,
}

impl SqliteSessions {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

/// A session's key in the `sessions` table, never the cookie's id itself; push subscriptions remember
/// the session that made them by the same key, so sign-out can find them.
pub fn id_hash(id: &Id) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(error: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for SqliteSessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = serde_json::to_string(&record.data).map_err(backend)?;
        // A fresh id that happens to be taken gets another one, never someone else's session.
        loop {
            let inserted = sqlx::query(
                "INSERT INTO sessions (id_hash, data, expires_at) VALUES (?, ?, ?) \
                 ON CONFLICT (id_hash) DO NOTHING",
            )
            .bind(id_hash(&record.id))
            .bind(&data)
            .bind(record.expiry_date.unix_timestamp())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, data, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id_hash(&record.id))
        .bind(serde_json::to_string(&record.data).map_err(backend)?)
        .bind(record.expiry_date.unix_timestamp())
        .execute(&self.pool)
        .await
        .map_err(backend)
        .map(drop)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT data, expires_at FROM sessions WHERE id_hash = ? AND expires_at > ?",
        )
        .bind(id_hash(id))
        .bind(OffsetDateTime::now_utc().unix_timestamp())
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.map(|(data, expires_at)| {
            Ok(Record {
                id: *id,
                data: serde_json::from_str(&data).map_err(backend)?,
                expiry_date: OffsetDateTime::from_unix_timestamp(expires_at).map_err(backend)?,
            })
        })
        .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash(id))
            .execute(&self.pool)
            .await
            .map_err(backend)
            .map(drop)
    }
}
