//! The last few decisions made in this browser tab, so the user can see what they just did. Kept in
//! `sessionStorage`: they survive a reload or a trip to the sign-in page, and go with the tab. Only
//! the client's name, the outcome and the time: never tokens, scopes or codes.

use ciba_contract::Outcome;
use serde::{Deserialize, Serialize};

const KEY: &str = "ciba:recent";
/// Enough to recognise what just happened, short enough not to become a history.
pub const KEPT: usize = 5;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RecentDecision {
    pub internal_id: String,
    pub client_name: String,
    pub outcome: Outcome,
    /// Milliseconds since the epoch.
    pub at: f64,
}

/// The decisions remembered, newest first.
pub fn load() -> Vec<RecentDecision> {
    crate::draft::storage()
        .and_then(|storage| storage.get_item(KEY).ok().flatten())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// Puts a decision first; the same request decided again (a retry, a 409) is not listed twice.
pub fn remember(decision: RecentDecision) {
    let mut decisions = load();
    decisions.retain(|kept| kept.internal_id != decision.internal_id);
    decisions.insert(0, decision);
    decisions.truncate(KEPT);
    if let (Some(storage), Ok(json)) = (crate::draft::storage(), serde_json::to_string(&decisions))
    {
        let _ = storage.set_item(KEY, &json);
    }
}
