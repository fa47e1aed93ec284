//! What this browser decided, kept until the request would have expired. A host may forget a decided
//! request — Duende deletes it at the client's next token poll — and then answers 404 where it used
//! to answer 409. With this record the page still tells the truth: a request decided here shows as
//! done, and a decision whose answer was lost shows as sent, never as "not found".
//!
//! In `localStorage`, so a second tab or a tap on the same notification knows too. Only the id, the
//! outcome, the client's name, when, and the expiry; entries leave once the request would have expired.
//! The list page's "Recently decided" is the confirmed ones, newest first.

use ciba_contract::Outcome;
use wasm_bindgen::JsValue;

use crate::json::{self, FromJson, ToJson};

const KEY: &str = "ciba:decided";
/// A browser decides a handful of requests at a time; this only bounds a misbehaving page.
const KEPT: usize = 20;

#[derive(Clone, Debug, PartialEq)]
pub struct Decided {
    pub internal_id: String,
    pub client_name: String,
    pub outcome: Outcome,
    /// The server said 204 (or 409 with this outcome). False: sent, but no answer came back.
    pub confirmed: bool,
    /// When the request would have expired, in milliseconds since the epoch.
    pub expires_at: f64,
    /// When it was decided (or sent), in milliseconds since the epoch.
    pub at: f64,
}

/// How many decisions "Recently decided" shows: enough to recognise what just happened.
pub const RECENT_SHOWN: usize = 5;

impl ToJson for Decided {
    fn to_json(&self) -> JsValue {
        json::object(&[
            ("internalId", Some(self.internal_id.to_json())),
            ("clientName", Some(self.client_name.to_json())),
            ("outcome", Some(self.outcome.to_json())),
            ("confirmed", Some(JsValue::from_bool(self.confirmed))),
            ("expiresAt", Some(JsValue::from_f64(self.expires_at))),
            ("at", Some(JsValue::from_f64(self.at))),
        ])
    }
}

impl FromJson for Decided {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            internal_id: json::get(value, "internalId")?,
            client_name: json::get(value, "clientName")?,
            outcome: json::get(value, "outcome")?,
            confirmed: json::get(value, "confirmed")?,
            expires_at: json::get(value, "expiresAt")?,
            at: json::get(value, "at")?,
        })
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The records of requests that have not expired yet.
fn load() -> Vec<Decided> {
    let now = js_sys::Date::now();
    storage()
        .and_then(|storage| storage.get_item(KEY).ok().flatten())
        .and_then(|text| json::parse::<Vec<Decided>>(&text))
        .unwrap_or_default()
        .into_iter()
        .filter(|kept| kept.expires_at > now)
        .collect()
}

/// Records a decision: before it is sent (`confirmed: false`), and again when the server confirms.
/// A confirmed record is never downgraded by a later unconfirmed one.
pub fn record(decided: Decided) {
    let mut kept = load();
    if kept
        .iter()
        .any(|old| old.internal_id == decided.internal_id && old.confirmed && !decided.confirmed)
    {
        return;
    }
    kept.retain(|old| old.internal_id != decided.internal_id);
    kept.insert(0, decided);
    kept.truncate(KEPT);
    if let Some(storage) = storage() {
        // Storage may be full or disabled; the page then says "not found" as before.
        let _ = storage.set_item(KEY, &json::stringify(&kept));
    }
}

/// The confirmed decisions, newest first, for "Recently decided".
pub fn recent() -> Vec<Decided> {
    load()
        .into_iter()
        .filter(|kept| kept.confirmed)
        .take(RECENT_SHOWN)
        .collect()
}

/// What this browser decided about `internal_id`, if anything, while the request could still matter.
pub fn find(internal_id: &str) -> Option<Decided> {
    load()
        .into_iter()
        .find(|kept| kept.internal_id == internal_id)
}

/// An RFC 3339 time as milliseconds since the epoch; "now + 10 minutes" when it cannot be read, so a
/// record always expires.
pub fn expiry_millis(expires_at: &str) -> f64 {
    let parsed = js_sys::Date::parse(expires_at);
    if parsed.is_nan() {
        js_sys::Date::now() + 600_000.0
    } else {
        parsed
    }
}
