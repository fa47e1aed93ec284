//! Switching language: every text follows, the choice is remembered, `<html lang>` follows.

use ciba_approval::{i18n::Locale, pages::RequestList};
use leptos::{mount::mount_to, prelude::*};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use crate::{
    dom::{choose, container, find, sleep, text},
    fake_api::{FakeApi, in_app, login_request},
};

#[wasm_bindgen_test]
async fn the_language_can_be_switched_and_everything_follows() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        in_app(api, move || {
            view! { <ciba_approval::components::SessionHeader />
                <ciba_approval::components::LanguagePicker />
            <RequestList /> }
        })
    });
    let row = find(&root, "a[data-request-id='r1']").await;
    assert_eq!(text(&find(&root, "h1").await), "Sign-in requests");
    let picker: web_sys::HtmlSelectElement = find(&root, "select#language").await.unchecked_into();
    let label = picker.closest("label").unwrap().unwrap();
    let name = label.query_selector(".language-label").unwrap().unwrap();
    assert_eq!(text(&name), "Language", "the picker is labelled");

    choose(&picker, "de");
    sleep(50).await;
    assert_eq!(text(&find(&root, "h1").await), "Anmeldeanfragen");
    assert_eq!(
        ciba_approval::language::remembered(),
        Some(Locale::de),
        "the choice is kept for the next visit"
    );
    assert_eq!(text(&find(&root, "#sign-out").await), "Abmelden");
    let row_text = text(&row);
    assert!(
        row_text.contains("Gestartet vor"),
        "relative time in German: {row_text}"
    );
    assert!(row_text.contains("noch"), "time left in German: {row_text}");
    assert_eq!(
        document()
            .document_element()
            .unwrap()
            .get_attribute("lang")
            .as_deref(),
        Some("de"),
        "screen readers are told the page's language"
    );

    choose(&picker, "en");
    sleep(50).await;
    assert_eq!(text(&find(&root, "h1").await), "Sign-in requests");
    window().local_storage().unwrap().unwrap().clear().unwrap();
}
