//! What the protocol endpoints share: form parsing, client authentication and OAuth error bodies.

use std::collections::HashMap;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::config::{Client, Config};

/// An OAuth 2.0 / CIBA error response (`error`, `error_description`).
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        // The status codes of CIBA Core §13 and RFC 6749 §5.2.
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!("storage failed: {error}");
        Self::new("server_error", "The request could not be processed.")
    }
}

impl From<anyhow::Error> for OAuthError {
    fn from(error: anyhow::Error) -> Self {
        tracing::error!("request failed: {error:#}");
        Self::new("server_error", "The request could not be processed.")
    }
}

/// A body over the limit (413) or one that could not be read, in OAuth's own error format.
impl From<axum::extract::rejection::BytesRejection> for OAuthError {
    fn from(rejection: axum::extract::rejection::BytesRejection) -> Self {
        Self {
            status: rejection.status(),
            error: "invalid_request",
            description: rejection.body_text(),
        }
    }
}

/// `GET /connect/token` and the like: 405 with `Allow`, and still an OAuth error body.
pub async fn method_not_allowed() -> Response {
    let mut response = OAuthError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        error: "invalid_request",
        description: "Use POST.".to_owned(),
    }
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"ciba-idp\""),
            );
        }
        response
    }
}

/// The parameters of an `application/x-www-form-urlencoded` request. OAuth forbids repeating a
/// parameter, except those listed as repeatable (RFC 8707's `resource`).
pub struct FormParams {
    single: HashMap<String, String>,
    resources: Vec<String>,
}

impl FormParams {
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, OAuthError> {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !content_type.starts_with("application/x-www-form-urlencoded") {
            return Err(OAuthError::invalid_request(
                "The body must be application/x-www-form-urlencoded.",
            ));
        }
        let mut single = HashMap::new();
        let mut resources = Vec::new();
        for (name, value) in form_urlencoded::parse(body) {
            if name == "resource" {
                resources.push(value.into_owned());
            } else if single
                .insert(name.to_string(), value.into_owned())
                .is_some()
            {
                return Err(OAuthError::invalid_request(format!(
                    "The parameter '{name}' is repeated."
                )));
            }
        }
        Ok(Self { single, resources })
    }

    /// A parameter, with an empty value counted as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.single
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name).ok_or_else(|| {
            OAuthError::invalid_request(format!("The parameter '{name}' is missing."))
        })
    }

    pub fn resources(&self) -> &[String] {
        &self.resources
    }
}

/// Authenticates the calling client by `client_secret_basic` or `client_secret_post` (one, not both).
pub fn authenticate_client<'c>(
    config: &'c Config,
    headers: &HeaderMap,
    params: &FormParams,
) -> Result<&'c Client, OAuthError> {
    // The scheme name is case-insensitive (RFC 7235 §2.1).
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, credentials)| credentials);
    let (client_id, secret) = match (basic, params.get("client_id"), params.get("client_secret")) {
        (Some(_), _, Some(_)) => {
            return Err(OAuthError::invalid_request(
                "Use one client authentication method, not two.",
            ));
        }
        (Some(encoded), body_id, None) => {
            let (id, secret) = decode_basic(encoded)
                .ok_or_else(|| OAuthError::new("invalid_client", "Malformed Basic credentials."))?;
            // A `client_id` in the body must name the same client (RFC 6749 §2.3.1 allows it).
            if body_id.is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::invalid_request(
                    "The client_id does not match the authenticated client.",
                ));
            }
            (id, secret)
        }
        (None, Some(id), Some(secret)) => (id.to_owned(), secret.to_owned()),
        _ => {
            return Err(OAuthError::new(
                "invalid_client",
                "Client authentication is required.",
            ));
        }
    };
    let client = config
        .client(&client_id)
        .filter(|client| bool::from(client.client_secret.as_bytes().ct_eq(secret.as_bytes())));
    client.ok_or_else(|| OAuthError::new("invalid_client", "Client authentication failed."))
}

/// RFC 6749 §2.3.1: id and secret are form-encoded before they are joined and base64-encoded.
fn decode_basic(encoded: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

/// A random, URL-safe secret of 256 bits (request ids, tokens).
pub fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Tokens are stored by hash only.
pub fn token_hash(token: &str) -> String {
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
}
