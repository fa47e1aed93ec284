//! The consent page: the form's defaults, what Approve and Deny send, conflicts, not found,
//! retries, decisions the host forgot or whose answer was lost, expiry on screen, drafts.

use ciba_approval::{
    api::ApiError,
    i18n::{Locale, td_string},
    pages::Consent,
};
use ciba_contract::{CompleteRequest, LoginRequest, Outcome};
use leptos::{mount::mount_to, prelude::*};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

use crate::{
    dom::{
        click, container, deny, exists, fill_in, find, find_saying, scope_checkbox, sleep, text,
    },
    fake_api::{
        FakeApi, in_app, in_ms, login_request, mount_consent, open_consent, optional_only_request,
    },
};

#[wasm_bindgen_test]
async fn consent_form_defaults() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = open_consent(&api, "r1").await;
    assert_eq!(
        text(&find(&root, "h1").await),
        "Kitchen TV wants to sign you in"
    );
    assert_eq!(text(&find(&root, ".binding-message").await), "ABC-123");
    assert!(text(&root).contains("If you did not start this, deny it."));

    let openid = scope_checkbox(&root, "openid");
    assert!(openid.checked() && openid.disabled());
    let openid_label = openid.closest("label").unwrap().unwrap();
    assert!(text(&openid_label).contains("Required"));
    assert!(scope_checkbox(&root, "profile").checked());
    assert!(!scope_checkbox(&root, "profile").disabled());
    assert!(scope_checkbox(&root, "api1.read").checked());
    assert!(!scope_checkbox(&root, "offline_access").checked());

    let description: HtmlInputElement = find(&root, "input#description").await.unchecked_into();
    assert_eq!(description.max_length(), 100);
    let label = root
        .query_selector("label[for='description']")
        .unwrap()
        .unwrap();
    assert_eq!(text(&label), "Name this device (optional)");
    // A `javascript:` client URI is never linked.
    assert!(!exists(&root, ".client-uri"));
}

#[wasm_bindgen_test]
async fn approve_with_nothing_ticked_is_refused() {
    let api = FakeApi::with(vec![optional_only_request("r2")]);
    let (root, _mounted) = open_consent(&api, "r2").await;
    scope_checkbox(&root, "profile").click();
    scope_checkbox(&root, "api1.read").click();
    click(&root, "#approve");

    let alert = find(&root, "[role='alert']").await;
    assert_eq!(text(&alert), td_string!(Locale::en, nothing_ticked));
    sleep(50).await;
    assert!(api.sent().is_empty());
    assert!(!exists(&root, "[data-outcome]"));
}

#[wasm_bindgen_test]
async fn approve_sends_exactly_the_ticked_scopes() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = open_consent(&api, "r1").await;
    scope_checkbox(&root, "email").click();
    scope_checkbox(&root, "offline_access").click();
    fill_in(&root, "#description", "  Kitchen tablet ").await;
    click(&root, "#approve");

    let result = find(&root, "[data-outcome='approved']").await;
    assert_eq!(result.get_attribute("role").as_deref(), Some("status"));
    assert_eq!(
        api.sent(),
        vec![CompleteRequest::approve(
            "r1",
            ["openid", "profile", "api1.read", "offline_access"]
                .map(String::from)
                .to_vec(),
            Some("Kitchen tablet".into()),
        )]
    );
    let summary = text(&result);
    assert!(summary.contains("Kitchen TV"), "{summary}");
    assert!(summary.contains("Your profile"), "{summary}");
    assert!(!summary.contains("Your email address"), "{summary}");
    assert!(exists(&root, "a[href='/ciba/']"));
}

#[wasm_bindgen_test]
async fn deny_sends_no_scopes() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = mount_consent(&api, "r1");

    deny(&root).await;
    assert_eq!(api.sent(), vec![CompleteRequest::deny("r1")]);
    assert_eq!(api.sent()[0].scopes_values_consented, None);
}

#[wasm_bindgen_test]
async fn conflict_shows_the_earlier_decision() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")])
        .answering(vec![Err(ApiError::Conflict(Outcome::Denied))]);
    let (root, _mounted) = open_consent(&api, "r1").await;
    click(&root, "#approve");
    find_saying(&root, "[data-outcome='denied']", "You already denied this").await;
}

#[wasm_bindgen_test]
async fn unknown_request_shows_not_found() {
    let root = container();
    let _mounted = mount_to(root.clone(), move || {
        in_app(
            FakeApi::default(),
            move || view! { <Consent internal_id="nope" /> },
        )
    });

    let not_found = find(&root, "[data-state='not-found']").await;
    assert!(text(&not_found).contains(td_string!(Locale::en, not_found_message)));
    assert!(!exists(&root, "#approve"));
}

#[wasm_bindgen_test]
async fn failed_send_keeps_choices_and_retries_the_same_decision() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")])
        .answering(vec![Err(ApiError::Network)]);
    let (root, _mounted) = open_consent(&api, "r1").await;
    scope_checkbox(&root, "profile").click();
    click(&root, "#approve");

    let retry = find(&root, "[role='alert'] [data-action='retry']").await;
    assert!(
        !scope_checkbox(&root, "profile").checked(),
        "choices are kept"
    );
    retry.unchecked_into::<HtmlElement>().click();

    find(&root, "[data-outcome='approved']").await;
    let sent = api.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1]);
    assert_eq!(
        sent[0].scopes_values_consented,
        Some(["openid", "email", "api1.read"].map(String::from).to_vec())
    );
}

/// A host that forgets decided requests (Duende, once the client has polled) answers 404 afterwards:
/// the browser that decided says so, in this mount and the next, instead of "not found".
#[wasm_bindgen_test]
async fn a_decision_the_host_forgot_is_still_shown_as_done() {
    let api = FakeApi::with(vec![login_request("forgotten-1", "Kitchen TV", "ABC-123")]);
    let (root, mounted) = mount_consent(&api, "forgotten-1");
    deny(&root).await;
    drop(mounted);

    let forgetful = FakeApi::default();
    let (root, _mounted) = mount_consent(&forgetful, "forgotten-1");
    find_saying(&root, "[data-outcome='denied']", "You already denied this").await;
    assert!(!exists(&root, "[data-state='not-found']"));

    // A request this browser never decided is still the one "not found".
    let (root, _other) = mount_consent(&forgetful, "forgotten-2");
    find(&root, "[data-state='not-found']").await;
}

/// The answer to an approval was lost and the retry finds the request gone: it may well have gone
/// through, so the page says it was sent — not "not found", not an error.
#[wasm_bindgen_test]
async fn a_lost_answer_then_a_forgotten_request_says_the_decision_was_sent() {
    let api = FakeApi::with(vec![login_request("lost-1", "Kitchen TV", "ABC-123")])
        .answering(vec![Err(ApiError::Network), Err(ApiError::NotFound)]);
    let (root, _mounted) = open_consent(&api, "lost-1").await;
    click(&root, "#approve");
    find(&root, "[role='alert'] [data-action='retry']")
        .await
        .unchecked_into::<HtmlElement>()
        .click();

    find_saying(
        &root,
        "[data-state='unconfirmed'][data-outcome='approved']",
        td_string!(Locale::en, unconfirmed_heading),
    )
    .await;
    assert!(!exists(&root, "[data-state='not-found']"));
}

#[wasm_bindgen_test]
async fn the_decision_goes_when_the_request_expires_on_screen() {
    let request = LoginRequest {
        expires_at: in_ms(800.0),
        ..login_request("r1", "Kitchen TV", "ABC-123")
    };
    let api = FakeApi::with(vec![request]);
    let (root, _mounted) = open_consent(&api, "r1").await;
    let notice = find(&root, "[data-state='expired']").await;
    assert_eq!(notice.get_attribute("role").as_deref(), Some("status"));
    assert!(text(&notice).contains(td_string!(Locale::en, expired_message)));
    assert!(!exists(&root, "#approve"));
    assert!(!exists(&root, "#deny"));
    assert!(exists(&root, "a[href='/ciba/']"));
    assert!(api.sent().is_empty());
}

#[wasm_bindgen_test]
async fn scopes_say_why_they_are_locked_and_offline_access_is_in_plain_words() {
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = open_consent(&api, "r1").await;

    let openid = scope_checkbox(&root, "openid")
        .closest("li")
        .unwrap()
        .unwrap();
    assert!(text(&openid).contains("Required"), "{}", text(&openid));
    assert!(text(&openid).contains(td_string!(Locale::en, required_reason)));
    let offline = scope_checkbox(&root, "offline_access")
        .closest("li")
        .unwrap()
        .unwrap();
    assert!(
        text(&offline).contains("Keep access when you are offline"),
        "{}",
        text(&offline)
    );
    assert!(!text(&offline).contains("offline_access (display)"));
}

#[wasm_bindgen_test]
async fn choices_survive_signing_in_again() {
    // The session ended while sending: the real API sends the browser to sign in; here the page is
    // simply unmounted and mounted again, as it is when the browser comes back.
    let api = FakeApi::with(vec![login_request("again", "Kitchen TV", "ABC-123")])
        .answering(vec![Err(ApiError::Unauthorized)]);
    let (root, mounted) = open_consent(&api, "again").await;
    scope_checkbox(&root, "profile").click();
    scope_checkbox(&root, "offline_access").click();
    fill_in(&root, "#description", "Kitchen tablet").await;
    click(&root, "#approve");
    sleep(50).await;
    drop(mounted);

    let (root, mounted) = open_consent(&api, "again").await;
    assert!(scope_checkbox(&root, "openid").checked());
    assert!(
        !scope_checkbox(&root, "profile").checked(),
        "unticked before stays unticked"
    );
    assert!(
        scope_checkbox(&root, "offline_access").checked(),
        "ticked before stays ticked"
    );
    let description: HtmlInputElement = find(&root, "#description").await.unchecked_into();
    assert_eq!(description.value(), "Kitchen tablet");

    // Decided now: the draft is gone, and a later visit starts from the defaults.
    click(&root, "#approve");
    find(&root, "[data-outcome='approved']").await;
    drop(mounted);
    assert!(ciba_approval::draft::take("again").is_none());
}

#[wasm_bindgen_test]
async fn standard_scopes_speak_the_pages_language_and_host_scopes_the_hosts_words() {
    let storage = window().local_storage().unwrap().unwrap();
    storage.set_item("ciba:language", "de").unwrap();
    // The fake host names every scope "<value> (display)", in English.
    let api = FakeApi::with(vec![login_request("r1", "Kitchen TV", "ABC-123")]);
    let (root, _mounted) = open_consent(&api, "r1").await;
    storage.remove_item("ciba:language").unwrap();

    // Closed, the disclosure still says how much is granted and what, in German.
    let disclosure = find(&root, "details.access").await;
    assert!(!disclosure.has_attribute("open"), "the scopes start closed");
    // The count is kept on one line with no-break spaces.
    let summary = text(&find(&root, "details.access > summary").await).replace('\u{a0}', " ");
    assert!(summary.contains("4 von 5"), "{summary}");
    assert!(summary.contains("Ihr Profil"), "{summary}");
    assert!(
        !summary.contains("Zugriff behalten"),
        "offline access is not ticked: {summary}"
    );

    let row = |value: &str| text(&scope_checkbox(&root, value).closest("li").unwrap().unwrap());
    let profile = row("profile");
    assert!(profile.contains("Ihr Profil"), "{profile}");
    assert!(
        profile.contains(td_string!(Locale::de, scope_profile_description)),
        "{profile}"
    );
    assert!(
        !profile.contains("(display)") && !profile.contains("What profile gives"),
        "{profile}"
    );
    assert!(row("openid").contains("Ihre Benutzerkennung"));
    assert!(row("email").contains("Ihre E-Mail-Adresse"));
    // A host's own scope: the host's name and description, as sent.
    let api1 = row("api1.read");
    assert!(api1.contains("api1.read (display)"), "{api1}");
    assert!(api1.contains("What api1.read gives"), "{api1}");

    // Unticking shows in the closed summary at once.
    scope_checkbox(&root, "profile").click();
    sleep(20).await;
    // The count is kept on one line with no-break spaces.
    let summary = text(&find(&root, "details.access > summary").await).replace('\u{a0}', " ");
    assert!(
        summary.contains("3 von 5") && !summary.contains("Ihr Profil"),
        "{summary}"
    );
}
