//! A portal's theme: which `--ciba-*` properties it may set, and the guard that refuses a theme
//! whole (telling the portal `themeRefused`) unless every value is plain and every text/background
//! pair the person must read keeps 4.5:1 (WCAG AA) — checked again when the light/dark scheme
//! switches.

use leptos::prelude::*;
use wasm_bindgen::{JsCast, closure::Closure};

use crate::embed::{
    self,
    protocol::{Theme, ThemeRefusal, ToParent},
};

/// Theme properties a portal may set: `--ciba-<name>` in `style/main.css`.
pub const THEME_PROPERTIES: [&str; 15] = [
    "font",
    "bg",
    "surface",
    "text",
    "muted",
    "border",
    "accent",
    "accent-text",
    "focus",
    "danger",
    "danger-bg",
    "success",
    "highlight-bg",
    "code-bg",
    "radius",
];

/// Whether a theme value is plain enough to be a colour, length or font list: no way out of the
/// property (`;`, braces), no `url()` fetching, no escapes.
pub fn is_safe_theme_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 100
        && !value.to_ascii_lowercase().contains("url(")
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '#' | '%' | '(' | ')' | ',' | '.' | '-' | ' ' | '"' | '\''
                )
        })
}

/// The pairs that must stay readable, whatever the theme: (text colour, background colour).
/// A `transparent` `bg` (the embedded default: the portal's page shows through) counts as `surface`.
pub const READABLE: [(&str, &str); 11] = [
    ("text", "bg"),           // headings, the client's name
    ("muted", "bg"),          // the time left
    ("danger", "bg"),         // "expired"
    ("text", "surface"),      // the binding section, scope names
    ("muted", "surface"),     // scope descriptions
    ("accent", "surface"),    // Approve and Deny, links
    ("success", "surface"),   // "approved"
    ("danger", "surface"),    // "denied"
    ("text", "code-bg"),      // the binding message and the code choices
    ("text", "highlight-bg"), // scopes the client asks to be looked at
    ("text", "danger-bg"),    // alerts, e.g. a wrong code
];

/// The WCAG 2.x contrast ratio of two opaque sRGB colours (channels 0–1), from 1 to 21.
pub fn contrast_ratio(a: [f64; 3], b: [f64; 3]) -> f64 {
    let luminance = |rgb: [f64; 3]| {
        let linear = |c: f64| {
            if c <= 0.04045 {
                c / 12.92
            } else {
                js_sys::Math::pow((c + 0.055) / 1.055, 2.4)
            }
        };
        0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
    };
    let (a, b) = (luminance(a), luminance(b));
    (a.max(b) + 0.05) / (a.min(b) + 0.05)
}

/// `#rgb`, `#rrggbb` or `rgb(r, g, b)` (0–255) as sRGB channels 0–1: the colours a theme may use,
/// because they are the ones the page can check. Anything else is `None`.
pub fn parse_colour(value: &str) -> Option<[f64; 3]> {
    let value = value.trim();
    let digit = |byte: u8, radix| char::from(byte).to_digit(radix);
    let mut rgb = [0u32; 3];
    if let Some(hex) = value.strip_prefix('#').map(str::as_bytes) {
        let short = hex.len() == 3;
        if !short && hex.len() != 6 {
            return None;
        }
        for (i, channel) in rgb.iter_mut().enumerate() {
            *channel = if short {
                digit(hex[i], 16)? * 17
            } else {
                digit(hex[2 * i], 16)? * 16 + digit(hex[2 * i + 1], 16)?
            };
        }
    } else {
        let mut parts = value.strip_prefix("rgb(")?.strip_suffix(')')?.split(',');
        for channel in &mut rgb {
            let part = parts.next()?.trim();
            if part.is_empty() || part.len() > 3 {
                return None;
            }
            for byte in part.bytes() {
                *channel = *channel * 10 + digit(byte, 10)?;
            }
            if *channel > 255 {
                return None;
            }
        }
        if parts.next().is_some() {
            return None;
        }
    }
    Some(rgb.map(|channel| f64::from(channel) / 255.0))
}

/// Whether `theme`, merged over the page's values now (`current`, by name without `--ciba-`), may
/// be applied: every value usable, and every pair in [`READABLE`] at least 4.5:1 (WCAG AA).
/// Unknown names are ignored, as they always were.
pub fn check_theme(
    theme: &[(String, String)],
    current: impl Fn(&str) -> String,
) -> Result<(), ThemeRefusal> {
    let transparent = |value: &str| value.trim().eq_ignore_ascii_case("transparent");
    let usable = |name: &str, value: &str| match name {
        "font" | "radius" => is_safe_theme_value(value),
        "bg" if transparent(value) => true,
        name if THEME_PROPERTIES.contains(&name) => parse_colour(value).is_some(),
        _ => true,
    };
    // The first unusable value by name, whatever order the portal wrote them in.
    if let Some((name, _)) = theme
        .iter()
        .filter(|(name, value)| !usable(name, value))
        .min_by(|(a, _), (b, _)| a.cmp(b))
    {
        return Err(ThemeRefusal::Value(name.clone()));
    }
    let value = |name: &str| {
        theme
            .iter()
            .find(|(theirs, _)| theirs == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| current(name))
    };
    let colour = |name: &'static str| {
        let name = if name == "bg" && transparent(&value(name)) {
            "surface"
        } else {
            name
        };
        parse_colour(&value(name)).ok_or_else(|| ThemeRefusal::Value(name.into()))
    };
    for (text, background) in READABLE {
        let ratio = contrast_ratio(colour(text)?, colour(background)?);
        if ratio < 4.5 {
            return Err(ThemeRefusal::Contrast {
                text,
                background,
                ratio: (ratio * 100.0).floor() / 100.0,
            });
        }
    }
    Ok(())
}

fn root_element() -> Option<web_sys::HtmlElement> {
    document().document_element()?.dyn_into().ok()
}

/// Applies a theme from the portal whole, or none of it if [`check_theme`] refuses it (the
/// portal is told why).
pub(crate) fn apply_theme(theme: &[(String, String)]) {
    let Some(root) = root_element() else {
        return;
    };
    let computed = window().get_computed_style(&root).ok().flatten();
    let current = |name: &str| {
        computed
            .as_ref()
            .and_then(|style| style.get_property_value(&format!("--ciba-{name}")).ok())
            .unwrap_or_default()
    };
    if let Err(refusal) = check_theme(theme, current) {
        embed::tell_parent(ToParent::ThemeRefused(refusal));
        return;
    }
    for (name, value) in theme {
        if THEME_PROPERTIES.contains(&name.as_str()) {
            let _ = root.style().set_property(&format!("--ciba-{name}"), value);
        }
    }
}

/// A theme is checked against the light or dark colours in use when it came; when the person's
/// colour scheme changes, it is checked again against the new ones, and dropped if it fails.
pub(crate) fn recheck_theme_on_scheme_change() {
    let query = js_sys::Reflect::get(&window(), &"matchMedia".into())
        .and_then(|match_media| match_media.dyn_into::<js_sys::Function>())
        .and_then(|match_media| {
            match_media.call1(&window(), &"(prefers-color-scheme: dark)".into())
        });
    let Ok(query) = query else {
        return;
    };
    let on_change = Closure::<dyn Fn()>::new(|| {
        let Some(root) = root_element() else {
            return;
        };
        let theme: Theme = THEME_PROPERTIES
            .iter()
            .filter_map(|name| {
                let value = root
                    .style()
                    .remove_property(&format!("--ciba-{name}"))
                    .ok()?;
                (!value.is_empty()).then(|| (String::from(*name), value))
            })
            .collect();
        apply_theme(&theme);
    });
    let _ = query
        .unchecked_into::<web_sys::EventTarget>()
        .add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    on_change.forget();
}
