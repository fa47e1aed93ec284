//! The page as an authenticator (issue 15): its service worker (`/ciba/sw.js`, written by
//! `build/service-worker.mjs` from `build/sw-source.js`) and this device's Web Push subscription, so
//! a new sign-in request rings the phone instead of waiting for someone to open the list.
//!
//! - Only the page of its own (not framed in a portal, not mounted into a host page) installs the
//!   worker and offers notifications: [`Installable`] is in context only there.
//! - The worker is registered after the list has first shown, never as part of the first load.
//! - Subscribing asks the browser's permission only when the person taps the toggle, subscribes with
//!   the host's VAPID key (`GET /api/ciba/push`) and hands the host exactly
//!   `PushSubscription.toJSON()`; turning it off, and signing out, forget it on both sides.
//!
//! Everything is read through the objects' own properties, so a browser without them (iOS Safari
//! outside a home-screen app has no `PushManager`) is told apart rather than crashing the page.

use ciba_contract::{PushKeys, PushSettings, PushSubscription, PushUnsubscribe};
use js_sys::{Promise, Reflect};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::{
    api::{ApiClient, ApiError},
    embed,
    json::{self, FromJson, ToJson, get, get_optional},
};

/// The worker's address; its scope is the app's, `/ciba/` (Trunk.toml `public_url`).
const SERVICE_WORKER: &str = "/ciba/sw.js";
/// The web app manifest (static/manifest.webmanifest): installing needs it and the worker.
const MANIFEST: &str = "/ciba/manifest.webmanifest";

/// How long signing out waits for this device's subscription to be forgotten before leaving anyway.
const SIGN_OUT_WAIT_MS: i32 = 2_000;

/// In context when the page runs as a page of its own (`App`), not inside a portal or a host page.
#[derive(Clone, Copy)]
pub struct Installable;

/// Whether this page may install the worker and offer notifications: a page of its own, not framed.
pub fn is_installable() -> bool {
    use_context::<Installable>().is_some() && !embed::is_embedded()
}

/// What this device can do about notifications, as the toggle shows it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeviceState {
    /// No service worker or no Push API here.
    Unsupported,
    /// The person (or a policy) refused notifications for this site in the browser.
    Blocked,
    Off,
    On,
}

/// Why turning notifications on or off did not work.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum PushError {
    /// The browser's permission prompt was dismissed.
    NotAllowed,
    /// The browser's push service refused or failed (or the worker could not start).
    Browser,
    /// The host refused or could not be reached.
    Api(ApiError),
}

fn navigator() -> web_sys::Navigator {
    window().navigator()
}

/// Whether `object.name` is there (not `undefined`, `null` or otherwise falsy).
fn has(object: &JsValue, name: &str) -> bool {
    json::member(object, name).is_truthy()
}

/// `navigator.serviceWorker` and `PushManager` both exist (secure context, a browser with Push).
pub fn is_supported() -> bool {
    has(&navigator(), "serviceWorker") && has(&window(), "PushManager")
}

/// `Notification.permission`: `"granted"`, `"denied"` or `"default"` (`None` without notifications).
fn permission() -> Option<String> {
    let notification = json::member(&window(), "Notification");
    json::member(&notification, "permission").as_string()
}

fn worker_container() -> web_sys::ServiceWorkerContainer {
    navigator().service_worker()
}

async fn wait(promise: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(promise).await
}

/// Registers the worker (idempotent; a new build's worker replaces the old
/// one by itself). Only on an installable page; a failure only means no offline shell and no
/// notifications, so it is logged.
pub fn register_worker() {
    if !has(&navigator(), "serviceWorker") {
        return;
    }
    leptos::task::spawn_local(async {
        if let Err(error) = wait(worker_container().register(SERVICE_WORKER)).await {
            web_sys::console::warn_2(&"service worker not registered:".into(), &error);
        }
    });
}

/// Links the manifest into `<head>` (once) on an installable page. Called as the app starts: after
/// the wasm, so neither it nor the icon Chromium then fetches to check installability shares the
/// first load's network, and well before the worker (Chromium learns of a new manifest link a little
/// later, and until then calls the page not installable).
pub fn link_manifest() {
    if !is_installable() {
        return;
    }
    let document = document();
    let Some(head) = document.head() else {
        return;
    };
    if document
        .query_selector("link[rel=manifest]")
        .ok()
        .flatten()
        .is_some()
    {
        return;
    }
    if let Ok(link) = document.create_element("link") {
        let _ = link.set_attribute("rel", "manifest");
        let _ = link.set_attribute("href", MANIFEST);
        let _ = head.append_child(&link);
    }
}

/// The worker's registration for this page, if one has been made.
async fn registration() -> Option<web_sys::ServiceWorkerRegistration> {
    let found = wait(worker_container().get_registration()).await.ok()?;
    (!found.is_undefined() && !found.is_null()).then(|| found.unchecked_into())
}

/// This device's current push subscription, if any.
async fn subscription() -> Option<web_sys::PushSubscription> {
    let push_manager = registration().await?.push_manager().ok()?;
    let found = wait(push_manager.get_subscription().ok()?).await.ok()?;
    (!found.is_null() && !found.is_undefined()).then(|| found.unchecked_into())
}

/// What this device does about notifications now.
pub async fn device_state() -> DeviceState {
    if !is_supported() {
        return DeviceState::Unsupported;
    }
    match permission().as_deref() {
        Some("denied") => DeviceState::Blocked,
        // A subscription without permission delivers nothing: off, whatever the push service keeps.
        Some("granted") if subscription().await.is_some() => DeviceState::On,
        _ => DeviceState::Off,
    }
}

/// Turns notifications on: asks permission (call from the tap itself: browsers allow the prompt
/// only then), subscribes with the host's key and registers the subscription with the host. A
/// failure at the host undoes the browser's subscription, so "on" always means the host has it.
pub async fn turn_on(api: &ApiClient) -> Result<DeviceState, PushError> {
    // Asked first, while the tap still counts as the person's gesture.
    let asked = Reflect::get(
        &json::member(&window(), "Notification"),
        &"requestPermission".into(),
    )
    .ok()
    .and_then(|method| method.dyn_into::<js_sys::Function>().ok())
    .and_then(|method| method.call0(&json::member(&window(), "Notification")).ok())
    .ok_or(PushError::Browser)?;
    let answer = wait(asked.unchecked_into())
        .await
        .map_err(|_| PushError::Browser)?;
    match answer.as_string().as_deref() {
        Some("granted") => {}
        Some("denied") => return Ok(DeviceState::Blocked),
        _ => return Err(PushError::NotAllowed),
    }
    let settings = api.push_settings().await.map_err(PushError::Api)?;
    // `ready` waits for an active worker, so register first in case the list has not done it yet.
    let _ = wait(worker_container().register(SERVICE_WORKER)).await;
    let ready: web_sys::ServiceWorkerRegistration =
        wait(worker_container().ready().map_err(|_| PushError::Browser)?)
            .await
            .map_err(|_| PushError::Browser)?
            .unchecked_into();
    let options = web_sys::PushSubscriptionOptionsInit::new();
    options.set_user_visible_only(true);
    // The base64url string itself: the Push API takes it as it is.
    options.set_application_server_key(&JsValue::from_str(&settings.vapid_public_key));
    let push_manager = ready.push_manager().map_err(|_| PushError::Browser)?;
    let subscribed: web_sys::PushSubscription = wait(
        push_manager
            .subscribe_with_options(&options)
            .map_err(|_| PushError::Browser)?,
    )
    .await
    .map_err(|_| PushError::Browser)?
    .unchecked_into();
    // `toJSON()`: the endpoint and keys as base64url, exactly what the host stores.
    let as_json = Reflect::get(&subscribed, &"toJSON".into())
        .ok()
        .and_then(|method| method.dyn_into::<js_sys::Function>().ok())
        .and_then(|method| method.call0(&subscribed).ok())
        .and_then(|value| PushSubscription::from_json(&value));
    let Some(as_json) = as_json else {
        unsubscribe(&subscribed).await;
        return Err(PushError::Browser);
    };
    if let Err(error) = api.add_push_subscription(as_json).await {
        unsubscribe(&subscribed).await;
        return Err(PushError::Api(error));
    }
    Ok(DeviceState::On)
}

/// Turns notifications off: the host forgets the subscription, then the browser drops it. When the
/// host cannot be told, nothing changes and the toggle stays on (the host would keep sending).
pub async fn turn_off(api: &ApiClient) -> Result<DeviceState, PushError> {
    let Some(subscribed) = subscription().await else {
        return Ok(DeviceState::Off);
    };
    forget(api, &subscribed).await.map_err(PushError::Api)?;
    Ok(DeviceState::Off)
}

/// The host forgets `subscribed` (one it never had counts as forgotten), then the browser drops it.
async fn forget(api: &ApiClient, subscribed: &web_sys::PushSubscription) -> Result<(), ApiError> {
    let endpoint = PushUnsubscribe {
        endpoint: subscribed.endpoint(),
    };
    match api.remove_push_subscription(endpoint).await {
        Ok(()) | Err(ApiError::NotFound) => {}
        Err(error) => return Err(error),
    }
    unsubscribe(subscribed).await;
    Ok(())
}

async fn unsubscribe(subscribed: &web_sys::PushSubscription) {
    if let Ok(promise) = subscribed.unsubscribe() {
        let _ = wait(promise).await;
    }
}

/// Before signing out: this device stops getting the person's notifications. Best effort and
/// bounded ([`SIGN_OUT_WAIT_MS`]): signing out must never hang on a slow host or push service.
pub async fn forget_this_device(api: ApiClient) {
    if !is_supported() {
        return;
    }
    let forgetting = wasm_bindgen_futures::future_to_promise(async move {
        if let Some(subscribed) = subscription().await {
            let _ = forget(&api, &subscribed).await;
        }
        Ok(JsValue::UNDEFINED)
    });
    let timeout = Promise::new(&mut |resolve, _| {
        let _ = window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, SIGN_OUT_WAIT_MS);
    });
    let both = js_sys::Array::of2(&forgetting, &timeout);
    let _ = wait(Promise::race(&both)).await;
}

// The push types' JSON, read and written through the browser's `JSON` as in `crate::json`.

impl FromJson for PushSettings {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            vapid_public_key: get(value, "vapidPublicKey")?,
        })
    }
}

impl FromJson for PushKeys {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            p256dh: get(value, "p256dh")?,
            auth: get(value, "auth")?,
        })
    }
}

impl FromJson for PushSubscription {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            endpoint: get(value, "endpoint")?,
            expiration_time: get_optional(value, "expirationTime")?,
            keys: get(value, "keys")?,
        })
    }
}

impl ToJson for PushSubscription {
    fn to_json(&self) -> JsValue {
        let keys = json::object(&[
            ("p256dh", Some(self.keys.p256dh.to_json())),
            ("auth", Some(self.keys.auth.to_json())),
        ]);
        json::object(&[
            ("endpoint", Some(self.endpoint.to_json())),
            // `null` as toJSON() gives it, not left out.
            (
                "expirationTime",
                Some(
                    self.expiration_time
                        .map_or(JsValue::NULL, JsValue::from_f64),
                ),
            ),
            ("keys", Some(keys)),
        ])
    }
}

impl ToJson for PushUnsubscribe {
    fn to_json(&self) -> JsValue {
        json::object(&[("endpoint", Some(self.endpoint.to_json()))])
    }
}
