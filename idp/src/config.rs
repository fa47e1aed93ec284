//! The provider's configuration: users, clients and scopes, read from one TOML file.
//!
//! Everything a deployer would change lives here rather than in code, so the demo file doubles as
//! documentation of what the provider knows.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Poll interval handed to clients, in seconds (raised per request on `slow_down`).
    #[serde(default = "default_interval")]
    pub poll_interval_secs: u32,
    #[serde(default)]
    pub binding_message: BindingMessagePolicy,
    /// Lifetime of access tokens, in seconds.
    #[serde(default = "default_token_lifetime")]
    pub access_token_lifetime_secs: u32,
    /// How long a sign-in lasts without any request, in seconds: then they must sign in again.
    #[serde(default = "default_session_idle")]
    pub session_idle_timeout_secs: u32,
    /// How long a sign-in lasts however active the user is, in seconds: then they must sign in again.
    #[serde(default = "default_session_absolute")]
    pub session_absolute_timeout_secs: u32,
    #[serde(default)]
    pub embedding: EmbeddingConfig,
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
    #[serde(default)]
    pub duende: DuendeBehaviour,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub push: PushConfig,
    pub users: Vec<User>,
    pub clients: Vec<Client>,
    pub identity_scopes: Vec<Scope>,
    pub api_scopes: Vec<Scope>,
}

fn default_interval() -> u32 {
    5
}
fn default_token_lifetime() -> u32 {
    3600
}
fn default_session_idle() -> u32 {
    3600
}
fn default_session_absolute() -> u32 {
    12 * 3600
}

/// Showing the approval page inside a vendor portal on another origin (an iframe).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingConfig {
    /// Portal origins (`https://portal.example`) that may frame the page (CSP `frame-ancestors`) and
    /// exchange messages with it. Empty: nobody may frame it (`'none'`).
    pub allowed_origins: Vec<String>,
    /// The session cookie's `SameSite`. A portal on another *site* needs `none` (which browsers accept
    /// only with `Secure`, so only on https); `lax` suffices for another origin on the same site.
    pub cookie_same_site: CookieSameSite,
    /// Adds `Partitioned` (CHIPS): the cookie is kept per top-level site, which browsers that block
    /// third-party cookies still allow. Needs `cookie_same_site = "none"`.
    pub cookie_partitioned: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CookieSameSite {
    #[default]
    Lax,
    Strict,
    None,
}

/// Duende IdentityServer's own behaviours, off by default, so the page and the conformance kit can be
/// tested against what a real Duende host does.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DuendeBehaviour {
    /// Delete a decided request when the client next polls the token endpoint (access_denied or tokens),
    /// as Duende's `BackchannelAuthenticationRequestIdValidator` does with `RemoveByInternalIdAsync`.
    /// The approval API then answers 404 for it, never 409.
    pub remove_decided_on_poll: bool,
}

/// How the provider treats connections, so slow or idle clients cannot tie it up (`ciba_idp::serve`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// A request's head (request line and headers) must arrive within this many seconds of the
    /// connection being accepted, or of the previous response on a kept-alive connection; otherwise
    /// the connection is closed. So this is also how long an idle kept-alive connection stays open.
    pub header_read_timeout_secs: u32,
    /// A request's whole body must arrive within this many seconds of its head; otherwise it is
    /// answered 408 and the connection closed.
    pub body_read_timeout_secs: u32,
    /// Connections served at once. Beyond it no new connection is accepted until one closes: the
    /// operating system holds new ones in the listen backlog and they are served in turn, not refused.
    /// Keep it below the process's open-file limit (`ulimit -n`), which the database needs too.
    pub max_connections: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            max_connections: 512,
        }
    }
}

/// Web Push to the approval page's service worker (`crate::push`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// The VAPID `sub` (RFC 8292 §2.1): how a push service reaches the operator, `mailto:` or `https:`.
    /// Unset: the issuer when it is https, else `mailto:ciba-idp@localhost`.
    pub vapid_subject: Option<String>,
    /// Subscriptions (devices) one user keeps; a new one beyond this drops the user's oldest.
    pub max_subscriptions_per_user: u32,
    /// Allows `http` push endpoints on 127.0.0.1, ::1 and localhost (a local test push service).
    /// Off, every endpoint must be https on a public address.
    pub allow_loopback_http: bool,
    /// Pushes being sent at once; more wait in a queue of `queue_len`, and beyond that are dropped.
    pub max_in_flight: u32,
    pub queue_len: u32,
    /// How often decided and expired requests are looked for, to close their notifications.
    pub sweep_interval_secs: u32,
}

impl Default for PushConfig {
    fn default() -> Self {
        Self {
            vapid_subject: None,
            max_subscriptions_per_user: 5,
            allow_loopback_http: false,
            max_in_flight: 16,
            queue_len: 1024,
            sweep_interval_secs: 5,
        }
    }
}

/// Requests per minute, each with a burst of the same size.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Backchannel requests any clients may start for one user (Auth0 allows 5).
    pub backchannel_per_user_per_minute: u32,
    pub backchannel_per_client_per_minute: u32,
    /// Password attempts for one username, and from one IP address.
    pub login_per_user_per_minute: u32,
    pub login_per_ip_per_minute: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            backchannel_per_user_per_minute: 5,
            backchannel_per_client_per_minute: 60,
            login_per_user_per_minute: 5,
            login_per_ip_per_minute: 20,
        }
    }
}

/// What a client may put in `binding_message`: it is shown to the user on two devices, so it must be
/// short and readable.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingMessagePolicy {
    #[serde(default = "default_binding_max")]
    pub max_chars: usize,
    /// `printable` refuses control characters (line breaks, tabs, escapes); `any` accepts all.
    #[serde(default)]
    pub characters: BindingCharacters,
}

impl Default for BindingMessagePolicy {
    fn default() -> Self {
        Self {
            max_chars: default_binding_max(),
            characters: BindingCharacters::default(),
        }
    }
}

fn default_binding_max() -> usize {
    64
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BindingCharacters {
    #[default]
    Printable,
    Any,
}

impl BindingMessagePolicy {
    /// The message as it will be shown (NFC), or `None` when it may not be shown at all. A message is
    /// what the person compares across two screens, so `printable` also refuses what would make two
    /// different texts look alike or hide part of one: direction overrides and isolates, zero-width
    /// and tag characters, line and paragraph separators, text that is only blank, and bytes that were
    /// not UTF-8 (decoded as U+FFFD).
    pub fn accept(&self, message: &str) -> Option<String> {
        use unicode_normalization::UnicodeNormalization;
        let message: String = message.nfc().collect();
        let length = message.chars().count();
        let characters_ok = match self.characters {
            BindingCharacters::Any => !message.contains('\u{FFFD}'),
            BindingCharacters::Printable => {
                !message.trim().is_empty() && !message.chars().any(is_deceptive)
            }
        };
        (length > 0 && length <= self.max_chars && characters_ok).then_some(message)
    }
}

/// Characters that change how the rest of a line is shown, or show as nothing.
fn is_deceptive(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061C}' | '\u{200E}' | '\u{200F}'      // Arabic letter mark, LRM, RLM
            | '\u{202A}'..='\u{202E}'                  // embeddings and overrides
            | '\u{2066}'..='\u{2069}'                  // isolates
            | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' // zero-width
            | '\u{00AD}' | '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // invisible fillers
            | '\u{FE00}'..='\u{FE0F}'                  // variation selectors
            | '\u{2028}' | '\u{2029}'                  // line and paragraph separators
            | '\u{E0000}'..='\u{E007F}'                // tag characters
            | '\u{FFF9}'..='\u{FFFD}'                  // interlinear annotations, object, replacement
        )
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// The stable `sub` claim.
    pub subject: String,
    /// What the user types to sign in, and what clients send as `login_hint`.
    pub username: String,
    /// An Argon2 PHC string (`ciba-idp hash-password` makes one).
    pub password_hash: String,
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub client_name: String,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub allowed_scopes: Vec<String>,
    /// Whether the client may use the CIBA grant at all.
    #[serde(default = "yes")]
    pub allow_ciba: bool,
    #[serde(default = "default_expiry")]
    pub default_expiry_secs: u32,
    #[serde(default = "max_expiry")]
    pub max_expiry_secs: u32,
    /// Make the user pick this client's binding message from three choices before approving
    /// (against approving out of habit).
    #[serde(default)]
    pub verify_binding_message: bool,
}

fn yes() -> bool {
    true
}
fn default_expiry() -> u32 {
    300
}
fn max_expiry() -> u32 {
    600
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    pub name: String,
    /// The name and description shown when none of the page's languages has a translation.
    pub display_name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub emphasize: bool,
    #[serde(default)]
    pub resources: Vec<String>,
    /// The name and description in other languages, by lowercase language tag (`de`, `de-at`):
    /// `[api_scopes.translations.de]`. The approval API picks one by the page's `Accept-Language`.
    #[serde(default)]
    pub translations: BTreeMap<String, ScopeText>,
}

/// A scope's name and description in one language. A translation without a description shows none,
/// rather than the default language's beside a translated name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeText {
    pub display_name: String,
    pub description: Option<String>,
}

/// `de`, `de-at`, `zh-hant-tw`: a lowercase BCP 47 tag as `Accept-Language` items are compared with
/// (the primary language of 2–3 letters, then subtags of 1–8 letters or digits).
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or_default();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|part| {
            (1..=8).contains(&part.len())
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

impl Config {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid configuration in {}", path.display()))
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let config: Self = toml::from_str(text)?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let mut seen = HashMap::new();
        for scope in self.identity_scopes.iter().chain(&self.api_scopes) {
            if seen.insert(scope.name.as_str(), ()).is_some() {
                bail!("scope '{}' is defined twice", scope.name);
            }
            for (tag, text) in &scope.translations {
                if !is_language_tag(tag) {
                    bail!(
                        "scope '{}': translations.{tag} is not a lowercase language tag like de or de-at",
                        scope.name
                    );
                }
                if text.display_name.trim().is_empty() {
                    bail!(
                        "scope '{}': translations.{tag}.display_name is empty",
                        scope.name
                    );
                }
            }
        }
        if !self.identity_scopes.iter().any(|s| s.name == "openid") {
            bail!("the identity scope 'openid' must be defined");
        }
        for client in &self.clients {
            if let Some(unknown) = client
                .allowed_scopes
                .iter()
                .find(|s| !seen.contains_key(s.as_str()))
            {
                bail!(
                    "client '{}' allows the undefined scope '{unknown}'",
                    client.client_id
                );
            }
            if client.default_expiry_secs == 0
                || client.default_expiry_secs > client.max_expiry_secs
            {
                bail!(
                    "client '{}': need 0 < default_expiry_secs <= max_expiry_secs",
                    client.client_id
                );
            }
        }
        let limits = &self.rate_limits;
        if [
            limits.backchannel_per_user_per_minute,
            limits.backchannel_per_client_per_minute,
            limits.login_per_user_per_minute,
            limits.login_per_ip_per_minute,
        ]
        .contains(&0)
        {
            bail!("rate_limits: every limit must be at least 1 per minute");
        }
        if self.session_absolute_timeout_secs == 0 {
            bail!("session_absolute_timeout_secs must be at least 1");
        }
        if self.poll_interval_secs == 0 {
            bail!("poll_interval_secs must be at least 1");
        }
        for (name, value) in [
            (
                "header_read_timeout_secs",
                self.server.header_read_timeout_secs,
            ),
            ("body_read_timeout_secs", self.server.body_read_timeout_secs),
            ("max_connections", self.server.max_connections),
        ] {
            if value == 0 {
                bail!("server.{name} must be at least 1");
            }
        }
        for (name, value) in [
            (
                "max_subscriptions_per_user",
                self.push.max_subscriptions_per_user,
            ),
            ("max_in_flight", self.push.max_in_flight),
            ("queue_len", self.push.queue_len),
            ("sweep_interval_secs", self.push.sweep_interval_secs),
        ] {
            if value == 0 {
                bail!("push.{name} must be at least 1");
            }
        }
        if let Some(subject) = &self.push.vapid_subject
            && !(subject.starts_with("mailto:") || subject.starts_with("https://"))
        {
            bail!("push.vapid_subject must be a mailto: or https: URL (RFC 8292), not '{subject}'");
        }
        for origin in &self.embedding.allowed_origins {
            if !is_origin(origin) {
                bail!(
                    "embedding.allowed_origins: '{origin}' is not an origin like https://portal.example \
                     (scheme, host and optional port; no path, no trailing slash, no wildcard)"
                );
            }
        }
        if self.embedding.cookie_partitioned
            && self.embedding.cookie_same_site != CookieSameSite::None
        {
            bail!("embedding.cookie_partitioned needs cookie_same_site = \"none\"");
        }
        Ok(())
    }

    /// Whether `origin` may frame the page and exchange messages with it.
    pub fn embedding_allowed(&self, origin: &str) -> bool {
        self.embedding.allowed_origins.iter().any(|o| o == origin)
    }

    /// Whether a sign-in at `auth_time` has outlived `session_absolute_timeout_secs` at `now` (both
    /// Unix seconds).
    pub fn sign_in_expired(&self, auth_time: i64, now: i64) -> bool {
        now - auth_time >= i64::from(self.session_absolute_timeout_secs)
    }

    pub fn user_by_username(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }

    pub fn user_by_subject(&self, subject: &str) -> Option<&User> {
        self.users.iter().find(|u| u.subject == subject)
    }

    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    pub fn identity_scope(&self, name: &str) -> Option<&Scope> {
        self.identity_scopes.iter().find(|s| s.name == name)
    }

    pub fn api_scope(&self, name: &str) -> Option<&Scope> {
        self.api_scopes.iter().find(|s| s.name == name)
    }

    pub fn scope_names(&self) -> impl Iterator<Item = &str> {
        self.identity_scopes
            .iter()
            .chain(&self.api_scopes)
            .map(|s| s.name.as_str())
    }
}

/// A serialized origin, as browsers send in `Origin` and `MessageEvent.origin`: exactly
/// `scheme://host[:port]`, so a plain string comparison with what the browser reports is exact.
fn is_origin(text: &str) -> bool {
    let Ok(uri) = text.parse::<axum::http::Uri>() else {
        return false;
    };
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !authority.as_str().contains(['@', '*'])
        && text == format!("{scheme}://{authority}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_parses_and_has_documented_accounts() {
        let config = Config::parse(include_str!("../ciba-idp.toml")).unwrap();
        assert!(config.user_by_username("alice").is_some());
        assert!(config.user_by_username("bob").is_some());
        let demo = config.client("demo-client").unwrap();
        assert_eq!(demo.client_secret, "demo-secret");
        for scope in [
            "openid",
            "profile",
            "email",
            "api1.read",
            "api1.write",
            "offline_access",
        ] {
            assert!(demo.allowed_scopes.iter().any(|s| s == scope), "{scope}");
        }
        assert!(config.api_scope("offline_access").is_some());
    }

    /// Each entry goes into a CSP header and is compared with `MessageEvent.origin`: anything but a
    /// plain origin could smuggle in directives or never match.
    #[test]
    fn embedding_origins_must_be_plain_origins() {
        let demo = include_str!("../ciba-idp.toml");
        let with = |origins: &str| {
            demo.replace(
                "allowed_origins = [\"http://127.0.0.1:8081\"]",
                &format!("allowed_origins = [{origins}]"),
            )
        };
        for bad in [
            "\"https://a.example; script-src *\"",
            "\"https://a.example/\"",
            "\"https://a.example/portal\"",
            "\"https://*.example\"",
            "\"'self'\"",
            "\"*\"",
            "\"javascript://a.example\"",
            "\"https://user@a.example\"",
        ] {
            let error = Config::parse(&with(bad)).unwrap_err().to_string();
            assert!(error.contains("allowed_origins"), "{bad}: {error}");
        }
        let good = Config::parse(&with(
            "\"https://portal.example\", \"http://127.0.0.1:8081\", \"http://[::1]:8081\"",
        ))
        .unwrap();
        assert!(good.embedding_allowed("http://127.0.0.1:8081"));
        assert!(!good.embedding_allowed("http://127.0.0.1:8082"));
    }

    #[test]
    fn a_partitioned_cookie_needs_same_site_none() {
        let demo = include_str!("../ciba-idp.toml");
        let bad = demo.replace("cookie_partitioned = false", "cookie_partitioned = true");
        let error = Config::parse(&bad).unwrap_err().to_string();
        assert!(error.contains("cookie_partitioned"), "{error}");
        let good = bad.replace("cookie_same_site = \"lax\"", "cookie_same_site = \"none\"");
        assert!(Config::parse(&good).unwrap().embedding.cookie_partitioned);
    }

    #[test]
    fn server_limits_default_as_documented_and_refuse_zero() {
        let demo = include_str!("../ciba-idp.toml");
        let defaults = Config::parse(demo).unwrap().server;
        assert_eq!(defaults, ServerConfig::default());
        assert_eq!(
            (
                defaults.header_read_timeout_secs,
                defaults.body_read_timeout_secs,
                defaults.max_connections
            ),
            (10, 10, 512)
        );
        let set = Config::parse(&format!(
            "{demo}\n[server]\nheader_read_timeout_secs = 2\nmax_connections = 7\n"
        ))
        .unwrap()
        .server;
        assert_eq!(
            (
                set.header_read_timeout_secs,
                set.body_read_timeout_secs,
                set.max_connections
            ),
            (2, 10, 7),
            "an unset key keeps its default"
        );
        for key in [
            "header_read_timeout_secs",
            "body_read_timeout_secs",
            "max_connections",
        ] {
            let error = Config::parse(&format!("{demo}\n[server]\n{key} = 0\n"))
                .unwrap_err()
                .to_string();
            assert_eq!(error, format!("server.{key} must be at least 1"));
        }
        let error = Config::parse(&format!("{demo}\n[server]\nread_timeout_secs = 5\n"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field"), "{error}");
    }

    #[test]
    fn push_defaults_as_documented_and_refuses_a_bad_subject() {
        let demo = include_str!("../ciba-idp.toml");
        let without = demo.replace("[push]\nallow_loopback_http = true", "");
        let defaults = Config::parse(&without).unwrap().push;
        assert_eq!(defaults, PushConfig::default());
        assert_eq!(
            (
                defaults.vapid_subject.as_deref(),
                defaults.max_subscriptions_per_user,
                defaults.allow_loopback_http,
                defaults.max_in_flight,
                defaults.sweep_interval_secs
            ),
            (None, 5, false, 16, 5)
        );
        assert!(
            Config::parse(demo).unwrap().push.allow_loopback_http,
            "the demo lets a local push service in"
        );
        let set = Config::parse(&format!(
            "{without}\n[push]\nvapid_subject = \"mailto:ops@example.com\"\nmax_subscriptions_per_user = 2\n"
        ))
        .unwrap()
        .push;
        assert_eq!(set.vapid_subject.as_deref(), Some("mailto:ops@example.com"));
        assert_eq!((set.max_subscriptions_per_user, set.max_in_flight), (2, 16));
        for bad in ["\"http://example.com\"", "\"ops@example.com\""] {
            let error = Config::parse(&format!("{without}\n[push]\nvapid_subject = {bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(error.contains("push.vapid_subject"), "{error}");
        }
        let error = Config::parse(&format!("{without}\n[push]\nmax_in_flight = 0\n"))
            .unwrap_err()
            .to_string();
        assert_eq!(error, "push.max_in_flight must be at least 1");
    }

    #[test]
    fn undefined_scope_is_a_clear_error() {
        let text = include_str!("../ciba-idp.toml")
            .replace("\"api1.write\", \"offline_access\"", "\"nope\"");
        let error = Config::parse(&text).unwrap_err().to_string();
        assert!(error.contains("undefined scope 'nope'"), "{error}");
    }

    #[test]
    fn scope_translations_are_checked() {
        let demo = Config::parse(include_str!("../ciba-idp.toml")).unwrap();
        let read = demo.api_scope("api1.read").unwrap();
        assert_eq!(
            read.translations["de"].display_name,
            "Ihre Daten in API 1 lesen"
        );
        for (bad, expected) in [
            (
                "[api_scopes.translations.DE]",
                "not a lowercase language tag",
            ),
            (
                "[api_scopes.translations.german]",
                "not a lowercase language tag",
            ),
            (
                "[api_scopes.translations.de_at]",
                "not a lowercase language tag",
            ),
        ] {
            let text =
                include_str!("../ciba-idp.toml").replace("[api_scopes.translations.de]", bad);
            let error = format!("{:#}", Config::parse(&text).unwrap_err());
            assert!(error.contains(expected), "{bad}: {error}");
        }
        let text = include_str!("../ciba-idp.toml").replace(
            "display_name = \"Ihre Daten in API 1 lesen\"",
            "display_name = \" \"",
        );
        let error = format!("{:#}", Config::parse(&text).unwrap_err());
        assert!(
            error.contains("translations.de.display_name is empty"),
            "{error}"
        );
    }

    #[test]
    fn binding_message_policy() {
        let policy = BindingMessagePolicy::default();
        assert!(policy.accept("Kasse 3: 4711").is_some());
        assert!(policy.accept("🔑 مرحبا 確認").is_some());
        assert!(
            policy.accept("４７１１").is_some(),
            "full-width digits are visible"
        );
        // What the outside probe got through: each would show two devices different-looking codes
        // as the same, or hide part of one.
        for hidden in [
            "",
            "   ",
            "\u{3000}",
            "line\nbreak",
            "Till 3: \u{202e}1174",
            "Till 3: \u{202d}4711",
            "Till \u{2066}3\u{2069}",
            "47\u{200b}11",
            "47\u{200d}11",
            "\u{feff}4711",
            "47\u{180e}11",
            "4711\u{e0041}",
            "Till\u{2028}3",
            "Till\u{2029}3",
            "Till \u{fffd}",
        ] {
            assert!(policy.accept(hidden).is_none(), "{hidden:?}");
        }
        assert!(policy.accept(&"x".repeat(65)).is_none());
        // Composed and decomposed forms are one message.
        assert_eq!(policy.accept("Cafe\u{301}").as_deref(), Some("Caf\u{e9}"));
        let any = BindingMessagePolicy {
            max_chars: 100,
            characters: BindingCharacters::Any,
        };
        assert!(any.accept("line\nbreak").is_some());
    }
}
