//! The built approval page (Trunk's `dist/`) at `/ciba/`: its files with cache headers (the service
//! worker and manifest included), the mount entry point `/ciba/mount.js`, and the hashes of
//! `index.html`'s inline scripts and stylesheet for the CSP — all from one reading of `index.html` at
//! start-up (restart after a rebuild).

use std::path::PathBuf;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_http::services::{ServeDir, ServeFile};

use crate::csp::InlineHashes;

/// Trunk's output directory and its `index.html` as read once (`None` when it could not be read: the
/// files are still served, but without a mount entry point or inline hashes).
pub struct Spa {
    dist: PathBuf,
    index_html: Option<String>,
}

impl Spa {
    /// Reads `dist/index.html`; a failure is logged, not fatal.
    pub fn load(dist: PathBuf) -> Self {
        let path = dist.join("index.html");
        let index_html = std::fs::read_to_string(&path)
            .inspect_err(|error| tracing::warn!("cannot read {}: {error}", path.display()))
            .ok();
        Self { dist, index_html }
    }

    /// The base64 SHA-256 of each inline script and stylesheet of `index.html`, for the CSP.
    pub fn inline_hashes(&self) -> InlineHashes {
        self.index_html
            .as_deref()
            .map(inline_hashes)
            .unwrap_or_default()
    }

    /// Adds `/ciba/…` (the files, client-side routes as `index.html`) and `/ciba/mount.js` to `app`.
    pub fn serve<S: Clone + Send + Sync + 'static>(self, mut app: Router<S>) -> Router<S> {
        // Client-side routes (`/ciba/requests/…`) are not files: they all get the SPA's index.html.
        // Brotli or gzip copies (made at build time) are served when the browser accepts them.
        let index = ServeFile::new(self.dist.join("index.html"))
            .precompressed_br()
            .precompressed_gzip();
        let files = ServeDir::new(&self.dist)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(index);
        if let Some(script) = self.index_html.as_deref().and_then(mount_script) {
            app = app.route(
                "/ciba/mount.js",
                get(move || async move {
                    (
                        [
                            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                            // A stable name over hashed files: revalidated, like index.html.
                            (header::CACHE_CONTROL, "no-cache"),
                        ],
                        script,
                    )
                }),
            );
        }
        let files = tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn(cache_headers))
            .service(files);
        app.nest_service("/ciba", files)
    }
}

/// The SHA-256 (base64) of every `<script>` element without a `src` and every `<style>`, as the
/// browser hashes them. Trunk puts the wasm loader in such a script and gives no way to move it out
/// (trunk-rs/trunk#288); build/paint-first.mjs puts the stylesheet inline, so the page paints before
/// any file arrives.
fn inline_hashes(index_html: &str) -> InlineHashes {
    let hash = |text: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text));
    InlineHashes {
        scripts: elements(index_html, "script")
            .filter(|(attributes, _)| attribute(attributes, "src").is_none())
            .map(|(_, text)| hash(text))
            .collect(),
        styles: elements(index_html, "style")
            .map(|(_, text)| hash(text))
            .collect(),
    }
}

/// The attributes and text of every `<name …>…</name>` element (also those inside a `<template>`,
/// which run once the page clones them).
fn elements<'a>(html: &'a str, name: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    let (open, close) = (format!("<{name}"), format!("</{name}"));
    let mut rest = html;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find(&open)?;
            let after_tag_name = &rest[start + open.len()..];
            // `<scripts>` or `<style-x>` are other elements.
            if !after_tag_name.starts_with([' ', '>', '\t', '\n', '\r', '/']) {
                rest = after_tag_name;
                continue;
            }
            let tag_end = after_tag_name.find('>')?;
            let body = &after_tag_name[tag_end + 1..];
            let end = body.find(&close)?;
            rest = &body[end..];
            return Some((&after_tag_name[..tag_end], &body[..end]));
        }
    })
}

/// The loader behind the mount entry point (`/ciba/mount.js`, src/mount.rs), pointing at this build's
/// hashed files as Trunk wrote them into `index.html`. A stable address for host pages to import.
fn mount_script(index_html: &str) -> Option<String> {
    let between = |start: &str, end: &str| {
        let from = index_html.find(start)? + start.len();
        let to = index_html[from..].find(end)?;
        Some(index_html[from..from + to].to_owned())
    };
    let glue = between("import init, * as bindings from '", "'")?;
    let wasm = between("module_or_path: '", "'")?;
    let css = elements(index_html, "style").find_map(|(tag, _)| attribute(tag, "data-href"))?;
    Some(format!(
        r#"// ciba-approval's mount entry point (docs/embedding.md); generated by ciba-idp from this build.
import init, {{ mount as mountApproval }} from "{glue}";

let started;

/** Renders the approval UI into `element`, in a shadow root of its own. Options: docs/embedding.md. */
export async function mount(element, options = {{}}) {{
  globalThis.__cibaApprovalMountOnly = true;
  started ??= init({{ module_or_path: "{wasm}" }});
  await started;
  mountApproval(element, {{ stylesheet: "{css}", ...options }});
}}
"#
    ))
}

/// An attribute's value in the inside of an HTML tag, quoted or not.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let at = rest.find(name)?;
        let before = rest[..at].chars().next_back();
        let after = &rest[at + name.len()..];
        if before.is_some_and(char::is_whitespace) && after.starts_with('=') {
            let value = &after[1..];
            return Some(match value.chars().next()? {
                quote @ ('"' | '\'') => value[1..].split(quote).next()?.to_owned(),
                _ => value
                    .split(|c: char| c.is_whitespace() || c == '>')
                    .next()?
                    .to_owned(),
            });
        }
        rest = after;
    }
}

/// Trunk names every asset after a hash of its content, so those never change and may be cached for
/// good; `index.html` (and every client-side route, which is `index.html`) must be revalidated so a
/// new build is picked up — a repeat visit then costs a 304. So must the files with stable names:
/// the service worker `sw.js` (the browser compares it byte for byte to find a new build's worker),
/// `manifest.webmanifest` and the icons. Their content types come from the name (`text/javascript`,
/// `application/manifest+json`, `image/png`).
async fn cache_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let immutable = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    let policy = if immutable && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// `main-60aa15abdfbecd52.css`, `ciba-approval-76e14d1fb836ef44_bg.wasm`: a 16-hex-digit content hash.
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    // Trunk writes its 64-bit hash in hex without leading zeros: 16 digits, sometimes fewer.
    name.match_indices('-').any(|(at, _)| {
        let rest = &name[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        (12..=16).contains(&digits) && matches!(rest.as_bytes().get(digits), Some(b'.' | b'_'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of the built `dist/index.html` (Trunk's, then build/paint-first.mjs): the
    /// stylesheet inline, and Trunk's loader and preloads in the template cloned after the paint.
    const BUILT_INDEX: &str = r#"<!DOCTYPE html><html><head>
<style data-href="/ciba/main-60aa15abdfbecd52.css">body{color:red}</style>
<script src="/other.js"></script>
</head><body><template id="ciba-after-paint"><script type="module">
import init, * as bindings from '/ciba/ciba-approval-76e14d1fb836ef44.js';
const wasm = await init({ module_or_path: '/ciba/ciba-approval-76e14d1fb836ef44_bg.wasm' });
window.wasmBindings = bindings;
</script><link rel="modulepreload" href="/ciba/ciba-approval-76e14d1fb836ef44.js" crossorigin="anonymous"></template>
<scripts>not a script</scripts><script>start()</script><script data-src=x>data()</script></body></html>"#;

    #[test]
    fn hashes_inline_scripts_and_styles() {
        let hash =
            |text: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text));
        let loader = "\nimport init, * as bindings from '/ciba/ciba-approval-76e14d1fb836ef44.js';\n\
                      const wasm = await init({ module_or_path: '/ciba/ciba-approval-76e14d1fb836ef44_bg.wasm' });\n\
                      window.wasmBindings = bindings;\n";
        let hashes = inline_hashes(BUILT_INDEX);
        // The loader in the template too (it runs once cloned); not the one with a `src` (a
        // `data-src` is no `src`).
        assert_eq!(
            hashes.scripts,
            [hash(loader), hash("start()"), hash("data()")]
        );
        assert_eq!(hashes.styles, [hash("body{color:red}")]);
        let none = inline_hashes("<p>no scripts</p>");
        assert!(none.scripts.is_empty() && none.styles.is_empty());
    }

    #[test]
    fn mount_script_points_at_this_builds_hashed_files() {
        let script = mount_script(BUILT_INDEX).expect("a mount script");
        assert!(
            script.contains(
                r#"import init, { mount as mountApproval } from "/ciba/ciba-approval-76e14d1fb836ef44.js";"#
            ),
            "{script}"
        );
        assert!(
            script.contains(
                r#"init({ module_or_path: "/ciba/ciba-approval-76e14d1fb836ef44_bg.wasm" })"#
            ),
            "{script}"
        );
        assert!(
            script.contains(r#"{ stylesheet: "/ciba/main-60aa15abdfbecd52.css", ...options }"#),
            "{script}"
        );
        assert!(script.contains("export async function mount(element, options = {})"));
        // Without Trunk's loader or the stylesheet's name there is nothing to point at.
        assert_eq!(mount_script("<html></html>"), None);
        let no_css = BUILT_INDEX.replace(" data-href=", " data-from=");
        assert_eq!(mount_script(&no_css), None);
    }

    /// Trunk's `minify = "on_release"` drops quotes and reorders nothing we rely on.
    #[test]
    fn mount_script_reads_a_minified_index_too() {
        let minified = r#"<!doctype html><html lang=en><title>x</title><style data-href=/ciba/main-0123456789abcdef.css>a{}</style></head><body><template id=ciba-after-paint><script type=module>import init, * as bindings from '/ciba/a-0123456789abcdef.js';
const wasm = await init({ module_or_path: '/ciba/a-0123456789abcdef_bg.wasm' });</script><link crossorigin href=/ciba/a-0123456789abcdef.js rel=modulepreload></template>"#;
        let script = mount_script(minified).expect("a mount script");
        assert!(
            script.contains(r#"{ stylesheet: "/ciba/main-0123456789abcdef.css", ...options }"#),
            "{script}"
        );
        assert!(
            script.contains(r#"from "/ciba/a-0123456789abcdef.js""#),
            "{script}"
        );
    }

    /// The installable page's files with stable names (issue 15): the worker as JavaScript (a
    /// browser refuses to run a worker of another type) and the manifest as a manifest, both
    /// revalidated so a new build's worker and icons are found; the hashed assets stay immutable.
    #[tokio::test]
    async fn worker_and_manifest_are_served_revalidated_with_their_types() {
        use tower::ServiceExt;
        let dist = std::env::temp_dir().join(format!("ciba-spa-test-{}", std::process::id()));
        std::fs::create_dir_all(dist.join("icons")).unwrap();
        std::fs::write(dist.join("index.html"), BUILT_INDEX).unwrap();
        std::fs::write(
            dist.join("sw.js"),
            "self.addEventListener(\"fetch\", () => {});",
        )
        .unwrap();
        std::fs::write(dist.join("manifest.webmanifest"), "{}").unwrap();
        std::fs::write(dist.join("icons/icon-192.png"), b"\x89PNG").unwrap();
        std::fs::write(dist.join("main-60aa15abdfbecd52.css"), "").unwrap();
        let app: Router = Spa::load(dist.clone()).serve(Router::new());
        for (path, content_type, cache) in [
            ("/ciba/sw.js", "text/javascript", "no-cache"),
            (
                "/ciba/manifest.webmanifest",
                "application/manifest+json",
                "no-cache",
            ),
            ("/ciba/icons/icon-192.png", "image/png", "no-cache"),
            ("/ciba/requests/r1", "text/html", "no-cache"),
            (
                "/ciba/main-60aa15abdfbecd52.css",
                "text/css",
                "public, max-age=31536000, immutable",
            ),
        ] {
            let request = axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let header = |name| response.headers()[name].to_str().unwrap().to_owned();
            assert!(
                header(header::CONTENT_TYPE).starts_with(content_type),
                "{path}: {}",
                header(header::CONTENT_TYPE)
            );
            assert_eq!(header(header::CACHE_CONTROL), cache, "{path}");
        }
        std::fs::remove_dir_all(dist).unwrap();
    }

    #[test]
    fn only_trunk_hashed_names_are_immutable() {
        assert!(is_hashed_asset("/ciba-approval-76e14d1fb836ef44_bg.wasm"));
        assert!(is_hashed_asset("/ciba-approval-76e14d1fb836ef44.js"));
        assert!(is_hashed_asset("/main-60aa15abdfbecd52.css"));
        // A hash with leading zeros, which Trunk writes shorter (a real build's name).
        assert!(is_hashed_asset("/ciba-approval-79a0558761ee79d_bg.wasm"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset(
            "/requests/0d29ddf9ca4042eb9758234f3a289eda"
        ));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/manifest.webmanifest"));
        assert!(!is_hashed_asset("/icons/maskable-512.png"));
    }
}
