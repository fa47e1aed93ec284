//! The last few decisions made in this browser tab, so the user can see what they just did. Kept in
//! `sessionStorage`: they survive a reload or a trip to the sign-in page, and go with the tab. Only
//! the client's name, the outcome and the time: never tokens, scopes or codes.

use ciba_contract::Outcome;
use wasm_bindgen::JsValue;

use crate::json::{self, FromJson, ToJson};

const KEY: &str = "ciba:recent";
/// Enough to recognise what just happened, short enough not to become a history.
pub const KEPT: usize = 5;

#[derive(Clone, Debug, PartialEq)]
pub struct RecentDecision {
    pub internal_id: String,
    pub client_name: String,
    pub outcome: Outcome,
    /// Milliseconds since the epoch.
    pub at: f64,
}

impl ToJson for RecentDecision {
    fn to_json(&self) -> JsValue {
        json::object(&[
            ("internalId", Some(self.internal_id.to_json())),
            ("clientName", Some(self.client_name.to_json())),
            ("outcome", Some(self.outcome.to_json())),
            ("at", Some(JsValue::from_f64(self.at))),
        ])
    }
}

impl FromJson for RecentDecision {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            internal_id: json::get(value, "internalId")?,
            client_name: json::get(value, "clientName")?,
            outcome: json::get(value, "outcome")?,
            at: json::get(value, "at")?,
        })
    }
}

/// The decisions remembered, newest first.
pub fn load() -> Vec<RecentDecision> {
    crate::draft::storage()
        .and_then(|storage| storage.get_item(KEY).ok().flatten())
        .and_then(|text| json::parse(&text))
        .unwrap_or_default()
}

/// Puts a decision first; the same request decided again (a retry, a 409) is not listed twice.
pub fn remember(decision: RecentDecision) {
    let mut decisions = load();
    decisions.retain(|kept| kept.internal_id != decision.internal_id);
    decisions.insert(0, decision);
    decisions.truncate(KEPT);
    if let Some(storage) = crate::draft::storage() {
        let _ = storage.set_item(KEY, &json::stringify(&decisions));
    }
}
