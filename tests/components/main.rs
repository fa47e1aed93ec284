//! Component tests in a real browser, with a fake API in context instead of the network
//! ([`fake_api`]). One module per area of the page.
#![cfg(target_arch = "wasm32")]

mod code_check;
mod consent;
mod dom;
mod embed;
mod fake_api;
mod json_mapping;
mod language;
mod list;
mod push;
mod routing;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
