//! The time as the pages see it: a "now" that ticks once a second while a component lives, and
//! whether an instant from the server has passed. The server stays the judge of expiry; the page
//! only stops offering what can no longer be done.

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
    has_passed_ms(instant_ms(instant), now)
}

/// An RFC 3339 instant in milliseconds since the epoch (NaN when unreadable): parsed once by what
/// checks it every second.
pub fn instant_ms(instant: &str) -> f64 {
    js_sys::Date::parse(instant)
}

/// [`has_passed`] for an instant already read by [`instant_ms`].
pub fn has_passed_ms(at: f64, now: f64) -> bool {
    !at.is_nan() && at <= now
}
