//! The Content-Security-Policy sent with every response.
//!
//! An approval page is worth attacking: script injected into it could press "Approve". So the policy
//! allows only our own files, WebAssembly compilation, and — because Trunk puts the wasm loader in an
//! inline `<script>` and gives no way to move it out (trunk-rs/trunk#288) — the SHA-256 of exactly
//! that inline script, read from the built `index.html` at start-up. Never `'unsafe-inline'` or
//! `'unsafe-eval'`.

use axum::http::HeaderValue;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy for a provider serving `index_html` (if it serves the SPA at all), showing client logos
/// from `logo_uris` and embeddable by `frame_ancestors`.
pub fn policy<'a>(
    index_html: Option<&str>,
    logo_uris: impl IntoIterator<Item = &'a str>,
    frame_ancestors: &[String],
) -> HeaderValue {
    let mut script_src = vec!["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()];
    script_src.extend(
        index_html
            .map(inline_scripts)
            .unwrap_or_default()
            .into_iter()
            .map(|script| format!("'sha256-{}'", sha256_base64(script))),
    );
    let mut img_src = vec!["'self'".to_owned()];
    for origin in logo_uris.into_iter().filter_map(https_origin) {
        if !img_src.contains(&origin) {
            img_src.push(origin);
        }
    }
    let frame_ancestors = if frame_ancestors.is_empty() {
        "'none'".to_owned()
    } else {
        frame_ancestors.join(" ")
    };
    let policy = [
        "default-src 'self'".to_owned(),
        format!("script-src {}", script_src.join(" ")),
        "style-src 'self'".to_owned(),
        format!("img-src {}", img_src.join(" ")),
        "connect-src 'self'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "object-src 'none'".to_owned(),
        format!("frame-ancestors {frame_ancestors}"),
    ]
    .join("; ");
    HeaderValue::from_str(&policy).expect("the policy is built from header-safe text")
}

/// The text of every `<script>` element without a `src`, as the browser hashes it.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after_tag_name = &rest[start + "<script".len()..];
        let Some(tag_end) = after_tag_name.find('>') else {
            break;
        };
        let attributes = &after_tag_name[..tag_end];
        let body = &after_tag_name[tag_end + 1..];
        let Some(close) = body.find("</script") else {
            break;
        };
        if !attributes.contains("src=") {
            scripts.push(&body[..close]);
        }
        rest = &body[close..];
    }
    scripts
}

fn sha256_base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}

/// `https://cdn.example.com` for `https://cdn.example.com/logos/a.png`; nothing for other schemes.
fn https_origin(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("https://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    valid.then(|| format!("https://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUNK_INDEX: &str = "<head><script type=\"module\">\nimport init from '/ciba/app.js';\nawait init();\n</script>\
        <script src=\"/other.js\"></script><link rel=\"modulepreload\" href=\"/ciba/app.js\"></head>";

    #[test]
    fn hashes_only_inline_scripts() {
        let scripts = inline_scripts(TRUNK_INDEX);
        assert_eq!(
            scripts,
            ["\nimport init from '/ciba/app.js';\nawait init();\n"]
        );
        let policy = policy(Some(TRUNK_INDEX), [], &[]);
        let policy = policy.to_str().unwrap();
        let expected = format!("'sha256-{}'", sha256_base64(scripts[0]));
        assert!(
            policy.contains(&format!("script-src 'self' 'wasm-unsafe-eval' {expected};")),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn logos_are_allowed_by_https_origin_only() {
        let policy = policy(
            None,
            [
                "https://CDN.example.com/a.png",
                "https://cdn.example.com/b.png",
                "http://insecure.example/a.png",
                "javascript:alert(1)",
                "https://evil.example;script-src *",
            ],
            &["https://portal.example".into()],
        );
        let policy = policy.to_str().unwrap();
        assert!(
            policy.contains("img-src 'self' https://cdn.example.com;"),
            "{policy}"
        );
        assert!(policy.ends_with("frame-ancestors https://portal.example"));
    }
}
