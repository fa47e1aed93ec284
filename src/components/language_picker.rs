//! The language picker at the foot of the page: every language the page speaks, each named in
//! itself, so a reader finds theirs whatever the page is in now. The choice is remembered and wins
//! over the browser's languages from then on (see [`crate::language`]).

use leptos::prelude::*;

use crate::{
    i18n::{I18nLocaleTrait, Locale, td_string},
    language::use_i18n,
    tr,
};

/// Each language named in itself, so a reader finds theirs whatever the page is in now. The choice
/// is remembered and wins over the browser's languages from then on.
#[component]
pub fn LanguagePicker() -> impl IntoView {
    let i18n = use_i18n();
    let options = Locale::get_all()
        .iter()
        .map(|&locale| {
            view! {
                <option value=locale.as_str() lang=locale.as_str() selected=move || i18n.get_locale() == locale>
                    {td_string!(locale, language_name)}
                </option>
            }
        })
        .collect_view();
    view! {
        <label class="language">
            <span class="language-label">{tr!(language)}</span>
            <select
                id="language"
                on:change=move |event| {
                    let chosen = event_target_value(&event);
                    if let Some(&locale) = Locale::get_all()
                        .iter()
                        .find(|locale| locale.as_str() == chosen)
                    {
                        crate::language::choose(locale);
                    }
                }
            >
                {options}
            </select>
        </label>
    }
}
