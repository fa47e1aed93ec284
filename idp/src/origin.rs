//! Where a state-changing request came from. Browsers send `Origin` with every cross-origin POST
//! (`null` from sandboxed and `data:` pages), so a foreign one is refused outright; a request without
//! it comes from a same-origin page or a non-browser client, which other checks cover.

use axum::http::{HeaderMap, header};

use crate::AppState;

/// Whether the request carries an `Origin` other than this provider's.
pub fn is_foreign(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let scheme = state.issuer.split("://").next().unwrap_or("http");
    origin != &*state.issuer && origin != format!("{scheme}://{host}")
}
