//! The code check: the host's three choices, the pick that is sent, a wrong pick, the list's hint.

use ciba_approval::{
    api::ApiError,
    i18n::{Locale, td_string},
};
use ciba_contract::CompleteRequest;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement};

use crate::{
    dom::{click, exists, find, sleep, text},
    fake_api::{FakeApi, TILL_CODES, login_request, mount_consent, mount_list, verifying_request},
};

/// The three offered codes, as (radio, its text).
fn code_choices_on_page(root: &Element) -> Vec<(HtmlInputElement, String)> {
    let radios = root
        .query_selector_all("input[name='code-choice']")
        .unwrap();
    (0..radios.length())
        .map(|index| {
            let radio: HtmlInputElement = radios.item(index).unwrap().unchecked_into();
            let label = root
                .query_selector(&format!("label[for='{}']", radio.id()))
                .unwrap()
                .unwrap();
            (radio, text(&label))
        })
        .collect()
}

#[wasm_bindgen_test]
async fn the_code_check_offers_the_hosts_choices_and_sends_the_pick() {
    let api = FakeApi::with(vec![verifying_request("v1")]);
    let (root, _mounted) = mount_consent(&api, "v1");
    find(&root, "[data-state='code-check']").await;
    let approve: HtmlInputElement = find(&root, "#approve").await.unchecked_into();
    assert!(approve.disabled(), "Approve waits for a pick");
    let deny: HtmlInputElement = find(&root, "#deny").await.unchecked_into();
    assert!(!deny.disabled(), "Deny never waits");

    // The host's three, in its order, each a labelled radio; no answer anywhere on the page.
    let choices = code_choices_on_page(&root);
    let texts: Vec<&str> = choices.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(texts, TILL_CODES);
    assert!(!exists(&root, "p.binding-message"));
    let legend = find(&root, "[data-state='code-check'] legend").await;
    assert_eq!(text(&legend), td_string!(Locale::en, code_question));

    // Any pick enables Approve (only the host knows which is right); a change of mind is allowed.
    choices[0].0.click();
    sleep(50).await;
    assert!(!approve.disabled());
    choices[1].0.click();
    sleep(50).await;
    assert!(!choices[0].0.checked() && choices[1].0.checked());
    click(&root, "#approve");
    find(&root, "[data-outcome='approved']").await;
    let sent = api.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].binding_message.as_deref(), Some("Kasse 3: 4711"));
    assert!(sent[0].scopes_values_consented.is_some());
}

#[wasm_bindgen_test]
async fn a_wrong_code_leaves_only_deny() {
    let api =
        FakeApi::with(vec![verifying_request("v2")]).answering(vec![Err(ApiError::WrongCode)]);
    let (root, _mounted) = mount_consent(&api, "v2");
    find(&root, "[data-state='code-check']").await;
    let choices = code_choices_on_page(&root);
    choices[2].0.click();
    sleep(50).await;
    click(&root, "#approve");
    let alert = find(&root, "[data-state='wrong-code']").await;
    assert_eq!(alert.get_attribute("role").as_deref(), Some("alert"));
    assert_eq!(text(&alert), td_string!(Locale::en, wrong_code));
    let approve: HtmlInputElement = find(&root, "#approve").await.unchecked_into();
    assert!(approve.disabled());
    assert!(
        code_choices_on_page(&root)
            .iter()
            .all(|(radio, _)| radio.disabled()),
        "no second guess"
    );
    assert!(
        !exists(&root, ".decision [role='alert']"),
        "told once, by the code check"
    );
    let deny: HtmlInputElement = find(&root, "#deny").await.unchecked_into();
    assert!(!deny.disabled());
    click(&root, "#deny");
    find(&root, "[data-outcome='denied']").await;
    let sent = api.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].binding_message.as_deref(), Some("Kasse 3: 4967"));
    assert_eq!(sent[1], CompleteRequest::deny("v2"));
}

#[wasm_bindgen_test]
async fn the_list_does_not_need_the_code_of_a_checked_request() {
    let api = FakeApi::with(vec![
        verifying_request("v3"),
        login_request("r1", "TV", "ABC-123"),
    ]);
    let (root, _mounted) = mount_list(&api);
    let hint = find(&root, "[data-request-id='v3'] [data-state='pick-code']").await;
    assert_eq!(text(&hint), td_string!(Locale::en, pick_code_next));
    let row = find(&root, "[data-request-id='v3']").await;
    for code in TILL_CODES {
        assert!(!text(&row).contains(code), "{}", text(&row));
    }
    let other = find(&root, "[data-request-id='r1'] .binding-message").await;
    assert_eq!(text(&other), "ABC-123");
}
