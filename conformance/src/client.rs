//! The relying party's side of CIBA in poll mode (OpenID Connect CIBA Core 1.0).
//!
//! 1. Discovery (`{issuer}/.well-known/openid-configuration`) names the backchannel authentication and
//!    token endpoints; nothing else is assumed about the host's URLs.
//! 2. [`Client::start_request`] asks the provider to authenticate a user elsewhere (CIBA §7), with
//!    `client_secret_basic`: that is what puts a request into the user's approval list.
//! 3. [`Client::poll_token`] polls the token endpoint with the CIBA grant (§10); [`Client::wait_for_answer`]
//!    repeats it as a well-behaved client must, honouring `interval` and `slow_down` (§11).

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::{Error, Result, excerpt};

pub const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";
/// CIBA §7.3: the interval a client uses when the provider names none.
pub const DEFAULT_INTERVAL_SECS: u64 = 5;
/// RFC 8628 §3.5, adopted by CIBA: each `slow_down` adds five seconds to the interval.
const SLOW_DOWN_STEP_SECS: u64 = 5;

/// The parts of the provider metadata (OpenID Connect Discovery 1.0, CIBA §4) the kit relies on.
#[derive(Deserialize, Debug, Clone)]
pub struct Metadata {
    pub issuer: String,
    pub backchannel_authentication_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub grant_types_supported: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
    #[serde(default)]
    pub backchannel_token_delivery_modes_supported: Vec<String>,
}

/// A discovered provider.
#[derive(Debug, Clone)]
pub struct Provider {
    pub metadata: Metadata,
}

impl Provider {
    /// Reads `{issuer}/.well-known/openid-configuration`.
    pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Self> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let response = http.get(&url).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status != StatusCode::OK {
            return Err(Error(format!(
                "GET {url} answered {status}: {}",
                excerpt(&body, 120)
            )));
        }
        let metadata = serde_json::from_slice(&body)
            .map_err(|e| Error(format!("GET {url}: not provider metadata ({e})")))?;
        Ok(Self { metadata })
    }

    fn endpoint(&self, which: &str, value: &Option<String>) -> Result<Url> {
        let text = value
            .as_deref()
            .ok_or_else(|| Error(format!("the metadata has no {which}")))?;
        Url::parse(text).map_err(|e| Error(format!("{which} {text:?} is not a URL ({e})")))
    }
}

/// The success answer of the backchannel authentication endpoint (CIBA §7.3).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub auth_req_id: String,
    pub expires_in: u64,
    pub interval: Option<u64>,
}

impl Started {
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.interval.unwrap_or(DEFAULT_INTERVAL_SECS))
    }
}

/// An OAuth error answer (`error`, `error_description`) with its HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub error: String,
    pub description: Option<String>,
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.error)?;
        if let Some(description) = &self.description {
            write!(f, " ({description})")?;
        }
        Ok(())
    }
}

/// What the backchannel authentication endpoint said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackchannelAnswer {
    Started(Started),
    Refused(OAuthError),
}

/// The token endpoint's tokens (RFC 6749 §5.1 plus the OpenID Connect `id_token`).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: Option<u64>,
    /// Required when the granted scopes differ from the requested ones (RFC 6749 §5.1).
    pub scope: Option<String>,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// What one poll of the token endpoint said (CIBA §11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAnswer {
    Tokens(Tokens),
    Pending,
    SlowDown,
    Denied,
    Expired,
    Other { status: u16, body: String },
}

impl TokenAnswer {
    /// The tokens, if this answer is tokens.
    pub fn into_tokens(self) -> Option<Tokens> {
        match self {
            Self::Tokens(tokens) => Some(tokens),
            _ => None,
        }
    }
}

/// A confidential client of the provider, authenticating with `client_secret_basic`.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    backchannel_endpoint: Url,
    token_endpoint: Url,
    client_id: String,
    client_secret: String,
}

impl Client {
    pub fn new(
        http: reqwest::Client,
        provider: &Provider,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Self> {
        let metadata = &provider.metadata;
        Ok(Self {
            http,
            backchannel_endpoint: provider.endpoint(
                "backchannel_authentication_endpoint",
                &metadata.backchannel_authentication_endpoint,
            )?,
            token_endpoint: provider.endpoint("token_endpoint", &metadata.token_endpoint)?,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
        })
    }

    /// RFC 6749 §2.3.1: id and secret are form-encoded before they go into the Basic header.
    fn basic(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = format!(
            "{}:{}",
            encode(&self.client_id),
            encode(&self.client_secret)
        );
        let value = base64::engine::general_purpose::STANDARD.encode(credentials);
        request.header(reqwest::header::AUTHORIZATION, format!("Basic {value}"))
    }

    /// `POST` to the backchannel authentication endpoint (CIBA §7.1).
    pub async fn start_request(
        &self,
        login_hint: &str,
        scope: &str,
        binding_message: Option<&str>,
        requested_expiry: Option<u32>,
    ) -> Result<BackchannelAnswer> {
        let expiry = requested_expiry.map(|s| s.to_string());
        let mut form = vec![("scope", scope), ("login_hint", login_hint)];
        if let Some(message) = binding_message {
            form.push(("binding_message", message));
        }
        if let Some(expiry) = &expiry {
            form.push(("requested_expiry", expiry));
        }
        let response = self
            .basic(self.http.post(self.backchannel_endpoint.clone()))
            .form(&form)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status == StatusCode::OK {
            let started = serde_json::from_slice(&body).map_err(|e| {
                Error(format!(
                    "the backchannel answer is not CIBA's ({e}): {}",
                    excerpt(&body, 120)
                ))
            })?;
            return Ok(BackchannelAnswer::Started(started));
        }
        Ok(BackchannelAnswer::Refused(oauth_error(status, &body)))
    }

    /// One `POST` to the token endpoint with the CIBA grant (CIBA §10.1).
    pub async fn poll_token(&self, auth_req_id: &str) -> Result<TokenAnswer> {
        let response = self
            .basic(self.http.post(self.token_endpoint.clone()))
            .form(&[("grant_type", CIBA_GRANT), ("auth_req_id", auth_req_id)])
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status == StatusCode::OK {
            return serde_json::from_slice(&body)
                .map(TokenAnswer::Tokens)
                .map_err(|e| {
                    Error(format!(
                        "the token answer has no tokens ({e}): {}",
                        excerpt(&body, 120)
                    ))
                });
        }
        let error = oauth_error(status, &body);
        Ok(match error.error.as_str() {
            "authorization_pending" => TokenAnswer::Pending,
            "slow_down" => TokenAnswer::SlowDown,
            "access_denied" => TokenAnswer::Denied,
            "expired_token" => TokenAnswer::Expired,
            _ => TokenAnswer::Other {
                status: status.as_u16(),
                body: excerpt(&body, 200),
            },
        })
    }

    /// Polls until the answer is no longer pending or `patience` has passed: at once, then every
    /// `interval`, five seconds longer after each `slow_down`.
    pub async fn wait_for_answer(
        &self,
        auth_req_id: &str,
        interval: Duration,
        patience: Duration,
    ) -> Result<TokenAnswer> {
        let deadline = tokio::time::Instant::now() + patience;
        let mut interval = interval;
        loop {
            let answer = self.poll_token(auth_req_id).await?;
            match answer {
                TokenAnswer::Pending => {}
                TokenAnswer::SlowDown => interval += Duration::from_secs(SLOW_DOWN_STEP_SECS),
                other => return Ok(other),
            }
            if tokio::time::Instant::now() + interval > deadline {
                return Ok(answer);
            }
            tokio::time::sleep(interval).await;
        }
    }
}

fn oauth_error(status: StatusCode, body: &[u8]) -> OAuthError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    OAuthError {
        status: status.as_u16(),
        error: json["error"].as_str().map_or_else(
            || format!("(no error code: {})", excerpt(body, 80)),
            str::to_owned,
        ),
        description: json["error_description"].as_str().map(str::to_owned),
    }
}
