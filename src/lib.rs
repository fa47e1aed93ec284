//! The page on which a person approves or denies a CIBA sign-in that started on another device.

pub mod api;
pub mod components;
pub mod draft;
pub mod pages;

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

use crate::{
    api::{HttpApi, Settings, provide_api},
    components::SessionHeader,
    pages::{HomePage, NotFoundPage, RequestPage},
};

/// Where the SPA is served; matches `public_url` in `Trunk.toml`.
pub const APP_BASE: &str = "/ciba";

/// The pending list.
pub fn list_href() -> String {
    format!("{APP_BASE}/")
}

/// The consent page for one request.
pub fn request_href(internal_id: &str) -> String {
    let id = String::from(js_sys::encode_uri_component(internal_id));
    format!("{APP_BASE}/requests/{id}")
}

/// The whole app, talking to the real API configured in the page's `<meta>` tags.
#[component]
pub fn App() -> impl IntoView {
    provide_api(HttpApi::new(Settings::from_document()));
    view! { <AppRoutes /> }
}

/// Header and routes, using whatever [`api::Api`] is in context.
#[component]
pub fn AppRoutes() -> impl IntoView {
    view! {
        <Router>
            <SessionHeader />
            <main id="main">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/ciba") view=HomePage />
                    <Route path=path!("/ciba/requests/:id") view=RequestPage />
                </Routes>
            </main>
        </Router>
    }
}
