//! Where a state-changing request came from. Browsers send `Origin` with every cross-origin POST
//! (`null` from sandboxed and `data:` pages), so a foreign one is refused outright; a request without
//! it comes from a same-origin page or a non-browser client, which other checks cover. "Ours" is the
//! configured issuer's origin, never the request's own `Host` header, which the sender chooses.

use axum::http::{HeaderMap, header};

use crate::state::AppState;

/// Whether the request carries an `Origin` other than this provider's.
pub fn is_foreign(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    origin
        .to_str()
        .map_or(true, |origin| origin != issuer_origin(&state.issuer))
}

/// `https://id.example/tenant` → `https://id.example`.
pub fn issuer_origin(issuer: &str) -> &str {
    let after_scheme = issuer.find("://").map_or(0, |at| at + 3);
    issuer[after_scheme..]
        .find('/')
        .map_or(issuer, |slash| &issuer[..after_scheme + slash])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_issuers_origin_has_no_path() {
        assert_eq!(
            super::issuer_origin("https://id.example/t1"),
            "https://id.example"
        );
        assert_eq!(
            super::issuer_origin("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
