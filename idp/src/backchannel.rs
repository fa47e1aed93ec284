//! `POST /connect/ciba`: a client asks us to authenticate a user who is somewhere else (CIBA Core §7).
//!
//! The request is validated in the order the spec lists its parameters, stored, and answered with the
//! `auth_req_id` the client will poll with. The user learns of it through Web Push to their subscribed
//! devices ([`crate::push`], queued, never waited for) and the deep link we log.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::clock::now;
use crate::db::NewRequest;
use crate::limits::Limited;
use crate::oauth::{FormParams, OAuthError, authenticate_client, random_token};
use crate::scopes::Scopes;
use crate::state::AppState;

pub async fn backchannel_authentication(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, OAuthError> {
    let params = FormParams::parse(&headers, &body?)?;
    let config = &state.config;
    let client = authenticate_client(config, &headers, &params)?;
    // Every call counts against the client; only valid ones (each a prompt) against the user, below.
    state
        .limits
        .backchannel_client(&client.client_id)
        .map_err(|limited| too_many(limited, "from this client"))?;
    if !client.allow_ciba {
        return Err(OAuthError::new(
            "unauthorized_client",
            "This client may not use CIBA.",
        ));
    }
    if params.get("request").is_some() {
        return Err(OAuthError::invalid_request(
            "Signed authentication requests are not supported.",
        ));
    }

    let scopes = Scopes::parse(params.require("scope")?);
    if !scopes.contains("openid") {
        return Err(OAuthError::invalid_request(
            "The 'openid' scope is required.",
        ));
    }
    if let Some(bad) = scopes
        .iter()
        .find(|s| !client.allowed_scopes.iter().any(|a| a == s))
    {
        return Err(OAuthError::new(
            "invalid_scope",
            format!("The scope '{bad}' is not allowed."),
        ));
    }

    let hints = ["login_hint", "id_token_hint", "login_hint_token"];
    match hints.iter().filter(|h| params.get(h).is_some()).count() {
        1 => {}
        0 => {
            return Err(OAuthError::invalid_request(
                "One of login_hint, id_token_hint or login_hint_token is required.",
            ));
        }
        _ => return Err(OAuthError::invalid_request("Only one hint may be given.")),
    }
    let login_hint = params
        .get("login_hint")
        .ok_or_else(|| OAuthError::invalid_request("Only login_hint is supported."))?;
    let user = config.user_by_username(login_hint).ok_or_else(|| {
        OAuthError::new(
            "unknown_user_id",
            "The login_hint does not identify a user.",
        )
    })?;

    let binding_message = match params.get("binding_message") {
        None => None,
        Some(message) => Some(config.binding_message.accept(message).ok_or_else(|| {
            OAuthError::new(
                "invalid_binding_message",
                format!(
                    "The binding message must be 1 to {} visible characters, with no direction \
                     controls, invisible characters or line breaks.",
                    config.binding_message.max_chars
                ),
            )
        })?),
    };
    let binding_message = binding_message.as_deref();
    // The code check's look-alikes are made now, once, so a reload shows the same three.
    let code_choices = binding_message
        .filter(|_| client.verify_binding_message)
        .map(crate::code_check::choices);

    let expires_in = match params.get("requested_expiry") {
        None => client.default_expiry_secs,
        // A positive JSON-number-like integer (CIBA Core §7.1): digits only, no sign, no leading zero.
        Some(text) => Some(text)
            .filter(|t| t.bytes().all(|b| b.is_ascii_digit()) && !t.starts_with('0'))
            .and_then(|t| t.parse::<u32>().ok())
            .filter(|secs| (1..=client.max_expiry_secs).contains(secs))
            .ok_or_else(|| {
                OAuthError::invalid_request(format!(
                    "requested_expiry must be a whole number of seconds from 1 to {}.",
                    client.max_expiry_secs
                ))
            })?,
    };
    let acr_values = params.get("acr_values").unwrap_or("");

    let now = now();
    let internal_id = uuid::Uuid::new_v4().simple().to_string();
    state
        .limits
        .backchannel_user(&user.subject)
        .map_err(|limited| too_many(limited, "for this user"))?;
    let auth_req_id = random_token();
    state
        .db
        .insert_request(&NewRequest {
            internal_id: &internal_id,
            auth_req_id: &auth_req_id,
            client_id: &client.client_id,
            subject: &user.subject,
            scopes: &scopes,
            binding_message,
            binding_message_choices: code_choices.as_deref(),
            acr_values,
            resource_indicators: &params.resources().join(" "),
            created_at: now,
            expires_at: now + i64::from(expires_in),
            interval_secs: i64::from(config.poll_interval_secs),
        })
        .await?;
    tracing::info!(
        client = %client.client_id,
        "login request created; notification link: {}/ciba?id={internal_id}",
        state.issuer
    );
    tracing::debug!(
        binding_message = binding_message.unwrap_or(""),
        "login request binding message"
    );
    crate::push::request_created(
        &state,
        crate::push::NewRequestPush {
            internal_id,
            subject: user.subject.clone(),
            client_name: client.client_name.clone(),
            // With the code check, the person must read the code on the other device, not here.
            binding_message: binding_message
                .filter(|_| !client.verify_binding_message)
                .map(str::to_owned),
            expires_at: now + i64::from(expires_in),
        },
    );

    Ok(Json(json!({
        "auth_req_id": auth_req_id,
        "expires_in": expires_in,
        "interval": config.poll_interval_secs,
    })))
}

/// Over a rate limit: 429 with the CIBA error that tells a client to back off.
fn too_many(limited: Limited, whose: &str) -> OAuthError {
    OAuthError {
        status: StatusCode::TOO_MANY_REQUESTS,
        error: "slow_down",
        description: format!(
            "Too many sign-in requests {whose}; try again in {} s.",
            limited.retry_after_secs()
        ),
    }
}
