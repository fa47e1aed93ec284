//! The page's heading, which takes focus when it appears so keyboard and screen-reader users start
//! at the top of what changed — except embedded, until the person has used the embedded UI, so the
//! host page keeps their keyboard.

use leptos::{html::H1, prelude::*};

use crate::embed;

/// The page's `<h1>`. It takes focus when it appears, so after every route change (and when a page
/// swaps its content) keyboard and screen-reader users start at the top of the new content. Embedded
/// in another page, not before the person has used the embedded UI.
#[component]
pub fn PageHeading(children: Children) -> impl IntoView {
    let heading = NodeRef::<H1>::new();
    heading.on_load(|heading| {
        if embed::may_move_focus() {
            let _ = heading.focus();
        }
    });
    view! {
        <h1 tabindex="-1" node_ref=heading>
            {children()}
        </h1>
    }
}
