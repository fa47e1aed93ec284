//! How long a request has left — "4 min 05 s left", "45 s left", "Expired" — counting down each
//! second, so the person knows whether there is still time to decide; in words as well as colour.

use leptos::prelude::*;

use crate::{i18n::td_string, language::use_i18n};

/// How long until an RFC 3339 instant, counting down; nothing if the instant cannot be read.
#[component]
pub fn TimeLeft(expires_at: String, now: ReadSignal<f64>) -> impl IntoView {
    let i18n = use_i18n();
    let expires_ms = js_sys::Date::parse(&expires_at);
    (!expires_ms.is_nan()).then(|| {
        let seconds_left = move || ((expires_ms - now.get()) / 1000.0).ceil() as i64;
        // "4 min 05 s left", "45 s left", "Expired" — in words as well as colour.
        let describe = move || match seconds_left() {
            ..=0 => td_string!(i18n.get_locale(), expired).to_string(),
            seconds @ 1..=59 => {
                td_string!(i18n.get_locale(), time_left_seconds, seconds).to_string()
            }
            seconds => td_string!(
                i18n.get_locale(),
                time_left_minutes,
                minutes = seconds / 60,
                seconds = format!("{:02}", seconds % 60)
            )
            .to_string(),
        };
        view! {
            <time class="time-left" datetime=expires_at class:expired=move || seconds_left() <= 0>
                {describe}
            </time>
        }
    })
}
