//! Dates and relative times in the user's language, through the browser's `Intl` (no date crate
//! and no locale data in the wasm).

use std::cell::RefCell;

use js_sys::{Date, Intl::RelativeTimeFormat, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

use crate::i18n::{I18nLocaleTrait, Locale};

fn options(pairs: &[(&str, &str)]) -> Object {
    let options = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_str(value));
    }
    options
}

/// "2 minutes ago", "vor 2 Minuten", "now"… for an instant `seconds_ago` in the past.
pub fn time_ago(locale: Locale, seconds_ago: f64) -> String {
    let seconds = seconds_ago.max(0.0);
    let (value, unit) = if seconds < 60.0 {
        (seconds, "second")
    } else if seconds < 3600.0 {
        (seconds / 60.0, "minute")
    } else if seconds < 86_400.0 {
        (seconds / 3600.0, "hour")
    } else {
        (seconds / 86_400.0, "day")
    };
    relative_time_format(locale)
        .format(-value.floor(), unit)
        .into()
}

thread_local! {
    /// Building a formatter costs far more than formatting; every row asks every second.
    static RELATIVE_TIME_FORMAT: RefCell<Option<(Locale, RelativeTimeFormat)>> =
        const { RefCell::new(None) };
}

fn relative_time_format(locale: Locale) -> RelativeTimeFormat {
    RELATIVE_TIME_FORMAT.with_borrow_mut(|cached| match cached {
        Some((cached_locale, format)) if *cached_locale == locale => format.clone(),
        _ => {
            let format = made_by_the_page(locale).unwrap_or_else(|| {
                let locales = js_sys::Array::of1(&JsValue::from_str(locale.as_str()));
                RelativeTimeFormat::new(&locales, &options(&[("numeric", "auto")]))
            });
            *cached = Some((locale, format.clone()));
            format
        }
    })
}

/// The formatter index.html's script made while the wasm was on its way (with the same options),
/// if it speaks `locale`.
fn made_by_the_page(locale: Locale) -> Option<RelativeTimeFormat> {
    let made = Reflect::get(
        &js_sys::global(),
        &JsValue::from_str("cibaRelativeTimeFormat"),
    )
    .ok()?;
    let made = made.dyn_into::<RelativeTimeFormat>().ok()?;
    let speaks = Reflect::get(&made.resolved_options(), &JsValue::from_str("locale")).ok()?;
    (speaks.as_string()? == locale.as_str()).then_some(made)
}

/// The time of day of an instant (milliseconds since the epoch): "8:15 PM", "20:15".
pub fn time_of_day(locale: Locale, at_ms: f64) -> String {
    let date = Date::new(&JsValue::from_f64(at_ms));
    date.to_locale_string(
        locale.as_str(),
        &options(&[("hour", "numeric"), ("minute", "2-digit")]),
    )
    .into()
}
