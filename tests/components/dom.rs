//! Reading and driving the page under test: a fresh container, waiting for an element, clicking,
//! typing and picking.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlSelectElement};

/// A fresh container attached to the document, so focus and clicks behave as on a page.
pub fn container() -> HtmlElement {
    let container = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&container).unwrap();
    container.unchecked_into()
}

pub async fn sleep(milliseconds: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Waits (up to four seconds) for `selector` to match inside `root`.
pub async fn find(root: &Element, selector: &str) -> Element {
    for _ in 0..400 {
        if let Some(element) = root.query_selector(selector).unwrap() {
            return element;
        }
        sleep(10).await;
    }
    panic!(
        "nothing matched {selector} at {}; the page is: {}",
        window().location().href().unwrap_or_default(),
        root.inner_html()
    );
}

/// The checkbox of scope `value`, with the "What it may access" disclosure opened first, as a
/// person has to.
pub fn scope_checkbox(root: &Element, value: &str) -> HtmlInputElement {
    let checkbox = root
        .query_selector(&format!("input[name=scope][value='{value}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no checkbox for {value}"));
    if let Some(disclosure) = checkbox.closest("details").unwrap() {
        disclosure.set_attribute("open", "").unwrap();
    }
    checkbox.unchecked_into()
}

pub fn click(root: &Element, selector: &str) {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing to click at {selector}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

/// Waits for `selector` to match and asserts that its text says `words`.
pub async fn find_saying(root: &Element, selector: &str, words: &str) {
    let element = find(root, selector).await;
    assert!(text(&element).contains(words), "{}", text(&element));
}

/// Whether anything matches `selector` inside `root` right now.
pub fn exists(root: &Element, selector: &str) -> bool {
    root.query_selector(selector).unwrap().is_some()
}

/// Clicks Deny once it is there and waits for the page to say the request is denied.
pub async fn deny(root: &Element) {
    find(root, "#deny").await;
    click(root, "#deny");
    find(root, "[data-outcome='denied']").await;
}

/// Types `value` into the input matching `selector` (once there is one), as a person would: the
/// page hears `input`.
pub async fn fill_in(root: &Element, selector: &str, value: &str) {
    let input: HtmlInputElement = find(root, selector).await.unchecked_into();
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// Picks `value` in `select`, as a person would: the page hears `change`.
pub fn choose(select: &HtmlSelectElement, value: &str) {
    select.set_value(value);
    select
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
}

pub fn text(element: &Element) -> String {
    element.text_content().unwrap_or_default()
}
