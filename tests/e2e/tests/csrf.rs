//! A page on another origin, opened in the browser of a signed-in user, tries to approve the user's
//! request for them (a form post and fetches to the approval API) and to sign the user in as the
//! attacker (a form post to the login). None of it works: the request stays pending, the user stays
//! who they are.

use ciba_e2e::{Browser, DEMO_CLIENT, Idp};
use serde_json::{Value, json};

/// Puts `body` in a page of its own, on an opaque origin (`data:`): not the provider's.
fn attacker_page(body: &str) -> String {
    format!(
        "data:text/html;charset=utf-8,{}",
        body.replace('%', "%25").replace('#', "%23")
    )
}

/// Builds a form posting `fields` to `action` and submits it, as an attacker's page would on load.
async fn post_form(browser: &Browser, action: &str, fields: Value) {
    browser
        .eval_with(
            r#"
            const form = document.createElement('form');
            form.method = 'POST';
            form.action = arguments[0];
            for (const [name, value] of Object.entries(arguments[1])) {
              const input = document.createElement('input');
              input.name = name;
              input.value = value;
              form.append(input);
            }
            document.body.append(form);
            form.submit();
            return null;
            "#,
            vec![json!(action), fields],
        )
        .await;
    // The post navigates away from the attacker's page; wait until it has.
    for _ in 0..100 {
        let url = browser.driver.current_url().await.unwrap();
        if url.scheme() != "data" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the form post to {action} never left the page");
}

#[tokio::test]
async fn a_page_on_another_origin_can_neither_decide_nor_sign_in_for_the_user() {
    let idp = Idp::start().await;
    let auth_req_id = idp.ask_alice("openid profile", "Till 3: 4711").await;
    let (browser, internal_id) = Browser::signed_in_with_first_request(&idp, "alice").await;
    let complete = idp.url("/api/ciba/complete");
    let decision =
        json!({ "internalId": internal_id, "scopesValuesConsented": ["openid", "profile"] });

    browser
        .goto(attacker_page("<h1>You won a prize</h1>"))
        .await;
    // fetch with the CSRF header and the cookie: the browser asks first (CORS preflight), the
    // provider does not allow it, nothing is sent.
    let with_header = browser
        .eval_with(
            "return fetch(arguments[0], { method: 'POST', credentials: 'include', \
               headers: { 'Content-Type': 'application/json', 'X-CSRF': '1' }, body: arguments[1] }) \
             .then((r) => 'answered ' + r.status, (e) => 'blocked');",
            vec![json!(complete), json!(decision.to_string())],
        )
        .await;
    assert_eq!(with_header, json!("blocked"), "{with_header}");
    // A "simple" request needs no preflight and is sent, but without the header (and, cross-site,
    // without the cookie) it is refused; the page cannot read the answer either way.
    browser
        .eval_with(
            "return fetch(arguments[0], { method: 'POST', mode: 'no-cors', credentials: 'include', \
               headers: { 'Content-Type': 'text/plain' }, body: arguments[1] }).then(() => null, () => null);",
            vec![json!(complete), json!(decision.to_string())],
        )
        .await;
    // A plain form post.
    post_form(
        &browser,
        &complete,
        json!({ "internalId": internal_id, "scopesValuesConsented": "openid" }),
    )
    .await;
    // Login CSRF: sign the victim in as the attacker.
    browser.goto(attacker_page("<h1>Loading</h1>")).await;
    post_form(
        &browser,
        &idp.url("/Account/Login"),
        json!({ "username": "bob", "password": "bob", "ReturnUrl": "/ciba/" }),
    )
    .await;

    // Back on the provider: still alice (not bob, and not signed out by a cookie the attacker's post
    // made the provider set), and the request still waits for her.
    browser.goto(idp.url("/ciba/")).await;
    assert_eq!(browser.first_request_id().await, internal_id);
    assert_eq!(browser.text_of("#user-name").await, "Alice Smith");
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["error"],
        "authorization_pending",
        "nothing was decided"
    );
    browser.quit().await;
}
