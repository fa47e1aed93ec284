//! Which language the pages speak: the browser's preferred languages choose (leptos_i18n matches
//! them against `locales/`), unless the person picked one with the switcher, which is remembered in
//! `localStorage` for the next visit.

use leptos::prelude::*;

use crate::i18n::{I18nLocaleTrait, Locale, use_i18n};

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

/// Applies a remembered choice: at once, so the first render is in it, and again once the i18n
/// context's own start-up effect (which sets the browser's language) has run.
#[component]
pub fn RememberedLanguage() -> impl IntoView {
    if let Some(locale) = remembered() {
        let i18n = use_i18n();
        i18n.set_locale(locale);
        Effect::new(move |_| i18n.set_locale(locale));
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
