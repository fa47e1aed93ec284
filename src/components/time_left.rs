use std::time::Duration;

use leptos::prelude::*;

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

/// "4 min 05 s left", "45 s left" or "Expired".
pub fn describe_time_left(seconds: i64) -> String {
    match seconds {
        ..=0 => "Expired".into(),
        1..=59 => format!("{seconds} s left"),
        _ => format!("{} min {:02} s left", seconds / 60, seconds % 60),
    }
}

/// How long until an RFC 3339 instant, counting down; nothing if the instant cannot be read.
#[component]
pub fn TimeLeft(expires_at: String, now: ReadSignal<f64>) -> impl IntoView {
    let expires_ms = js_sys::Date::parse(&expires_at);
    (!expires_ms.is_nan()).then(|| {
        let seconds_left = move || ((expires_ms - now.get()) / 1000.0).ceil() as i64;
        view! {
            <time class="time-left" datetime=expires_at class:expired=move || seconds_left() <= 0>
                {move || describe_time_left(seconds_left())}
            </time>
        }
    })
}
