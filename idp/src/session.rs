//! The browser session: who is signed in, since when, and the extractor that insists on it.
//!
//! The cookie only carries an id; everything else lives server-side, so signing out really ends the
//! session and the SPA never handles a credential.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::clock::now;
use crate::config::{CookieSameSite, User};
use crate::problem::ApiProblem;
use crate::session_store::SqliteSessions;
use crate::state::AppState;

pub const SUBJECT_KEY: &str = "subject";
pub const AUTH_TIME_KEY: &str = "auth_time";
pub const COOKIE_NAME: &str = "ciba_session";
/// The sign-in form's anti-forgery cookie (account.rs): set with the session cookie's attributes, so
/// an embedded sign-in works wherever the session itself would.
pub const FORM_COOKIE_NAME: &str = "ciba_form";

/// The `SameSite` both cookies carry: the embedding configuration's.
pub fn same_site(state: &AppState) -> SameSite {
    match state.config.embedding.cookie_same_site {
        CookieSameSite::Lax => SameSite::Lax,
        CookieSameSite::Strict => SameSite::Strict,
        CookieSameSite::None => SameSite::None,
    }
}

/// Both cookies are `Secure` exactly when the issuer is on https.
pub fn secure(state: &AppState) -> bool {
    state.issuer.starts_with("https://")
}

/// The session cookie and its store: `HttpOnly`, the embedding's `SameSite`, `Secure` on an https
/// issuer, ended after `session_idle_timeout_secs` without a request.
pub fn layer(state: &AppState) -> SessionManagerLayer<SqliteSessions> {
    SessionManagerLayer::new(SqliteSessions::new(state.db.pool().clone()))
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(same_site(state))
        .with_secure(secure(state))
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(i64::from(
            state.config.session_idle_timeout_secs,
        ))))
        // Saved (and so extended) on every request, not only when it changes: otherwise the idle
        // timeout would count from sign-in and end the session of a user who is busy with it.
        .with_always_save(true)
}

/// Adds `Partitioned` (CHIPS) to the session and sign-in form cookies, which tower-sessions cannot set
/// itself: a portal on another site then still gets a session in browsers that block third-party
/// cookies, kept apart from the one the user has on our own site.
pub async fn partition_cookie(mut response: Response) -> Response {
    let cookies: Vec<HeaderValue> = response
        .headers_mut()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    if cookies.is_empty() {
        return response;
    }
    let headers = response.headers_mut();
    headers.remove(header::SET_COOKIE);
    for cookie in cookies {
        let partitioned = cookie
            .to_str()
            .ok()
            .filter(|text| {
                [COOKIE_NAME, FORM_COOKIE_NAME].iter().any(|name| {
                    text.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with('='))
                }) && !text.contains("; Partitioned")
            })
            .and_then(|text| HeaderValue::from_str(&format!("{text}; Partitioned")).ok());
        headers.append(header::SET_COOKIE, partitioned.unwrap_or(cookie));
    }
    response
}

/// The signed-in user of this request; a handler taking it answers 401 to everyone else.
pub struct CurrentUser {
    pub user: User,
    pub auth_time: i64,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiProblem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, message)| ApiProblem::Internal(anyhow::anyhow!(message)))?;
        let subject: Option<String> = session
            .get(SUBJECT_KEY)
            .await
            .map_err(anyhow::Error::from)?;
        let auth_time: Option<i64> = session
            .get(AUTH_TIME_KEY)
            .await
            .map_err(anyhow::Error::from)?;
        // A user removed from the configuration loses their sessions with it.
        let user = subject.and_then(|subject| state.config.user_by_subject(&subject).cloned());
        match (user, auth_time) {
            (Some(user), Some(auth_time)) if !state.config.sign_in_expired(auth_time, now()) => {
                Ok(Self { user, auth_time })
            }
            (_, Some(_)) => {
                // Past its absolute lifetime (or its user is gone): end it here, not just refuse it.
                session.flush().await.map_err(anyhow::Error::from)?;
                Err(ApiProblem::Unauthorized)
            }
            _ => Err(ApiProblem::Unauthorized),
        }
    }
}
