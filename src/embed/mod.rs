//! Running inside a vendor portal, two ways (docs/embedding.md):
//! - framed (`?embed=1` in an iframe whose parent is an allowed portal): no page chrome, the
//!   portal's theme (by message, and only if it keeps the page readable), and a small, versioned
//!   `postMessage` protocol with the parent window;
//! - mounted into an element of a same-origin page ([`crate::mount`]): the same messages go to the
//!   host's `onEvent` callback.
//!
//! Messages go only to the parent and only when its origin is one the provider allows
//! (`GET /api/ciba/embedding`, the same list as the CSP `frame-ancestors`); never to `*`. Messages
//! are accepted only from that parent, from that origin, and only of the documented kinds.

use std::cell::{Cell, RefCell};

use ciba_contract::Outcome;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};

use crate::{
    api::use_api,
    json, request_href,
    routing::{Navigation, use_navigation},
    tr,
};

/// The name every message carries, so a portal can tell ours from other frames' messages.
pub const PROTOCOL: &str = "ciba-approval";
/// Bumped when a message changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;

/// Theme properties a portal may set: `--ciba-<name>` in `style/main.css`.
pub const THEME_PROPERTIES: [&str; 15] = [
    "font",
    "bg",
    "surface",
    "text",
    "muted",
    "border",
    "accent",
    "accent-text",
    "focus",
    "danger",
    "danger-bg",
    "success",
    "highlight-bg",
    "code-bg",
    "radius",
];

/// Who hosts the page.
enum Host {
    /// A top-level page of its own.
    Page,
    /// An iframe in a portal (`?embed=1`).
    Frame,
    /// An element of a same-origin page; messages go to its callback, if it gave one.
    Element(Option<js_sys::Function>),
}

thread_local! {
    static HOST: RefCell<Host> = const { RefCell::new(Host::Page) };
    /// Until the person touches the embedded UI, it must not move focus: that would pull the
    /// keyboard (and the scroll position) away from the host page they are using.
    static TOUCHED: Cell<bool> = const { Cell::new(false) };
    /// The parent's origin once it is known to be allowed; until then messages wait in `QUEUE`.
    static PARENT_ORIGIN: RefCell<Option<String>> = const { RefCell::new(None) };
    static QUEUE: RefCell<Vec<JsValue>> = const { RefCell::new(Vec::new()) };
    /// Whether [`EmbedBridge`] has finished starting (successfully or not).
    static BRIDGE_STARTED: Cell<bool> = const { Cell::new(false) };
    /// A sign-in page to go to once the portal has been told (`sessionRequired`).
    static PENDING_SIGN_IN: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Set by [`EmbedBridge`]: the browser keeps this frame from signing in.
    static COOKIE_BLOCKED: Cell<Option<RwSignal<bool>>> = const { Cell::new(None) };
}

/// What the page tells the portal.
#[derive(Clone, Debug, PartialEq)]
pub enum ToParent {
    /// The page runs and listens for messages.
    Ready,
    /// The content's height in CSS pixels, so the portal can size the iframe without a scrollbar.
    Resize { height: u32 },
    /// The user decided a request.
    Decided {
        internal_id: String,
        outcome: Outcome,
    },
    /// There is no session. `cookieBlocked`: the browser keeps this frame from signing in, and the
    /// page offers a new window; `signIn`: the frame goes to the sign-in page.
    SessionRequired { reason: SessionRequiredReason },
    /// A `theme` was not applied, none of it.
    ThemeRefused(ThemeRefusal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionRequiredReason {
    SignIn,
    CookieBlocked,
}

/// What the portal may ask of the page; anything else is ignored.
#[derive(Debug, PartialEq)]
pub enum FromParent {
    /// Set theme properties (names from [`THEME_PROPERTIES`], without `--ciba-`).
    Theme {
        properties: std::collections::BTreeMap<String, String>,
    },
    /// Show one request.
    Open { internal_id: String },
}

/// Reads `?embed=1` from the page's address; call once at start-up. Only a page that really is in
/// a frame drops its chrome (and keeps `?embed=1` in its links); at top level the parameter means
/// nothing, so a link cannot strip or restyle the page. Whether the frame's parent is an allowed
/// portal is known only once the embedding settings arrive: if it is not, [`EmbedBridge`] puts the
/// chrome back. There is no theming by address: a theme comes only as a message from that parent.
pub fn start() {
    let window = window();
    let framed = window
        .parent()
        .ok()
        .flatten()
        .is_some_and(|parent| !js_sys::Object::is(&parent, &window));
    let asked = window
        .location()
        .search()
        .ok()
        .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get("embed"))
        .is_some_and(|embed| embed == "1");
    if !(framed && asked) {
        return;
    }
    HOST.set(Host::Frame);
    mark_embedded(true);
    notice_first_touch(&document());
}

/// The frame's parent is not an allowed portal, or cannot be confirmed: the page is itself again,
/// chrome and default theme included, and tells nobody anything.
fn unembed() {
    HOST.set(Host::Page);
    QUEUE.take();
    mark_embedded(false);
}

fn mark_embedded(on: bool) {
    if let Some(root) = document().document_element() {
        let _ = root.class_list().toggle_with_force("embedded", on);
    }
}

/// Hosted by an element of another page: see [`crate::mount`].
pub fn start_mounted(on_event: Option<js_sys::Function>, root: &web_sys::EventTarget) {
    HOST.set(Host::Element(on_event));
    notice_first_touch(root);
}

/// Framed in a portal.
pub fn is_embedded() -> bool {
    HOST.with_borrow(|host| matches!(host, Host::Frame))
}

/// Whether the page may move focus (to a new heading): always at top level; embedded, only once
/// the person has used the embedded UI.
pub fn may_move_focus() -> bool {
    HOST.with_borrow(|host| matches!(host, Host::Page)) || TOUCHED.get()
}

fn notice_first_touch(target: &web_sys::EventTarget) {
    let touched = Closure::<dyn Fn()>::new(|| TOUCHED.set(true));
    for kind in ["pointerdown", "keydown"] {
        let _ = target.add_event_listener_with_callback(kind, touched.as_ref().unchecked_ref());
    }
    touched.forget();
}

/// What the page's own links append so a reload or a return from sign-in stays embedded.
pub fn link_suffix() -> &'static str {
    if is_embedded() { "?embed=1" } else { "" }
}

/// Sends `message` to the portal (framed: once its origin is confirmed; mounted: to its callback).
/// Does nothing at top level.
pub fn tell_parent(message: ToParent) {
    let data = HOST.with_borrow(|host| match host {
        Host::Page => None,
        Host::Frame => Some(to_value(&message)),
        Host::Element(on_event) => {
            if let Some(on_event) = on_event {
                let _ = on_event.call1(&JsValue::NULL, &to_value(&message));
            }
            None
        }
    });
    let Some(data) = data else {
        return;
    };
    match PARENT_ORIGIN.with_borrow(Clone::clone) {
        Some(origin) => post(&data, &origin),
        None => QUEUE.with_borrow_mut(|queue| queue.push(data)),
    }
}

/// Embedded and without a session: tells the portal, then either goes to `sign_in_url` inside the
/// frame or, when the browser withholds this frame's cookies (third-party cookie blocking), stays
/// and offers a new window, because a sign-in inside the frame could never stick.
pub fn session_required(sign_in_url: String) {
    leptos::task::spawn_local(async move {
        if has_storage_access().await == Some(false) {
            tell_parent(ToParent::SessionRequired {
                reason: SessionRequiredReason::CookieBlocked,
            });
            if let Some(blocked) = COOKIE_BLOCKED.get() {
                blocked.set(true);
            }
            return;
        }
        tell_parent(ToParent::SessionRequired {
            reason: SessionRequiredReason::SignIn,
        });
        // Leaving the page now would drop a message still waiting for the portal's origin.
        if BRIDGE_STARTED.get() {
            let _ = window().location().assign(&sign_in_url);
        } else {
            PENDING_SIGN_IN.set(Some(sign_in_url));
        }
    });
}

/// `document.hasStorageAccess()`, where the browser has it: `Some(false)` when this frame's
/// unpartitioned cookies are blocked.
async fn has_storage_access() -> Option<bool> {
    let document = document();
    let method = js_sys::Reflect::get(&document, &"hasStorageAccess".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let promise = method
        .call0(&document)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()?
        .as_bool()
}

/// The bridge has started: whatever waited to leave the page may go.
fn bridge_started() {
    BRIDGE_STARTED.set(true);
    if let Some(url) = PENDING_SIGN_IN.take() {
        let _ = window().location().assign(&url);
    }
}

/// A message as it goes over the wire: `{"protocol":"ciba-approval","version":1,"type":…}`.
pub fn to_json(message: &ToParent) -> String {
    js_sys::JSON::stringify(&to_value(message))
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

fn to_value(message: &ToParent) -> JsValue {
    let text = |text: &str| Some(JsValue::from_str(text));
    let (kind, fields) = match message {
        ToParent::Ready => ("ready", vec![]),
        ToParent::Resize { height } => ("resize", vec![("height", Some(JsValue::from(*height)))]),
        ToParent::Decided {
            internal_id,
            outcome,
        } => (
            "decided",
            vec![
                ("internalId", text(internal_id)),
                ("outcome", text(outcome.as_str())),
            ],
        ),
        ToParent::ThemeRefused(refusal) => {
            let (reason, names, ratio) = match refusal {
                ThemeRefusal::Value(name) => ("value", vec![name.as_str()], None),
                ThemeRefusal::Contrast {
                    text,
                    background,
                    ratio,
                } => (
                    "contrast",
                    vec![*text, *background],
                    Some(JsValue::from(*ratio)),
                ),
            };
            let names: js_sys::Array = names.into_iter().map(JsValue::from_str).collect();
            (
                "themeRefused",
                vec![
                    ("reason", text(reason)),
                    ("properties", Some(names.into())),
                    ("ratio", ratio),
                ],
            )
        }
        ToParent::SessionRequired { reason } => (
            "sessionRequired",
            vec![(
                "reason",
                text(match reason {
                    SessionRequiredReason::SignIn => "signIn",
                    SessionRequiredReason::CookieBlocked => "cookieBlocked",
                }),
            )],
        ),
    };
    let mut members = vec![
        ("protocol", text(PROTOCOL)),
        ("version", Some(JsValue::from(PROTOCOL_VERSION))),
        ("type", text(kind)),
    ];
    members.extend(fields);
    json::object(&members)
}

/// A message from the portal, if it is one of ours, of this version and of a documented kind.
pub fn from_json(text: &str) -> Option<FromParent> {
    from_value(&js_sys::JSON::parse(text).ok()?)
}

fn from_value(message: &JsValue) -> Option<FromParent> {
    let protocol: String = json::get(message, "protocol")?;
    let version: f64 = json::get(message, "version")?;
    if protocol != PROTOCOL || version != f64::from(PROTOCOL_VERSION) {
        return None;
    }
    match json::get::<String>(message, "type")?.as_str() {
        "theme" => {
            let properties = json::member(message, "properties");
            let properties = js_sys::Object::entries(properties.dyn_ref::<js_sys::Object>()?)
                .iter()
                .map(|entry| {
                    let entry = entry.dyn_into::<js_sys::Array>().ok()?;
                    Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
                })
                .collect::<Option<_>>()?;
            Some(FromParent::Theme { properties })
        }
        "open" => Some(FromParent::Open {
            internal_id: json::get(message, "internalId")?,
        }),
        _ => None,
    }
}

fn post(data: &JsValue, origin: &str) {
    if let Ok(Some(parent)) = window().parent() {
        let _ = parent.post_message(data, origin);
    }
}

/// Whether a theme value is plain enough to be a colour, length or font list: no way out of the
/// property (`;`, braces), no `url()` fetching, no escapes.
pub fn is_safe_theme_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 100
        && !value.to_ascii_lowercase().contains("url(")
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '#' | '%' | '(' | ')' | ',' | '.' | '-' | ' ' | '"' | '\''
                )
        })
}

/// The pairs that must stay readable, whatever the theme: (text colour, background colour).
/// A `transparent` `bg` (the embedded default: the portal's page shows through) counts as `surface`.
pub const READABLE: [(&str, &str); 11] = [
    ("text", "bg"),           // headings, the client's name
    ("muted", "bg"),          // the time left
    ("danger", "bg"),         // "expired"
    ("text", "surface"),      // the binding section, scope names
    ("muted", "surface"),     // scope descriptions
    ("accent", "surface"),    // Approve and Deny, links
    ("success", "surface"),   // "approved"
    ("danger", "surface"),    // "denied"
    ("text", "code-bg"),      // the binding message and the code choices
    ("text", "highlight-bg"), // scopes the client asks to be looked at
    ("text", "danger-bg"),    // alerts, e.g. a wrong code
];

/// The WCAG 2.x contrast ratio of two opaque sRGB colours (channels 0–1), from 1 to 21.
pub fn contrast_ratio(a: [f64; 3], b: [f64; 3]) -> f64 {
    let luminance = |rgb: [f64; 3]| {
        let linear = |c: f64| {
            if c <= 0.04045 {
                c / 12.92
            } else {
                js_sys::Math::pow((c + 0.055) / 1.055, 2.4)
            }
        };
        0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
    };
    let (a, b) = (luminance(a), luminance(b));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// `#rgb`, `#rrggbb` or `rgb(r, g, b)` (0–255) as sRGB channels 0–1: the colours a theme may use,
/// because they are the ones the page can check. Anything else is `None`.
pub fn parse_colour(value: &str) -> Option<[f64; 3]> {
    let value = value.trim();
    let digit = |byte: u8, radix| char::from(byte).to_digit(radix);
    let mut rgb = [0u32; 3];
    if let Some(hex) = value.strip_prefix('#').map(str::as_bytes) {
        let short = hex.len() == 3;
        if !short && hex.len() != 6 {
            return None;
        }
        for (i, channel) in rgb.iter_mut().enumerate() {
            *channel = if short {
                digit(hex[i], 16)? * 17
            } else {
                digit(hex[2 * i], 16)? * 16 + digit(hex[2 * i + 1], 16)?
            };
        }
    } else {
        let mut parts = value.strip_prefix("rgb(")?.strip_suffix(')')?.split(',');
        for channel in &mut rgb {
            let part = parts.next()?.trim();
            if part.is_empty() || part.len() > 3 {
                return None;
            }
            for byte in part.bytes() {
                *channel = *channel * 10 + digit(byte, 10)?;
            }
            if *channel > 255 {
                return None;
            }
        }
        if parts.next().is_some() {
            return None;
        }
    }
    Some(rgb.map(|channel| f64::from(channel) / 255.0))
}

/// Why a theme was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum ThemeRefusal {
    /// A value the page cannot use or cannot check (a colour not in [`parse_colour`]'s forms).
    Value(String),
    /// `text` on `background` would fall under 4.5:1 (`ratio`, rounded down to hundredths).
    Contrast {
        text: &'static str,
        background: &'static str,
        ratio: f64,
    },
}

/// Whether `theme`, merged over the page's values now (`current`, by name without `--ciba-`), may
/// be applied: every value usable, and every pair in [`READABLE`] at least 4.5:1 (WCAG AA).
/// Unknown names are ignored, as they always were.
pub fn check_theme(
    theme: &std::collections::BTreeMap<String, String>,
    current: impl Fn(&str) -> String,
) -> Result<(), ThemeRefusal> {
    let transparent = |value: &str| value.trim().eq_ignore_ascii_case("transparent");
    for (name, value) in theme {
        let usable = match name.as_str() {
            "font" | "radius" => is_safe_theme_value(value),
            "bg" if transparent(value) => true,
            name if THEME_PROPERTIES.contains(&name) => parse_colour(value).is_some(),
            _ => true,
        };
        if !usable {
            return Err(ThemeRefusal::Value(name.clone()));
        }
    }
    let value = |name: &str| theme.get(name).cloned().unwrap_or_else(|| current(name));
    let colour = |name: &'static str| {
        let name = if name == "bg" && transparent(&value(name)) {
            "surface"
        } else {
            name
        };
        parse_colour(&value(name)).ok_or_else(|| ThemeRefusal::Value(name.into()))
    };
    for (text, background) in READABLE {
        let ratio = contrast_ratio(colour(text)?, colour(background)?);
        if ratio < 4.5 {
            return Err(ThemeRefusal::Contrast {
                text,
                background,
                ratio: (ratio * 100.0).floor() / 100.0,
            });
        }
    }
    Ok(())
}

fn root_element() -> Option<web_sys::HtmlElement> {
    document().document_element()?.dyn_into().ok()
}

/// Applies a theme from the portal whole, or none of it if [`check_theme`] refuses it (the
/// portal is told why).
fn apply_theme(theme: &std::collections::BTreeMap<String, String>) {
    let Some(root) = root_element() else {
        return;
    };
    let computed = window().get_computed_style(&root).ok().flatten();
    let current = |name: &str| {
        computed
            .as_ref()
            .and_then(|style| style.get_property_value(&format!("--ciba-{name}")).ok())
            .unwrap_or_default()
    };
    if let Err(refusal) = check_theme(theme, current) {
        tell_parent(ToParent::ThemeRefused(refusal));
        return;
    }
    for (name, value) in theme {
        if THEME_PROPERTIES.contains(&name.as_str()) {
            let _ = root.style().set_property(&format!("--ciba-{name}"), value);
        }
    }
}

/// A theme is checked against the light or dark colours in use when it came; when the person's
/// colour scheme changes, it is checked again against the new ones, and dropped if it fails.
fn recheck_theme_on_scheme_change() {
    let query = js_sys::Reflect::get(&window(), &"matchMedia".into())
        .and_then(|match_media| match_media.dyn_into::<js_sys::Function>())
        .and_then(|match_media| {
            match_media.call1(&window(), &"(prefers-color-scheme: dark)".into())
        });
    let Ok(query) = query else {
        return;
    };
    let on_change = Closure::<dyn Fn()>::new(|| {
        let Some(root) = root_element() else {
            return;
        };
        let theme = THEME_PROPERTIES
            .iter()
            .filter_map(|name| {
                let value = root
                    .style()
                    .remove_property(&format!("--ciba-{name}"))
                    .ok()?;
                (!value.is_empty()).then(|| (String::from(*name), value))
            })
            .collect();
        apply_theme(&theme);
    });
    let _ = query
        .unchecked_into::<web_sys::EventTarget>()
        .add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    on_change.forget();
}

/// The parent's origin as the browser reports it: `location.ancestorOrigins[0]` where the browser
/// has it, else (Firefox) the referrer's origin (a portal's default referrer policy sends at least
/// its origin). Never the referrer where `ancestorOrigins` exists: that is whoever navigated the
/// frame last, not necessarily the parent.
fn parent_origin() -> Option<String> {
    let ancestors = js_sys::Reflect::get(&window().location(), &"ancestorOrigins".into())
        .ok()
        .filter(|origins| !origins.is_undefined());
    match ancestors {
        Some(origins) => js_sys::Reflect::get(&origins, &0.into()).ok()?.as_string(),
        None => web_sys::Url::new(&document().referrer())
            .ok()
            .map(|url| url.origin()),
    }
}

/// Installs the protocol once the allowed origins are known: confirms the parent, sends what
/// waited, `ready`, and every change of height; listens for the portal's messages. Shows the
/// "open in a new window" offer when the browser keeps the frame from signing in.
#[component]
pub fn EmbedBridge() -> impl IntoView {
    let blocked = RwSignal::new(false);
    if is_embedded() {
        COOKIE_BLOCKED.set(Some(blocked));
        let api = use_api();
        let navigation = use_navigation();
        leptos::task::spawn_local(async move {
            let confirmed = match api.embedding().await {
                Ok(settings) => connect(&settings.allowed_origins, navigation),
                Err(_) => false,
            };
            if !confirmed {
                unembed();
            }
            bridge_started();
        });
    }
    move || {
        blocked.get().then(|| {
            view! {
                <section class="embed-blocked" role="alert">
                    <h2>{tr!(embed_blocked_heading)}</h2>
                    <p>{tr!(embed_blocked_text)}</p>
                    <button type="button" class="button" on:click=|_| open_in_new_window()>
                        {tr!(embed_open_window)}
                    </button>
                </section>
            }
        })
    }
}

/// Confirms the parent's origin and starts talking to it; `false` if it is not allowed.
fn connect(allowed_origins: &[String], navigation: Navigation) -> bool {
    let Some(origin) = parent_origin().filter(|origin| allowed_origins.contains(origin)) else {
        web_sys::console::warn_1(
            &"ciba-approval: the framing page's origin is not in embedding.allowed_origins; \
              it is shown as a page of its own"
                .into(),
        );
        return false;
    };
    PARENT_ORIGIN.set(Some(origin.clone()));
    for data in QUEUE.take() {
        post(&data, &origin);
    }
    tell_parent(ToParent::Ready);
    listen_to_parent(origin, navigation);
    recheck_theme_on_scheme_change();
    report_height();
    true
}

/// This page at top level, where the browser lets it sign in.
fn open_in_new_window() {
    let location = window().location();
    let path = location.pathname().unwrap_or_default();
    let search = web_sys::UrlSearchParams::new_with_str(&location.search().unwrap_or_default())
        .map(|params| {
            params.delete("embed");
            String::from(params.to_string())
        })
        .unwrap_or_default();
    let url = if search.is_empty() {
        path
    } else {
        format!("{path}?{search}")
    };
    let _ = window().open_with_url_and_target(&url, "_blank");
}

fn listen_to_parent(origin: String, navigation: Navigation) {
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let from_parent = window()
                .parent()
                .ok()
                .flatten()
                .zip(event.source())
                .is_some_and(|(parent, source)| js_sys::Object::is(&parent, &source));
            if event.origin() != origin || !from_parent {
                return;
            }
            let Some(message) = from_value(&event.data()) else {
                return;
            };
            match message {
                FromParent::Theme { properties } => apply_theme(&properties),
                FromParent::Open { internal_id } => {
                    navigation.go(&request_href(&internal_id));
                }
            }
        });
    let _ =
        window().add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    // Lives as long as the page.
    on_message.forget();
}

fn report_height() {
    let Some(body) = document().body() else {
        return;
    };
    let last = Cell::new(0);
    let measure = move || {
        let height = document()
            .body()
            .map_or(0, |body| body.offset_height().max(0) as u32);
        if height != last.replace(height) {
            tell_parent(ToParent::Resize { height });
        }
    };
    measure();
    let on_resize = Closure::<dyn Fn()>::new(measure);
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&body);
    }
    on_resize.forget();
}
