//! Where the API and the account pages live. Read from `<meta>` tags in `index.html`, so a host can
//! change them without rebuilding the SPA; the mount entry point may override each (see
//! [`crate::mount`]).

use ciba_contract::API_BASE;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

pub const DEFAULT_LOGIN_URL: &str = "/Account/Login";
pub const DEFAULT_LOGOUT_URL: &str = "/Account/Logout";

/// The API's base address and the host's sign-in and sign-out pages.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Settings {
    pub api_base: String,
    pub login_url: String,
    pub logout_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            api_base: API_BASE.to_owned(),
            login_url: DEFAULT_LOGIN_URL.to_owned(),
            logout_url: DEFAULT_LOGOUT_URL.to_owned(),
        }
    }
}

impl Settings {
    /// `<meta name="ciba:api-base">`, `ciba:login-url` and `ciba:logout-url`; defaults when absent.
    pub fn from_document() -> Self {
        let defaults = Self::default();
        let api_base = meta_content("ciba:api-base").unwrap_or(defaults.api_base);
        Self {
            api_base: api_base.trim_end_matches('/').to_owned(),
            login_url: meta_content("ciba:login-url").unwrap_or(defaults.login_url),
            logout_url: meta_content("ciba:logout-url").unwrap_or(defaults.logout_url),
        }
    }
}

fn meta_content(name: &str) -> Option<String> {
    let meta = document()
        .query_selector(&format!("meta[name=\"{name}\"]"))
        .ok()??
        .dyn_into::<web_sys::HtmlMetaElement>()
        .ok()?;
    let content = meta.content().trim().to_owned();
    (!content.is_empty()).then_some(content)
}
