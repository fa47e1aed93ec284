//! The `postMessage` protocol with the portal (docs/embedding.md): what the page tells it
//! ([`ToParent`]) and what it may ask ([`FromParent`]), as the JSON that goes over the wire. A
//! change here breaks portals written against the documentation; the component tests pin the shape.

use ciba_contract::Outcome;
use wasm_bindgen::{JsCast, JsValue};

use crate::json;

/// The name every message carries, so a portal can tell ours from other frames' messages.
pub const PROTOCOL: &str = "ciba-approval";
/// Bumped when a message changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;

/// What the page tells the portal.
#[derive(Clone, Debug, PartialEq)]
pub enum ToParent {
    /// The page runs and listens for messages.
    Ready,
    /// The content's height in CSS pixels, so the portal can size the iframe without a scrollbar.
    Resize { height: u32 },
    /// The user decided a request.
    Decided {
        internal_id: String,
        outcome: Outcome,
    },
    /// There is no session. `cookieBlocked`: the browser keeps this frame from signing in, and the
    /// page offers a new window; `signIn`: the frame goes to the sign-in page.
    SessionRequired { reason: SessionRequiredReason },
    /// A `theme` was not applied, none of it.
    ThemeRefused(ThemeRefusal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionRequiredReason {
    SignIn,
    CookieBlocked,
}

/// What the portal may ask of the page; anything else is ignored.
#[derive(Debug, PartialEq)]
pub enum FromParent {
    /// Set theme properties (names from [`crate::embed::theme::THEME_PROPERTIES`], without
    /// `--ciba-`).
    Theme { properties: Theme },
    /// Show one request.
    Open { internal_id: String },
}

/// A theme: `(name, value)` pairs with distinct names (a JSON object's members), in no particular
/// order. A list, not a map: a `BTreeMap` linked its own code and two copies of the stable sort
/// (~3 KB brotli).
pub type Theme = Vec<(String, String)>;

/// Why a theme was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum ThemeRefusal {
    /// A value the page cannot use or cannot check (a colour not in the forms
    /// [`crate::embed::theme::parse_colour`] reads).
    Value(String),
    /// `text` on `background` would fall under 4.5:1 (`ratio`, rounded down to hundredths).
    Contrast {
        text: &'static str,
        background: &'static str,
        ratio: f64,
    },
}

/// A message as it goes over the wire: `{"protocol":"ciba-approval","version":1,"type":…}`.
pub fn to_json(message: &ToParent) -> String {
    js_sys::JSON::stringify(&to_value(message))
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

pub(crate) fn to_value(message: &ToParent) -> JsValue {
    let text = |text: &str| Some(JsValue::from_str(text));
    let (kind, fields) = match message {
        ToParent::Ready => ("ready", vec![]),
        ToParent::Resize { height } => ("resize", vec![("height", Some(JsValue::from(*height)))]),
        ToParent::Decided {
            internal_id,
            outcome,
        } => (
            "decided",
            vec![
                ("internalId", text(internal_id)),
                ("outcome", text(outcome.as_str())),
            ],
        ),
        ToParent::ThemeRefused(refusal) => {
            let (reason, names, ratio) = match refusal {
                ThemeRefusal::Value(name) => ("value", vec![name.as_str()], None),
                ThemeRefusal::Contrast {
                    text,
                    background,
                    ratio,
                } => (
                    "contrast",
                    vec![*text, *background],
                    Some(JsValue::from(*ratio)),
                ),
            };
            let names: js_sys::Array = names.into_iter().map(JsValue::from_str).collect();
            (
                "themeRefused",
                vec![
                    ("reason", text(reason)),
                    ("properties", Some(names.into())),
                    ("ratio", ratio),
                ],
            )
        }
        ToParent::SessionRequired { reason } => (
            "sessionRequired",
            vec![(
                "reason",
                text(match reason {
                    SessionRequiredReason::SignIn => "signIn",
                    SessionRequiredReason::CookieBlocked => "cookieBlocked",
                }),
            )],
        ),
    };
    let mut members = vec![
        ("protocol", text(PROTOCOL)),
        ("version", Some(JsValue::from(PROTOCOL_VERSION))),
        ("type", text(kind)),
    ];
    members.extend(fields);
    json::object(&members)
}

/// A message from the portal, if it is one of ours, of this version and of a documented kind.
pub fn from_json(text: &str) -> Option<FromParent> {
    from_value(&js_sys::JSON::parse(text).ok()?)
}

pub(crate) fn from_value(message: &JsValue) -> Option<FromParent> {
    let protocol: String = json::get(message, "protocol")?;
    let version: f64 = json::get(message, "version")?;
    if protocol != PROTOCOL || version != f64::from(PROTOCOL_VERSION) {
        return None;
    }
    match json::get::<String>(message, "type")?.as_str() {
        "theme" => {
            let properties = json::member(message, "properties");
            let properties = js_sys::Object::entries(properties.dyn_ref::<js_sys::Object>()?)
                .iter()
                .map(|entry| {
                    let entry = entry.dyn_into::<js_sys::Array>().ok()?;
                    Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
                })
                .collect::<Option<_>>()?;
            Some(FromParent::Theme { properties })
        }
        "open" => Some(FromParent::Open {
            internal_id: json::get(message, "internalId")?,
        }),
        _ => None,
    }
}
