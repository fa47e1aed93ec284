use std::time::Duration;

use leptos::prelude::*;

use crate::{i18n::td_string, language::use_i18n};

/// The current time in milliseconds since the epoch, ticking once a second while the calling
/// component lives.
pub fn use_clock() -> ReadSignal<f64> {
    let (now, set_now) = signal(js_sys::Date::now());
    if let Ok(handle) = set_interval_with_handle(
        move || set_now.set(js_sys::Date::now()),
        Duration::from_secs(1),
    ) {
        on_cleanup(move || handle.clear());
    }
    now
}

/// Whether an RFC 3339 instant has passed by `now` (milliseconds since the epoch). An unreadable
/// instant never expires here: the server is the judge of that.
pub fn has_passed(instant: &str, now: f64) -> bool {
    let at = js_sys::Date::parse(instant);
    !at.is_nan() && at <= now
}

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

/// "Started 2 minutes ago", kept current; nothing if the instant cannot be read.
#[component]
pub fn StartedAgo(created_at: String, now: ReadSignal<f64>) -> impl IntoView {
    let i18n = use_i18n();
    let created_ms = js_sys::Date::parse(&created_at);
    (!created_ms.is_nan()).then(|| {
        let ago =
            move || crate::intl::time_ago(i18n.get_locale(), (now.get() - created_ms) / 1000.0);
        view! {
            <time class="started" datetime=created_at>
                {move || td_string!(i18n.get_locale(), started, ago = ago()).to_string()}
            </time>
        }
    })
}
