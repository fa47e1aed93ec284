//! An approval in progress, kept in `sessionStorage` while it is being sent. If the session has
//! ended, the page goes to sign in and comes back to the same request; the user then finds the
//! scopes they ticked and the device name they typed as they left them, not the defaults.

use ciba_contract::CompleteRequest;
use wasm_bindgen::JsValue;

use crate::json::{self, FromJson, ToJson};

const KEY_PREFIX: &str = "ciba:draft:";

#[derive(Debug, PartialEq, Eq)]
pub struct Draft {
    pub scopes: Vec<String>,
    pub description: Option<String>,
}

impl ToJson for Draft {
    fn to_json(&self) -> JsValue {
        json::object(&[
            ("scopes", Some(self.scopes.to_json())),
            ("description", Some(self.description.to_json())),
        ])
    }
}

impl FromJson for Draft {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            scopes: json::get(value, "scopes")?,
            description: json::get_optional(value, "description")?,
        })
    }
}

/// This tab's `sessionStorage`, when the browser allows it.
pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Remembers an approval about to be sent (denials need nothing restored).
pub fn save(decision: &CompleteRequest) {
    let Some(scopes) = decision.scopes_values_consented.clone() else {
        return;
    };
    let draft = Draft {
        scopes,
        description: decision.description.clone(),
    };
    if let Some(storage) = storage() {
        // Storage may be full or disabled; the decision is still sent, only the restore is lost.
        let _ = storage.set_item(
            &format!("{KEY_PREFIX}{}", decision.internal_id),
            &json::stringify(&draft),
        );
    }
}

/// The draft left for this request, removing it: it is restored once.
pub fn take(internal_id: &str) -> Option<Draft> {
    let storage = storage()?;
    let key = format!("{KEY_PREFIX}{internal_id}");
    let json = storage.get_item(&key).ok()??;
    let _ = storage.remove_item(&key);
    json::parse(&json)
}

/// Forgets the draft once the request is decided or gone.
pub fn discard(internal_id: &str) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&format!("{KEY_PREFIX}{internal_id}"));
    }
}
