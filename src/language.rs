//! Which language the pages speak: the browser's preferred languages choose, unless the person
//! picked one with the switcher, which is remembered in `localStorage` for the next visit.
//!
//! The texts come from leptos_i18n (`locales/*.json`, typed at build time); the current language is
//! a signal of our own rather than leptos_i18n's context provider, whose locale negotiation (ICU
//! locale parsing, leptos-use) cost ~8 KB of wasm for what a prefix match of
//! `navigator.languages` does here.

use std::cell::Cell;

use leptos::prelude::*;

use crate::i18n::{I18nLocaleTrait, Locale};

thread_local! {
    /// The language last provided or chosen, for code that runs outside any component (the API
    /// client's `Accept-Language`, so hosts name their scopes in the page's language).
    static CURRENT: Cell<Locale> = Cell::new(Locale::default());
}

/// The page's language right now, readable anywhere (no reactive context needed).
pub fn current() -> Locale {
    CURRENT.with(Cell::get)
}

/// The page's language as a language tag (`en`, `de`), for `Accept-Language`.
pub fn current_tag() -> &'static str {
    current().as_str()
}

/// The page's language, shared by every component through context.
#[derive(Clone, Copy)]
pub struct I18n(RwSignal<Locale>);

impl I18n {
    pub fn get_locale(self) -> Locale {
        self.0.get()
    }

    pub fn get_locale_untracked(self) -> Locale {
        self.0.get_untracked()
    }

    pub fn set_locale(self, locale: Locale) {
        CURRENT.with(|current| current.set(locale));
        self.0.set(locale);
    }
}

pub fn use_i18n() -> I18n {
    // Not `expect_context`: its panic message formats the type name with `{:?}`, which links
    // `str`'s Debug escaping and Unicode tables; this panic's message names no type.
    use_context().expect("provided by the app")
}

/// The first of the browser's preferred languages we have, by exact tag or main language
/// (`de-AT` → `de`); else the default (English).
fn from_browser() -> Locale {
    let languages = window().navigator().languages();
    languages
        .iter()
        .filter_map(|tag| tag.as_string())
        .find_map(|tag| {
            let tag = tag.to_ascii_lowercase();
            let primary = tag.split('-').next().unwrap_or_default().to_owned();
            Locale::get_all()
                .iter()
                .copied()
                .find(|locale| locale.as_str() == tag || locale.as_str() == primary)
        })
        .unwrap_or_default()
}

/// Provides the language to `children`: the remembered choice, else the browser's. With
/// `set_html_lang`, `<html lang>` follows it (not when mounted into another page).
#[component]
pub fn LanguageProvider(
    #[prop(default = true)] set_html_lang: bool,
    children: Children,
) -> impl IntoView {
    let locale = remembered().unwrap_or_else(from_browser);
    CURRENT.with(|current| current.set(locale));
    let i18n = I18n(RwSignal::new(locale));
    provide_context(i18n);
    if set_html_lang {
        Effect::new(move |_| {
            if let Some(root) = document().document_element() {
                let _ = root.set_attribute("lang", i18n.get_locale().as_str());
            }
        });
    }
    children()
}

const KEY: &str = "ciba:language";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The language picked earlier, if any (and still offered).
pub fn remembered() -> Option<Locale> {
    let code = storage()?.get_item(KEY).ok()??;
    Locale::get_all()
        .iter()
        .copied()
        .find(|locale| locale.as_str() == code)
}

/// Switches to `locale` and remembers it.
pub fn choose(locale: Locale) {
    use_i18n().set_locale(locale);
    if let Some(storage) = storage() {
        // Storage may be disabled; the switch still holds for this visit.
        let _ = storage.set_item(KEY, locale.as_str());
    }
}

/// A plain message in the current language, following a switch. `t!` makes a new closure type at
/// every call site, and each one carries its own copy of the view code that renders it; every
/// message made with this shares one, which keeps the wasm smaller. Use [`tr!`](crate::tr).
pub fn text(
    message: fn(Locale) -> &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    move || message(i18n.get_locale())
}

/// `tr!(key)`: the message `key` from `locales/`, as a view that follows the language.
#[macro_export]
macro_rules! tr {
    ($key:ident) => {
        $crate::language::text(|locale| $crate::i18n::td_string!(locale, $key))
    };
}
