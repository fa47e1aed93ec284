//! Where the app is, and its addresses. The app has three places — the list of requests, the
//! consent page for one request, "page not found" — so a signal and a click handler do what
//! leptos_router did, for about a tenth of its wasm, and the same code serves the mount entry
//! point, where the host page's address must never change. Which component shows for a place is
//! [`crate::pages::Pages`].

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::embed;

/// Where the SPA is served; matches `public_url` in `Trunk.toml`.
pub const APP_BASE: &str = "/ciba";

/// The list of pending requests.
pub fn list_href() -> String {
    format!("{APP_BASE}/{}", link_suffix())
}

/// The consent page for one request.
pub fn consent_href(internal_id: &str) -> String {
    let id = String::from(js_sys::encode_uri_component(internal_id));
    format!("{APP_BASE}/requests/{id}{}", link_suffix())
}

/// What the page's own links append so a reload or a return from sign-in stays embedded.
pub fn link_suffix() -> &'static str {
    if embed::is_embedded() { "?embed=1" } else { "" }
}

/// A page of the app: [`crate::pages::RequestList`], [`crate::pages::Consent`],
/// [`crate::pages::PageNotFound`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Place {
    RequestList,
    Consent(String),
    PageNotFound,
}

impl Place {
    /// The place an app address shows: `/ciba/` (with `?id=`, the link Duende's notification
    /// template sends, one request) and `/ciba/requests/{id}`. `None` for addresses outside the app.
    pub fn of(href: &str) -> Option<Self> {
        let rest = href.strip_prefix(APP_BASE)?;
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, query.split('#').next().unwrap_or_default()),
            None => (rest.split('#').next().unwrap_or_default(), ""),
        };
        Some(match path {
            "" | "/" => web_sys::UrlSearchParams::new_with_str(query)
                .ok()
                .and_then(|params| params.get("id"))
                .filter(|id| !id.is_empty())
                .map_or(Self::RequestList, Self::Consent),
            _ => match path.strip_prefix("/requests/") {
                Some(id) if !id.is_empty() && !id.contains('/') => js_sys::decode_uri_component(id)
                    .ok()
                    .and_then(|id| id.as_string())
                    .map_or(Self::PageNotFound, Self::Consent),
                _ if path.starts_with('/') => Self::PageNotFound,
                // `/cibafoo` is not ours.
                _ => return None,
            },
        })
    }

    /// The place the browser's address shows.
    pub fn here() -> Self {
        let location = window().location();
        let href = format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        );
        Self::of(&href).unwrap_or(Self::PageNotFound)
    }
}

/// The current place, and whether moving keeps the browser's address (and history) in step.
#[derive(Clone, Copy)]
pub struct Navigation {
    place: RwSignal<Place>,
    owns_address: bool,
}

impl Navigation {
    /// A top-level app: starts where the address says and follows Back and Forward.
    pub fn at_address() -> Self {
        let place = RwSignal::new(Place::here());
        let handle = window_event_listener(leptos::ev::popstate, move |_| place.set(Place::here()));
        on_cleanup(move || handle.remove());
        Self {
            place,
            owns_address: true,
        }
    }

    /// Inside another page: moves without touching its address.
    pub fn detached(start: Place) -> Self {
        Self {
            place: RwSignal::new(start),
            owns_address: false,
        }
    }

    /// The current place (tracked).
    pub fn place(self) -> Place {
        self.place.get()
    }

    /// Goes to an app address (as made by [`list_href`]/[`consent_href`]).
    pub fn go(self, href: &str) {
        let Some(place) = Place::of(href) else {
            return;
        };
        if self.owns_address {
            if let Ok(history) = window().history() {
                let _ = history.push_state_with_url(&JsValue::NULL, "", Some(href));
            }
            window().scroll_to_with_x_and_y(0.0, 0.0);
        }
        self.place.set(place);
    }

    /// For `on:click` on an element around the app: a plain click on one of the app's own links
    /// moves inside the app instead of loading a page; every other click is left alone.
    pub fn follow_link(self, event: web_sys::MouseEvent) {
        if event.default_prevented()
            || event.button() != 0
            || event.ctrl_key()
            || event.meta_key()
            || event.shift_key()
            || event.alt_key()
        {
            return;
        }
        let Some(link) = event
            .target()
            .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
            .and_then(|target| target.closest("a[href]").ok().flatten())
        else {
            return;
        };
        if link.has_attribute("target") || link.has_attribute("download") {
            return;
        }
        let Some(href) = link.get_attribute("href") else {
            return;
        };
        if Place::of(&href).is_some() {
            event.prevent_default();
            self.go(&href);
        }
    }
}

pub fn provide_navigation(navigation: Navigation) {
    provide_context(navigation);
}

pub fn use_navigation() -> Navigation {
    // Not `expect_context`: its panic message formats the type name with `{:?}`, which links
    // `str`'s Debug escaping and Unicode tables; this panic's message names no type.
    use_context().expect("provided by the app")
}
