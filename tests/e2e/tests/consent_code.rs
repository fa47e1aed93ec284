//! The consent page's code is a wasm module of its own (src/pages/consent_code.rs,
//! build/split-wasm.mjs): the list never downloads it, a consent page gets it — with the app's own
//! files when the page opens on it — and a failed download is said, with Try again.

use ciba_e2e::{Browser, Idp};
use serde_json::{Value, json};

/// Where this page's files came from so far: `{path, start, end, by}` per resource.
async fn resources(browser: &Browser) -> Vec<Value> {
    browser
        .eval(
            r#"
            return performance.getEntriesByType('resource').map((e) => ({
              path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd, by: e.initiatorType,
            }));
            "#,
        )
        .await
        .as_array()
        .unwrap()
        .clone()
}

fn consent_code(resources: &[Value]) -> Vec<&Value> {
    resources
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/ciba/split-consent-") && p.ends_with(".wasm"))
        })
        .collect()
}

/// A signed-in browser with an empty cache and no service worker, and the id of alice's request.
async fn cold(idp: &Idp) -> (Browser, String) {
    idp.ask_alice("openid profile", "Till 3: 4711").await;
    let (browser, internal_id) = Browser::signed_in_with_first_request(idp, "alice").await;
    browser.forget_everything_cached(&idp.url("")).await;
    // The tests emulate a slow network or block the module's URL.
    browser.enable_network_domain().await;
    (browser, internal_id)
}

#[tokio::test]
async fn the_list_leaves_the_consent_code_until_a_request_is_opened() {
    let idp = Idp::start().await;
    let (browser, _) = cold(&idp).await;
    browser.goto(idp.url("/ciba/")).await;
    browser.wait_for("a[data-request-id]").await;
    let on_the_list = resources(&browser).await;
    assert!(
        consent_code(&on_the_list).is_empty(),
        "the list fetched the consent page's code: {on_the_list:?}"
    );

    browser.open_first_request().await;
    browser.wait_for("#approve").await;
    let after = resources(&browser).await;
    assert_eq!(consent_code(&after).len(), 1, "{after:?}");
    browser.quit().await;
}

/// A notification opens the consent page itself: its code is fetched with the app's wasm (index.html
/// preloads it), not after the app has started — which would add a round trip.
#[tokio::test]
async fn a_consent_page_opened_directly_fetches_its_code_with_the_app() {
    let idp = Idp::start().await;
    let (browser, internal_id) = cold(&idp).await;
    browser
        .driver
        .cdp()
        .send_raw(
            "Network.emulateNetworkConditions",
            json!({"offline": false, "latency": 150, "downloadThroughput": -1, "uploadThroughput": -1}),
        )
        .await
        .unwrap();
    browser
        .goto(idp.url(&format!("/ciba/requests/{internal_id}")))
        .await;
    browser.wait_for("#approve").await;
    let loaded = resources(&browser).await;
    let code = consent_code(&loaded);
    assert_eq!(code.len(), 1, "fetched once, by the preload: {loaded:?}");
    assert_eq!(code[0]["by"], "link", "{loaded:?}");
    let app = loaded
        .iter()
        .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with("_bg.wasm")))
        .expect("the app's wasm");
    let apart = code[0]["start"].as_f64().unwrap() - app["start"].as_f64().unwrap();
    assert!(
        apart.abs() < 75.0,
        "the consent code was requested {apart:.0} ms after the app's wasm: {loaded:?}"
    );
    assert!(
        browser
            .csp_violations()
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    browser.quit().await;
}

#[tokio::test]
async fn a_consent_page_whose_code_cannot_be_fetched_says_so_and_tries_again() {
    let idp = Idp::start().await;
    let (browser, internal_id) = cold(&idp).await;
    let cdp = browser.driver.cdp();
    cdp.send_raw(
        "Network.setBlockedURLs",
        json!({"urls": ["*/ciba/split-consent-*"]}),
    )
    .await
    .unwrap();
    browser
        .goto(idp.url(&format!("/ciba/requests/{internal_id}")))
        .await;
    let alert = browser.wait_for("[role=alert]").await;
    assert!(
        !alert.text().await.unwrap().trim().is_empty(),
        "the alert says what went wrong"
    );
    assert!(!browser.exists("#approve").await);

    cdp.send_raw("Network.setBlockedURLs", json!({"urls": []}))
        .await
        .unwrap();
    browser.click("[role=alert] [data-action=retry]").await;
    browser.wait_for_consent_page("Till 3: 4711").await;
    browser.quit().await;
}
