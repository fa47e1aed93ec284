//! The client's logo beside its name, so the person recognises who asks at a glance; its initial
//! when there is no logo, the address is not https, or the image fails to load.

use leptos::prelude::*;

/// The client's logo, or its initial when it has none, the address is not https, or the image fails
/// to load. Decorative: the client's name is always shown beside it.
#[component]
pub fn ClientLogo(name: String, logo_uri: Option<String>) -> impl IntoView {
    // The browser's Unicode tables, not Rust's: char::is_alphanumeric and char::to_uppercase
    // would link ~16 KB of tables into the wasm (-5.9 KB brotli measured).
    let initial = js_sys::RegExp::new(r"[\p{Alphabetic}\p{N}]", "u")
        .exec(&name)
        .and_then(|found| found.get(0).as_string())
        .map_or_else(
            || "?".to_owned(),
            |letter| js_sys::JsString::from(letter).to_upper_case().into(),
        );
    let logo = logo_uri.filter(|uri| uri.to_ascii_lowercase().starts_with("https://"));
    let failed = RwSignal::new(false);
    view! {
        <span class="client-logo" aria-hidden="true">
            {move || match (&logo, failed.get()) {
                (Some(src), false) => {
                    view! {
                        <img
                            src=src.clone()
                            alt=""
                            width="40"
                            height="40"
                            referrerpolicy="no-referrer"
                            on:error=move |_| failed.set(true)
                        />
                    }
                        .into_any()
                }
                _ => view! { <span class="client-initial">{initial.clone()}</span> }.into_any(),
            }}
        </span>
    }
}
