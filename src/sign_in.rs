//! Leaving for the host's account pages: sign in again when the session has ended (the API answered
//! 401), and sign out. Both come back here afterwards (`ReturnUrl`, as Duende's pages take it).
//!
//! Where the page runs decides how:
//! - at top level, a plain navigation (a mounted UI's host is told `sessionRequired` first);
//! - framed in a portal, the portal is told `sessionRequired` and the frame goes to sign in once
//!   the message has left — unless the browser withholds this frame's cookies (third-party cookie
//!   blocking), where a sign-in inside the frame could never stick: the page stays and offers a
//!   window of its own ([`crate::embed::bridge`] shows the offer);
//! - sign-out, framed, opens in a window of its own: Duende's account pages refuse to be framed.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::embed::{
    self,
    protocol::{SessionRequiredReason, ToParent},
};

/// `url` with `ReturnUrl` = this page's path and query, as Duende's account pages take it.
fn returning_here(url: &str) -> String {
    let location = window().location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
    let separator = if url.contains('?') { '&' } else { '?' };
    let return_url = String::from(js_sys::encode_uri_component(&here));
    format!("{url}{separator}ReturnUrl={return_url}")
}

/// Leaves for the host's sign-out page, a plain navigation: Duende's template page asks first and
/// validates its own anti-forgery token, which no script of ours could send.
/// Embedded, it opens in a window of its own: Duende's account pages refuse to be framed
/// (`X-Frame-Options: DENY`); the frame then learns at its next call that the session is gone.
pub fn sign_out(logout_url: &str) {
    let url = returning_here(logout_url);
    if embed::is_embedded() {
        let _ = window().open_with_url_and_target(&url, "_blank");
    } else {
        let _ = window().location().assign(&url);
    }
}

/// Sends the browser to the login page, asking it to come back here afterwards.
pub fn sign_in_again(login_url: &str) {
    let location = window().location();
    let sign_in = returning_here(login_url);
    if embed::is_embedded() {
        framed_without_session(sign_in);
    } else {
        embed::tell_parent(ToParent::SessionRequired {
            reason: SessionRequiredReason::SignIn,
        });
        let _ = location.assign(&sign_in);
    }
}

/// Framed and without a session: tells the portal, then either goes to `sign_in_url` inside the
/// frame or, when the browser withholds this frame's cookies, stays and offers a new window.
fn framed_without_session(sign_in_url: String) {
    leptos::task::spawn_local(async move {
        if has_storage_access().await == Some(false) {
            embed::tell_parent(ToParent::SessionRequired {
                reason: SessionRequiredReason::CookieBlocked,
            });
            embed::offer_new_window();
            return;
        }
        embed::tell_parent(ToParent::SessionRequired {
            reason: SessionRequiredReason::SignIn,
        });
        embed::leave_for(sign_in_url);
    });
}

/// `document.hasStorageAccess()`, where the browser has it: `Some(false)` when this frame's
/// unpartitioned cookies are blocked.
async fn has_storage_access() -> Option<bool> {
    let document = document();
    let method = js_sys::Reflect::get(&document, &"hasStorageAccess".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let promise = method
        .call0(&document)
        .ok()?
        .dyn_into::<js_sys::Promise>()
        .ok()?;
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()?
        .as_bool()
}
