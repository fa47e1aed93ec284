//! The Content-Security-Policy sent with every response.
//!
//! An approval page is worth attacking: script injected into it could press "Approve". So the policy
//! allows only our own files, WebAssembly compilation, and — because Trunk puts the wasm loader in an
//! inline `<script>` and gives no way to move it out (trunk-rs/trunk#288) — the SHA-256 of exactly
//! that inline script, which [`crate::spa`] reads from the built `index.html` at start-up. Never
//! `'unsafe-inline'` or `'unsafe-eval'`.

use axum::http::HeaderValue;

/// The policy for a provider whose page has inline scripts of `script_hashes` (base64 SHA-256; none
/// when it serves no SPA), showing client logos from `logo_uris` and embeddable by `frame_ancestors`.
pub fn policy<'a>(
    script_hashes: &[String],
    logo_uris: impl IntoIterator<Item = &'a str>,
    frame_ancestors: &[String],
) -> HeaderValue {
    let mut script_src = vec!["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()];
    script_src.extend(script_hashes.iter().map(|hash| format!("'sha256-{hash}'")));
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

    #[test]
    fn allows_exactly_the_pages_inline_scripts() {
        let policy = policy(&["AbC+/=".into()], [], &[]);
        let policy = policy.to_str().unwrap();
        assert!(
            policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-AbC+/=';"),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn logos_are_allowed_by_https_origin_only() {
        let policy = policy(
            &[],
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
