//! How a client and a scope are named on screen, wherever they appear (list, consent form,
//! outcome), so the person recognises them from page to page: the client's name (its id when the
//! name is blank), a scope's display name (`offline_access` in plain words), and the client's
//! address only when it is a web address that is safe to link.

use ciba_contract::{LoginRequest, ScopeInfo};

use crate::{i18n::td_string, language::use_i18n};

/// The scope that asks for a refresh token, which outlives this sign-in: the user opts in to it,
/// and it is described in their words rather than the protocol's.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The name a scope is shown by.
pub fn scope_label(scope: &ScopeInfo) -> String {
    if scope.value == OFFLINE_ACCESS {
        td_string!(use_i18n().get_locale(), offline_access).to_string()
    } else if scope.display_name.trim().is_empty() {
        scope.value.clone()
    } else {
        scope.display_name.clone()
    }
}

/// The client name, or its id when the name is blank.
pub fn client_label(request: &LoginRequest) -> String {
    if request.client.client_name.trim().is_empty() {
        request.client.client_id.clone()
    } else {
        request.client.client_name.clone()
    }
}

/// Only web addresses are linked: anything else (`javascript:`, `data:`, …) is not.
pub fn safe_client_uri(uri: &str) -> Option<&str> {
    let lower = uri.to_ascii_lowercase();
    let loopback = ["http://127.0.0.1", "http://localhost"]
        .iter()
        .any(|prefix| {
            lower
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
    (lower.starts_with("https://") || loopback).then_some(uri)
}
