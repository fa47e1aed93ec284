//! "Notify me on this device" (issue 15): the toggle's states against a faked browser (service
//! worker container, `PushManager`, `Notification.permission`) and the real HTTP client over a
//! faked `fetch`, so what reaches the host — exactly `toJSON()`, the CSRF header — is what is
//! checked. Only the page of its own offers it and registers the worker.

use ciba_approval::{
    api::{ApiClient, HttpApi, provide_api},
    components::NotifyToggle,
    i18n::{Locale, td_string},
    language::LanguageProvider,
    pages::RequestList,
    push::{self, Installable},
    settings::Settings,
};
use js_sys::{Function, Reflect};
use leptos::{mount::mount_to, prelude::*};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::Element;

use crate::{
    dom::{click, container, exists, find, sleep, text},
    fake_api::{FAKE_VAPID_KEY, FakeApi, in_app, login_request},
};

/// What the fake browser's subscription says for itself.
const SUBSCRIPTION_JSON: &str = r#"{"endpoint":"https://push.example/send/device-1","expirationTime":null,"keys":{"p256dh":"BPublicKeyOfThisBrowser","auth":"AuthSecret16byte"}}"#;

/// Installs the fake browser and returns its record (`window.__push`): `permission` (what
/// `Notification.permission` says), `answer` (what the prompt answers), `subscription`,
/// `subscribeOptions`, `registered` (calls to `register`), `unsubscribed`, and `fetched` (every
/// request the page sent: method, url, X-CSRF, body) with `status` (what a POST or DELETE answers).
/// `push` false leaves `PushManager` out, as iOS Safari outside a home-screen app does.
fn fake_browser(permission: &str, answer: &str, push: bool) -> JsValue {
    let install = Function::new_with_args(
        "permission, answer, push, json, vapid",
        r#"
        const state = { permission, answer, subscription: null, subscribeOptions: null,
                        registered: 0, unsubscribed: 0, fetched: [], status: 204 };
        const subscription = () => ({
          endpoint: JSON.parse(json).endpoint,
          toJSON: () => JSON.parse(json),
          unsubscribe: async () => { state.unsubscribed++; state.subscription = null; return true; },
        });
        const pushManager = {
          getSubscription: async () => state.subscription,
          subscribe: async (options) => {
            state.subscribeOptions = options;
            state.subscription = subscription();
            return state.subscription;
          },
        };
        const registration = { pushManager, scope: "/ciba/" };
        const container = {
          register: async () => { state.registered++; return registration; },
          getRegistration: async () => (state.registered ? registration : undefined),
          get ready() { return Promise.resolve(registration); },
        };
        Object.defineProperty(navigator, "serviceWorker", { value: container, configurable: true });
        Object.defineProperty(window, "PushManager", {
          value: push ? function PushManager() {} : undefined, configurable: true, writable: true });
        Object.defineProperty(Notification, "permission", { get: () => state.permission, configurable: true });
        Notification.requestPermission = async () => { state.permission = state.answer; return state.answer; };
        window.fetch = async (input, init) => {
          const request = new Request(input, init);
          state.fetched.push({ method: request.method, url: new URL(request.url).pathname,
                               csrf: request.headers.get("X-CSRF"), body: await request.text() });
          if (request.method === "GET") {
            return new Response(JSON.stringify({ vapidPublicKey: vapid }),
                                { status: 200, headers: { "Content-Type": "application/json" } });
          }
          const status = request.method === "POST" && state.status === 204 ? 201 : state.status;
          return new Response(status >= 400 ? '{"type":"about:blank","title":"Error","status":' + status + '}' : null,
                              { status, headers: status >= 400 ? { "Content-Type": "application/problem+json" } : {} });
        };
        window.__push = state;
        return state;
        "#,
    );
    let arguments = js_sys::Array::of5(
        &permission.into(),
        &answer.into(),
        &push.into(),
        &SUBSCRIPTION_JSON.into(),
        &FAKE_VAPID_KEY.into(),
    );
    install.apply(&JsValue::NULL, &arguments).unwrap()
}

fn get(object: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(object.clone(), |value, name| {
        Reflect::get(&value, &name.into()).unwrap()
    })
}

/// The requests the page sent, as `METHOD /path X-CSRF body` lines.
fn fetched(browser: &JsValue) -> Vec<String> {
    get(browser, "fetched")
        .unchecked_into::<js_sys::Array>()
        .iter()
        .map(|request| {
            format!(
                "{} {} {} {}",
                get(&request, "method").as_string().unwrap(),
                get(&request, "url").as_string().unwrap(),
                get(&request, "csrf")
                    .as_string()
                    .unwrap_or_else(|| "-".into()),
                get(&request, "body").as_string().unwrap_or_default(),
            )
        })
        .collect()
}

/// The toggle on its own, with the real HTTP client (over the faked `fetch`).
fn mount_toggle() -> (Element, impl Sized) {
    let root = container();
    let handle = mount_to(root.clone(), || {
        provide_api(HttpApi::new(Settings::default()));
        view! {
            <LanguageProvider>
                <NotifyToggle />
            </LanguageProvider>
        }
    });
    (root.into(), handle)
}

async fn state_is(root: &Element, state: &str) -> Element {
    find(root, &format!("#notify-state[data-state='{state}']")).await
}

fn pressed(root: &Element) -> Option<String> {
    root.query_selector("#notify-toggle")
        .unwrap()
        .unwrap()
        .get_attribute("aria-pressed")
}

#[wasm_bindgen_test]
async fn tapping_off_asks_then_hands_the_host_exactly_to_json_and_tapping_on_forgets_it() {
    let browser = fake_browser("default", "granted", true);
    let (root, _mounted) = mount_toggle();
    let off = state_is(&root, "off").await;
    assert!(text(&off).contains(td_string!(Locale::en, notify_off)));
    assert_eq!(pressed(&root).as_deref(), Some("false"));
    // Nothing is asked before the tap.
    assert_eq!(
        get(&browser, "permission").as_string().as_deref(),
        Some("default")
    );
    assert!(fetched(&browser).is_empty());

    click(&root, "#notify-toggle");
    let on = state_is(&root, "on").await;
    assert!(text(&on).contains(td_string!(Locale::en, notify_on)));
    assert_eq!(pressed(&root).as_deref(), Some("true"));
    let options = get(&browser, "subscribeOptions");
    assert_eq!(get(&options, "userVisibleOnly").as_bool(), Some(true));
    assert_eq!(
        get(&options, "applicationServerKey").as_string().as_deref(),
        Some(FAKE_VAPID_KEY)
    );
    assert_eq!(
        fetched(&browser),
        [
            "GET /api/ciba/push - ".to_owned(),
            format!("POST /api/ciba/push/subscriptions 1 {SUBSCRIPTION_JSON}"),
        ]
    );

    click(&root, "#notify-toggle");
    state_is(&root, "off").await;
    assert_eq!(pressed(&root).as_deref(), Some("false"));
    assert_eq!(
        fetched(&browser)[2],
        r#"DELETE /api/ciba/push/subscriptions 1 {"endpoint":"https://push.example/send/device-1"}"#
    );
    assert_eq!(get(&browser, "unsubscribed").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn a_host_that_refuses_the_subscription_leaves_it_off_and_says_so() {
    let browser = fake_browser("granted", "granted", true);
    Reflect::set(&browser, &"status".into(), &500.into()).unwrap();
    let (root, _mounted) = mount_toggle();
    state_is(&root, "off").await;
    click(&root, "#notify-toggle");
    let alert = find(&root, ".notify [role='alert']").await;
    assert!(
        text(&alert).contains(td_string!(Locale::en, notify_failed)),
        "{}",
        text(&alert)
    );
    // The browser's subscription is undone: "off" is the truth on both sides.
    state_is(&root, "off").await;
    assert_eq!(get(&browser, "unsubscribed").as_f64(), Some(1.0));
    assert!(get(&browser, "subscription").is_null());
}

#[wasm_bindgen_test]
async fn notifications_refused_in_the_browser_show_as_blocked() {
    fake_browser("denied", "denied", true);
    let (root, _mounted) = mount_toggle();
    let blocked = state_is(&root, "blocked").await;
    assert!(text(&blocked).contains(td_string!(Locale::en, notify_blocked)));
    let button: web_sys::HtmlButtonElement = find(&root, "#notify-toggle").await.unchecked_into();
    assert!(
        button.disabled(),
        "nothing to switch until the browser allows it"
    );
}

#[wasm_bindgen_test]
async fn a_browser_without_push_says_it_cannot() {
    fake_browser("default", "granted", false);
    let (root, _mounted) = mount_toggle();
    let unsupported = state_is(&root, "unsupported").await;
    assert!(text(&unsupported).contains(td_string!(Locale::en, notify_unsupported)));
    let button: web_sys::HtmlButtonElement = find(&root, "#notify-toggle").await.unchecked_into();
    assert!(button.disabled());
}

#[wasm_bindgen_test]
async fn a_prompt_dismissed_leaves_it_off_and_says_why() {
    let browser = fake_browser("default", "default", true);
    let (root, _mounted) = mount_toggle();
    state_is(&root, "off").await;
    click(&root, "#notify-toggle");
    let alert = find(&root, ".notify [role='alert']").await;
    assert!(text(&alert).contains(td_string!(Locale::en, notify_not_allowed)));
    state_is(&root, "off").await;
    assert!(
        fetched(&browser).is_empty(),
        "the host is not asked anything"
    );
}

#[wasm_bindgen_test]
async fn only_the_page_of_its_own_offers_it_and_registers_the_worker_after_the_list() {
    let browser = fake_browser("default", "granted", true);
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "4711")]);

    // As framed or mounted: no Installable in context.
    let root = container();
    let plain = mount_to(root.clone(), {
        let api = api.clone();
        move || in_app(api, move || view! { <RequestList /> })
    });
    find(&root, "a[data-request-id='r1']").await;
    sleep(100).await;
    assert!(!exists(&root, "#notify-toggle"));
    assert_eq!(get(&browser, "registered").as_f64(), Some(0.0));
    drop(plain);

    let root = container();
    let _own = mount_to(root.clone(), move || {
        provide_context(Installable);
        in_app(api, move || view! { <RequestList /> })
    });
    find(&root, "a[data-request-id='r1']").await;
    state_is(&root, "off").await;
    for _ in 0..100 {
        if get(&browser, "registered").as_f64() == Some(1.0) {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(get(&browser, "registered").as_f64(), Some(1.0));
}

#[wasm_bindgen_test]
async fn signing_out_forgets_this_devices_subscription_first() {
    let browser = fake_browser("granted", "granted", true);
    let (root, _mounted) = mount_toggle();
    state_is(&root, "off").await;
    click(&root, "#notify-toggle");
    state_is(&root, "on").await;

    let api = ApiClient::new(HttpApi::new(Settings::default()));
    push::forget_this_device(api.clone()).await;
    assert_eq!(
        fetched(&browser).last().map(String::as_str),
        Some(
            r#"DELETE /api/ciba/push/subscriptions 1 {"endpoint":"https://push.example/send/device-1"}"#
        )
    );
    assert_eq!(get(&browser, "unsubscribed").as_f64(), Some(1.0));

    // A host that never answers holds sign-out up for two seconds at most.
    assert_eq!(push::turn_on(&api).await, Ok(push::DeviceState::On));
    let hang = Function::new_no_args("window.fetch = () => new Promise(() => {});");
    hang.call0(&JsValue::NULL).unwrap();
    let started = js_sys::Date::now();
    push::forget_this_device(api).await;
    let waited = js_sys::Date::now() - started;
    assert!((1_900.0..3_000.0).contains(&waited), "waited {waited} ms");
}
