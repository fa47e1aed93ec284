//! Marks on the browser's performance timeline for `make bench`: when fresh list data arrived and
//! when the list showing it was in the document. Two calls per change of the list.

use std::time::Duration;

/// Call right before the list's signal takes new data.
pub fn list_updated() {
    mark("ciba:list-data");
    // Leptos applies the change to the DOM in microtasks; a zero timeout runs after all of them.
    let _ = leptos::prelude::set_timeout_with_handle(|| mark("ciba:list-rendered"), Duration::ZERO);
}

fn mark(name: &str) {
    if let Some(performance) = leptos::prelude::window().performance() {
        let _ = performance.mark(name);
    }
}
