//! `--demo-portal`: a small "vendor portal" on a second origin that embeds the approval page in an
//! iframe and shows the messages it receives, and a same-origin host page that uses the mount entry
//! point. Both exist to try embedding by hand and to test it end to end (docs/embedding.md).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use tower_http::set_header::SetResponseHeaderLayer;

const PORTAL_HTML: &str = include_str!("../demo/portal.html");
const PORTAL_JS: &str = include_str!("../demo/portal.js");
const PORTAL_CSS: &str = include_str!("../demo/portal.css");
const MOUNT_HTML: &str = include_str!("../demo/mount.html");
const MOUNT_JS: &str = include_str!("../demo/mount-demo.js");
const MOUNT_CSS: &str = include_str!("../demo/mount.css");

/// The portal, served on its own listener. `issuer` is the provider whose page it frames; the
/// portal's own policy allows framing exactly that origin.
pub fn portal(issuer: &str) -> Router {
    let page = PORTAL_HTML.replace("{{IDP}}", issuer);
    let policy = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         frame-src {issuer} http://localhost:*; object-src 'none'; base-uri 'none'"
    );
    Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/portal.js", get(|| async { javascript(PORTAL_JS) }))
        .route("/portal.css", get(|| async { css(PORTAL_CSS) }))
        // A page that only relays a message to its parent's approval frame: from another origin
        // (the portal as http://localhost:…, hence that frame-src), it lets tests prove such
        // messages are ignored.
        .route("/relay", get(|| async { Html(RELAY_HTML) }))
        .route("/relay.js", get(|| async { javascript(RELAY_JS) }))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&policy).expect("an origin is header-safe"),
        ))
}

/// The same-origin host page (`/demo/…` on the provider itself), for the mount entry point.
pub fn mount_demo<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/demo/mount", get(|| async { Html(MOUNT_HTML) }))
        .route(
            "/demo/mount-demo.js",
            get(|| async { javascript(MOUNT_JS) }),
        )
        .route("/demo/mount.css", get(|| async { css(MOUNT_CSS) }))
}

const RELAY_HTML: &str = "<!doctype html><title>relay</title><script src=\"/relay.js\"></script>";
const RELAY_JS: &str = "parent.frames[0].postMessage({protocol: 'ciba-approval', version: 1, \
type: 'open', internalId: decodeURIComponent(location.hash.slice(1))}, '*'); \
parent.postMessage({relayed: true}, '*');";

fn javascript(text: &'static str) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        text,
    )
}

fn css(text: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], text)
}
