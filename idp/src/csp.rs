//! The Content-Security-Policy sent with every response.
//!
//! An approval page is worth attacking: script injected into it could press "Approve". So the policy
//! allows only our own files, WebAssembly compilation, and the SHA-256 of exactly the page's inline
//! scripts (Trunk puts the wasm loader in one and gives no way to move it out, trunk-rs/trunk#288)
//! and inline stylesheet (so the page paints before any file arrives), which [`crate::spa`] reads
//! from the built `index.html` at start-up. Never `'unsafe-inline'` or `'unsafe-eval'`.

use axum::http::HeaderValue;

/// The base64 SHA-256 of each inline `<script>` and `<style>` of the page (none when it serves no SPA).
#[derive(Debug, Default)]
pub struct InlineHashes {
    pub scripts: Vec<String>,
    pub styles: Vec<String>,
}

/// The policy for a provider whose page has the inline scripts and styles of `inline`, showing
/// client logos from `logo_uris` and embeddable by `frame_ancestors`.
pub fn policy<'a>(
    inline: &InlineHashes,
    logo_uris: impl IntoIterator<Item = &'a str>,
    frame_ancestors: &[String],
) -> HeaderValue {
    let sources = |mut fixed: Vec<String>, hashes: &[String]| {
        fixed.extend(hashes.iter().map(|hash| format!("'sha256-{hash}'")));
        fixed.join(" ")
    };
    let script_src = sources(
        vec!["'self'".to_owned(), "'wasm-unsafe-eval'".to_owned()],
        &inline.scripts,
    );
    let style_src = sources(vec!["'self'".to_owned()], &inline.styles);
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
        format!("script-src {script_src}"),
        format!("style-src {style_src}"),
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
    fn allows_exactly_the_pages_inline_scripts_and_styles() {
        let inline = InlineHashes {
            scripts: vec!["AbC+/=".into()],
            styles: vec!["StY+/=".into()],
        };
        let policy = policy(&inline, [], &[]);
        let policy = policy.to_str().unwrap();
        assert!(
            policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-AbC+/=';"),
            "{policy}"
        );
        assert!(
            policy.contains("style-src 'self' 'sha256-StY+/=';"),
            "{policy}"
        );
        assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn logos_are_allowed_by_https_origin_only() {
        let policy = policy(
            &InlineHashes::default(),
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
