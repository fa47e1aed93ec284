//! The foundation's promise, in a real browser: sign in, see the requests clients started, approve or
//! deny, and the polling client gets tokens or `access_denied`.

use ciba_e2e::{Browser, DEMO_CLIENT, DemoConfig, Idp, assert_fits_phone, jwt_claims};
use thirtyfour::prelude::*;

async fn is_checked(element: &WebElement) -> bool {
    element.prop("checked").await.unwrap().as_deref() == Some("true")
}

#[tokio::test]
async fn approving_gives_the_polling_client_tokens_for_exactly_what_was_ticked() {
    let idp = Idp::start().await;
    let auth_req_id = idp
        .ask_alice("openid profile email api1.read", "Till 3: 4711")
        .await;
    let browser = Browser::start().await;

    browser.goto(idp.url("/ciba/")).await;
    browser.wait_for("#username").await;
    assert_eq!(
        browser.path_and_query().await,
        "/Account/Login?ReturnUrl=%2Fciba%2F"
    );
    browser.sign_in("alice", "alice").await;

    let link = browser.wait_for("a[data-request-id]").await;
    let text = link.text().await.unwrap();
    assert!(
        text.contains("Demo Client") && text.contains("Till 3: 4711"),
        "{text}"
    );
    assert_eq!(browser.text_of("#user-name").await, "Alice Smith");
    browser.screenshot("list-1280").await;
    link.click().await.unwrap();

    browser.wait_for_consent_page("Till 3: 4711").await;
    browser.show_scopes().await;
    let openid = browser.wait_for("input[name=scope][value=openid]").await;
    assert!(
        is_checked(&openid).await && !openid.is_enabled().await.unwrap(),
        "required scope is locked"
    );
    let email = browser.wait_for("input[name=scope][value=email]").await;
    assert!(is_checked(&email).await);
    browser.screenshot("consent-1280").await;
    email.click().await.unwrap();
    assert!(!is_checked(&email).await);
    browser
        .wait_for("#description")
        .await
        .send_keys("Work laptop")
        .await
        .unwrap();
    browser.approve().await;

    let tokens = idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1;
    assert_eq!(tokens["scope"], "openid profile api1.read", "{tokens}");
    let claims = jwt_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "818727", "alice's subject");
    browser.quit().await;
}

#[tokio::test]
async fn a_deep_link_survives_sign_in_and_denying_gives_access_denied() {
    let idp = Idp::start().await;
    let auth_req_id = idp.ask_alice("openid profile", "Caller 0815").await;
    let (browser, internal_id) = Browser::signed_in_with_first_request(&idp, "alice").await;

    // The session ends (as it would after idle time); the notification link still leads back here.
    browser.driver.delete_all_cookies().await.unwrap();
    browser
        .goto(idp.url(&format!("/ciba?id={internal_id}")))
        .await;
    browser.wait_for("#username").await;
    assert!(
        browser
            .path_and_query()
            .await
            .starts_with("/Account/Login?ReturnUrl=")
    );
    browser.sign_in("alice", "alice").await;
    browser.wait_for("#deny").await;
    assert_eq!(
        browser.path_and_query().await,
        format!("/ciba?id={internal_id}")
    );
    assert!(
        browser
            .text_of(".binding-message")
            .await
            .contains("Caller 0815")
    );
    browser.deny().await;

    assert_eq!(idp.poll_error(&auth_req_id).await, "access_denied");
    browser.quit().await;
}

#[tokio::test]
async fn bob_sees_none_of_alices_requests() {
    let idp = Idp::start().await;
    idp.ask_alice("openid", "For Alice only").await;
    let (browser, internal_id) = Browser::signed_in_with_first_request(&idp, "alice").await;

    browser.driver.delete_all_cookies().await.unwrap();
    browser.goto(idp.url("/ciba/")).await;
    browser.sign_in("bob", "bob").await;
    assert_eq!(browser.text_of("#user-name").await, "Bob Smith");
    browser.wait_for("[data-state=empty]").await;
    assert!(!browser.exists("a[data-request-id]").await);
    let page = browser.driver.source().await.unwrap();
    assert!(!page.contains("For Alice only"));

    browser
        .goto(idp.url(&format!("/ciba/requests/{internal_id}")))
        .await;
    browser.wait_for("[data-state=not-found]").await;
    assert!(!browser.exists("#approve").await);
    browser.quit().await;
}

#[tokio::test]
async fn the_consent_page_fits_a_320_px_phone_with_44_px_targets() {
    let idp = Idp::start().await;
    idp.ask_alice(
        "openid profile email api1.read offline_access",
        "Kasse 3: Bestellung 4711-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    )
    .await;
    let browser = Browser::start().await;
    browser.emulate_phone(320).await;
    browser.goto(idp.url("/ciba/")).await;
    browser.sign_in("alice", "alice").await;
    browser.open_first_request().await;
    browser.show_scopes().await;
    browser.screenshot("consent-320").await;

    assert_fits_phone(&browser.layout_report().await, 320);
    browser.quit().await;
}

#[tokio::test]
async fn pages_are_served_with_a_strict_content_security_policy() {
    // No portal allowed: nobody may frame the page.
    let idp = Idp::start_with_config(
        DemoConfig::load().set("embedding.allowed_origins", Vec::<String>::new()),
    )
    .await;
    for path in ["/ciba/", "/ciba/requests/anything", "/Account/Login"] {
        let response = reqwest::get(idp.url(path)).await.unwrap();
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "default-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(
                policy.contains(directive),
                "{path}: {directive} missing from {policy}"
            );
        }
        assert!(
            policy.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{policy}"
        );
        assert!(
            !policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"),
            "{policy}"
        );
    }
    // The hash is what makes Trunk's inline loader run; the other tests' browsers prove it does, with
    // zero violations (checked in `Browser::quit`).
}

#[tokio::test]
async fn a_session_that_ends_while_deciding_comes_back_with_the_choices_kept() {
    let idp = Idp::start().await;
    let auth_req_id = idp.ask_alice("openid profile email", "Desk 7").await;
    let browser = Browser::on_first_request_as(&idp, "alice").await;
    let consent_path = browser.path_and_query().await;
    browser.show_scopes().await;
    browser.click("input[name=scope][value=email]").await;
    browser
        .wait_for("#description")
        .await
        .send_keys("Desk phone")
        .await
        .unwrap();

    // The session ends before Approve is pressed: the page goes to sign in and comes back.
    browser.driver.delete_all_cookies().await.unwrap();
    browser.click("#approve").await;
    browser.wait_for("#username").await;
    browser.sign_in("alice", "alice").await;
    browser.wait_for("#approve").await;
    assert_eq!(browser.path_and_query().await, consent_path);
    let email = browser.wait_for("input[name=scope][value=email]").await;
    assert!(
        !is_checked(&email).await,
        "the unticked scope stays unticked"
    );
    let description = browser.wait_for("#description").await;
    assert_eq!(
        description.prop("value").await.unwrap().as_deref(),
        Some("Desk phone")
    );
    browser.approve().await;

    let tokens = idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1;
    assert_eq!(tokens["scope"], "openid profile", "{tokens}");
    browser.quit().await;
}

/// How many bytes `url` sends when the client accepts `encoding` (or, with `None`, says nothing).
async fn body_size(client: &reqwest::Client, url: String, encoding: Option<&str>) -> usize {
    let mut request = client.get(url);
    if let Some(encoding) = encoding {
        request = request.header("accept-encoding", encoding);
    }
    request.send().await.unwrap().bytes().await.unwrap().len()
}

#[tokio::test]
async fn the_app_is_served_precompressed_and_cached_by_content() {
    let idp = Idp::start().await;
    let client = reqwest::Client::new();
    let index = client.get(idp.url("/ciba/")).send().await.unwrap();
    assert_eq!(
        index.headers()["cache-control"],
        "no-cache",
        "a new build is picked up"
    );
    let last_modified = index.headers()["last-modified"].clone();
    let page = index.text().await.unwrap();
    let wasm = page
        .split(['\'', '"'])
        .find(|part| part.ends_with("_bg.wasm"))
        .expect("index.html names the wasm");

    let response = client
        .get(idp.url(wasm))
        .header("accept-encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "br");
    assert_eq!(
        response.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let brotli_bytes = response.bytes().await.unwrap().len();
    let gzip_bytes = body_size(&client, idp.url(wasm), Some("gzip")).await;
    let raw_bytes = body_size(&client, idp.url(wasm), None).await;
    assert!(
        brotli_bytes < gzip_bytes && gzip_bytes < raw_bytes,
        "{brotli_bytes} {gzip_bytes} {raw_bytes}"
    );
    println!("wasm: {raw_bytes} B raw, {gzip_bytes} B gzip, {brotli_bytes} B brotli");

    // A repeat visit revalidates index.html and downloads nothing.
    let again = client
        .get(idp.url("/ciba/"))
        .header("if-modified-since", last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
}
