//! Sign-in and sign-out: a plain server-rendered form, so it works before any script loads.

use std::net::SocketAddr;

use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::clock::now;
use crate::keys::FORM_TOKEN_LIFETIME_SECS;
use crate::session::{self, AUTH_TIME_KEY, FORM_COOKIE_NAME, SUBJECT_KEY};
use crate::state::AppState;
use tower_sessions::cookie::Cookie;

/// Where a sign-in without (or with a refused) `ReturnUrl` lands.
pub const DEFAULT_RETURN: &str = "/ciba/";

/// Verified against when the username is unknown, so a wrong name costs as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Wv3ysuSdEh8d4QYBlCKsc6Ud9ZtfcIwKFIlpbgG9U6Y";

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(rename = "ReturnUrl")]
    return_url: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(rename = "ReturnUrl", default)]
    return_url: String,
    #[serde(default)]
    form_token: String,
}

/// Only a path on this site may be a `ReturnUrl`; anything else would make sign-in an open redirect.
pub fn local_return_url(candidate: Option<&str>) -> &str {
    match candidate {
        Some(url)
            if url.starts_with('/')
                && !url.starts_with("//")
                && !url.contains('\\')
                && !url.chars().any(char::is_control) =>
        {
            url
        }
        _ => DEFAULT_RETURN,
    }
}

/// The sign-in form. Its anti-forgery token is signed and goes both into the form and into a cookie
/// (double submit): nothing is stored server-side until someone has signed in.
pub async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Response {
    let return_url = local_return_url(query.return_url.as_deref()).to_owned();
    login_form(&state, StatusCode::OK, &return_url, "", None)
}

fn login_form(
    state: &AppState,
    status: StatusCode,
    return_url: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    with_form_token(state, |token| {
        render(status, return_url, username, token, error)
    })
}

/// A page whose form carries a fresh anti-forgery token, also set in the form cookie (double
/// submit; checked by [`form_token_ok`]): the sign-in form and the sign-out prompt alike.
fn with_form_token(state: &AppState, page: impl FnOnce(&str) -> Response) -> Response {
    let token = state.keys.form_token(now());
    let mut response = page(&token);
    // The session cookie's attributes (`session::partition_cookie` adds `Partitioned` to both).
    let cookie = Cookie::build((FORM_COOKIE_NAME, token))
        .path("/Account")
        .http_only(true)
        .same_site(session::same_site(state))
        .secure(session::secure(state))
        .max_age(time::Duration::seconds(FORM_TOKEN_LIFETIME_SECS));
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The form's token is genuine, fresh, and the one this browser was given.
fn form_token_ok(state: &AppState, headers: &HeaderMap, submitted: &str) -> bool {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == FORM_COOKIE_NAME)
        .map(|(_, value)| value);
    cookie.is_some_and(|cookie| bool::from(cookie.as_bytes().ct_eq(submitted.as_bytes())))
        && state.keys.verify_form_token(submitted, now())
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, AccountError> {
    // Before anything touches the session: answering a foreign page's post with a fresh sign-in form
    // would set a new session cookie over the user's, signing them out from another site.
    if crate::origin::is_foreign(&state, &headers) {
        return Err(AccountError::ForeignSignIn);
    }
    let return_url = local_return_url(Some(&form.return_url)).to_owned();
    if let Err(limited) = state.limits.login(form.username.trim(), peer.ip()) {
        // Checked before the password, so guessing costs the same whether the guess is right or not.
        let message = format!(
            "Too many sign-in attempts. Wait {} seconds and try again.",
            limited.retry_after_secs()
        );
        return Ok(login_form(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &return_url,
            &form.username,
            Some(&message),
        ));
    }
    let token_ok = form_token_ok(&state, &headers, &form.form_token);
    let user = state.config.user_by_username(form.username.trim());
    let hash = user.map_or(DUMMY_HASH, |u| u.password_hash.as_str());
    let password_ok = PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(form.password.as_bytes(), &parsed)
            .is_ok()
    });

    let error = match (token_ok, user, password_ok) {
        (false, _, _) => "The sign-in form expired. Please sign in again.",
        (true, Some(user), true) => {
            // A fresh id on sign-in, so a session id planted before sign-in is worth nothing after.
            session.cycle_id().await?;
            session.insert(SUBJECT_KEY, &user.subject).await?;
            session.insert(AUTH_TIME_KEY, now()).await?;
            tracing::info!(subject = %user.subject, "signed in");
            return Ok(Redirect::to(&return_url).into_response());
        }
        _ => "The username or password is not correct.",
    };
    Ok(login_form(
        &state,
        StatusCode::BAD_REQUEST,
        &return_url,
        &form.username,
        Some(error),
    ))
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    form_token: String,
    #[serde(rename = "ReturnUrl", default)]
    return_url: String,
}

/// Sign-out asks first, as the Duende template's `/Account/Logout` does: the SPA only navigates here,
/// so the same page works against a real host. Nobody signed in: nothing to ask.
pub async fn logout_page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> Result<Response, AccountError> {
    let return_url = local_return_url(query.return_url.as_deref()).to_owned();
    let subject: Option<String> = session.get(SUBJECT_KEY).await.ok().flatten();
    if subject.is_none() {
        return Ok(Redirect::to(LOGGED_OUT).into_response());
    }
    Ok(with_form_token(&state, |token| {
        render_logout(StatusCode::OK, &return_url, token, None)
    }))
}

/// Ends the session server-side, for a post from our own prompt only: its anti-forgery token (like
/// the template's) and, where the browser sends one, our own `Origin`.
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Result<Response, AccountError> {
    if crate::origin::is_foreign(&state, &headers) {
        return Err(AccountError::ForeignSignOut);
    }
    let form = form.map(|Form(form)| form).ok();
    let return_url =
        local_return_url(form.as_ref().map(|form| form.return_url.as_str())).to_owned();
    let token_ok = form
        .as_ref()
        .is_some_and(|form| form_token_ok(&state, &headers, &form.form_token));
    if !token_ok {
        let subject: Option<String> = session.get(SUBJECT_KEY).await.ok().flatten();
        if subject.is_none() {
            return Ok(Redirect::to(LOGGED_OUT).into_response());
        }
        return Ok(with_form_token(&state, |token| {
            render_logout(
                StatusCode::BAD_REQUEST,
                &return_url,
                token,
                Some("The sign-out form expired. Please confirm again."),
            )
        }));
    }
    if let Some(id) = session.id() {
        crate::push::forget_session(&state, &id).await;
    }
    session.flush().await?;
    tracing::info!("signed out");
    Ok(Redirect::to(LOGGED_OUT).into_response())
}

/// Where a sign-out ends, like the template's `/Account/Logout/LoggedOut`.
pub const LOGGED_OUT: &str = "/Account/LoggedOut";

pub async fn logged_out_page() -> Response {
    page(
        StatusCode::OK,
        "Signed out",
        html! {
            h1 { "You are signed out" }
            p { "Sign-in requests wait for you until they expire." }
            // The login page returns to the list by default.
            a class="button" href="/Account/Login" { "Sign in again" }
        },
    )
}

fn render_logout(
    status: StatusCode,
    return_url: &str,
    form_token: &str,
    error: Option<&str>,
) -> Response {
    page(
        status,
        "Sign out",
        html! {
            h1 { "Sign out?" }
            p { "Requests waiting for you stay until they expire; you can sign in again to decide them." }
            form method="post" action="/Account/Logout" {
                @if let Some(error) = error {
                    p role="alert" class="error" { (error) }
                }
                input type="hidden" name="form_token" value=(form_token);
                input type="hidden" name="ReturnUrl" value=(return_url);
                button type="submit" id="confirm-sign-out" { "Yes, sign out" }
                a class="button button--quiet" href=(return_url) { "No, go back" }
            }
        },
    )
}

/// What the account pages answer in plain text rather than with a page.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A sign-in posted from another site's page.
    #[error("Sign-in must come from this site's own form.")]
    ForeignSignIn,
    /// A sign-out posted from another site's page.
    #[error("Sign-out must come from this site's own form.")]
    ForeignSignOut,
    #[error("The session could not be stored. Please try again.")]
    Session(#[from] tower_sessions::session::Error),
}

impl IntoResponse for AccountError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::ForeignSignIn | Self::ForeignSignOut => StatusCode::FORBIDDEN,
            Self::Session(error) => {
                tracing::error!("session store failed: {error}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        (status, self.to_string()).into_response()
    }
}

fn render(
    status: StatusCode,
    return_url: &str,
    username: &str,
    form_token: &str,
    error: Option<&str>,
) -> Response {
    page(
        status,
        "Sign in",
        html! {
            h1 { "Sign in" }
            p { "Sign in to review the sign-in requests waiting for you." }
            form method="post" action="/Account/Login" novalidate {
                @if let Some(error) = error {
                    p role="alert" id="login-error" class="error" { (error) }
                }
                input type="hidden" name="ReturnUrl" value=(return_url);
                input type="hidden" name="form_token" value=(form_token);
                label for="username" { "Username" }
                input id="username" name="username" type="text" autocomplete="username"
                    required autofocus value=(username)
                    aria-describedby=[error.map(|_| "login-error")];
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        },
    )
}

/// The account pages' frame: server-rendered, no script, one stylesheet.
fn page(status: StatusCode, title: &str, content: Markup) -> Response {
    let page: Markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // The site-wide `no-referrer` would make the browser send `Origin: null` with this
                // page's form post, the same as a `data:` page's; within the site, let it say who it is.
                meta name="referrer" content="same-origin";
                title { (title) }
                link rel="stylesheet" href="/Account/login.css";
            }
            body {
                main { (content) }
            }
        }
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(page.into_string()),
    )
        .into_response()
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("login.css"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_url_must_be_a_local_path() {
        assert_eq!(local_return_url(Some("/ciba?id=1")), "/ciba?id=1");
        for hostile in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a\nb",
            "",
        ] {
            assert_eq!(
                local_return_url(Some(hostile)),
                DEFAULT_RETURN,
                "{hostile:?}"
            );
        }
        assert_eq!(local_return_url(None), DEFAULT_RETURN);
    }

    #[tokio::test]
    async fn account_errors_answer_in_plain_text() {
        for (error, status, text) in [
            (
                AccountError::ForeignSignIn,
                StatusCode::FORBIDDEN,
                "Sign-in must come from this site's own form.",
            ),
            (
                AccountError::ForeignSignOut,
                StatusCode::FORBIDDEN,
                "Sign-out must come from this site's own form.",
            ),
            (
                AccountError::Session(tower_sessions::session::Error::Store(
                    tower_sessions::session_store::Error::Backend("down".into()),
                )),
                StatusCode::INTERNAL_SERVER_ERROR,
                "The session could not be stored. Please try again.",
            ),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), status);
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "text/plain; charset=utf-8"
            );
            let body = axum::body::to_bytes(response.into_body(), 1024)
                .await
                .unwrap();
            assert_eq!(body, text);
        }
    }

    #[test]
    fn dummy_hash_is_a_valid_argon2_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
