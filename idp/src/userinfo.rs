//! `GET|POST /connect/userinfo`: claims about the user, for a bearer access token.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::AppState;
use crate::oauth::token_hash;

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(bearer) = bearer else {
        return unauthorized("Bearer realm=\"ciba-idp\"");
    };
    let token = match state
        .db
        .live_token(&token_hash(bearer.trim()), crate::now())
        .await
    {
        Ok(Some(token)) if token.kind == "access" => token,
        Ok(_) => return unauthorized("Bearer error=\"invalid_token\""),
        Err(error) => {
            tracing::error!("userinfo lookup failed: {error}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let granted = |scope: &str| token.scopes.split(' ').any(|s| s == scope);
    let mut claims = json!({ "sub": token.subject });
    if let Some(user) = state.config.user_by_subject(&token.subject) {
        if granted("profile") {
            claims["name"] = Value::from(user.name.as_str());
        }
        if granted("email")
            && let Some(email) = &user.email
        {
            claims["email"] = Value::from(email.as_str());
        }
    }
    Json(claims).into_response()
}

fn unauthorized(challenge: &'static str) -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}
