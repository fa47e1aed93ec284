//! The decision in the first screen of a phone: who asks, the code (or the code check), Approve and
//! Deny without scrolling at 360 × 740, in English and German; buttons that keep their words at
//! 320 px; the scopes one key press away, still partial; scope names in the page's language (the
//! host's own scopes by the page's `Accept-Language`).

use ciba_e2e::{Browser, DEMO_CLIENT, Idp, assert_fits_phone};
use serde_json::{Value, json};
use thirtyfour::{Key, components::SelectElement};

/// Where the parts of the decision sit on the screen, and whether the page has scrolled.
const FIRST_SCREEN: &str = r#"
const inside = (selector) => {
  const el = document.querySelector(selector);
  if (!el) return `${selector}: missing`;
  const r = el.getBoundingClientRect();
  const ok = r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth
    && r.width > 0 && r.height > 0;
  return ok ? true : `${selector}: ${Math.round(r.top)}..${Math.round(r.bottom)} of ${window.innerHeight}`;
};
return {
  scrollY: window.scrollY,
  viewport: [window.innerWidth, window.innerHeight],
  client: inside('main h1 bdi'),
  code: inside(arguments[0]),
  toggle: inside('details.access > summary'),
  approve: inside('#approve'),
  deny: inside('#deny'),
  approveDisabled: document.getElementById('approve').disabled,
};
"#;

/// Each decision button's label as laid out: how many lines its text takes, and whether it is
/// wider than the button.
const BUTTON_LINES: &str = r#"
return ['approve', 'deny'].map((id) => {
  const button = document.getElementById(id);
  const range = document.createRange();
  range.selectNodeContents(button);
  const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
  return { id, text: button.textContent.trim(), lines: tops.size,
           clipped: button.scrollWidth > button.clientWidth };
});
"#;

/// alice has a request from the demo client (a code to compare) and one from the till (the code
/// check); returns their internal ids in that order, as her list shows them.
async fn two_requests(idp: &Idp) -> [&'static str; 2] {
    idp.ask_alice(
        "openid profile email api1.read offline_access",
        "Till 3: 4711",
    )
    .await;
    idp.start_request_as(
        ("pos-terminal", "pos-secret"),
        "alice",
        "openid profile api1.read api1.write offline_access",
        Some("Kasse 3: 4711"),
        None,
    )
    .await;
    ["Demo Client", "Fabrikam Till 3"]
}

/// The internal id of the request from `client` in the list shown.
async fn request_of(browser: &Browser, client: &str) -> String {
    browser.wait_for("a[data-request-id]").await;
    let id = browser
        .eval_with(
            "return [...document.querySelectorAll('a[data-request-id]')]
               .find((a) => a.textContent.includes(arguments[0])).dataset.requestId;",
            vec![json!(client)],
        )
        .await;
    id.as_str()
        .expect("the client's request is listed")
        .to_owned()
}

#[tokio::test]
async fn the_decision_fits_the_first_screen_at_360_by_740_in_english_and_german() {
    let idp = Idp::start().await;
    let clients = two_requests(&idp).await;
    for (language, approve) in [("en-US", "Approve"), ("de-DE", "Genehmigen")] {
        let browser = Browser::start_in_language(language).await;
        browser.emulate_screen(360, 740, true).await;
        browser.goto(idp.url("/ciba/")).await;
        browser.sign_in("alice", "alice").await;
        let ids = [
            request_of(&browser, clients[0]).await,
            request_of(&browser, clients[1]).await,
        ];
        for (client, id) in clients.iter().zip(&ids) {
            browser.goto(idp.url(&format!("/ciba/requests/{id}"))).await;
            browser.wait_for_text("#approve", approve).await;
            let checking = *client == "Fabrikam Till 3";
            let code = if checking {
                ".code-check"
            } else {
                ".binding .binding-message"
            };
            let screen = browser.eval_with(FIRST_SCREEN, vec![json!(code)]).await;
            let expected = json!({
                "scrollY": 0,
                "viewport": [360, 740],
                "client": true,
                "code": true,
                "toggle": true,
                "approve": true,
                "deny": true,
                // The code check still comes first: Approve waits for a pick.
                "approveDisabled": checking,
            });
            assert_eq!(screen, expected, "{client} in {language}");
            assert!(
                browser.text_of("main h1").await.contains(client),
                "{client} in {language}"
            );
            if *client == "Demo Client" {
                assert_eq!(
                    browser.text_of(".binding .binding-message").await,
                    "Till 3: 4711"
                );
            }
            browser
                .screenshot(&format!("first-screen-360-{language}-{}", &client[..4]))
                .await;
        }
        browser.quit().await;
    }
}

#[tokio::test]
async fn german_buttons_keep_their_words_at_320_px_and_scopes_are_named_in_german() {
    let idp = Idp::start().await;
    idp.ask_alice("openid profile api1.read", "Kasse 3: 4711")
        .await;
    // An English browser whose reader picks German on the page: the host's names must follow the
    // page (its Accept-Language), not the browser.
    let browser = Browser::start_in_language("en-US").await;
    browser.emulate_phone(320).await;
    browser.goto(idp.url("/ciba/")).await;
    browser.sign_in("alice", "alice").await;
    browser.wait_for_text("main h1", "Sign-in requests").await;
    SelectElement::new(&browser.wait_for("select#language").await)
        .await
        .unwrap()
        .select_by_value("de")
        .await
        .unwrap();
    browser.wait_for_text("main h1", "Anmeldeanfragen").await;
    browser.open_first_request().await;
    browser.wait_for_text("#approve", "Genehmigen").await;

    let lines = browser.eval(BUTTON_LINES).await;
    assert_eq!(
        lines,
        json!([
            { "id": "approve", "text": "Genehmigen", "lines": 1, "clipped": false },
            { "id": "deny", "text": "Ablehnen", "lines": 1, "clipped": false },
        ])
    );
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "scrolls sideways by {overflow} px"
    );

    // Closed, the disclosure names what is granted, in German.
    let summary = browser
        .text_of("details.access > summary")
        .await
        .replace('\u{a0}', " ");
    assert!(
        summary.contains("3 von 3") && summary.contains("Ihr Profil"),
        "{summary}"
    );
    browser.show_scopes().await;
    assert_fits_phone(&browser.layout_report().await, 320);
    let names = browser
        .eval(
            "return Object.fromEntries([...document.querySelectorAll('input[name=scope]')]
               .map((box) => [box.value, box.closest('li').querySelector('.scope-name').textContent]));",
        )
        .await;
    assert_eq!(
        names,
        json!({
            // The page's own words for the standard scopes...
            "openid": "Ihre Benutzerkennung Erforderlich",
            "profile": "Ihr Profil",
            // ...and the host's German name for its own, from its configuration.
            "api1.read": "Ihre Daten in API 1 lesen",
        })
    );
    browser.screenshot("first-screen-320-de-open").await;
    browser.quit().await;
}

/// Tabs forward once and names what has focus.
async fn tab(browser: &Browser) -> Value {
    browser
        .driver
        .active_element()
        .await
        .unwrap()
        .send_keys(Key::Tab)
        .await
        .unwrap();
    browser
        .eval(
            "const el = document.activeElement;
             return el.id || (el.closest('.client-uri') ? 'client-link' : el.tagName);",
        )
        .await
}

#[tokio::test]
async fn the_scopes_open_by_keyboard_and_unticking_profile_keeps_it_out_of_the_tokens() {
    let idp = Idp::start().await;
    let auth_req_id = idp
        .ask_alice("openid profile api1.read", "Till 3: 4711")
        .await;
    let browser = Browser::signed_in_as(&idp, "alice").await;
    browser.emulate_screen(360, 740, true).await;
    browser.open_first_request().await;
    assert_eq!(
        browser.eval("return document.activeElement.tagName;").await,
        json!("H1"),
        "focus starts at the heading"
    );
    // Who, then what it may access, then the decision: the order on screen.
    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(tab(&browser).await);
    }
    assert_eq!(
        json!(order),
        json!(["client-link", "scopes-toggle", "approve", "deny"])
    );
    // Back to the toggle, and open it with Enter.
    browser
        .eval("document.getElementById('scopes-toggle').focus(); return null;")
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('details.access').open;")
            .await,
        json!(false)
    );
    browser
        .driver
        .active_element()
        .await
        .unwrap()
        .send_keys(Key::Enter)
        .await
        .unwrap();
    assert_eq!(
        browser
            .eval("return document.querySelector('details.access').open;")
            .await,
        json!(true),
        "Enter opens the scopes"
    );
    let mut reached = Value::Null;
    for _ in 0..10 {
        reached = browser
            .eval("return document.activeElement.value || document.activeElement.id;")
            .await;
        if reached == "profile" {
            break;
        }
        tab(&browser).await;
    }
    assert_eq!(reached, "profile", "Tab reaches the profile checkbox");
    browser
        .driver
        .active_element()
        .await
        .unwrap()
        .send_keys(Key::Space)
        .await
        .unwrap();
    let summary = browser
        .text_of("details.access > summary")
        .await
        .replace('\u{a0}', " ");
    assert!(
        summary.contains("2 of 3") && !summary.contains("Your profile"),
        "{summary}"
    );
    browser.approve().await;

    let tokens = idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1;
    assert_eq!(tokens["scope"], "openid api1.read", "{tokens}");
    browser.quit().await;
}
