//! Step 2, before any request: the page subscribes this device to Web Push (`/api/ciba/push…`), so
//! [`crate::push`] can tell it about the next request. Same session, CSRF and Origin rules as
//! `/api/ciba/complete`; every refusal of a subscription is a 400 that says what is wrong with it.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use ciba_contract::{Problem, PushSettings, PushSubscription, PushUnsubscribe};
use tower_sessions::Session;

use crate::approval::check_csrf;
use crate::clock::now;
use crate::db::PushSubscriptionRow;
use crate::problem::ApiProblem;
use crate::push::SubscriberKeys;
use crate::session::CurrentUser;
use crate::session_store::id_hash;
use crate::state::AppState;

/// What the page needs to subscribe: the VAPID public key.
#[utoipa::path(get, path = "/api/ciba/push", tag = "ciba",
    responses(
        (status = 200, description = "The VAPID public key for pushManager.subscribe", body = PushSettings),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn push_settings(
    State(state): State<AppState>,
    _current: CurrentUser,
) -> Json<PushSettings> {
    Json(PushSettings {
        vapid_public_key: state.push.public_key().to_owned(),
    })
}

/// Stores this device's subscription for the signed-in user (the same endpoint again replaces it,
/// whoever had it). A user keeps `[push] max_subscriptions_per_user`; beyond that the oldest goes.
#[utoipa::path(post, path = "/api/ciba/push/subscriptions", tag = "ciba",
    params(("X-CSRF" = String, Header, description = "Must be 1")),
    request_body = PushSubscription,
    responses(
        (status = 201, description = "Stored"),
        (status = 400, description = "Malformed body; an endpoint that is not https on a public host, longer than \
1024 characters or carries credentials; keys that do not decode to a P-256 point (p256dh) or 16 bytes (auth)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing X-CSRF header or a foreign Origin", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn subscribe(
    State(state): State<AppState>,
    current: CurrentUser,
    session: Session,
    headers: HeaderMap,
    body: Result<Json<PushSubscription>, JsonRejection>,
) -> Result<StatusCode, ApiProblem> {
    check_csrf(&state, &headers)?;
    let Json(subscription) = body?;
    let endpoint = state
        .push
        .check_endpoint(&subscription.endpoint)
        .map_err(|error| ApiProblem::BadRequest(error.to_string()))?;
    SubscriberKeys::decode(&subscription.keys.p256dh, &subscription.keys.auth)
        .map_err(|error| ApiProblem::BadRequest(error.to_string()))?;
    let row = PushSubscriptionRow {
        // As parsed, so the endpoint we send to is the one we checked.
        endpoint: endpoint.to_string(),
        subject: current.user.subject,
        p256dh: subscription.keys.p256dh.trim_end_matches('=').to_owned(),
        auth: subscription.keys.auth.trim_end_matches('=').to_owned(),
    };
    let session_hash = session.id().map(|id| id_hash(&id));
    state
        .db
        .save_push_subscription(
            &row,
            session_hash.as_deref(),
            now(),
            state.push.max_subscriptions(),
        )
        .await?;
    tracing::info!(origin = %endpoint.origin().ascii_serialization(), "push subscription stored");
    Ok(StatusCode::CREATED)
}

/// Forgets one of the signed-in user's subscriptions (another user's stays): 204 either way.
#[utoipa::path(delete, path = "/api/ciba/push/subscriptions", tag = "ciba",
    params(("X-CSRF" = String, Header, description = "Must be 1")),
    request_body = PushUnsubscribe,
    responses(
        (status = 204, description = "Not (or no longer) subscribed"),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing X-CSRF header or a foreign Origin", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    body: Result<Json<PushUnsubscribe>, JsonRejection>,
) -> Result<StatusCode, ApiProblem> {
    check_csrf(&state, &headers)?;
    let Json(unsubscribe) = body?;
    // Stored as parsed; an endpoint that does not parse was never stored.
    let endpoint = url::Url::parse(&unsubscribe.endpoint)
        .map(String::from)
        .unwrap_or(unsubscribe.endpoint);
    state
        .db
        .delete_push_subscription(&endpoint, &current.user.subject)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
