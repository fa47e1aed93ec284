use leptos::prelude::*;

use crate::{
    api::{self, Call, use_api},
    i18n::{I18nLocaleTrait, Locale, td_string},
    language::use_i18n,
    list_href, tr,
};

/// The banner: who is signed in, and a way to sign out.
#[component]
pub fn SessionHeader() -> impl IntoView {
    let api = StoredValue::new(use_api());
    let session = Call::default();
    session.run(api.with_value(|api| api.session()));
    let logout_url = api.with_value(|api| api.logout_url());

    view! {
        <header class="app-header">
            <a class="app-title" href=list_href()>
                {tr!(app_title)}
            </a>
            <div class="account">
                {move || {
                    session
                        .value
                        .get()
                        .and_then(Result::ok)
                        .map(|session| {
                            let name = if session.name.is_empty() {
                                session.subject
                            } else {
                                session.name
                            };
                            view! {
                                <span class="signed-in-as">
                                    <span class="signed-in-label">{tr!(signed_in_as)} " "</span>
                                    <bdi id="user-name">{name}</bdi>
                                </span>
                            }
                        })
                }}
                // The host's own sign-out page (Duende's asks first and checks its anti-forgery
                // token), so the session really ends wherever the page is hosted.
                <button
                    type="button"
                    id="sign-out"
                    class="button button--quiet"
                    on:click=move |_| api::sign_out(&logout_url)
                >
                    {tr!(sign_out)}
                </button>
            </div>
        </header>
    }
}

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
