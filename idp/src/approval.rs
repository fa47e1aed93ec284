//! The approval API contract (`/api/ciba/…`): what the SPA speaks, and what a Duende host exposes over
//! `IBackchannelAuthenticationInteractionService`. The OpenAPI document is derived from these handlers.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ciba_contract::{
    CSRF_HEADER, CSRF_HEADER_VALUE, ClientInfo, CompleteRequest, CompletionError,
    EmbeddingSettings, LoginRequest, Outcome, Problem, ScopeInfo, SessionInfo,
};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;

use crate::clock::{now, rfc3339};
use crate::config::Scope;
use crate::db::{Decision, RequestRow};
use crate::problem::ApiProblem;
use crate::scopes::{Languages, Scopes};
use crate::session::CurrentUser;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ciba-approval API",
        version = "1.0.0",
        description = "The JSON endpoints an identity provider exposes so the ciba-approval page can list, show \
and complete CIBA login requests for the user of the browser session (cookie). Every error is an RFC 9457 \
problem document; every response carries Cache-Control: no-store."
    ),
    paths(
        session,
        embedding,
        list_requests,
        get_request,
        complete,
        crate::push_api::push_settings,
        crate::push_api::subscribe,
        crate::push_api::unsubscribe
    )
)]
pub struct ApiDoc;

/// The OpenAPI document, pretty-printed as committed in `contract/openapi.json`.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
        + "\n"
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

/// Which portals may embed the page; needs no session, because a framed page must be able to tell its
/// portal that the user has to sign in. The same list is the CSP `frame-ancestors`.
#[utoipa::path(get, path = "/api/ciba/embedding", tag = "ciba",
    responses((status = 200, description = "The allowed portal origins", body = EmbeddingSettings)))]
pub async fn embedding(State(state): State<AppState>) -> Json<EmbeddingSettings> {
    Json(EmbeddingSettings {
        allowed_origins: state.config.embedding.allowed_origins.clone(),
    })
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/ciba/session", tag = "ciba",
    responses(
        (status = 200, description = "The signed-in user", body = SessionInfo),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn session(current: CurrentUser) -> Json<SessionInfo> {
    Json(SessionInfo {
        subject: current.user.subject,
        name: current.user.name,
    })
}

/// Scope names and descriptions follow the page's language; caches must keep one answer per language.
const VARY_LANGUAGE: (header::HeaderName, HeaderValue) =
    (header::VARY, HeaderValue::from_static("Accept-Language"));

/// The current user's requests that are neither completed nor expired, newest first.
#[utoipa::path(get, path = "/api/ciba/requests", tag = "ciba",
    params(
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a previous answer"),
        ("Accept-Language" = Option<String>, Header,
            description = "The page's language: configured scopes are named in it where translated"),
    ),
    responses(
        (status = 200, description = "Pending requests, newest first; carries an ETag, which differs by \
Accept-Language; Vary: Accept-Language", body = Vec<LoginRequest>),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_requests(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    let languages = Languages::from_headers(&headers);
    let rows = state.db.pending_for(&current.user.subject, now()).await?;
    let requests: Vec<LoginRequest> = rows
        .iter()
        .map(|row| to_contract(&state, row, &languages))
        .collect();
    let body = serde_json::to_vec(&requests).map_err(anyhow::Error::from)?;
    // The language is part of the tag, so a page that switched language never gets a 304 for the
    // list it fetched in the other one.
    let mut digest = Sha256::new();
    digest.update(languages.key());
    digest.update([0]);
    digest.update(&body);
    let etag = format!("\"{}\"", hex(&digest.finalize()[..16]));
    let etag_value = HeaderValue::from_str(&etag).map_err(anyhow::Error::from)?;
    if if_none_match(&headers, &etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), VARY_LANGUAGE],
        )
            .into_response());
    }
    Ok((
        [
            VARY_LANGUAGE,
            (header::ETAG, etag_value),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        body,
    )
        .into_response())
}

/// One pending request of the current user.
#[utoipa::path(get, path = "/api/ciba/requests/{internalId}", tag = "ciba",
    params(
        ("internalId" = String, Path, description = "The request's internal id"),
        ("Accept-Language" = Option<String>, Header,
            description = "The page's language: configured scopes are named in it where translated"),
    ),
    responses(
        (status = 200, description = "The request; Vary: Accept-Language", body = LoginRequest),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown, another user's, expired or completed: one answer for all",
            body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_request(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(internal_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiProblem> {
    let row = state.db.request(&internal_id).await?;
    match row {
        Some(row) if is_pending_for(&row, &current) => {
            let request = to_contract(&state, &row, &Languages::from_headers(&headers));
            Ok(([VARY_LANGUAGE], Json(request)).into_response())
        }
        _ => Err(ApiProblem::NotFound),
    }
}

/// Approves (non-empty `scopesValuesConsented`) or denies (`null` or `[]`) a request. When the request's
/// `verifyBindingMessage` is true, an approval must carry the code the person picked from
/// `bindingMessageChoices` as `bindingMessage`; a wrong pick leaves the request open to Deny only.
#[utoipa::path(post, path = "/api/ciba/complete", tag = "ciba",
    params(("X-CSRF" = String, Header, description = "Must be 1")),
    request_body = CompleteRequest,
    responses(
        (status = 204, description = "Decided"),
        (status = 400, description = "Malformed body, a scope that was not requested, a required scope missing \
from a grant, or a description over 100 characters; with the code check on, an approval without `bindingMessage` \
(`type` https://ciba-approval.dev/problems/code-required) or with a pick that is not the binding message, or after \
such a pick (`type` https://ciba-approval.dev/problems/wrong-code: only Deny is accepted from then on)",
            body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid session", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing X-CSRF header or a foreign Origin", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "Unknown, another user's, expired or completed by someone else", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "This user already completed it; `outcome` says how", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn complete(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: HeaderMap,
    body: Result<Json<CompleteRequest>, JsonRejection>,
) -> Result<StatusCode, ApiProblem> {
    check_csrf(&state, &headers)?;
    let Json(mut completion) = body?;
    completion.description = completion
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());

    let row = state.db.request(&completion.internal_id).await?;
    let row = settled_or_pending(row, &current)?;
    // Checked by value, so the names' language does not matter.
    let request = to_contract(&state, &row, &Languages::default());
    check_code(&state, &row, &completion).await?;
    request
        .check_completion(&completion)
        .map_err(ApiProblem::Completion)?;

    let outcome = completion.outcome();
    // Stored in the order the client asked, so the token's `scope` reads predictably.
    let granted = completion
        .scopes_values_consented
        .as_deref()
        .unwrap_or_default();
    let granted_scopes: Scopes = request
        .scopes()
        .filter(|s| granted.contains(&s.value))
        .map(|s| s.value.as_str())
        .collect();
    let decision = Decision {
        outcome,
        granted_scopes: (outcome == Outcome::Approved).then_some(&granted_scopes),
        description: completion.description.as_deref(),
        session_auth_time: current.auth_time,
    };
    if state
        .db
        .complete(&row.internal_id, &current.user.subject, now(), &decision)
        .await?
    {
        tracing::info!(internal_id = %row.internal_id, outcome = outcome.as_str(), "login request completed");
        crate::push::request_decided(&state, &row.internal_id, &row.subject);
        return Ok(StatusCode::NO_CONTENT);
    }
    // Lost a race with another tab or a retry (or a wrong pick that locked it): report what won.
    let row = state.db.request(&row.internal_id).await?;
    let row = settled_or_pending(row, &current)?;
    if row.code_locked && outcome == Outcome::Approved {
        return Err(ApiProblem::Completion(CompletionError::WrongCode));
    }
    Err(ApiProblem::NotFound)
}

/// The code check, enforced: with it on, an approval needs the person's pick, and the pick must be the
/// binding message. A wrong pick locks the request, so guessing again is no use; a denial needs no pick.
async fn check_code(
    state: &AppState,
    row: &RequestRow,
    completion: &CompleteRequest,
) -> Result<(), ApiProblem> {
    if completion.outcome() == Outcome::Denied || row.binding_message_choices.is_none() {
        return Ok(());
    }
    if row.code_locked {
        return Err(ApiProblem::Completion(CompletionError::WrongCode));
    }
    match &completion.binding_message {
        None => Err(ApiProblem::Completion(CompletionError::CodeRequired)),
        Some(pick) if Some(pick) == row.binding_message.as_ref() => Ok(()),
        Some(_) => {
            state.db.lock_code(&row.internal_id).await?;
            tracing::info!(internal_id = %row.internal_id, "wrong code picked; only Deny is left");
            Err(ApiProblem::Completion(CompletionError::WrongCode))
        }
    }
}

/// The row if it is still pending for this user; 409 if this user already decided it; 404 otherwise.
fn settled_or_pending(
    row: Option<RequestRow>,
    current: &CurrentUser,
) -> Result<RequestRow, ApiProblem> {
    let row = row
        .filter(|r| r.subject == current.user.subject)
        .ok_or(ApiProblem::NotFound)?;
    match row.outcome {
        Some(outcome) => Err(ApiProblem::AlreadyDecided(outcome)),
        None if row.is_expired(now()) => Err(ApiProblem::NotFound),
        None => Ok(row),
    }
}

fn is_pending_for(row: &RequestRow, current: &CurrentUser) -> bool {
    row.subject == current.user.subject && row.outcome.is_none() && !row.is_expired(now())
}

/// A same-origin script can set `X-CSRF`; a cross-site form cannot, and a cross-site fetch that tries
/// needs a CORS preflight we never grant. `Origin`, where sent, must be ours too.
pub(crate) fn check_csrf(state: &AppState, headers: &HeaderMap) -> Result<(), ApiProblem> {
    if headers
        .get(CSRF_HEADER)
        .is_none_or(|v| v != CSRF_HEADER_VALUE)
    {
        return Err(ApiProblem::Forbidden("The X-CSRF: 1 header is required."));
    }
    if crate::origin::is_foreign(state, headers) {
        Err(ApiProblem::Forbidden(
            "Cross-origin requests are not allowed.",
        ))
    } else {
        Ok(())
    }
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored request as the contract shows it, with the client and scope descriptions from
/// configuration, the scopes' in the best of `languages` they are translated into.
fn to_contract(state: &AppState, row: &RequestRow, languages: &Languages) -> LoginRequest {
    let config = &state.config;
    let client = config.client(&row.client_id);
    let scope_info = |scope: &Scope| {
        let (display_name, description) = languages.scope_text(scope);
        ScopeInfo {
            value: scope.name.clone(),
            display_name: display_name.to_owned(),
            description: description.map(str::to_owned),
            required: scope.required,
            emphasize: scope.emphasize,
            resources: scope.resources.clone(),
        }
    };
    let requested = || row.scopes.iter();
    let choices = row.code_choices().filter(|_| row.binding_message.is_some());
    let words = |text: &str| {
        text.split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    LoginRequest {
        internal_id: row.internal_id.clone(),
        client: ClientInfo {
            client_id: row.client_id.clone(),
            client_name: client.map_or_else(|| row.client_id.clone(), |c| c.client_name.clone()),
            client_uri: client.and_then(|c| c.client_uri.clone()),
            logo_uri: client.and_then(|c| c.logo_uri.clone()),
        },
        // With the code check on, the page gets the three choices and never the answer.
        binding_message: row.binding_message.clone().filter(|_| choices.is_none()),
        acr_values: words(&row.acr_values),
        tenant: None,
        idp: None,
        resource_indicators: words(&row.resource_indicators),
        identity_scopes: requested()
            .filter_map(|s| config.identity_scope(s))
            .map(scope_info)
            .collect(),
        api_scopes: requested()
            .filter_map(|s| config.api_scope(s))
            .map(scope_info)
            .collect(),
        created_at: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at),
        // Decided when the request was made (the client's setting then), stored with it.
        verify_binding_message: choices.is_some(),
        binding_message_choices: choices,
    }
}
