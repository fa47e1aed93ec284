//! How a client and a scope are named on screen, wherever they appear (list, consent form,
//! outcome), so the person recognises them from page to page: the client's name (its id when the
//! name is blank), a scope's name and description — the standard OpenID scopes in the page's own
//! words and language, whatever the host sent, others as the host named them (in the language the
//! page asked for with `Accept-Language`) — and the client's address only when it is a web address
//! that is safe to link.

use ciba_contract::{LoginRequest, ScopeInfo};

use crate::{
    i18n::{Locale, td_string},
    language::use_i18n,
};

/// The scope that asks for a refresh token, which outlives this sign-in: the user opts in to it,
/// and it is described in their words rather than the protocol's.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// A scope's name and description in one language.
type ScopeTexts = fn(Locale) -> (&'static str, &'static str);

/// The page's own texts for the standard OpenID scopes (OpenID Connect Core §5.4, §11): they mean
/// the same at every host, so the person reads them the same way, in the page's language, even when
/// a host sends only English or its own wording.
fn standard_texts(value: &str) -> Option<ScopeTexts> {
    Some(match value {
        "openid" => |l| {
            (
                td_string!(l, scope_openid),
                td_string!(l, scope_openid_description),
            )
        },
        "profile" => |l| {
            (
                td_string!(l, scope_profile),
                td_string!(l, scope_profile_description),
            )
        },
        "email" => |l| {
            (
                td_string!(l, scope_email),
                td_string!(l, scope_email_description),
            )
        },
        "address" => |l| {
            (
                td_string!(l, scope_address),
                td_string!(l, scope_address_description),
            )
        },
        "phone" => |l| {
            (
                td_string!(l, scope_phone),
                td_string!(l, scope_phone_description),
            )
        },
        OFFLINE_ACCESS => |l| {
            (
                td_string!(l, offline_access),
                td_string!(l, offline_access_description),
            )
        },
        _ => return None,
    })
}

/// The name a scope is shown by, in the page's current language.
pub fn scope_label(scope: &ScopeInfo) -> String {
    if let Some(texts) = standard_texts(&scope.value) {
        texts(use_i18n().get_locale()).0.to_owned()
    } else if scope.display_name.trim().is_empty() {
        scope.value.clone()
    } else {
        scope.display_name.clone()
    }
}

/// What a scope gives, in the page's current language: ours for the standard scopes, else the
/// host's, if it sent one.
pub fn scope_description(scope: &ScopeInfo) -> Option<String> {
    match standard_texts(&scope.value) {
        Some(texts) => Some(texts(use_i18n().get_locale()).1.to_owned()),
        None => scope
            .description
            .clone()
            .filter(|text| !text.trim().is_empty()),
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
