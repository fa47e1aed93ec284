//! The frame's side of the conversation with the portal: [`EmbedBridge`] asks which portals may
//! frame the page, confirms the parent is one of them (else the page is a page of its own again),
//! then sends `ready` and every change of height, follows the portal's `theme` and `open` messages
//! (from that parent and origin only), and shows the "open in a new window" offer when the browser
//! keeps the frame from signing in ([`crate::sign_in`] decides when).

use std::cell::Cell;

use leptos::prelude::*;
use wasm_bindgen::{JsCast, closure::Closure};

use crate::{
    api::use_api,
    embed::{
        self,
        protocol::{self, FromParent, ToParent},
        theme::{apply_theme, recheck_theme_on_scheme_change},
    },
    routing::{Navigation, consent_href, use_navigation},
    tr,
};

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
    if embed::is_embedded() {
        embed::show_new_window_offer_with(blocked);
        let api = use_api();
        let navigation = use_navigation();
        leptos::task::spawn_local(async move {
            let confirmed = match api.embedding().await {
                Ok(settings) => connect(&settings.allowed_origins, navigation),
                Err(_) => false,
            };
            if !confirmed {
                embed::unembed();
            }
            embed::bridge_started();
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
    embed::parent_confirmed(origin.clone());
    embed::tell_parent(ToParent::Ready);
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
            let Some(message) = protocol::from_value(&event.data()) else {
                return;
            };
            match message {
                FromParent::Theme { properties } => apply_theme(&properties),
                FromParent::Open { internal_id } => {
                    navigation.go(&consent_href(&internal_id));
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
            embed::tell_parent(ToParent::Resize { height });
        }
    };
    measure();
    let on_resize = Closure::<dyn Fn()>::new(measure);
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&body);
    }
    on_resize.forget();
}
