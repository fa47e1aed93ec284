//! The list page: server strings as text, the empty list, expiry, polling with ETags, arrivals,
//! recently decided, client logos.

use ciba_approval::{
    i18n::{Locale, td_string},
    pages::RequestList,
};
use ciba_contract::LoginRequest;
use leptos::{mount::mount_to, prelude::*};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

use crate::{
    dom::{click, container, deny, exists, find, sleep, text},
    fake_api::{FakeApi, in_app, in_ms, login_request, mount_consent, mount_list, open_consent},
};

#[wasm_bindgen_test]
async fn list_renders_server_strings_as_text() {
    let hostile = "<img src=x onerror=alert(1)>";
    let api = FakeApi::with(vec![
        login_request("r1", "Kitchen TV", hostile),
        login_request("r2", "<b>Bold</b> Client", "4711"),
    ]);
    let (root, _mounted) = mount_list(&api);

    let first = find(&root, "a[data-request-id='r1']").await;
    assert_eq!(
        first.get_attribute("href").as_deref(),
        Some("/ciba/requests/r1")
    );
    let first_text = text(&first);
    assert!(first_text.contains("Kitchen TV"), "{first_text}");
    assert!(first_text.contains(hostile), "{first_text}");
    let second = find(&root, "a[data-request-id='r2']").await;
    assert!(text(&second).contains("<b>Bold</b> Client"));
    assert!(!exists(&root, "img"));
    assert!(!exists(&root, "b"));
    assert!(text(&first).contains("left"), "time left is shown");
    assert!(
        text(&first).contains("Started") && text(&first).contains("ago"),
        "how long ago it started is shown: {}",
        text(&first)
    );
    let heading = find(&root, "h1").await;
    assert_eq!(heading.get_attribute("tabindex").as_deref(), Some("-1"));
}

#[wasm_bindgen_test]
async fn empty_list_explains_the_page() {
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        in_app(FakeApi::default(), move || view! { <RequestList /> })
    });
    let empty = find(&root, "[data-state='empty']").await;
    let said = text(&empty);
    assert!(said.contains(td_string!(Locale::en, empty_what)), "{said}");
    assert!(said.contains(td_string!(Locale::en, empty_todo)), "{said}");
}

#[wasm_bindgen_test]
async fn requests_that_expire_leave_the_list_with_a_notice() {
    let expiring = LoginRequest {
        expires_at: in_ms(800.0),
        ..login_request("soon", "Kitchen TV", "ABC-123")
    };
    let api = FakeApi::with(vec![expiring, login_request("later", "Till 3", "4711")]);
    let (root, _mounted) = mount_list(&api);

    let soon = find(&root, "a[data-request-id='soon']").await;
    let status = root
        .query_selector("p.notice[role='status']")
        .unwrap()
        .unwrap();
    assert_eq!(text(&status), "", "nothing to announce yet");
    for _ in 0..300 {
        if text(&status) == td_string!(Locale::en, expired_notice) {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(text(&status), td_string!(Locale::en, expired_notice));
    let item: HtmlElement = soon.closest("li").unwrap().unwrap().unchecked_into();
    assert!(item.hidden(), "the expired request is gone");
    let later: HtmlElement = find(&root, "a[data-request-id='later']")
        .await
        .closest("li")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert!(!later.hidden(), "the others stay");
}

/// A long list is built a screenful at a time: the first rows in the frame the data arrives (one
/// frame's work, however long the list), the rest added below them while the page is idle, in
/// the list's order and without touching the rows already shown.
#[wasm_bindgen_test]
async fn a_long_list_shows_its_first_screenful_at_once_and_the_rest_below() {
    let requests: Vec<LoginRequest> = (0..200)
        .map(|n| login_request(&format!("r{n:03}"), &format!("Client {n}"), "4711"))
        .collect();
    let api = FakeApi::with(requests);
    let root = container();
    // Row counts as each DOM change lands (mutation records are delivered before any timer runs).
    let counts: js_sys::Array = js_sys::Function::new_with_args(
        "root",
        "const counts = []; new MutationObserver(() => counts.push( \
           root.querySelectorAll('a[data-request-id]').length)).observe(root, \
           { childList: true, subtree: true }); return counts;",
    )
    .call1(&wasm_bindgen::JsValue::NULL, &root)
    .unwrap()
    .unchecked_into();
    let _mounted = mount_to(root.clone(), {
        let api = api.clone();
        move || in_app(api, move || view! { <RequestList /> })
    });
    let first = find(&root, "a[data-request-id]").await;
    for _ in 0..300 {
        if root
            .query_selector_all("a[data-request-id]")
            .unwrap()
            .length()
            == 200
        {
            break;
        }
        sleep(10).await;
    }
    let rows = root.query_selector_all("a[data-request-id]").unwrap();
    assert_eq!(rows.length(), 200, "every request is shown in the end");
    let first_count = counts
        .iter()
        .filter_map(|n| n.as_f64())
        .find(|n| *n > 0.0)
        .unwrap();
    assert!(
        (8.0..=30.0).contains(&first_count),
        "the first frame builds a screenful, not all 200 rows: {first_count}"
    );
    assert!(
        first.is_same_node(rows.get(0).as_ref()),
        "the first row stayed first"
    );
    // Oldest first, as the short list: the server's newest-first order reversed.
    let ids: Vec<String> = (0..rows.length())
        .map(|i| {
            rows.get(i)
                .unwrap()
                .unchecked_into::<Element>()
                .get_attribute("data-request-id")
                .unwrap()
        })
        .collect();
    let expected: Vec<String> = (0..200).rev().map(|n| format!("r{n:03}")).collect();
    assert_eq!(ids, expected);
}

/// What the browser does when the tab is shown again.
fn become_visible() {
    document()
        .dispatch_event(
            &web_sys::Event::new_with_event_init_dict("visibilitychange", &{
                let init = web_sys::EventInit::new();
                init.set_bubbles(true);
                init
            })
            .unwrap(),
        )
        .unwrap();
}

#[wasm_bindgen_test]
async fn the_list_refreshes_itself_keeping_rows_that_did_not_change() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = mount_list(&api);
    let first = find(&root, "a[data-request-id='r1']").await;

    // Nothing changed: the page asks "changed since?" and gets a 304, and the row stays as it was.
    become_visible();
    for _ in 0..200 {
        if api.unchanged.get() > 0 {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(
        api.unchanged.get(),
        1,
        "an unchanged list is asked for with its ETag"
    );

    // A client starts another request: it appears without a reload, and the old row is the same node.
    api.add(login_request("r2", "Till 3", "4711"));
    become_visible();
    find(&root, "a[data-request-id='r2']").await;
    let rows = root.query_selector_all("a[data-request-id]").unwrap();
    assert_eq!(rows.length(), 2);
    assert!(
        first.is_same_node(rows.get(0).as_ref()),
        "the row that did not change was kept, where it was"
    );
    let newcomer: Element = rows.get(1).unwrap().unchecked_into();
    assert_eq!(
        newcomer.get_attribute("data-request-id").as_deref(),
        Some("r2"),
        "the new request joins at the end instead of pushing the others down"
    );
    let status = find(&root, "p.notice[role='status']").await;
    assert_eq!(text(&status), "New sign-in request from Till 3.");
}

#[wasm_bindgen_test]
async fn decisions_are_listed_under_recently_decided() {
    let api = FakeApi::with(vec![
        login_request("r1", "Kitchen TV", "ABC-123"),
        login_request("r2", "Till 3", "4711"),
    ]);
    {
        let (root, _mounted) = open_consent(&api, "r1").await;
        click(&root, "#approve");
        find(&root, "[data-outcome='approved']").await;
    }
    {
        let (root, _mounted) = mount_consent(&api, "r2");
        deny(&root).await;
    }
    let (root, _mounted) = mount_list(&api);
    let recent = find(&root, "section.recent").await;
    let items = recent.query_selector_all("li").unwrap();
    let first: Element = items.get(0).unwrap().unchecked_into();
    let second: Element = items.get(1).unwrap().unchecked_into();
    assert!(
        text(&first).contains("Till 3") && text(&first).contains("Denied"),
        "newest first: {}",
        text(&first)
    );
    assert!(
        text(&second).contains("Kitchen TV") && text(&second).contains("Approved"),
        "{}",
        text(&second)
    );
    assert!(
        first.query_selector("time[datetime]").unwrap().is_some(),
        "with the time"
    );
}

#[wasm_bindgen_test]
async fn a_client_without_a_usable_logo_shows_its_initial() {
    let with_logo = |id: &str, name: &str, logo: Option<&str>| {
        let mut request = login_request(id, name, "4711");
        request.client.logo_uri = logo.map(String::from);
        request
    };
    let api = FakeApi::with(vec![
        with_logo("none", "kitchen TV", None),
        with_logo("script", "Evil", Some("javascript:alert(1)")),
        with_logo("broken", "Till 3", Some("https://invalid.invalid/logo.png")),
        with_logo("accented", "«élan» café", None),
    ]);
    let (root, _mounted) = mount_list(&api);

    let initial = |id: &str| {
        root.query_selector(&format!("a[data-request-id='{id}'] .client-initial"))
            .unwrap()
            .map(|element| text(&element))
    };
    find(&root, "a[data-request-id='none'] .client-initial").await;
    assert_eq!(initial("none").as_deref(), Some("K"));
    assert_eq!(
        initial("script").as_deref(),
        Some("E"),
        "a javascript: logo is never loaded"
    );
    // An https logo is tried; when it fails to load, the initial takes its place.
    find(&root, "a[data-request-id='broken'] .client-initial").await;
    assert_eq!(initial("broken").as_deref(), Some("T"));
    // The first letter, past punctuation, in upper case — also beyond ASCII.
    assert_eq!(initial("accented").as_deref(), Some("É"));
    assert!(!exists(&root, "img"));
    let logo = root.query_selector(".client-logo").unwrap().unwrap();
    assert_eq!(logo.get_attribute("aria-hidden").as_deref(), Some("true"));
}
