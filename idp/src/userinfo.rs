//! `GET|POST /connect/userinfo`: claims about the user, for a bearer access token.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::clock::now;
use crate::db::TokenKind;
use crate::oauth::token_hash;
use crate::state::AppState;

/// Why userinfo refuses, answered as RFC 6750 §3 says: 401 with a `WWW-Authenticate: Bearer` challenge.
#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    /// No bearer token at all: the challenge names no error (§3.1).
    #[error("no bearer token")]
    MissingToken,
    /// Unknown, expired, revoked, or not an access token.
    #[error("invalid bearer token")]
    InvalidToken,
    #[error("userinfo lookup failed: {0}")]
    Internal(#[from] sqlx::Error),
}

impl IntoResponse for UserinfoError {
    fn into_response(self) -> Response {
        let challenge = match self {
            Self::MissingToken => "Bearer realm=\"ciba-idp\"",
            Self::InvalidToken => "Bearer error=\"invalid_token\"",
            Self::Internal(error) => {
                tracing::error!("userinfo lookup failed: {error}");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            )],
        )
            .into_response()
    }
}

pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, UserinfoError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(UserinfoError::MissingToken)?;
    let token = state
        .db
        .live_token(&token_hash(bearer.trim()), now())
        .await?
        .filter(|token| token.kind == TokenKind::Access)
        .ok_or(UserinfoError::InvalidToken)?;
    let mut claims = state
        .config
        .user_by_subject(&token.subject)
        .map(|user| crate::claims::for_scopes(user, &token.scopes))
        .unwrap_or_default();
    claims.insert("sub".into(), Value::from(token.subject));
    Ok(Json(Value::Object(claims)))
}

#[cfg(test)]
mod tests {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;

    use super::UserinfoError;

    /// RFC 6750 §3: a request without a token gets a bare challenge, a bad token `invalid_token`.
    #[test]
    fn refusals_are_bearer_challenges() {
        for (error, challenge) in [
            (UserinfoError::MissingToken, "Bearer realm=\"ciba-idp\""),
            (
                UserinfoError::InvalidToken,
                "Bearer error=\"invalid_token\"",
            ),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(response.headers()[header::WWW_AUTHENTICATE], challenge);
        }
        let failed = UserinfoError::Internal(sqlx::Error::PoolTimedOut).into_response();
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!failed.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
