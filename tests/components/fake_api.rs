//! The fake API the component tests put in context instead of the network, the requests it
//! serves, and mounting a page with it.

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use ciba_approval::{
    api::{Api, ApiError, ApiFuture, Completed, Listing, provide_api},
    language::LanguageProvider,
    pages::{Consent, RequestList},
};
use ciba_contract::{
    ClientInfo, CompleteRequest, EmbeddingSettings, LoginRequest, PushSettings, PushSubscription,
    PushUnsubscribe, ScopeInfo, SessionInfo,
};
use leptos::{mount::mount_to, prelude::*};
use web_sys::HtmlElement;

use crate::dom::{container, find};

/// Answers from memory and records every decision it is sent.
#[derive(Clone, Default)]
pub struct FakeApi {
    requests: Rc<RefCell<Vec<LoginRequest>>>,
    /// Bumped whenever `requests` changes; the list's ETag is `"v{version}"`.
    version: Rc<Cell<u32>>,
    /// How many list calls were answered "unchanged" (304).
    pub unchanged: Rc<Cell<u32>>,
    /// Answers to `complete`, in order; once used up, every decision succeeds.
    complete_answers: Rc<RefCell<Vec<Result<Completed, ApiError>>>>,
    sent: Rc<RefCell<Vec<CompleteRequest>>>,
    /// Push subscriptions the page handed over, and endpoints it asked to forget, in order.
    pub push_added: Rc<RefCell<Vec<PushSubscription>>>,
    pub push_removed: Rc<RefCell<Vec<PushUnsubscribe>>>,
}

/// The VAPID key the fake host hands out.
pub const FAKE_VAPID_KEY: &str = "BFakeVapidKey";

impl FakeApi {
    pub fn with(requests: Vec<LoginRequest>) -> Self {
        Self {
            requests: Rc::new(RefCell::new(requests)),
            ..Self::default()
        }
    }

    /// A client starts another request: it is the newest.
    pub fn add(&self, request: LoginRequest) {
        self.requests.borrow_mut().insert(0, request);
        self.version.set(self.version.get() + 1);
    }

    pub fn answering(self, answers: Vec<Result<Completed, ApiError>>) -> Self {
        *self.complete_answers.borrow_mut() = answers;
        self
    }

    pub fn sent(&self) -> Vec<CompleteRequest> {
        self.sent.borrow().clone()
    }
}

impl Api for FakeApi {
    fn session(&self) -> ApiFuture<SessionInfo> {
        Box::pin(async {
            Ok(SessionInfo {
                subject: "alice".into(),
                name: "Alice Smith".into(),
            })
        })
    }

    fn requests(&self, if_none_match: Option<String>) -> ApiFuture<Option<Listing>> {
        let etag = format!("\"v{}\"", self.version.get());
        let answer = if if_none_match.as_deref() == Some(etag.as_str()) {
            self.unchanged.set(self.unchanged.get() + 1);
            None
        } else {
            Some(Listing {
                requests: self.requests.borrow().clone(),
                etag: Some(etag),
            })
        };
        Box::pin(async move { Ok(answer) })
    }

    fn request(&self, internal_id: &str) -> ApiFuture<LoginRequest> {
        let found = self
            .requests
            .borrow()
            .iter()
            .find(|request| request.internal_id == internal_id)
            .cloned();
        Box::pin(async move { found.ok_or(ApiError::NotFound) })
    }

    fn complete(&self, decision: CompleteRequest) -> ApiFuture<Completed> {
        let outcome = decision.outcome();
        self.sent.borrow_mut().push(decision);
        let mut answers = self.complete_answers.borrow_mut();
        let answer = if answers.is_empty() {
            Ok(Completed { outcome })
        } else {
            answers.remove(0)
        };
        Box::pin(async move { answer })
    }

    fn logout_url(&self) -> String {
        "/Account/Logout".into()
    }

    fn embedding(&self) -> ApiFuture<EmbeddingSettings> {
        Box::pin(async { Ok(EmbeddingSettings::default()) })
    }

    fn push_settings(&self) -> ApiFuture<PushSettings> {
        Box::pin(async {
            Ok(PushSettings {
                vapid_public_key: FAKE_VAPID_KEY.into(),
            })
        })
    }

    fn add_push_subscription(&self, subscription: PushSubscription) -> ApiFuture<()> {
        self.push_added.borrow_mut().push(subscription);
        Box::pin(async { Ok(()) })
    }

    fn remove_push_subscription(&self, endpoint: PushUnsubscribe) -> ApiFuture<()> {
        self.push_removed.borrow_mut().push(endpoint);
        Box::pin(async { Ok(()) })
    }
}

pub fn scope(value: &str, required: bool) -> ScopeInfo {
    ScopeInfo {
        value: value.into(),
        display_name: format!("{value} (display)"),
        description: Some(format!("What {value} gives")),
        required,
        emphasize: value == "offline_access",
        resources: vec![],
    }
}

pub fn login_request(id: &str, client_name: &str, binding_message: &str) -> LoginRequest {
    LoginRequest {
        internal_id: id.into(),
        client: ClientInfo {
            client_id: "client".into(),
            client_name: client_name.into(),
            client_uri: Some("javascript:alert(1)".into()),
            logo_uri: None,
        },
        binding_message: Some(binding_message.into()),
        acr_values: vec![],
        tenant: None,
        idp: None,
        resource_indicators: vec![],
        identity_scopes: vec![
            scope("openid", true),
            scope("profile", false),
            scope("email", false),
        ],
        api_scopes: vec![scope("api1.read", false), scope("offline_access", false)],
        created_at: "2026-01-01T00:00:00Z".into(),
        expires_at: "2999-01-01T00:00:00Z".into(),
        verify_binding_message: false,
        binding_message_choices: None,
    }
}

/// A request none of whose scopes is required.
pub fn optional_only_request(id: &str) -> LoginRequest {
    LoginRequest {
        identity_scopes: vec![scope("profile", false)],
        api_scopes: vec![scope("api1.read", false)],
        ..login_request(id, "Optional Client", "CODE-2")
    }
}

/// The code check as a host sends it: three choices in its order, never the message itself.
pub const TILL_CODES: [&str; 3] = ["Kasse 3: 8203", "Kasse 3: 4711", "Kasse 3: 4967"];

pub fn verifying_request(id: &str) -> LoginRequest {
    LoginRequest {
        verify_binding_message: true,
        binding_message: None,
        binding_message_choices: Some(TILL_CODES.iter().map(|c| c.to_string()).collect()),
        ..login_request(id, "Fabrikam Till 3", "unused")
    }
}

/// An RFC 3339 instant `milliseconds` from now.
pub fn in_ms(milliseconds: f64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        js_sys::Date::now() + milliseconds,
    ))
    .to_iso_string()
    .into()
}

/// `view` as the app has it: `api` in context, and the language from the browser's (English
/// here). No cookie: a test that switches language must not leak into the next.
pub fn in_app(api: FakeApi, view: impl IntoView + 'static) -> impl IntoView {
    provide_api(api);
    view! { <LanguageProvider>{view}</LanguageProvider> }
}

/// `<Consent>` for one request, with `api` in context; unmounted when the handle is dropped.
pub fn mount_consent(api: &FakeApi, internal_id: &'static str) -> (HtmlElement, impl Sized) {
    let root = container();
    let api = api.clone();
    let handle = mount_to(root.clone(), move || {
        in_app(api, move || view! { <Consent internal_id /> })
    });
    (root, handle)
}

/// [`mount_consent`], then waits until the form shows its Approve button.
pub async fn open_consent(api: &FakeApi, internal_id: &'static str) -> (HtmlElement, impl Sized) {
    let (root, handle) = mount_consent(api, internal_id);
    find(&root, "#approve").await;
    (root, handle)
}

/// `<RequestList>` with `api` in context; unmounted when the handle is dropped.
pub fn mount_list(api: &FakeApi) -> (HtmlElement, impl Sized) {
    let root = container();
    let api = api.clone();
    let handle = mount_to(root.clone(), move || {
        in_app(api, move || view! { <RequestList /> })
    });
    (root, handle)
}
