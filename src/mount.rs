//! The mount entry point: the approval UI inside an element of a same-origin page (a back office
//! served by the identity provider), without taking over that page.
//!
//! - Its own shadow root: the host's styles do not reach in, ours do not leak out.
//! - No router: links inside change what the widget shows, never the page's address or history.
//! - No `<html lang>` change and no focus moves until the person uses the widget.
//!
//! From JavaScript (ciba-idp serves the loader at `/ciba/mount.js`):
//! `import { mount } from "/ciba/mount.js"; await mount(element, { request, onEvent })`.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use crate::{
    api::{HttpApi, provide_api},
    embed::{self, protocol::ToParent},
    i18n::I18nLocaleTrait,
    json,
    language::{LanguageProvider, use_i18n},
    pages::Pages,
    routing::{Navigation, Place, provide_navigation},
    settings::Settings,
};

/// Renders the approval UI into `element`. `options` (all optional): `stylesheet` (URL of the app's
/// CSS, which the loader fills in), `request` (an `internalId` to open first), `onEvent` (called
/// with each protocol message: `ready`, `decided`, `sessionRequired`), `apiBase`, `loginUrl`,
/// `logoutUrl` (default: as in the page's `<meta>` tags, else `/api/ciba`, `/Account/Login`,
/// `/Account/Logout`).
#[wasm_bindgen(js_name = mount)]
pub fn mount_into(element: web_sys::HtmlElement, options: JsValue) -> Result<(), JsValue> {
    let option = |name: &str| json::member(&options, name).as_string();
    let shadow =
        element.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?;
    if let Some(href) = option("stylesheet") {
        let link = document().create_element("link")?;
        link.set_attribute("rel", "stylesheet")?;
        link.set_attribute("href", &href)?;
        shadow.append_child(&link)?;
    }
    let root: web_sys::HtmlElement = document().create_element("div")?.unchecked_into();
    root.set_class_name("ciba-mounted");
    shadow.append_child(&root)?;

    let on_event = json::member(&options, "onEvent")
        .dyn_into::<js_sys::Function>()
        .ok();
    embed::start_mounted(on_event, &root);
    let defaults = Settings::from_document();
    let settings = Settings {
        api_base: option("apiBase")
            .map(|base| base.trim_end_matches('/').to_owned())
            .unwrap_or(defaults.api_base),
        login_url: option("loginUrl").unwrap_or(defaults.login_url),
        logout_url: option("logoutUrl").unwrap_or(defaults.logout_url),
    };
    let first = option("request").filter(|id| !id.is_empty());
    leptos::mount::mount_to(root, move || {
        provide_api(HttpApi::new(settings));
        view! {
            <LanguageProvider set_html_lang=false>
                <MountedApp first />
            </LanguageProvider>
        }
    })
    .forget();
    embed::tell_parent(ToParent::Ready);
    Ok(())
}

/// The app's pages, moving between them without touching the host page's address.
#[component]
fn MountedApp(first: Option<String>) -> impl IntoView {
    let navigation = Navigation::detached(first.map_or(Place::RequestList, Place::Consent));
    provide_navigation(navigation);
    let i18n = use_i18n();
    view! {
        <section
            class="ciba-main"
            lang=move || i18n.get_locale().as_str()
            on:click=move |event| navigation.follow_link(event)
        >
            <Pages />
        </section>
    }
}
