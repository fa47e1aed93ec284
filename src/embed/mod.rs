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
//!
//! This module holds the one embedding state (`EmbedState`: who hosts the page, whether the
//! person has used it, the confirmed parent and what waits for it, a sign-in waiting to leave) and
//! sending to the parent; the rest is by concern:
//! - [`protocol`]: the messages and their JSON;
//! - [`theme`]: which theme properties a portal may set, and the readability guard;
//! - [`bridge`]: the component that confirms the parent, listens and reports height.
//!
//! What happens to a framed page without a session is [`crate::sign_in`].

pub mod bridge;
pub mod protocol;
pub mod theme;

use std::cell::RefCell;

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};

use crate::embed::protocol::ToParent;

/// Who hosts the page.
enum Host {
    /// A top-level page of its own.
    Page,
    /// An iframe in a portal (`?embed=1`).
    Frame,
    /// An element of a same-origin page; messages go to its callback, if it gave one.
    Element(Option<js_sys::Function>),
}

/// Everything embedding remembers, in one value that only this module reads and writes.
struct EmbedState {
    host: Host,
    /// Until the person touches the embedded UI, it must not move focus: that would pull the
    /// keyboard (and the scroll position) away from the host page they are using.
    touched: bool,
    /// The parent's origin once it is known to be allowed; until then messages wait in `queue`.
    parent_origin: Option<String>,
    queue: Vec<JsValue>,
    /// Whether the bridge has finished starting (successfully or not).
    bridge_started: bool,
    /// A sign-in page to go to once the bridge has started, so no message is left behind.
    pending_sign_in: Option<String>,
    /// Set by the bridge: shows the "open in a new window" offer.
    new_window_offer: Option<RwSignal<bool>>,
}

thread_local! {
    static STATE: RefCell<EmbedState> = const {
        RefCell::new(EmbedState {
            host: Host::Page,
            touched: false,
            parent_origin: None,
            queue: Vec::new(),
            bridge_started: false,
            pending_sign_in: None,
            new_window_offer: None,
        })
    };
}

/// Reads or changes the state. Never calls out while borrowed: a callback could call back in.
fn with_state<T>(change: impl FnOnce(&mut EmbedState) -> T) -> T {
    STATE.with_borrow_mut(change)
}

/// Reads `?embed=1` from the page's address; call once at start-up. Only a page that really is in
/// a frame drops its chrome (and keeps `?embed=1` in its links); at top level the parameter means
/// nothing, so a link cannot strip or restyle the page. Whether the frame's parent is an allowed
/// portal is known only once the embedding settings arrive: if it is not, the bridge puts the
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
    with_state(|state| state.host = Host::Frame);
    mark_embedded(true);
    notice_first_touch(&document());
}

/// The frame's parent is not an allowed portal, or cannot be confirmed: the page is itself again,
/// chrome and default theme included, and tells nobody anything.
pub(crate) fn unembed() {
    with_state(|state| {
        state.host = Host::Page;
        state.queue.clear();
    });
    mark_embedded(false);
}

fn mark_embedded(on: bool) {
    if let Some(root) = document().document_element() {
        let _ = root.class_list().toggle_with_force("embedded", on);
    }
}

/// Hosted by an element of another page: see [`crate::mount`].
pub fn start_mounted(on_event: Option<js_sys::Function>, root: &web_sys::EventTarget) {
    with_state(|state| state.host = Host::Element(on_event));
    notice_first_touch(root);
}

/// Framed in a portal.
pub fn is_embedded() -> bool {
    with_state(|state| matches!(state.host, Host::Frame))
}

/// Whether the page may move focus (to a new heading): always at top level; embedded, only once
/// the person has used the embedded UI.
pub fn may_move_focus() -> bool {
    with_state(|state| matches!(state.host, Host::Page) || state.touched)
}

fn notice_first_touch(target: &web_sys::EventTarget) {
    let touched = Closure::<dyn Fn()>::new(|| with_state(|state| state.touched = true));
    for kind in ["pointerdown", "keydown"] {
        let _ = target.add_event_listener_with_callback(kind, touched.as_ref().unchecked_ref());
    }
    touched.forget();
}

/// Sends `message` to the portal (framed: once its origin is confirmed; mounted: to its callback).
/// Does nothing at top level.
pub fn tell_parent(message: ToParent) {
    /// Where a message goes, taken out of the state before anything is called.
    enum To {
        Nobody,
        Callback(js_sys::Function),
        Parent(Option<String>),
    }
    let to = with_state(|state| match &state.host {
        Host::Page | Host::Element(None) => To::Nobody,
        Host::Element(Some(on_event)) => To::Callback(on_event.clone()),
        Host::Frame => To::Parent(state.parent_origin.clone()),
    });
    match to {
        To::Nobody => {}
        To::Callback(on_event) => {
            let _ = on_event.call1(&JsValue::NULL, &protocol::to_value(&message));
        }
        To::Parent(Some(origin)) => post(&protocol::to_value(&message), &origin),
        To::Parent(None) => {
            let data = protocol::to_value(&message);
            with_state(|state| state.queue.push(data));
        }
    }
}

fn post(data: &JsValue, origin: &str) {
    if let Ok(Some(parent)) = window().parent() {
        let _ = parent.post_message(data, origin);
    }
}

/// The parent's origin is allowed: messages go to it from now on, those that waited first.
pub(crate) fn parent_confirmed(origin: String) {
    let waiting = with_state(|state| {
        state.parent_origin = Some(origin.clone());
        std::mem::take(&mut state.queue)
    });
    for data in waiting {
        post(&data, &origin);
    }
}

/// Leaves the page for `url` — at once if the bridge has started, else as soon as it has: leaving
/// now would drop a message still waiting for the portal's origin.
pub fn leave_for(url: String) {
    let now = with_state(|state| {
        if state.bridge_started {
            Some(url)
        } else {
            state.pending_sign_in = Some(url);
            None
        }
    });
    if let Some(url) = now {
        let _ = window().location().assign(&url);
    }
}

/// The bridge has started: whatever waited to leave the page may go.
pub(crate) fn bridge_started() {
    let pending = with_state(|state| {
        state.bridge_started = true;
        state.pending_sign_in.take()
    });
    if let Some(url) = pending {
        let _ = window().location().assign(&url);
    }
}

/// Where the bridge shows the "open in a new window" offer.
pub(crate) fn show_new_window_offer_with(offer: RwSignal<bool>) {
    with_state(|state| state.new_window_offer = Some(offer));
}

/// The browser keeps this frame from signing in: offer a window of its own.
pub fn offer_new_window() {
    if let Some(offer) = with_state(|state| state.new_window_offer) {
        offer.set(true);
    }
}
