//! The router: addresses to places, in-app navigation, focus on each new page's heading.

use ciba_approval::{api::provide_api, app::AppRoutes, routing::Place};
use leptos::{mount::mount_to, prelude::*};
use wasm_bindgen_test::*;
use web_sys::Element;

use crate::{
    dom::{click, container, exists, find, sleep, text},
    fake_api::{FakeApi, login_request},
};

/// Changes the address as the browser's Back/Forward would, so the router (which listens for
/// `popstate`) renders the new route.
fn go_to(path: &str) {
    window()
        .history()
        .unwrap()
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .unwrap();
    window()
        .dispatch_event(&web_sys::Event::new("popstate").unwrap())
        .unwrap();
}

async fn assert_heading_focused(root: &Element, expected: &str) {
    let heading = find(root, "main h1").await;
    sleep(20).await;
    assert_eq!(text(&heading), expected);
    assert_eq!(
        document().active_element(),
        Some(heading),
        "focus on the new page's heading"
    );
}

/// One router for the whole test: a router left behind by an unmounted app would still intercept
/// link clicks, which a real page never has.
#[wasm_bindgen_test]
async fn routes_choose_the_page_and_focus_its_heading() {
    let original = window().location().href().unwrap();
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    // The browser's language, not one a test may have picked.
    window().local_storage().unwrap().unwrap().clear().unwrap();

    // Duende's notification link: the list's address with `?id=`.
    window()
        .history()
        .unwrap()
        .push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/ciba?id=r1"))
        .unwrap();
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        provide_api(api);
        view! { <AppRoutes /> }
    });
    find(&root, "#approve").await;
    assert_eq!(text(&find(&root, "#user-name").await), "Alice Smith");
    assert_heading_focused(&root, "Kitchen TV wants to sign you in").await;

    // Client-side navigation: to the list by the header link, then into a request.
    click(&root, "a.app-title");
    find(&root, "a[data-request-id='r1']").await;
    assert_eq!(window().location().pathname().unwrap(), "/ciba/");
    assert_heading_focused(&root, "Sign-in requests").await;
    click(&root, "a[data-request-id='r1']");
    find(&root, "#approve").await;
    assert_eq!(window().location().pathname().unwrap(), "/ciba/requests/r1");
    assert_heading_focused(&root, "Kitchen TV wants to sign you in").await;

    go_to("/ciba/somewhere/else");
    let not_found = find(&root, "[data-state='page-not-found']").await;
    assert!(
        not_found
            .query_selector("a[href='/ciba/']")
            .unwrap()
            .is_some()
    );
    assert_heading_focused(&root, "Page not found").await;

    go_to("/ciba/requests/unknown");
    find(&root, "[data-state='not-found']").await;
    assert!(!exists(&root, "#approve"));

    window()
        .history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&original))
        .unwrap();
}

/// Deep links, Duende's `?id=` notification link and embedded links all reach the right page;
/// addresses outside the app are left to the browser.
#[wasm_bindgen_test]
fn app_addresses_lead_to_the_right_page() {
    let request = |id: &str| Some(Place::Consent(id.into()));
    assert_eq!(Place::of("/ciba/"), Some(Place::RequestList));
    assert_eq!(Place::of("/ciba"), Some(Place::RequestList));
    assert_eq!(Place::of("/ciba/?embed=1"), Some(Place::RequestList));
    assert_eq!(Place::of("/ciba?id=r%201"), request("r 1"));
    assert_eq!(Place::of("/ciba/?embed=1&id=r7"), request("r7"));
    assert_eq!(Place::of("/ciba/requests/r7"), request("r7"));
    assert_eq!(Place::of("/ciba/requests/r%2F7?embed=1"), request("r/7"));
    assert_eq!(Place::of("/ciba/requests/r7#top"), request("r7"));
    assert_eq!(Place::of("/ciba/requests/"), Some(Place::PageNotFound));
    assert_eq!(Place::of("/ciba/requests/a/b"), Some(Place::PageNotFound));
    assert_eq!(Place::of("/ciba/elsewhere"), Some(Place::PageNotFound));
    assert_eq!(Place::of("/cibafoo"), None);
    assert_eq!(Place::of("/Account/Login"), None);
    assert_eq!(Place::of("https://client.example/ciba/"), None);
}
