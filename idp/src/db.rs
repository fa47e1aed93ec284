//! SQLite storage: login requests, issued tokens and the signing key.
//!
//! Every state change of a request is a single conditional `UPDATE`, so two concurrent decisions or
//! two concurrent redemptions cannot both succeed: the database, not the handler, picks the winner.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use ciba_contract::Outcome;
use sqlx::ValueRef;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteTypeInfo,
    SqliteValueRef,
};

use crate::scopes::Scopes;

#[derive(Clone)]
pub struct Db {
    pool: SqlitePool,
}

/// A stored login request.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub internal_id: String,
    pub auth_req_id: String,
    pub client_id: String,
    pub subject: String,
    /// Requested.
    pub scopes: Scopes,
    pub binding_message: Option<String>,
    pub acr_values: String,
    pub resource_indicators: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub interval_secs: i64,
    pub last_polled_at: Option<i64>,
    /// `None` while the user has not decided.
    #[sqlx(try_from = "OutcomeColumn")]
    pub outcome: Option<Outcome>,
    pub granted_scopes: Option<Scopes>,
    pub description: Option<String>,
    pub session_auth_time: Option<i64>,
    pub redeemed_at: Option<i64>,
    /// The code check's three choices as a JSON array, when the check is on for this request.
    pub binding_message_choices: Option<String>,
    /// A wrong code was picked: only Deny is accepted now.
    pub code_locked: bool,
}

impl RequestRow {
    pub fn is_expired(&self, now: i64) -> bool {
        now >= self.expires_at
    }

    /// The code check's choices, in display order; `None` when the check is off for this request.
    pub fn code_choices(&self) -> Option<Vec<String>> {
        self.binding_message_choices
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
    }
}

/// What `/connect/ciba` stores for a new request.
pub struct NewRequest<'a> {
    pub internal_id: &'a str,
    pub auth_req_id: &'a str,
    pub client_id: &'a str,
    pub subject: &'a str,
    pub scopes: &'a Scopes,
    pub binding_message: Option<&'a str>,
    /// The code check's choices, for a client with the check on.
    pub binding_message_choices: Option<&'a [String]>,
    pub acr_values: &'a str,
    pub resource_indicators: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
    pub interval_secs: i64,
}

/// The user's decision, as stored.
pub struct Decision<'a> {
    pub outcome: Outcome,
    pub granted_scopes: Option<&'a Scopes>,
    pub description: Option<&'a str>,
    pub session_auth_time: i64,
}

/// The `outcome` column: `'approved'`, `'denied'` or `NULL` (pending).
pub struct OutcomeColumn(Option<Outcome>);

impl From<OutcomeColumn> for Option<Outcome> {
    fn from(column: OutcomeColumn) -> Self {
        column.0
    }
}

impl sqlx::Type<Sqlite> for OutcomeColumn {
    fn type_info() -> SqliteTypeInfo {
        <String as sqlx::Type<Sqlite>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, Sqlite> for OutcomeColumn {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Ok(Self(None));
        }
        let text = <&str as sqlx::Decode<Sqlite>>::decode(value)?;
        [Outcome::Approved, Outcome::Denied]
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
            .map(|outcome| Self(Some(outcome)))
            .ok_or_else(|| format!("unknown outcome '{text}'").into())
    }
}

/// What an issued token is for (the `kind` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(rename_all = "lowercase")]
pub enum TokenKind {
    /// A bearer token for userinfo.
    Access,
    /// Traded once for fresh tokens (`offline_access`).
    Refresh,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub kind: TokenKind,
    pub client_id: String,
    pub subject: String,
    pub scopes: Scopes,
    pub auth_time: i64,
    pub expires_at: Option<i64>,
}

pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub kind: TokenKind,
    pub client_id: &'a str,
    pub subject: &'a str,
    pub scopes: &'a Scopes,
    pub auth_time: i64,
    pub expires_at: Option<i64>,
}

/// A stored Web Push subscription (`crate::push`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PushSubscriptionRow {
    pub endpoint: String,
    pub subject: String,
    pub p256dh: String,
    pub auth: String,
}

/// A request whose notification is to be closed: decided, or expired.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClosedRequest {
    pub internal_id: String,
    pub subject: String,
}

/// How long an expired request is kept so a late poll still gets `expired_token` rather than
/// `invalid_grant`.
pub const EXPIRED_RETENTION_SECS: i64 = 600;

impl Db {
    /// Opens (creating if needed) the database at `path`, or a private in-memory one for `:memory:`,
    /// and brings its schema up to date.
    pub async fn open(path: &str) -> anyhow::Result<Self> {
        let (options, pool) = if path == ":memory:" {
            // Every connection to :memory: is a separate database, so hold exactly one, forever.
            let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            (options, pool)
        } else {
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            (options, SqlitePoolOptions::new().max_connections(8))
        };
        let options = options
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = pool
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the database '{path}'"))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .with_context(|| format!("cannot migrate the database '{path}'"))?;
        Ok(Self { pool })
    }

    pub async fn signing_key(&self) -> sqlx::Result<Option<(String, String)>> {
        sqlx::query_as("SELECT kid, private_pem FROM signing_keys ORDER BY created_at DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn insert_signing_key(
        &self,
        kid: &str,
        private_pem: &str,
        now: i64,
    ) -> sqlx::Result<()> {
        sqlx::query("INSERT INTO signing_keys (kid, private_pem, created_at) VALUES (?, ?, ?)")
            .bind(kid)
            .bind(private_pem)
            .bind(now)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    pub async fn insert_request(&self, new: &NewRequest<'_>) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO login_requests (internal_id, auth_req_id, client_id, subject, scopes, \
             binding_message, binding_message_choices, acr_values, resource_indicators, created_at, \
             expires_at, interval_secs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(new.internal_id)
        .bind(new.auth_req_id)
        .bind(new.client_id)
        .bind(new.subject)
        .bind(new.scopes)
        .bind(new.binding_message)
        .bind(
            new.binding_message_choices
                .map(|choices| serde_json::to_string(choices).expect("strings serialize")),
        )
        .bind(new.acr_values)
        .bind(new.resource_indicators)
        .bind(new.created_at)
        .bind(new.expires_at)
        .bind(new.interval_secs)
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// The subject's requests that still wait for a decision, newest first.
    pub async fn pending_for(&self, subject: &str, now: i64) -> sqlx::Result<Vec<RequestRow>> {
        sqlx::query_as(
            "SELECT * FROM login_requests WHERE subject = ? AND outcome IS NULL AND expires_at > ? \
             ORDER BY created_at DESC, rowid DESC",
        )
        .bind(subject)
        .bind(now)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn request(&self, internal_id: &str) -> sqlx::Result<Option<RequestRow>> {
        sqlx::query_as("SELECT * FROM login_requests WHERE internal_id = ?")
            .bind(internal_id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn request_by_auth_req_id(
        &self,
        auth_req_id: &str,
    ) -> sqlx::Result<Option<RequestRow>> {
        sqlx::query_as("SELECT * FROM login_requests WHERE auth_req_id = ?")
            .bind(auth_req_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// Locks a pending request's code check after a wrong pick: from now on only a denial completes it.
    pub async fn lock_code(&self, internal_id: &str) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE login_requests SET code_locked = 1 WHERE internal_id = ? AND outcome IS NULL",
        )
        .bind(internal_id)
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// Records the decision if, and only if, the request is still the subject's, pending and unexpired
    /// (and, for an approval, its code check not locked by a wrong pick).
    /// Returns whether this call was the one that decided it.
    pub async fn complete(
        &self,
        internal_id: &str,
        subject: &str,
        now: i64,
        decision: &Decision<'_>,
    ) -> sqlx::Result<bool> {
        let result = sqlx::query(
            "UPDATE login_requests SET outcome = ?, granted_scopes = ?, description = ?, \
             session_auth_time = ?, completed_at = ? \
             WHERE internal_id = ? AND subject = ? AND outcome IS NULL AND expires_at > ? \
             AND (? = 'denied' OR code_locked = 0)",
        )
        .bind(decision.outcome.as_str())
        .bind(decision.granted_scopes)
        .bind(decision.description)
        .bind(decision.session_auth_time)
        .bind(now)
        .bind(internal_id)
        .bind(subject)
        .bind(now)
        .bind(decision.outcome.as_str())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn record_poll(
        &self,
        internal_id: &str,
        now: i64,
        interval_secs: i64,
    ) -> sqlx::Result<()> {
        sqlx::query(
            "UPDATE login_requests SET last_polled_at = ?, interval_secs = ? WHERE internal_id = ?",
        )
        .bind(now)
        .bind(interval_secs)
        .bind(internal_id)
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// Forgets a request altogether (Duende's `RemoveByInternalIdAsync`).
    pub async fn remove(&self, internal_id: &str) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM login_requests WHERE internal_id = ?")
            .bind(internal_id)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Marks an approved request as exchanged for tokens; false when it already was.
    pub async fn redeem(&self, internal_id: &str, now: i64) -> sqlx::Result<bool> {
        let result = sqlx::query(
            "UPDATE login_requests SET redeemed_at = ? \
             WHERE internal_id = ? AND outcome = 'approved' AND redeemed_at IS NULL",
        )
        .bind(now)
        .bind(internal_id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn insert_token(&self, token: &NewToken<'_>) -> sqlx::Result<()> {
        sqlx::query(
            "INSERT INTO tokens (token_hash, kind, client_id, subject, scopes, auth_time, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(token.token_hash)
        .bind(token.kind)
        .bind(token.client_id)
        .bind(token.subject)
        .bind(token.scopes)
        .bind(token.auth_time)
        .bind(token.expires_at)
        .execute(&self.pool)
        .await
        .map(drop)
    }

    /// A token that is neither revoked nor expired.
    pub async fn live_token(&self, token_hash: &str, now: i64) -> sqlx::Result<Option<TokenRow>> {
        sqlx::query_as(
            "SELECT kind, client_id, subject, scopes, auth_time, expires_at FROM tokens \
             WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
    }

    /// Revokes a refresh token as it is used (rotation); false when it was already used.
    pub async fn revoke_token(&self, token_hash: &str, now: i64) -> sqlx::Result<bool> {
        let result = sqlx::query(
            "UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Deletes requests long expired and tokens past their lifetime.
    pub async fn purge(&self, now: i64) -> sqlx::Result<u64> {
        let requests = sqlx::query("DELETE FROM login_requests WHERE expires_at <= ?")
            .bind(now - EXPIRED_RETENTION_SECS)
            .execute(&self.pool)
            .await?;
        let tokens =
            sqlx::query("DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?")
                .bind(now)
                .execute(&self.pool)
                .await?;
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(requests.rows_affected() + tokens.rows_affected() + sessions.rows_affected())
    }

    pub async fn vapid_key(&self) -> sqlx::Result<Option<String>> {
        sqlx::query_scalar("SELECT private_key FROM vapid_keys WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
    }

    /// Stores the VAPID key unless one is there already; returns the one that is kept, so two
    /// processes starting at once over one file agree on it.
    pub async fn insert_vapid_key(&self, private_key: &str, now: i64) -> sqlx::Result<String> {
        sqlx::query(
            "INSERT INTO vapid_keys (id, private_key, created_at) VALUES (1, ?, ?) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(private_key)
        .bind(now)
        .execute(&self.pool)
        .await?;
        sqlx::query_scalar("SELECT private_key FROM vapid_keys WHERE id = 1")
            .fetch_one(&self.pool)
            .await
    }

    /// Stores `subscription` for `subject` as its newest, replacing any row with the same endpoint
    /// (whoever it belonged to), and drops the subject's oldest beyond `keep`.
    pub async fn save_push_subscription(
        &self,
        subscription: &PushSubscriptionRow,
        session_hash: Option<&str>,
        now: i64,
        keep: u32,
    ) -> sqlx::Result<()> {
        let mut tx = self.pool.begin().await?;
        // Delete and insert rather than upsert: the new rowid makes it the newest for the trim below.
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = ?")
            .bind(&subscription.endpoint)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO push_subscriptions (endpoint, subject, p256dh, auth, session_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&subscription.endpoint)
        .bind(&subscription.subject)
        .bind(&subscription.p256dh)
        .bind(&subscription.auth)
        .bind(session_hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM push_subscriptions WHERE subject = ? AND rowid NOT IN \
             (SELECT rowid FROM push_subscriptions WHERE subject = ? ORDER BY rowid DESC LIMIT ?)",
        )
        .bind(&subscription.subject)
        .bind(&subscription.subject)
        .bind(keep)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// The subject's subscriptions, oldest first.
    pub async fn push_subscriptions(
        &self,
        subject: &str,
    ) -> sqlx::Result<Vec<PushSubscriptionRow>> {
        sqlx::query_as(
            "SELECT endpoint, subject, p256dh, auth FROM push_subscriptions WHERE subject = ? \
             ORDER BY rowid",
        )
        .bind(subject)
        .fetch_all(&self.pool)
        .await
    }

    /// Forgets one of the subject's subscriptions; another user's stays.
    pub async fn delete_push_subscription(
        &self,
        endpoint: &str,
        subject: &str,
    ) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = ? AND subject = ?")
            .bind(endpoint)
            .bind(subject)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Forgets a subscription the push service says is gone (404/410), unless it was replaced by a
    /// new one with other keys meanwhile.
    pub async fn delete_gone_push_subscription(
        &self,
        endpoint: &str,
        p256dh: &str,
    ) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = ? AND p256dh = ?")
            .bind(endpoint)
            .bind(p256dh)
            .execute(&self.pool)
            .await
            .map(drop)
    }

    /// Forgets the subscriptions a sign-in made (on sign-out); returns how many.
    pub async fn delete_session_push_subscriptions(&self, session_hash: &str) -> sqlx::Result<u64> {
        sqlx::query("DELETE FROM push_subscriptions WHERE session_hash = ?")
            .bind(session_hash)
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
    }

    /// Claims the "closed" push of one request if it is decided and not yet claimed: true once.
    pub async fn claim_push_closed(&self, internal_id: &str) -> sqlx::Result<bool> {
        let result = sqlx::query(
            "UPDATE login_requests SET push_closed = 1 \
             WHERE internal_id = ? AND push_closed = 0 AND outcome IS NOT NULL",
        )
        .bind(internal_id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Claims the "closed" push of every request decided or expired by `now` that has not had one.
    pub async fn claim_due_push_closed(&self, now: i64) -> sqlx::Result<Vec<ClosedRequest>> {
        sqlx::query_as(
            "UPDATE login_requests SET push_closed = 1 \
             WHERE push_closed = 0 AND (outcome IS NOT NULL OR expires_at <= ?) \
             RETURNING internal_id, subject",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
    }

    /// The pool, for the session store that shares this database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[cfg(test)]
mod tests {
    use ciba_contract::Outcome;

    use super::{Db, Decision, NewRequest, NewToken, TokenKind};
    use crate::scopes::Scopes;

    /// Outcomes, token kinds and scopes go in as types and come back as the same types.
    #[tokio::test]
    async fn typed_columns_round_trip() {
        let db = Db::open(":memory:").await.unwrap();
        let requested = Scopes::parse("openid profile offline_access");
        db.insert_request(&NewRequest {
            internal_id: "r1",
            auth_req_id: "a1",
            client_id: "c",
            subject: "s",
            scopes: &requested,
            binding_message: None,
            binding_message_choices: None,
            acr_values: "",
            resource_indicators: "",
            created_at: 0,
            expires_at: 100,
            interval_secs: 5,
        })
        .await
        .unwrap();
        let pending = db.request("r1").await.unwrap().unwrap();
        assert_eq!((pending.outcome, &pending.scopes), (None, &requested));

        let granted = Scopes::parse("openid offline_access");
        let decision = Decision {
            outcome: Outcome::Approved,
            granted_scopes: Some(&granted),
            description: None,
            session_auth_time: 1,
        };
        assert!(db.complete("r1", "s", 2, &decision).await.unwrap());
        let decided = db.request("r1").await.unwrap().unwrap();
        assert_eq!(decided.outcome, Some(Outcome::Approved));
        assert_eq!(decided.granted_scopes, Some(granted.clone()));
        assert!(db.redeem("r1", 3).await.unwrap());

        for (hash, kind) in [("h1", TokenKind::Access), ("h2", TokenKind::Refresh)] {
            db.insert_token(&NewToken {
                token_hash: hash,
                kind,
                client_id: "c",
                subject: "s",
                scopes: &granted,
                auth_time: 1,
                expires_at: None,
            })
            .await
            .unwrap();
            let token = db.live_token(hash, 4).await.unwrap().unwrap();
            assert_eq!((token.kind, &token.scopes), (kind, &granted));
        }
        let kind: String = sqlx::query_scalar("SELECT kind FROM tokens WHERE token_hash = 'h2'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(kind, "refresh");
    }

    /// WAL lets the approval page read while a poll writes, and the busy timeout makes a writer wait
    /// for a lock instead of failing a user's decision with "database is locked".
    #[tokio::test]
    async fn a_database_file_is_opened_in_wal_mode_with_a_busy_timeout() {
        let dir = std::env::temp_dir().join(format!("ciba-db-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("wal.db");
        let db = Db::open(path.to_str().unwrap()).await.unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let busy_ms: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        db.pool.close().await;
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(busy_ms, 5000);
    }
}
