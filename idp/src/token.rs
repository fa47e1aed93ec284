//! `POST /connect/token`: the client polls with its `auth_req_id` until the user decides (CIBA Core §10),
//! and later trades refresh tokens for fresh access tokens.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use ciba_contract::Outcome;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::clock::now;
use crate::config::Client;
use crate::db::{NewToken, RequestRow, TokenKind};
use crate::discovery::CIBA_GRANT;
use crate::oauth::{FormParams, OAuthError, authenticate_client, random_token, token_hash};
use crate::scopes::Scopes;
use crate::state::AppState;

/// RFC 8628 §3.5, adopted by CIBA: each `slow_down` adds five seconds to the interval for good.
const SLOW_DOWN_STEP_SECS: i64 = 5;

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, OAuthError> {
    let params = FormParams::parse(&headers, &body?)?;
    let client = authenticate_client(&state.config, &headers, &params)?;
    match params.require("grant_type")? {
        CIBA_GRANT => ciba_grant(&state, client, &params).await,
        "refresh_token" => refresh_grant(&state, client, &params).await,
        _ => Err(OAuthError::new(
            "unsupported_grant_type",
            "This grant type is not supported.",
        )),
    }
}

async fn ciba_grant(
    state: &AppState,
    client: &Client,
    params: &FormParams,
) -> Result<Json<Value>, OAuthError> {
    if !client.allow_ciba {
        return Err(OAuthError::new(
            "unauthorized_client",
            "This client may not use CIBA.",
        ));
    }
    let auth_req_id = params.require("auth_req_id")?;
    let request = state
        .db
        .request_by_auth_req_id(auth_req_id)
        .await?
        // Another client's id is as unknown to this client as a made-up one.
        .filter(|r| r.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("The auth_req_id is unknown."))?;
    if request.redeemed_at.is_some() {
        return Err(OAuthError::invalid_grant(
            "The auth_req_id was already used.",
        ));
    }
    let now = now();
    let answer = match request.outcome {
        Some(Outcome::Denied) => Err(OAuthError::new(
            "access_denied",
            "The user denied the request.",
        )),
        _ if request.is_expired(now) => Err(OAuthError::new(
            "expired_token",
            "The auth_req_id has expired.",
        )),
        Some(Outcome::Approved) => issue_for_approved(state, client, &request, now).await,
        None => return Err(pending(state, &request, now).await?),
    };
    // Duende forgets a decided request once the client has its answer; the approval API then says 404.
    let answered = answer.is_ok() || request.outcome == Some(Outcome::Denied);
    if answered && state.config.duende.remove_decided_on_poll {
        state.db.remove(&request.internal_id).await?;
    }
    answer
}

/// The answer while the user has not decided: `slow_down` when polled faster than the interval.
async fn pending(
    state: &AppState,
    request: &RequestRow,
    now: i64,
) -> Result<OAuthError, OAuthError> {
    let too_fast = request
        .last_polled_at
        .is_some_and(|last| now - last < request.interval_secs);
    let interval = request.interval_secs + if too_fast { SLOW_DOWN_STEP_SECS } else { 0 };
    state
        .db
        .record_poll(&request.internal_id, now, interval)
        .await?;
    Ok(if too_fast {
        OAuthError::new(
            "slow_down",
            format!("Poll at most every {interval} seconds."),
        )
    } else {
        OAuthError::new("authorization_pending", "The user has not decided yet.")
    })
}

async fn issue_for_approved(
    state: &AppState,
    client: &Client,
    request: &RequestRow,
    now: i64,
) -> Result<Json<Value>, OAuthError> {
    if !state.db.redeem(&request.internal_id, now).await? {
        return Err(OAuthError::invalid_grant(
            "The auth_req_id was already used.",
        ));
    }
    let scopes = request.granted_scopes.clone().unwrap_or_default();
    let auth_time = request.session_auth_time.unwrap_or(now);
    let grant = Grant {
        client,
        subject: &request.subject,
        scopes: &scopes,
        auth_time,
        now,
    };
    let mut response = issue_tokens(state, &grant).await?;
    response["id_token"] = json!(id_token(state, &grant)?);
    Ok(Json(response))
}

async fn refresh_grant(
    state: &AppState,
    client: &Client,
    params: &FormParams,
) -> Result<Json<Value>, OAuthError> {
    let presented = token_hash(params.require("refresh_token")?);
    let now = now();
    let stored = state
        .db
        .live_token(&presented, now)
        .await?
        .filter(|t| t.kind == TokenKind::Refresh && t.client_id == client.client_id)
        .ok_or_else(|| OAuthError::invalid_grant("The refresh token is invalid."))?;
    // Rotation: each refresh token works once.
    if !state.db.revoke_token(&presented, now).await? {
        return Err(OAuthError::invalid_grant("The refresh token is invalid."));
    }
    let grant = Grant {
        client,
        subject: &stored.subject,
        scopes: &stored.scopes,
        auth_time: stored.auth_time,
        now,
    };
    let response = issue_tokens(state, &grant).await?;
    Ok(Json(response))
}

/// What tokens are issued for: the client, the user, the scopes they granted, when they signed in,
/// and now.
struct Grant<'a> {
    client: &'a Client,
    subject: &'a str,
    scopes: &'a Scopes,
    auth_time: i64,
    now: i64,
}

/// Stores and returns a new access token, plus a refresh token when `offline_access` was granted.
async fn issue_tokens(state: &AppState, grant: &Grant<'_>) -> Result<Value, OAuthError> {
    let &Grant {
        client,
        subject,
        scopes,
        auth_time,
        now,
    } = grant;
    let lifetime = i64::from(state.config.access_token_lifetime_secs);
    let access_token = random_token();
    let token = |hash, kind, expires_at| NewToken {
        token_hash: hash,
        kind,
        client_id: &client.client_id,
        subject,
        scopes,
        auth_time,
        expires_at,
    };
    let access_hash = token_hash(&access_token);
    state
        .db
        .insert_token(&token(
            &access_hash,
            TokenKind::Access,
            Some(now + lifetime),
        ))
        .await?;
    let mut response = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scopes.to_string(),
    });
    if scopes.contains("offline_access") {
        let refresh_token = random_token();
        let refresh_hash = token_hash(&refresh_token);
        state
            .db
            .insert_token(&token(&refresh_hash, TokenKind::Refresh, None))
            .await?;
        response["refresh_token"] = json!(refresh_token);
    }
    Ok(response)
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    /// What the granted scopes release about the user (`name`, `email`).
    #[serde(flatten)]
    user: Map<String, Value>,
}

fn id_token(state: &AppState, grant: &Grant<'_>) -> Result<String, OAuthError> {
    let claims = IdTokenClaims {
        iss: &state.issuer,
        sub: grant.subject,
        aud: &grant.client.client_id,
        exp: grant.now + 300,
        iat: grant.now,
        auth_time: grant.auth_time,
        user: state
            .config
            .user_by_subject(grant.subject)
            .map(|user| crate::claims::for_scopes(user, grant.scopes))
            .unwrap_or_default(),
    };
    Ok(state.keys.sign(&claims)?)
}
