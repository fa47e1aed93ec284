//! Component tests in a real browser, with a fake API in context instead of the network.
#![cfg(target_arch = "wasm32")]

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use ciba_approval::{
    AppRoutes,
    api::{Api, ApiError, ApiFuture, Completed, Listing, provide_api},
    embed::{self, FromParent, SessionRequiredReason, ToParent},
    i18n::{Locale, td_string},
    language::LanguageProvider,
    pages::{Consent, PendingRequests},
};
use ciba_contract::{
    ClientInfo, CompleteRequest, EmbeddingSettings, LoginRequest, Outcome, ScopeInfo, SessionInfo,
};
use leptos::{mount::mount_to, prelude::*};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Answers from memory and records every decision it is sent.
#[derive(Clone, Default)]
struct FakeApi {
    requests: Rc<RefCell<Vec<LoginRequest>>>,
    /// Bumped whenever `requests` changes; the list's ETag is `"v{version}"`.
    version: Rc<Cell<u32>>,
    /// How many list calls were answered "unchanged" (304).
    unchanged: Rc<Cell<u32>>,
    /// Answers to `complete`, in order; once used up, every decision succeeds.
    complete_answers: Rc<RefCell<Vec<Result<Completed, ApiError>>>>,
    sent: Rc<RefCell<Vec<CompleteRequest>>>,
}

impl FakeApi {
    fn with(requests: Vec<LoginRequest>) -> Self {
        Self {
            requests: Rc::new(RefCell::new(requests)),
            ..Self::default()
        }
    }

    /// A client starts another request: it is the newest.
    fn add(&self, request: LoginRequest) {
        self.requests.borrow_mut().insert(0, request);
        self.version.set(self.version.get() + 1);
    }

    fn answering(self, answers: Vec<Result<Completed, ApiError>>) -> Self {
        *self.complete_answers.borrow_mut() = answers;
        self
    }

    fn sent(&self) -> Vec<CompleteRequest> {
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
}

fn scope(value: &str, required: bool) -> ScopeInfo {
    ScopeInfo {
        value: value.into(),
        display_name: format!("{value} (display)"),
        description: Some(format!("What {value} gives")),
        required,
        emphasize: value == "offline_access",
        resources: vec![],
    }
}

fn login_request(id: &str, client_name: &str, binding_message: &str) -> LoginRequest {
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
fn optional_only_request(id: &str) -> LoginRequest {
    LoginRequest {
        identity_scopes: vec![scope("profile", false)],
        api_scopes: vec![scope("api1.read", false)],
        ..login_request(id, "Optional Client", "CODE-2")
    }
}

/// A fresh container attached to the document, so focus and clicks behave as on a page.
fn container() -> HtmlElement {
    let container = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&container).unwrap();
    container.unchecked_into()
}

/// `view` as the app has it: `api` in context, and the language from the browser's (English
/// here). No cookie: a test that switches language must not leak into the next.
fn in_app(api: FakeApi, view: impl IntoView + 'static) -> impl IntoView {
    provide_api(api);
    view! { <LanguageProvider>{view}</LanguageProvider> }
}

/// `<Consent>` for one request, with `api` in context; unmounted when the handle is dropped.
fn mount_consent(api: &FakeApi, internal_id: &'static str) -> (HtmlElement, impl Sized) {
    let root = container();
    let api = api.clone();
    let handle = mount_to(root.clone(), move || {
        in_app(api, move || view! { <Consent internal_id /> })
    });
    (root, handle)
}

/// `<PendingRequests>` with `api` in context; unmounted when the handle is dropped.
fn mount_list(api: &FakeApi) -> (HtmlElement, impl Sized) {
    let root = container();
    let api = api.clone();
    let handle = mount_to(root.clone(), move || {
        in_app(api, move || view! { <PendingRequests /> })
    });
    (root, handle)
}

async fn sleep(milliseconds: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits (up to four seconds) for `selector` to match inside `root`.
async fn find(root: &Element, selector: &str) -> Element {
    for _ in 0..400 {
        if let Some(element) = root.query_selector(selector).unwrap() {
            return element;
        }
        sleep(10).await;
    }
    panic!(
        "nothing matched {selector} at {}; the page is: {}",
        window().location().href().unwrap_or_default(),
        root.inner_html()
    );
}

fn scope_checkbox(root: &Element, value: &str) -> HtmlInputElement {
    root.query_selector(&format!("input[name=scope][value='{value}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no checkbox for {value}"))
        .unchecked_into()
}

fn click(root: &Element, selector: &str) {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing to click at {selector}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

fn text(element: &Element) -> String {
    element.text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn list_renders_server_strings_as_text() {
    let hostile = "<img src=x onerror=alert(1)>";
    let api = FakeApi::with(vec![
        login_request("r1", "Kitchen TV", hostile),
        login_request("r2", "<b>Bold</b> Client", "4711"),
    ]);
    let (root, _mounted) = mount_list(&api);

    let first = find(&root, "a[data-request-id='r1']").await;
    assert_eq!(
        first.get_attribute("href").as_deref(),
        Some("/ciba/requests/r1")
    );
    let first_text = text(&first);
    assert!(first_text.contains("Kitchen TV"), "{first_text}");
    assert!(first_text.contains(hostile), "{first_text}");
    let second = find(&root, "a[data-request-id='r2']").await;
    assert!(text(&second).contains("<b>Bold</b> Client"));
    assert!(root.query_selector("img").unwrap().is_none());
    assert!(root.query_selector("b").unwrap().is_none());
    assert!(text(&first).contains("left"), "time left is shown");
    assert!(
        text(&first).contains("Started") && text(&first).contains("ago"),
        "how long ago it started is shown: {}",
        text(&first)
    );
    let heading = find(&root, "h1").await;
    assert_eq!(heading.get_attribute("tabindex").as_deref(), Some("-1"));
}

#[wasm_bindgen_test]
async fn empty_list_explains_the_page() {
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        in_app(FakeApi::default(), move || view! { <PendingRequests /> })
    });
    let empty = find(&root, "[data-state='empty']").await;
    let said = text(&empty);
    assert!(said.contains(td_string!(Locale::en, empty_what)), "{said}");
    assert!(said.contains(td_string!(Locale::en, empty_todo)), "{said}");
}

#[wasm_bindgen_test]
async fn consent_form_defaults() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = mount_consent(&api, "r1");

    find(&root, "#approve").await;
    assert_eq!(
        text(&find(&root, "h1").await),
        "Kitchen TV wants to sign you in"
    );
    assert_eq!(text(&find(&root, ".binding-message").await), "ABC-123");
    assert!(text(&root).contains("If you did not start this, deny it."));

    let openid = scope_checkbox(&root, "openid");
    assert!(openid.checked() && openid.disabled());
    let openid_label = openid.closest("label").unwrap().unwrap();
    assert!(text(&openid_label).contains("Required"));
    assert!(scope_checkbox(&root, "profile").checked());
    assert!(!scope_checkbox(&root, "profile").disabled());
    assert!(scope_checkbox(&root, "api1.read").checked());
    assert!(!scope_checkbox(&root, "offline_access").checked());

    let description: HtmlInputElement = find(&root, "input#description").await.unchecked_into();
    assert_eq!(description.max_length(), 100);
    let label = root
        .query_selector("label[for='description']")
        .unwrap()
        .unwrap();
    assert_eq!(text(&label), "Name this device (optional)");
    // A `javascript:` client URI is never linked.
    assert!(root.query_selector(".client-uri").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn approve_with_nothing_ticked_is_refused() {
    let api = FakeApi::with(vec![optional_only_request("r2")]);
    let (root, _mounted) = mount_consent(&api, "r2");

    find(&root, "#approve").await;
    scope_checkbox(&root, "profile").click();
    scope_checkbox(&root, "api1.read").click();
    click(&root, "#approve");

    let alert = find(&root, "[role='alert']").await;
    assert_eq!(text(&alert), td_string!(Locale::en, nothing_ticked));
    sleep(50).await;
    assert!(api.sent().is_empty());
    assert!(root.query_selector("[data-outcome]").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn approve_sends_exactly_the_ticked_scopes() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = mount_consent(&api, "r1");

    find(&root, "#approve").await;
    scope_checkbox(&root, "email").click();
    scope_checkbox(&root, "offline_access").click();
    let description: HtmlInputElement = find(&root, "#description").await.unchecked_into();
    description.set_value("  Kitchen tablet ");
    description
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    click(&root, "#approve");

    let result = find(&root, "[data-outcome='approved']").await;
    assert_eq!(result.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(
        api.sent(),
        vec![CompleteRequest::approve(
            "r1",
            ["openid", "profile", "api1.read", "offline_access"]
                .map(String::from)
                .to_vec(),
            Some("Kitchen tablet".into()),
        )]
    );
    let summary = text(&result);
    assert!(summary.contains("Kitchen TV"), "{summary}");
    assert!(summary.contains("profile (display)"), "{summary}");
    assert!(!summary.contains("email (display)"), "{summary}");
    assert!(root.query_selector("a[href='/ciba/']").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn deny_sends_no_scopes() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = mount_consent(&api, "r1");

    find(&root, "#deny").await;
    click(&root, "#deny");
    find(&root, "[data-outcome='denied']").await;
    assert_eq!(api.sent(), vec![CompleteRequest::deny("r1")]);
    assert_eq!(api.sent()[0].scopes_values_consented, None);
}

#[wasm_bindgen_test]
async fn conflict_shows_the_earlier_decision() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")])
        .answering(vec![Err(ApiError::Conflict(Outcome::Denied))]);
    let (root, _mounted) = mount_consent(&api, "r1");

    find(&root, "#approve").await;
    click(&root, "#approve");
    let result = find(&root, "[data-outcome='denied']").await;
    assert!(
        text(&result).contains("You already denied this"),
        "{}",
        text(&result)
    );
}

#[wasm_bindgen_test]
async fn unknown_request_shows_not_found() {
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        in_app(
            FakeApi::default(),
            move || view! { <Consent internal_id="nope" /> },
        )
    });

    let not_found = find(&root, "[data-state='not-found']").await;
    assert!(text(&not_found).contains(td_string!(Locale::en, not_found_message)));
    assert!(root.query_selector("#approve").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn failed_send_keeps_choices_and_retries_the_same_decision() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")])
        .answering(vec![Err(ApiError::Network)]);
    let (root, _mounted) = mount_consent(&api, "r1");

    find(&root, "#approve").await;
    scope_checkbox(&root, "profile").click();
    click(&root, "#approve");

    let retry = find(&root, "[role='alert'] [data-action='retry']").await;
    assert!(
        !scope_checkbox(&root, "profile").checked(),
        "choices are kept"
    );
    retry.unchecked_into::<HtmlElement>().click();

    find(&root, "[data-outcome='approved']").await;
    let sent = api.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1]);
    assert_eq!(
        sent[0].scopes_values_consented,
        Some(["openid", "email", "api1.read"].map(String::from).to_vec())
    );
}

/// A host that forgets decided requests (Duende, once the client has polled) answers 404 afterwards:
/// the browser that decided says so, in this mount and the next, instead of "not found".
#[wasm_bindgen_test]
async fn a_decision_the_host_forgot_is_still_shown_as_done() {
    let api = FakeApi::with(vec![login_request("forgotten-1", "Kitchen TV", "ABC-123")]);
    let (root, mounted) = mount_consent(&api, "forgotten-1");
    find(&root, "#deny").await;
    click(&root, "#deny");
    find(&root, "[data-outcome='denied']").await;
    drop(mounted);

    let forgetful = FakeApi::default();
    let (root, _mounted) = mount_consent(&forgetful, "forgotten-1");
    let result = find(&root, "[data-outcome='denied']").await;
    assert!(
        text(&result).contains("You already denied this"),
        "{}",
        text(&result)
    );
    assert!(
        root.query_selector("[data-state='not-found']")
            .unwrap()
            .is_none()
    );

    // A request this browser never decided is still the one "not found".
    let (root, _other) = mount_consent(&forgetful, "forgotten-2");
    find(&root, "[data-state='not-found']").await;
}

/// The answer to an approval was lost and the retry finds the request gone: it may well have gone
/// through, so the page says it was sent — not "not found", not an error.
#[wasm_bindgen_test]
async fn a_lost_answer_then_a_forgotten_request_says_the_decision_was_sent() {
    let api = FakeApi::with(vec![login_request("lost-1", "Kitchen TV", "ABC-123")])
        .answering(vec![Err(ApiError::Network), Err(ApiError::NotFound)]);
    let (root, _mounted) = mount_consent(&api, "lost-1");
    find(&root, "#approve").await;
    click(&root, "#approve");
    find(&root, "[role='alert'] [data-action='retry']")
        .await
        .unchecked_into::<HtmlElement>()
        .click();

    let result = find(&root, "[data-state='unconfirmed'][data-outcome='approved']").await;
    assert!(
        text(&result).contains(td_string!(Locale::en, unconfirmed_heading)),
        "{}",
        text(&result)
    );
    assert!(
        root.query_selector("[data-state='not-found']")
            .unwrap()
            .is_none()
    );
}

/// Changes the address as the browser's Back/Forward would, so the router (which listens for
/// `popstate`) renders the new route.
fn go_to(path: &str) {
    window()
        .history()
        .unwrap()
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .unwrap();
    window()
        .dispatch_event(&web_sys::Event::new("popstate").unwrap())
        .unwrap();
}

async fn assert_heading_focused(root: &Element, expected: &str) {
    let heading = find(root, "main h1").await;
    sleep(20).await;
    assert_eq!(text(&heading), expected);
    assert_eq!(
        document().active_element(),
        Some(heading),
        "focus on the new page's heading"
    );
}

/// One router for the whole test: a router left behind by an unmounted app would still intercept
/// link clicks, which a real page never has.
#[wasm_bindgen_test]
async fn routes_choose_the_page_and_focus_its_heading() {
    let original = window().location().href().unwrap();
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    // The browser's language, not one a test may have picked.
    window().local_storage().unwrap().unwrap().clear().unwrap();

    // Duende's notification link: the list's address with `?id=`.
    window()
        .history()
        .unwrap()
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/ciba?id=r1"))
        .unwrap();
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        provide_api(api);
        view! { <AppRoutes /> }
    });
    find(&root, "#approve").await;
    assert_eq!(text(&find(&root, "#user-name").await), "Alice Smith");
    assert_heading_focused(&root, "Kitchen TV wants to sign you in").await;

    // Client-side navigation: to the list by the header link, then into a request.
    click(&root, "a.app-title");
    find(&root, "a[data-request-id='r1']").await;
    assert_eq!(window().location().pathname().unwrap(), "/ciba/");
    assert_heading_focused(&root, "Sign-in requests").await;
    click(&root, "a[data-request-id='r1']");
    find(&root, "#approve").await;
    assert_eq!(window().location().pathname().unwrap(), "/ciba/requests/r1");
    assert_heading_focused(&root, "Kitchen TV wants to sign you in").await;

    go_to("/ciba/somewhere/else");
    let not_found = find(&root, "[data-state='page-not-found']").await;
    assert!(
        not_found
            .query_selector("a[href='/ciba/']")
            .unwrap()
            .is_some()
    );
    assert_heading_focused(&root, "Page not found").await;

    go_to("/ciba/requests/unknown");
    find(&root, "[data-state='not-found']").await;
    assert!(root.query_selector("#approve").unwrap().is_none());

    window()
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&original))
        .unwrap();
}

/// An RFC 3339 instant `milliseconds` from now.
fn in_ms(milliseconds: f64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(
        js_sys::Date::now() + milliseconds,
    ))
    .to_iso_string()
    .into()
}

#[wasm_bindgen_test]
async fn the_decision_goes_when_the_request_expires_on_screen() {
    let request = LoginRequest {
        expires_at: in_ms(800.0),
        ..login_request("r1", "Kitchen TV", "ABC-123")
    };
    let api = FakeApi::with(vec![request]);
    let (root, _mounted) = mount_consent(&api, "r1");

    find(&root, "#approve").await;
    let notice = find(&root, "[data-state='expired']").await;
    assert_eq!(notice.get_attribute("role").as_deref(), Some("status"));
    assert!(text(&notice).contains(td_string!(Locale::en, expired_message)));
    assert!(root.query_selector("#approve").unwrap().is_none());
    assert!(root.query_selector("#deny").unwrap().is_none());
    assert!(root.query_selector("a[href='/ciba/']").unwrap().is_some());
    assert!(api.sent().is_empty());
}

#[wasm_bindgen_test]
async fn requests_that_expire_leave_the_list_with_a_notice() {
    let expiring = LoginRequest {
        expires_at: in_ms(800.0),
        ..login_request("soon", "Kitchen TV", "ABC-123")
    };
    let api = FakeApi::with(vec![expiring, login_request("later", "Till 3", "4711")]);
    let (root, _mounted) = mount_list(&api);

    let soon = find(&root, "a[data-request-id='soon']").await;
    let status = root
        .query_selector("p.notice[role='status']")
        .unwrap()
        .unwrap();
    assert_eq!(text(&status), "", "nothing to announce yet");
    for _ in 0..300 {
        if text(&status) == td_string!(Locale::en, expired_notice) {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(text(&status), td_string!(Locale::en, expired_notice));
    let item: HtmlElement = soon.closest("li").unwrap().unwrap().unchecked_into();
    assert!(item.hidden(), "the expired request is gone");
    let later: HtmlElement = find(&root, "a[data-request-id='later']")
        .await
        .closest("li")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert!(!later.hidden(), "the others stay");
}

/// What the browser does when the tab is shown again.
fn become_visible() {
    document()
        .dispatch_event(
            &web_sys::Event::new_with_event_init_dict("visibilitychange", &{
                let init = web_sys::EventInit::new();
                init.set_bubbles(true);
                init
            })
            .unwrap(),
        )
        .unwrap();
}

#[wasm_bindgen_test]
async fn the_list_refreshes_itself_keeping_rows_that_did_not_change() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = mount_list(&api);
    let first = find(&root, "a[data-request-id='r1']").await;

    // Nothing changed: the page asks "changed since?" and gets a 304, and the row stays as it was.
    become_visible();
    for _ in 0..200 {
        if api.unchanged.get() > 0 {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(
        api.unchanged.get(),
        1,
        "an unchanged list is asked for with its ETag"
    );

    // A client starts another request: it appears without a reload, and the old row is the same node.
    api.add(login_request("r2", "Till 3", "4711"));
    become_visible();
    find(&root, "a[data-request-id='r2']").await;
    let rows = root.query_selector_all("a[data-request-id]").unwrap();
    assert_eq!(rows.length(), 2);
    assert!(
        first.is_same_node(rows.get(0).as_ref()),
        "the row that did not change was kept, where it was"
    );
    let newcomer: Element = rows.get(1).unwrap().unchecked_into();
    assert_eq!(
        newcomer.get_attribute("data-request-id").as_deref(),
        Some("r2"),
        "the new request joins at the end instead of pushing the others down"
    );
    let status = find(&root, "p.notice[role='status']").await;
    assert_eq!(text(&status), "New sign-in request from Till 3.");
}

#[wasm_bindgen_test]
async fn the_language_can_be_switched_and_everything_follows() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        in_app(api, move || {
            view! { <ciba_approval::components::SessionHeader />
                <ciba_approval::components::LanguagePicker />
            <PendingRequests /> }
        })
    });
    let row = find(&root, "a[data-request-id='r1']").await;
    assert_eq!(text(&find(&root, "h1").await), "Sign-in requests");
    let picker: web_sys::HtmlSelectElement = find(&root, "select#language").await.unchecked_into();
    let label = picker.closest("label").unwrap().unwrap();
    let name = label.query_selector(".language-label").unwrap().unwrap();
    assert_eq!(text(&name), "Language", "the picker is labelled");

    picker.set_value("de");
    picker
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    sleep(50).await;
    assert_eq!(text(&find(&root, "h1").await), "Anmeldeanfragen");
    assert_eq!(
        ciba_approval::language::remembered(),
        Some(Locale::de),
        "the choice is kept for the next visit"
    );
    assert_eq!(text(&find(&root, "#sign-out").await), "Abmelden");
    let row_text = text(&row);
    assert!(
        row_text.contains("Gestartet vor"),
        "relative time in German: {row_text}"
    );
    assert!(row_text.contains("noch"), "time left in German: {row_text}");
    assert_eq!(
        document()
            .document_element()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("de"),
        "screen readers are told the page's language"
    );

    picker.set_value("en");
    picker
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    sleep(50).await;
    assert_eq!(text(&find(&root, "h1").await), "Sign-in requests");
    window().local_storage().unwrap().unwrap().clear().unwrap();
}

#[wasm_bindgen_test]
async fn scopes_say_why_they_are_locked_and_offline_access_is_in_plain_words() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = mount_consent(&api, "r1");
    find(&root, "#approve").await;

    let openid = scope_checkbox(&root, "openid")
        .closest("li")
        .unwrap()
        .unwrap();
    assert!(text(&openid).contains("Required"), "{}", text(&openid));
    assert!(text(&openid).contains(td_string!(Locale::en, required_reason)));
    let offline = scope_checkbox(&root, "offline_access")
        .closest("li")
        .unwrap()
        .unwrap();
    assert!(
        text(&offline).contains("Keep access when you are offline"),
        "{}",
        text(&offline)
    );
    assert!(!text(&offline).contains("offline_access (display)"));
}

#[wasm_bindgen_test]
async fn decisions_are_listed_under_recently_decided() {
    let api = FakeApi::with(vec![
        login_request("r1", "Kitchen TV", "ABC-123"),
        login_request("r2", "Till 3", "4711"),
    ]);
    {
        let (root, _mounted) = mount_consent(&api, "r1");
        find(&root, "#approve").await;
        click(&root, "#approve");
        find(&root, "[data-outcome='approved']").await;
    }
    {
        let (root, _mounted) = mount_consent(&api, "r2");
        find(&root, "#deny").await;
        click(&root, "#deny");
        find(&root, "[data-outcome='denied']").await;
    }
    let (root, _mounted) = mount_list(&api);
    let recent = find(&root, "section.recent").await;
    let items = recent.query_selector_all("li").unwrap();
    let first: Element = items.get(0).unwrap().unchecked_into();
    let second: Element = items.get(1).unwrap().unchecked_into();
    assert!(
        text(&first).contains("Till 3") && text(&first).contains("Denied"),
        "newest first: {}",
        text(&first)
    );
    assert!(
        text(&second).contains("Kitchen TV") && text(&second).contains("Approved"),
        "{}",
        text(&second)
    );
    assert!(
        first.query_selector("time[datetime]").unwrap().is_some(),
        "with the time"
    );
}

#[wasm_bindgen_test]
async fn a_client_without_a_usable_logo_shows_its_initial() {
    let with_logo = |id: &str, name: &str, logo: Option<&str>| {
        let mut request = login_request(id, name, "4711");
        request.client.logo_uri = logo.map(String::from);
        request
    };
    let api = FakeApi::with(vec![
        with_logo("none", "kitchen TV", None),
        with_logo("script", "Evil", Some("javascript:alert(1)")),
        with_logo("broken", "Till 3", Some("https://invalid.invalid/logo.png")),
    ]);
    let (root, _mounted) = mount_list(&api);

    let initial = |id: &str| {
        root.query_selector(&format!("a[data-request-id='{id}'] .client-initial"))
            .unwrap()
            .map(|element| text(&element))
    };
    find(&root, "a[data-request-id='none'] .client-initial").await;
    assert_eq!(initial("none").as_deref(), Some("K"));
    assert_eq!(
        initial("script").as_deref(),
        Some("E"),
        "a javascript: logo is never loaded"
    );
    // An https logo is tried; when it fails to load, the initial takes its place.
    find(&root, "a[data-request-id='broken'] .client-initial").await;
    assert_eq!(initial("broken").as_deref(), Some("T"));
    assert!(root.query_selector("img").unwrap().is_none());
    let logo = root.query_selector(".client-logo").unwrap().unwrap();
    assert_eq!(logo.get_attribute("aria-hidden").as_deref(), Some("true"));
}

#[wasm_bindgen_test]
async fn choices_survive_signing_in_again() {
    // The session ended while sending: the real API sends the browser to sign in; here the page is
    // simply unmounted and mounted again, as it is when the browser comes back.
    let api = FakeApi::with(vec![login_request("again", "Kitchen TV", "ABC-123")])
        .answering(vec![Err(ApiError::Unauthorized)]);
    let (root, mounted) = mount_consent(&api, "again");
    find(&root, "#approve").await;
    scope_checkbox(&root, "profile").click();
    scope_checkbox(&root, "offline_access").click();
    let description: HtmlInputElement = find(&root, "#description").await.unchecked_into();
    description.set_value("Kitchen tablet");
    description
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    click(&root, "#approve");
    sleep(50).await;
    drop(mounted);

    let (root, mounted) = mount_consent(&api, "again");
    find(&root, "#approve").await;
    assert!(scope_checkbox(&root, "openid").checked());
    assert!(
        !scope_checkbox(&root, "profile").checked(),
        "unticked before stays unticked"
    );
    assert!(
        scope_checkbox(&root, "offline_access").checked(),
        "ticked before stays ticked"
    );
    let description: HtmlInputElement = find(&root, "#description").await.unchecked_into();
    assert_eq!(description.value(), "Kitchen tablet");

    // Decided now: the draft is gone, and a later visit starts from the defaults.
    click(&root, "#approve");
    find(&root, "[data-outcome='approved']").await;
    drop(mounted);
    assert!(ciba_approval::draft::take("again").is_none());
}

/// The code check as a host sends it: three choices in its order, never the message itself.
const TILL_CODES: [&str; 3] = ["Kasse 3: 8203", "Kasse 3: 4711", "Kasse 3: 4967"];

fn verifying_request(id: &str) -> LoginRequest {
    LoginRequest {
        verify_binding_message: true,
        binding_message: None,
        binding_message_choices: Some(TILL_CODES.iter().map(|c| c.to_string()).collect()),
        ..login_request(id, "Fabrikam Till 3", "unused")
    }
}

/// The three offered codes, as (radio, its text).
fn code_choices_on_page(root: &Element) -> Vec<(HtmlInputElement, String)> {
    let radios = root
        .query_selector_all("input[name='code-choice']")
        .unwrap();
    (0..radios.length())
        .map(|index| {
            let radio: HtmlInputElement = radios.item(index).unwrap().unchecked_into();
            let label = root
                .query_selector(&format!("label[for='{}']", radio.id()))
                .unwrap()
                .unwrap();
            (radio, text(&label))
        })
        .collect()
}

#[wasm_bindgen_test]
async fn the_code_check_offers_the_hosts_choices_and_sends_the_pick() {
    let api = FakeApi::with(vec![verifying_request("v1")]);
    let (root, _mounted) = mount_consent(&api, "v1");
    find(&root, "[data-state='code-check']").await;
    let approve: HtmlInputElement = find(&root, "#approve").await.unchecked_into();
    assert!(approve.disabled(), "Approve waits for a pick");
    let deny: HtmlInputElement = find(&root, "#deny").await.unchecked_into();
    assert!(!deny.disabled(), "Deny never waits");

    // The host's three, in its order, each a labelled radio; no answer anywhere on the page.
    let choices = code_choices_on_page(&root);
    let texts: Vec<&str> = choices.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(texts, TILL_CODES);
    assert!(root.query_selector("p.binding-message").unwrap().is_none());
    let legend = find(&root, "[data-state='code-check'] legend").await;
    assert_eq!(text(&legend), td_string!(Locale::en, code_question));

    // Any pick enables Approve (only the host knows which is right); a change of mind is allowed.
    choices[0].0.click();
    sleep(50).await;
    assert!(!approve.disabled());
    choices[1].0.click();
    sleep(50).await;
    assert!(!choices[0].0.checked() && choices[1].0.checked());
    click(&root, "#approve");
    find(&root, "[data-outcome='approved']").await;
    let sent = api.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].binding_message.as_deref(), Some("Kasse 3: 4711"));
    assert!(sent[0].scopes_values_consented.is_some());
}

#[wasm_bindgen_test]
async fn a_wrong_code_leaves_only_deny() {
    let api =
        FakeApi::with(vec![verifying_request("v2")]).answering(vec![Err(ApiError::WrongCode)]);
    let (root, _mounted) = mount_consent(&api, "v2");
    find(&root, "[data-state='code-check']").await;
    let choices = code_choices_on_page(&root);
    choices[2].0.click();
    sleep(50).await;
    click(&root, "#approve");
    let alert = find(&root, "[data-state='wrong-code']").await;
    assert_eq!(alert.get_attribute("role").as_deref(), Some("alert"));
    assert_eq!(text(&alert), td_string!(Locale::en, wrong_code));
    let approve: HtmlInputElement = find(&root, "#approve").await.unchecked_into();
    assert!(approve.disabled());
    assert!(
        code_choices_on_page(&root)
            .iter()
            .all(|(radio, _)| radio.disabled()),
        "no second guess"
    );
    assert!(
        root.query_selector(".decision [role='alert']")
            .unwrap()
            .is_none(),
        "told once, by the code check"
    );
    let deny: HtmlInputElement = find(&root, "#deny").await.unchecked_into();
    assert!(!deny.disabled());
    click(&root, "#deny");
    find(&root, "[data-outcome='denied']").await;
    let sent = api.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].binding_message.as_deref(), Some("Kasse 3: 4967"));
    assert_eq!(sent[1], CompleteRequest::deny("v2"));
}

#[wasm_bindgen_test]
async fn the_list_does_not_need_the_code_of_a_checked_request() {
    let api = FakeApi::with(vec![
        verifying_request("v3"),
        login_request("r1", "TV", "ABC-123"),
    ]);
    let (root, _mounted) = mount_list(&api);
    let hint = find(&root, "[data-request-id='v3'] [data-state='pick-code']").await;
    assert_eq!(text(&hint), td_string!(Locale::en, pick_code_next));
    let row = find(&root, "[data-request-id='v3']").await;
    for code in TILL_CODES {
        assert!(!text(&row).contains(code), "{}", text(&row));
    }
    let other = find(&root, "[data-request-id='r1'] .binding-message").await;
    assert_eq!(text(&other), "ABC-123");
}

/// The wire format portals are written against (docs/embedding.md): a change here breaks them.
#[wasm_bindgen_test]
fn embed_messages_keep_the_documented_shape() {
    let json = |message: ToParent| {
        serde_json::from_str::<serde_json::Value>(&embed::to_json(&message)).unwrap()
    };
    assert_eq!(
        json(ToParent::Ready),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "ready"})
    );
    assert_eq!(
        json(ToParent::Resize { height: 612 }),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "resize", "height": 612})
    );
    assert_eq!(
        json(ToParent::Decided {
            internal_id: "r1".into(),
            outcome: Outcome::Denied
        }),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "decided",
            "internalId": "r1", "outcome": "denied"})
    );
    assert_eq!(
        json(ToParent::SessionRequired {
            reason: SessionRequiredReason::CookieBlocked
        }),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "sessionRequired",
            "reason": "cookieBlocked"})
    );
    assert_eq!(
        json(ToParent::ThemeRefused(embed::ThemeRefusal::Contrast {
            text: "text",
            background: "code-bg",
            ratio: 1.07
        })),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "themeRefused",
            "reason": "contrast", "properties": ["text", "code-bg"], "ratio": 1.07})
    );
    assert_eq!(
        json(ToParent::ThemeRefused(embed::ThemeRefusal::Value(
            "code-bg".into()
        ))),
        serde_json::json!({"protocol": "ciba-approval", "version": 1, "type": "themeRefused",
            "reason": "value", "properties": ["code-bg"]})
    );
}

/// Only our protocol, this version, and the two documented kinds get through.
#[wasm_bindgen_test]
fn embed_accepts_only_documented_messages_from_the_portal() {
    assert_eq!(
        embed::from_json(
            r#"{"protocol":"ciba-approval","version":1,"type":"open","internalId":"r7"}"#
        ),
        Some(FromParent::Open {
            internal_id: "r7".into()
        })
    );
    let theme = embed::from_json(
        r##"{"protocol":"ciba-approval","version":1,"type":"theme","properties":{"accent":"#005a9c"}}"##,
    );
    assert!(
        matches!(theme, Some(FromParent::Theme { properties }) if properties["accent"] == "#005a9c")
    );
    for refused in [
        r#"{"protocol":"ciba-approval","version":1,"type":"approve","internalId":"r7"}"#,
        r#"{"protocol":"ciba-approval","version":2,"type":"open","internalId":"r7"}"#,
        r#"{"protocol":"other","version":1,"type":"open","internalId":"r7"}"#,
        r#"{"type":"open","internalId":"r7"}"#,
        r#""open""#,
    ] {
        assert_eq!(embed::from_json(refused), None, "{refused}");
    }
}

/// A portal's theme value may not break out of its property or make the page fetch anything.
#[wasm_bindgen_test]
fn embed_theme_values_are_plain() {
    for safe in [
        "#005a9c",
        "rgb(0, 90, 156)",
        "0.25rem",
        "\"Segoe UI\", sans-serif",
        "transparent",
    ] {
        assert!(embed::is_safe_theme_value(safe), "{safe}");
    }
    for unsafe_value in [
        "red; background: url(https://evil.example/x)",
        "url(https://evil.example/x)",
        "URL(x)",
        "red}body{display:none",
        "\\75rl(x)",
        "",
        &"a".repeat(101),
    ] {
        assert!(!embed::is_safe_theme_value(unsafe_value), "{unsafe_value}");
    }
}

/// The page's own colours (`style/main.css`), light and dark, by name without `--ciba-`; embedded,
/// `bg` is `transparent` (the portal's page shows through).
fn embed_page_colours(dark: bool, embedded: bool) -> std::collections::BTreeMap<String, String> {
    let css = include_str!("../style/main.css");
    let (light, rest) = css
        .split_once("@media (prefers-color-scheme: dark)")
        .unwrap();
    let dark_block = rest.split_once("\n}\n").unwrap().0;
    let declarations = |block: &str| {
        block
            .lines()
            .filter_map(|line| line.trim().strip_prefix("--ciba-")?.strip_suffix(';'))
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect::<Vec<_>>()
    };
    let mut colours: std::collections::BTreeMap<_, _> = declarations(light).into_iter().collect();
    if dark {
        colours.extend(declarations(dark_block));
    }
    if embedded {
        colours.insert("bg".into(), "transparent".into());
    }
    colours
}

fn embed_theme(pairs: &[(&str, &str)]) -> std::collections::BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// WCAG 2.x contrast, and only colour forms the page can evaluate.
#[wasm_bindgen_test]
fn embed_contrast_is_measured_as_wcag_says() {
    let white = embed::parse_colour("#fff").unwrap();
    let black = embed::parse_colour("rgb(0, 0, 0)").unwrap();
    assert_eq!(white, [1.0, 1.0, 1.0]);
    assert_eq!(embed::parse_colour("#FFFFFF"), Some(white));
    assert!((embed::contrast_ratio(black, white) - 21.0).abs() < 1e-9);
    assert!((embed::contrast_ratio(white, white) - 1.0).abs() < 1e-9);
    // #767676 is the lightest grey that passes on white; #777777 is not.
    let grey = |value| embed::contrast_ratio(embed::parse_colour(value).unwrap(), white);
    assert!((grey("#767676") - 4.54).abs() < 0.01, "{}", grey("#767676"));
    assert!(grey("#777777") < 4.5);
    assert_eq!(
        embed::contrast_ratio(embed::parse_colour("#1b1f24").unwrap(), white),
        embed::contrast_ratio(white, embed::parse_colour("rgb(27,31,36)").unwrap()),
        "symmetric, and the two notations agree"
    );
    for unknown in [
        "black",
        "#ffff",
        "#12345",
        "#ggg",
        "rgb(1, 2)",
        "rgb(256, 0, 0)",
        "rgb(+1, 2, 3)",
        "rgb(1 2 3)",
        "rgba(0, 0, 0, 0.5)",
        "hsl(0 0% 10%)",
        "transparent",
        "",
    ] {
        assert_eq!(embed::parse_colour(unknown), None, "{unknown}");
    }
}

/// Issue 13: a theme that would hide the binding message, the code choices, the time left or
/// Approve/Deny is refused whole, at top level's colours and embedded, light and dark.
#[wasm_bindgen_test]
fn embed_a_theme_that_hides_what_the_person_must_read_is_refused() {
    use embed::ThemeRefusal::{Contrast, Value};
    for dark in [false, true] {
        for embedded in [false, true] {
            let page = embed_page_colours(dark, embedded);
            let check = |pairs: &[(&str, &str)]| {
                embed::check_theme(&embed_theme(pairs), |name| page[name].clone())
            };
            let refused_pair = |pairs: &[(&str, &str)]| match check(pairs) {
                Err(Contrast {
                    text,
                    background,
                    ratio,
                }) => {
                    assert!(ratio < 4.5, "{pairs:?}: {ratio}");
                    (text, background)
                }
                other => panic!("{pairs:?} (dark {dark}, embedded {embedded}): {other:?}"),
            };
            let case = format!("dark {dark}, embedded {embedded}");
            // The issue's link, on the light page: code choices black on black, the time left gone.
            if !dark {
                let (hidden, _) = refused_pair(&[("code-bg", "#1b1f24"), ("muted", "#f6f7f9")]);
                assert!(["text", "muted"].contains(&hidden), "{case}");
            }
            // Each part on its own.
            let code_bg = if dark { "#e8eaed" } else { "#1b1f24" };
            assert_eq!(
                refused_pair(&[("code-bg", code_bg)]),
                ("text", "code-bg"),
                "{case}"
            );
            let surface = page["surface"].clone();
            assert_eq!(
                refused_pair(&[("accent", &surface)]),
                ("accent", "surface"),
                "{case}"
            );
            assert_eq!(refused_pair(&[("muted", &surface)]).0, "muted", "{case}");
            assert_eq!(refused_pair(&[("text", &surface)]).0, "text", "{case}");
            // A readable colour does not carry an unreadable one in with it.
            let accent = if dark { "#d7aefb" } else { "#6b2d8f" };
            let (text, _) = refused_pair(&[("accent", accent), ("code-bg", code_bg)]);
            assert_eq!(text, "text", "{case}");
            // What cannot be checked is not applied either.
            assert_eq!(
                check(&[("accent", "#6b2d8f"), ("code-bg", "black")]),
                Err(Value("code-bg".into())),
                "{case}"
            );
            assert_eq!(
                check(&[("radius", "1px; color: red")]),
                Err(Value("radius".into()))
            );
        }
    }
}

/// The page's own colours pass, and so do readable portal themes (the demo portal's, a dark one,
/// one on a transparent background).
#[wasm_bindgen_test]
fn embed_a_readable_theme_is_accepted() {
    for dark in [false, true] {
        for embedded in [false, true] {
            let page = embed_page_colours(dark, embedded);
            let check = |pairs: &[(&str, &str)]| {
                embed::check_theme(&embed_theme(pairs), |name| page[name].clone())
            };
            let case = format!("dark {dark}, embedded {embedded}");
            assert_eq!(check(&[]), Ok(()), "{case}: the page's own colours");
            let dark_portal = [
                ("bg", "#101418"),
                ("surface", "rgb(24, 28, 34)"),
                ("text", "#f0f2f5"),
                ("muted", "#b8bec8"),
                ("accent", "#9ecbff"),
                ("success", "#8fd19e"),
                ("danger", "#ffb4ab"),
                ("danger-bg", "#3d1a17"),
                ("highlight-bg", "#3a3116"),
                ("code-bg", "#1f2a3d"),
                ("font", "\"Segoe UI\", sans-serif"),
                ("radius", "0.25rem"),
            ];
            assert_eq!(check(&dark_portal), Ok(()), "{case}");
            let light_portal = [
                ("bg", "transparent"),
                ("surface", "#fff"),
                ("text", "#1d1a22"),
                ("muted", "#595260"),
                ("accent", "#6b2d8f"),
                ("success", "#146c2e"),
                ("danger", "#a8201a"),
                ("danger-bg", "#fdecea"),
                ("highlight-bg", "#fff4d6"),
                ("code-bg", "#f1eef6"),
            ];
            assert_eq!(check(&light_portal), Ok(()), "{case}");
            // Names the page does not know are ignored, as before.
            assert_eq!(check(&[("shadow", "whatever")]), Ok(()), "{case}");
        }
    }
    let light = embed_page_colours(false, false);
    let demo_portal = embed_theme(&[
        ("accent", "#6b2d8f"),
        ("accent-text", "#ffffff"),
        ("focus", "#6b2d8f"),
        ("radius", "0.25rem"),
    ]);
    assert_eq!(
        embed::check_theme(&demo_portal, |name| light[name].clone()),
        Ok(())
    );
}

/// Issue 13: at top level, `?embed=1` and `theme-*` parameters do nothing: a link can neither strip
/// the page's chrome nor restyle it.
#[wasm_bindgen_test]
fn embed_the_address_neither_embeds_nor_themes_a_top_level_page() {
    let window = web_sys::window().unwrap();
    assert!(
        js_sys::Object::is(&window.parent().unwrap().unwrap(), &window),
        "the tests run at top level"
    );
    let history = window.history().unwrap();
    let original = window.location().href().unwrap();
    history
        .replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some("?embed=1&theme-code-bg=%231b1f24&theme-muted=%23f6f7f9"),
        )
        .unwrap();
    embed::start();
    let root: HtmlElement = document().document_element().unwrap().unchecked_into();
    let embedded = embed::is_embedded();
    let class = root.class_name();
    let code_bg = root.style().get_property_value("--ciba-code-bg").unwrap();
    let muted = root.style().get_property_value("--ciba-muted").unwrap();
    let suffix = embed::link_suffix();
    // Put the page back for the other tests before asserting.
    history
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&original))
        .unwrap();
    let _ = root.class_list().remove_1("embedded");
    let _ = root.style().remove_property("--ciba-code-bg");
    let _ = root.style().remove_property("--ciba-muted");
    assert!(!embedded, "a top-level page took ?embed=1");
    assert!(!class.contains("embedded"), "{class}");
    assert_eq!(
        (code_bg.as_str(), muted.as_str()),
        ("", ""),
        "themed by the address"
    );
    assert_eq!(suffix, "");
}

/// Deep links, Duende's `?id=` notification link and embedded links all reach the right page;
/// addresses outside the app are left to the browser.
#[wasm_bindgen_test]
fn app_addresses_lead_to_the_right_page() {
    use ciba_approval::routing::Place;
    let request = |id: &str| Some(Place::Request(id.into()));
    assert_eq!(Place::of("/ciba/"), Some(Place::List));
    assert_eq!(Place::of("/ciba"), Some(Place::List));
    assert_eq!(Place::of("/ciba/?embed=1"), Some(Place::List));
    assert_eq!(Place::of("/ciba?id=r%201"), request("r 1"));
    assert_eq!(Place::of("/ciba/?embed=1&id=r7"), request("r7"));
    assert_eq!(Place::of("/ciba/requests/r7"), request("r7"));
    assert_eq!(Place::of("/ciba/requests/r%2F7?embed=1"), request("r/7"));
    assert_eq!(Place::of("/ciba/requests/r7#top"), request("r7"));
    assert_eq!(Place::of("/ciba/requests/"), Some(Place::NotFound));
    assert_eq!(Place::of("/ciba/requests/a/b"), Some(Place::NotFound));
    assert_eq!(Place::of("/ciba/elsewhere"), Some(Place::NotFound));
    assert_eq!(Place::of("/cibafoo"), None);
    assert_eq!(Place::of("/Account/Login"), None);
    assert_eq!(Place::of("https://client.example/ciba/"), None);
}

/// src/json.rs reads and writes the contract by hand; serde (what ciba-idp and the OpenAPI document
/// use) is the reference. A misspelt member name would make every request "unreadable".
#[wasm_bindgen_test]
fn the_browser_json_mapping_matches_the_contract() {
    use ciba_approval::json;
    use ciba_contract::{EmbeddingSettings, Problem};

    let mut full = login_request("r1", "Kitchen TV", "ABC-123");
    full.acr_values = vec!["mfa".into()];
    full.tenant = Some("t1".into());
    full.idp = Some("local".into());
    full.resource_indicators = vec!["https://api.example".into()];
    full.verify_binding_message = true;
    full.binding_message_choices = Some(vec!["ABC-123".into(), "ABC-456".into(), "ABC-789".into()]);
    full.client.logo_uri = Some("https://cdn.example/logo.png".into());
    full.api_scopes[0].resources = vec!["api1".into()];
    let mut sparse = login_request("r2", "Till", "X");
    sparse.binding_message = None;
    sparse.client.client_uri = None;
    for request in [full, sparse] {
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(
            json::parse::<LoginRequest>(&text),
            Some(request.clone()),
            "{text}"
        );
        let list = serde_json::to_string(&vec![request.clone()]).unwrap();
        assert_eq!(json::parse::<Vec<LoginRequest>>(&list), Some(vec![request]));
    }
    // Members the contract lets a host leave out.
    let minimal = r#"{"internalId":"r3","client":{"clientId":"c","clientName":"C"},
        "identityScopes":[{"value":"openid","displayName":"Id","required":true,"emphasize":false}],
        "apiScopes":[],"createdAt":"2026-01-01T00:00:00Z","expiresAt":"2026-01-01T00:05:00Z"}"#;
    assert_eq!(
        json::parse::<LoginRequest>(minimal),
        serde_json::from_str::<LoginRequest>(minimal).ok()
    );
    assert_eq!(json::parse::<LoginRequest>(r#"{"internalId":1}"#), None);

    let session = SessionInfo {
        subject: "818727".into(),
        name: "Alice".into(),
    };
    assert_eq!(
        json::parse(&serde_json::to_string(&session).unwrap()),
        Some(session)
    );
    let embedding = EmbeddingSettings {
        allowed_origins: vec!["https://portal.example".into()],
    };
    assert_eq!(
        json::parse(&serde_json::to_string(&embedding).unwrap()),
        Some(embedding)
    );
    for problem in [
        Problem {
            problem_type: "about:blank".into(),
            title: "Conflict".into(),
            status: 409,
            detail: Some("Already decided.".into()),
            outcome: Some(Outcome::Denied),
        },
        Problem {
            problem_type: "https://example.com/problems/x".into(),
            title: "Not Found".into(),
            status: 404,
            detail: None,
            outcome: None,
        },
    ] {
        assert_eq!(
            json::parse(&serde_json::to_string(&problem).unwrap()),
            Some(problem)
        );
    }

    for decision in [
        CompleteRequest::approve(
            "r1",
            vec!["openid".into(), "email".into()],
            Some("Kitchen TV".into()),
        ),
        CompleteRequest::approve("r1", vec!["openid".into()], None).with_code("ABC-123"),
        CompleteRequest::deny("r1"),
    ] {
        let text = json::stringify(&decision);
        assert_eq!(
            serde_json::from_str::<CompleteRequest>(&text).unwrap(),
            decision,
            "{text}"
        );
    }
}
