//! What a real IdentityServer host does differently from ciba-idp's defaults, through the page: sign-out
//! goes through the host's own sign-out page (Duende's asks first and checks its anti-forgery token),
//! and a host that forgets a decided request once the client has polled (Duende) still gets the truth
//! told about it.

use ciba_e2e::{Browser, DEMO_CLIENT, DemoConfig, Idp};
use serde_json::json;
use thirtyfour::prelude::*;

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let idp = Idp::start().await;
    idp.ask_alice("openid", "Till 3: 4711").await;
    let browser = Browser::on_first_request_as(&idp, "alice").await;
    let cookie = browser
        .driver
        .get_named_cookie("ciba_session")
        .await
        .expect("signed in with a session cookie");
    let replay = || async {
        reqwest::Client::new()
            .get(idp.url("/api/ciba/session"))
            .header("Cookie", format!("ciba_session={}", cookie.value))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(replay().await, 200, "the cookie works while signed in");

    // The host's page asks first; going back keeps the session and returns to the same request.
    let consent = browser.path_and_query().await;
    browser.click("#sign-out").await;
    browser.wait_for("#confirm-sign-out").await;
    assert_eq!(replay().await, 200, "asking is not signing out");
    browser
        .driver
        .find(By::LinkText("No, go back"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#deny").await;
    assert_eq!(browser.path_and_query().await, consent);

    browser.click("#sign-out").await;
    browser.click("#confirm-sign-out").await;
    browser.wait_for_text("h1", "You are signed out").await;
    assert_eq!(replay().await, 401, "the old cookie is worth nothing");
    // Back to the page: it asks for a sign-in again.
    browser.goto(idp.url("/ciba/")).await;
    browser.wait_for("#username").await;
    assert_eq!(browser.csp_violations().await, json!([]));
    browser.quit().await;
}

/// Duende deletes a decided request at the client's next token poll; the host then answers 404 for
/// it. The person who approved it must not be told "not found", in this tab or another.
#[tokio::test]
async fn a_decision_the_host_forgot_is_shown_as_done() {
    let idp = Idp::start_with_config(DemoConfig::load().duende_forgets_decisions()).await;
    let auth_req_id = idp.ask_alice("openid profile", "Till 3: 4711").await;
    let browser = Browser::on_first_request_as(&idp, "alice").await;
    let consent = browser.driver.current_url().await.unwrap();
    browser.approve().await;

    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["scope"],
        "openid profile"
    );
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["error"],
        "invalid_grant",
        "the host forgot it"
    );

    for (how, open) in [("reload", false), ("a new tab", true)] {
        if open {
            browser.driver.new_tab().await.unwrap();
            let handles = browser.driver.windows().await.unwrap();
            browser
                .driver
                .switch_to_window(handles.last().unwrap().clone())
                .await
                .unwrap();
            browser.goto(consent.as_str()).await;
        } else {
            browser.driver.refresh().await.unwrap();
        }
        assert!(
            browser
                .text_of("[data-outcome=approved]")
                .await
                .contains("You already approved this."),
            "after {how}"
        );
        assert!(
            !browser.exists("[data-state=not-found]").await,
            "after {how}"
        );
    }
    browser.quit().await;
}
