//! Rate limits. A client that may start sign-ins could otherwise flood a user with approval prompts
//! until one is tapped by mistake (push fatigue), and a sign-in form invites password guessing; so both
//! are limited per target and per source. Built on `governor`'s keyed GCRA limiters.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitConfig;

pub struct RateLimits {
    backchannel_per_user: DefaultKeyedRateLimiter<String>,
    backchannel_per_client: DefaultKeyedRateLimiter<String>,
    login_per_user: DefaultKeyedRateLimiter<String>,
    login_per_ip: DefaultKeyedRateLimiter<IpAddr>,
}

/// Over a limit: the caller may try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited(pub Duration);

impl Limited {
    pub fn retry_after_secs(self) -> u64 {
        self.0.as_secs() + 1
    }
}

impl RateLimits {
    pub fn new(config: &RateLimitConfig) -> Self {
        Self {
            backchannel_per_user: keyed(config.backchannel_per_user_per_minute),
            backchannel_per_client: keyed(config.backchannel_per_client_per_minute),
            login_per_user: keyed(config.login_per_user_per_minute),
            login_per_ip: keyed(config.login_per_ip_per_minute),
        }
    }

    /// One more backchannel call by `client_id`, valid or not.
    pub fn backchannel_client(&self, client_id: &str) -> Result<(), Limited> {
        check(&self.backchannel_per_client, &client_id.to_owned())
    }

    /// One more sign-in prompt for `subject`, from any client.
    pub fn backchannel_user(&self, subject: &str) -> Result<(), Limited> {
        check(&self.backchannel_per_user, &subject.to_owned())
    }

    /// One more password attempt for `username` from `ip`.
    pub fn login(&self, username: &str, ip: IpAddr) -> Result<(), Limited> {
        check(&self.login_per_ip, &ip)?;
        check(&self.login_per_user, &username.to_lowercase())
    }

    /// Forgets keys whose limits are fully replenished, so memory does not grow with every address seen.
    pub fn forget_idle(&self) {
        for limiter in [
            &self.backchannel_per_user,
            &self.backchannel_per_client,
            &self.login_per_user,
        ] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.login_per_ip.retain_recent();
        self.login_per_ip.shrink_to_fit();
    }
}

fn keyed<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> DefaultKeyedRateLimiter<K> {
    let per_minute = NonZeroU32::new(per_minute).expect("validated: limits are at least 1");
    RateLimiter::keyed(Quota::per_minute(per_minute))
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: &DefaultKeyedRateLimiter<K>,
    key: &K,
) -> Result<(), Limited> {
    limiter
        .check_key(key)
        .map_err(|not_until| Limited(not_until.wait_time_from(DefaultClock::default().now())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_and_client_has_its_own_budget() {
        let limits = RateLimits::new(&RateLimitConfig {
            backchannel_per_user_per_minute: 2,
            backchannel_per_client_per_minute: 3,
            ..RateLimitConfig::default()
        });
        assert!(limits.backchannel_user("alice").is_ok());
        assert!(limits.backchannel_user("alice").is_ok());
        let limited = limits.backchannel_user("alice").unwrap_err();
        assert!(
            (1..=31).contains(&limited.retry_after_secs()),
            "{limited:?}"
        );
        assert!(limits.backchannel_user("bob").is_ok());
        for _ in 0..3 {
            assert!(limits.backchannel_client("pos").is_ok());
        }
        assert!(limits.backchannel_client("pos").is_err());
        assert!(limits.backchannel_client("tv").is_ok());
    }
}
