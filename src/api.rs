//! Talking to the approval API: the [`Api`] trait pages use through context (tests provide a fake),
//! [`ApiError`] in the terms the pages act on, and [`HttpApi`], the real implementation over
//! `fetch`. A 401 sends the browser to sign in ([`crate::sign_in`]); where the API is comes from
//! [`crate::settings`]; showing a call's answer is [`crate::call::Call`].

use std::{future::Future, ops::Deref, pin::Pin, rc::Rc};

use ciba_contract::{
    CSRF_HEADER, CSRF_HEADER_VALUE, CompleteRequest, EmbeddingSettings, LoginRequest, Outcome,
    Problem, PushSettings, PushSubscription, PushUnsubscribe, SessionInfo, WRONG_CODE_PROBLEM,
};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit, Response};

use crate::{
    i18n::td_string,
    json::{self, FromJson},
    language::{self, use_i18n},
    settings::Settings,
    sign_in,
};

/// Why a call failed, in the terms the pages act on.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ApiError {
    /// No session; the browser is already on its way to the login page.
    Unauthorized,
    /// The CSRF header was missing or refused.
    Forbidden,
    /// Unknown, not this user's, expired or already decided: the server does not say which.
    NotFound,
    /// This user already decided the request, this way.
    Conflict(Outcome),
    /// The server refused the decision; the problem's `detail`, if it gave one.
    BadRequest(Option<String>),
    /// The code check refused the approval (problem `type` [`WRONG_CODE_PROBLEM`]): the person
    /// picked a look-alike, now or before. Only Deny is left.
    WrongCode,
    /// No answer at all (offline, DNS, CORS, aborted).
    Network,
    /// Any other status, or a body that could not be read.
    Server(u16),
}

impl ApiError {
    /// A sentence for the person using the page, in their language.
    pub fn message(&self) -> String {
        let i18n = use_i18n();
        match self {
            Self::Unauthorized => td_string!(i18n.get_locale(), error_session_ended).to_string(),
            Self::Forbidden => td_string!(i18n.get_locale(), error_forbidden).to_string(),
            Self::NotFound => td_string!(i18n.get_locale(), not_found_message).to_string(),
            Self::Conflict(Outcome::Approved) => {
                td_string!(i18n.get_locale(), already_approved).to_string()
            }
            Self::Conflict(Outcome::Denied) => {
                td_string!(i18n.get_locale(), already_denied).to_string()
            }
            // The server's own words, or ours when it gave none.
            Self::BadRequest(Some(detail)) => detail.clone(),
            Self::BadRequest(None) => td_string!(i18n.get_locale(), error_refused).to_string(),
            Self::WrongCode => td_string!(i18n.get_locale(), wrong_code).to_string(),
            Self::Network => td_string!(i18n.get_locale(), error_network).to_string(),
            Self::Server(status) => {
                td_string!(i18n.get_locale(), error_server, status = *status).to_string()
            }
        }
    }

    /// Failures that sending the same thing again may fix.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Network | Self::Server(_))
    }
}

/// The pending list, and the tag to ask "changed since?" with next time.
#[derive(Clone, PartialEq, Debug)]
pub struct Listing {
    pub requests: Vec<LoginRequest>,
    pub etag: Option<String>,
}

/// A decision the server accepted (204).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Completed {
    pub outcome: Outcome,
}

pub type ApiFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// Everything the pages ask of the server. Object-safe so tests can provide a fake.
pub trait Api {
    fn session(&self) -> ApiFuture<SessionInfo>;
    /// Pending requests for the signed-in user, newest first; `None` when they are unchanged since
    /// the listing tagged `if_none_match` (a 304, which costs no body).
    fn requests(&self, if_none_match: Option<String>) -> ApiFuture<Option<Listing>>;
    /// The pending list if the page already holds it (index.html read it while the wasm was on its
    /// way), taken once; `None` when it is not in yet or was no list, and the list asks with
    /// [`Api::requests`].
    fn preloaded_requests(&self) -> Option<Listing> {
        None
    }
    fn request(&self, internal_id: &str) -> ApiFuture<LoginRequest>;
    fn complete(&self, decision: CompleteRequest) -> ApiFuture<Completed>;
    /// The host's sign-out page, which the page navigates to (see [`sign_in::sign_out`]).
    fn logout_url(&self) -> String;
    /// Which portals may embed the page (needs no session).
    fn embedding(&self) -> ApiFuture<EmbeddingSettings>;
    /// The host's VAPID key, to subscribe this device to Web Push ([`crate::push`]).
    fn push_settings(&self) -> ApiFuture<PushSettings>;
    /// The host sends this user's new requests to `subscription` from now on (201).
    fn add_push_subscription(&self, subscription: PushSubscription) -> ApiFuture<()>;
    /// The host forgets the subscription with this endpoint (204).
    fn remove_push_subscription(&self, endpoint: PushUnsubscribe) -> ApiFuture<()>;
}

/// The [`Api`] as components find it in context.
#[derive(Clone)]
pub struct ApiClient(SendWrapper<Rc<dyn Api>>);

impl ApiClient {
    pub fn new(api: impl Api + 'static) -> Self {
        Self(SendWrapper::new(Rc::new(api)))
    }
}

impl Deref for ApiClient {
    type Target = dyn Api;

    fn deref(&self) -> &Self::Target {
        &**self.0
    }
}

pub fn provide_api(api: impl Api + 'static) {
    provide_context(ApiClient::new(api));
}

pub fn use_api() -> ApiClient {
    // Not `expect_context`: its panic message formats the type name with `{:?}`, which links
    // `str`'s Debug escaping and Unicode tables; this panic's message names no type.
    use_context().expect("provided by the app")
}

/// The real API: same-origin `fetch` with the session cookie.
pub struct HttpApi {
    settings: Rc<Settings>,
}

impl HttpApi {
    pub fn new(settings: Settings) -> Self {
        Self {
            settings: Rc::new(settings),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.api_base)
    }

    /// Takes index.html's preload of the list and drops it, for a page that does not open on the
    /// list: the browser would otherwise hand that old answer to the list shown later (with the
    /// request decided since).
    pub fn drop_preloaded_list(&self) {
        let url = self.url("/requests");
        leptos::task::spawn_local(async move {
            let _ = fetch("GET", &url, &[], None).await;
        });
    }
}

impl Api for HttpApi {
    fn session(&self) -> ApiFuture<SessionInfo> {
        Box::pin(get_json(self.url("/session"), false, self.settings.clone()))
    }

    fn requests(&self, if_none_match: Option<String>) -> ApiFuture<Option<Listing>> {
        // The list shows nothing a host names in a language (scope names are on the consent
        // page): asked without headers, as index.html's preload did, unless polling.
        let url = self.url("/requests");
        let settings = self.settings.clone();
        Box::pin(async move {
            let mut headers = Vec::new();
            if let Some(etag) = &if_none_match {
                headers.push(("If-None-Match", etag.as_str()));
            }
            let response = fetch("GET", &url, &headers, None).await?;
            if response.status() == 304 {
                return Ok(None);
            }
            if !response.ok() {
                return Err(error_from(response, &settings).await);
            }
            let etag = response.headers().get("etag").ok().flatten();
            let text = read_text(&response).await?;
            let requests = json::parse(&text).ok_or(ApiError::Server(response.status()))?;
            Ok(Some(Listing { requests, etag }))
        })
    }

    fn preloaded_requests(&self) -> Option<Listing> {
        let (response, text) = take_early_answer(&self.url("/requests"))?;
        Some(Listing {
            requests: json::parse(&text)?,
            etag: response.headers().get("etag").ok().flatten(),
        })
    }

    fn request(&self, internal_id: &str) -> ApiFuture<LoginRequest> {
        let id = String::from(js_sys::encode_uri_component(internal_id));
        // Hosts name their own scopes in the page's language (`Vary: Accept-Language`).
        Box::pin(get_json(
            self.url(&format!("/requests/{id}")),
            true,
            self.settings.clone(),
        ))
    }

    fn complete(&self, decision: CompleteRequest) -> ApiFuture<Completed> {
        let url = self.url("/complete");
        let settings = self.settings.clone();
        Box::pin(async move {
            let headers = [
                ("Accept-Language", language::current_tag()),
                (CSRF_HEADER, CSRF_HEADER_VALUE),
                ("Content-Type", "application/json"),
            ];
            let body = json::stringify(&decision);
            let response = fetch("POST", &url, &headers, Some(&body)).await?;
            if !response.ok() {
                return Err(error_from(response, &settings).await);
            }
            Ok(Completed {
                outcome: decision.outcome(),
            })
        })
    }

    fn logout_url(&self) -> String {
        self.settings.logout_url.clone()
    }

    fn embedding(&self) -> ApiFuture<EmbeddingSettings> {
        Box::pin(get_json(
            self.url("/embedding"),
            false,
            self.settings.clone(),
        ))
    }

    fn push_settings(&self) -> ApiFuture<PushSettings> {
        Box::pin(get_json(self.url("/push"), false, self.settings.clone()))
    }

    fn add_push_subscription(&self, subscription: PushSubscription) -> ApiFuture<()> {
        Box::pin(send_json(
            "POST",
            self.url("/push/subscriptions"),
            json::stringify(&subscription),
            self.settings.clone(),
        ))
    }

    fn remove_push_subscription(&self, endpoint: PushUnsubscribe) -> ApiFuture<()> {
        Box::pin(send_json(
            "DELETE",
            self.url("/push/subscriptions"),
            json::stringify(&endpoint),
            self.settings.clone(),
        ))
    }
}

/// A state-changing call with a JSON body and the CSRF header, whose success has no body to read.
async fn send_json(
    method: &str,
    url: String,
    body: String,
    settings: Rc<Settings>,
) -> Result<(), ApiError> {
    let headers = [
        (CSRF_HEADER, CSRF_HEADER_VALUE),
        ("Content-Type", "application/json"),
    ];
    let response = fetch(method, &url, &headers, Some(&body)).await?;
    if !response.ok() {
        return Err(error_from(response, &settings).await);
    }
    Ok(())
}

/// A GET of one contract type. Only the parsing is generic: the request, its errors and reading
/// the body are one future for all of them (one copy in the wasm instead of one per type).
async fn get_json<T: FromJson>(
    url: String,
    in_page_language: bool,
    settings: Rc<Settings>,
) -> Result<T, ApiError> {
    let (text, status) = get_text(url, in_page_language, settings).await?;
    json::parse(&text).ok_or(ApiError::Server(status))
}

/// The body of a successful GET, and its status. Without headers of its own a GET is exactly like
/// index.html's `<link rel="preload" as="fetch" crossorigin>` (same URL, mode `cors`, credentials
/// `same-origin`), so the browser hands it the answer that left with the page instead of asking
/// again: the list and session show one round trip sooner.
fn get_text(
    url: String,
    in_page_language: bool,
    settings: Rc<Settings>,
) -> ApiFuture<(String, u16)> {
    Box::pin(async move {
        // Hosts name their own scopes in the page's language (`Vary: Accept-Language`).
        let language = [("Accept-Language", language::current_tag())];
        let headers: &[(&str, &str)] = if in_page_language { &language } else { &[] };
        let response = fetch("GET", &url, headers, None).await?;
        if !response.ok() {
            return Err(error_from(response, &settings).await);
        }
        Ok((read_text(&response).await?, response.status()))
    })
}

/// One request to the API with the browser's `fetch` (same origin, so the session cookie goes
/// along); `Network` when no answer came at all. gloo-net's wrapper around the same calls cost more
/// code than this.
async fn fetch(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Response, ApiError> {
    // A plain GET is asked exactly like index.html's early reads, so their answer is this one.
    let early = (method == "GET" && headers.is_empty() && body.is_none())
        .then(|| take_early(url))
        .flatten();
    if let Some(early) = early {
        return JsFuture::from(early)
            .await
            .ok()
            .and_then(|response| response.dyn_into().ok())
            .ok_or(ApiError::Network);
    }
    let init = RequestInit::new();
    init.set_method(method);
    let request_headers = Headers::new().map_err(|_| ApiError::Network)?;
    for (name, value) in headers {
        request_headers
            .set(name, value)
            .map_err(|_| ApiError::Network)?;
    }
    init.set_headers(&request_headers);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .ok()
        .and_then(|response| response.dyn_into().ok())
        .ok_or(ApiError::Network)
}

/// What index.html's script read before the app ran: `window.cibaEarly`, a `Map` from URL to a
/// promise of the `Response`, or the `Response` itself once read (its body in `cibaText`).
fn early_answers() -> Option<js_sys::Map> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("cibaEarly"))
        .ok()?
        .dyn_into()
        .ok()
}

/// The early answer for `url`, taken once (later asks go to the network), as a promise.
fn take_early(url: &str) -> Option<js_sys::Promise> {
    let early = early_answers()?;
    let url = JsValue::from_str(url);
    let answer = early.get(&url);
    early.delete(&url);
    if answer.is_instance_of::<Response>() {
        return Some(js_sys::Promise::resolve(&answer));
    }
    answer.dyn_into().ok()
}

/// The early answer for `url` if it is in and a success: the response and its body, taken once.
/// Anything else stays for [`take_early`] (a 401 then leads to sign-in as usual).
fn take_early_answer(url: &str) -> Option<(Response, String)> {
    let early = early_answers()?;
    let url = JsValue::from_str(url);
    let response = early.get(&url).dyn_into::<Response>().ok()?;
    if !response.ok() {
        return None;
    }
    let text = js_sys::Reflect::get(&response, &JsValue::from_str("cibaText"))
        .ok()?
        .as_string()?;
    early.delete(&url);
    Some((response, text))
}

/// The body of a successful answer, as text.
async fn read_text(response: &Response) -> Result<String, ApiError> {
    let text = response
        .text()
        .map_err(|_| ApiError::Server(response.status()))?;
    JsFuture::from(text)
        .await
        .ok()
        .and_then(|text| text.as_string())
        .ok_or(ApiError::Server(response.status()))
}

async fn error_from(response: Response, settings: &Settings) -> ApiError {
    let status = response.status();
    let problem = match read_text(&response).await {
        Ok(text) => json::parse::<Problem>(&text),
        Err(_) => None,
    };
    match status {
        401 => {
            sign_in::sign_in_again(&settings.login_url);
            ApiError::Unauthorized
        }
        400 => match problem {
            Some(problem) if problem.problem_type == WRONG_CODE_PROBLEM => ApiError::WrongCode,
            problem => ApiError::BadRequest(problem.and_then(|problem| problem.detail)),
        },
        403 => ApiError::Forbidden,
        404 => ApiError::NotFound,
        409 => match problem.and_then(|problem| problem.outcome) {
            Some(outcome) => ApiError::Conflict(outcome),
            None => ApiError::Server(status),
        },
        _ => ApiError::Server(status),
    }
}
