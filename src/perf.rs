//! Marks on the browser's performance timeline for `make bench`: when the wasm began to run, when
//! fresh list data arrived, when the list showing it was in the document (its first screenful),
//! and when every row was.

use std::time::Duration;

/// Call first thing in `main`: the wasm is compiled and instantiated.
pub fn main_started() {
    mark("ciba:main");
}

/// Call right before the list's signal takes new data.
pub fn list_updated() {
    mark("ciba:list-data");
    // Leptos applies the change to the DOM in microtasks; a zero timeout runs after all of them.
    let _ = leptos::prelude::set_timeout_with_handle(|| mark("ciba:list-rendered"), Duration::ZERO);
}

/// Call when the last of a long list's rows has been added (see `pages::request_list`).
pub fn list_complete() {
    mark("ciba:list-complete");
}

fn mark(name: &str) {
    if let Some(performance) = leptos::prelude::window().performance() {
        let _ = performance.mark(name);
    }
}
