//! When a request started — "Started 2 minutes ago" — kept current, in the person's language
//! through the browser's `Intl`, so they can tell a request they just made from an old one.

use leptos::prelude::*;

use crate::{i18n::td_string, intl, language::use_i18n};

/// "Started 2 minutes ago", kept current; nothing if the instant cannot be read.
#[component]
pub fn StartedAgo(created_at: String, now: ReadSignal<f64>) -> impl IntoView {
    let i18n = use_i18n();
    let created_ms = js_sys::Date::parse(&created_at);
    (!created_ms.is_nan()).then(|| {
        let ago = move || intl::time_ago(i18n.get_locale(), (now.get() - created_ms) / 1000.0);
        view! {
            <time class="started" datetime=created_at>
                {move || td_string!(i18n.get_locale(), started, ago = ago()).to_string()}
            </time>
        }
    })
}
