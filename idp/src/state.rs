//! What every handler can reach, made in one place, and the background work that keeps it tidy.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::now;
use crate::config::Config;
use crate::db::Db;
use crate::keys::SigningKey;
use crate::limits::RateLimits;
use crate::push::Push;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Arc<SigningKey>,
    pub limits: Arc<RateLimits>,
    /// Web Push: the VAPID key and the sending queue.
    pub push: Arc<Push>,
    /// Our own origin, e.g. `http://127.0.0.1:8080`: the `iss` of tokens and the base of every link.
    pub issuer: Arc<str>,
}

impl AppState {
    /// The provider's state over an open database: loads its signing key and its VAPID key (making
    /// each the first time) and the rate limiters of `config`. A trailing `/` of `issuer` is dropped.
    pub async fn new(config: Config, db: Db, issuer: &str) -> anyhow::Result<Self> {
        let keys = SigningKey::load_or_create(&db, now()).await?;
        let issuer = issuer.trim_end_matches('/');
        let push = Push::load_or_create(&config.push, &db, issuer, now()).await?;
        Ok(Self {
            push: Arc::new(push),
            limits: Arc::new(RateLimits::new(&config.rate_limits)),
            config: Arc::new(config),
            db,
            keys: Arc::new(keys),
            issuer: issuer.into(),
        })
    }

    /// Deletes long-expired requests and tokens once a minute, so nothing stale is kept or shown, and
    /// lets the rate limiters forget idle keys.
    pub fn spawn_purger(&self) {
        let db = self.db.clone();
        let limits = self.limits.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limits.forget_idle();
                match db.purge(now()).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::debug!(purged, "purged expired rows"),
                    Err(error) => tracing::warn!("purge failed: {error}"),
                }
            }
        });
    }
}
