//! The page as an authenticator (issue 15), in a real Chromium with a persistent profile against a
//! real ciba-idp: installable (manifest, icons, a worker with a fetch handler), the worker installed
//! once the list shows, a repeat visit that takes every static asset from the worker's cache, the
//! page opening with the server gone and saying nothing can be decided, nothing personal in any
//! cache, and pushes that show, close and drop notifications.

use std::time::Duration;

use ciba_contract::PushMessage;
use ciba_e2e::{Browser, Provider, ProviderOptions, cdp::DevTools};
use serde_json::{Value, json};

/// ciba-idp serving the built SPA, with a request from the demo client waiting for alice.
async fn provider_with_a_request() -> Provider {
    let provider = Provider::start_with(ProviderOptions {
        spa: true,
        ..ProviderOptions::default()
    })
    .await;
    provider
        .host
        .start_request("alice", "openid profile", "Till 3: 4711")
        .await;
    provider
}

/// alice signed in and her list shown, and the page controlled by its service worker (which the
/// page registers once the list's first answer has come).
async fn alice_with_worker(provider: &Provider) -> Browser {
    let browser = Browser::start().await;
    browser.goto(provider.host.url("/ciba/")).await;
    browser.sign_in("alice", "alice").await;
    until_the_worker_controls(&browser, provider).await;
    browser
}

/// Waits for what alice sees first, her list (with requests or none), then for the worker it
/// brings to control the page.
async fn until_the_worker_controls(browser: &Browser, provider: &Provider) {
    browser.wait_for(".request-list, [data-state=empty]").await;
    let script = provider.host.url("/ciba/sw.js");
    for _ in 0..200 {
        let controller = browser
            .eval("return navigator.serviceWorker.controller?.scriptURL ?? null;")
            .await;
        if controller == json!(script) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no service worker controls the page after the list showed");
}

/// Every URL path in every Cache Storage cache of the page's origin.
async fn cached_paths(browser: &Browser) -> Vec<String> {
    let paths = browser
        .eval(
            "return (async () => {
               const paths = [];
               for (const name of await caches.keys()) {
                 for (const request of await (await caches.open(name)).keys()) {
                   paths.push(new URL(request.url).pathname);
                 }
               }
               return paths;
             })();",
        )
        .await;
    serde_json::from_value(paths).unwrap()
}

/// A page without a session leaves for sign-in at once: the worker, whose install fetches the
/// whole shell, waits for a list on screen instead of competing with the sign-in page.
#[tokio::test]
async fn no_worker_is_installed_by_a_page_that_leaves_for_sign_in() {
    let provider = provider_with_a_request().await;
    let browser = Browser::start().await;
    browser.goto(provider.host.url("/ciba/")).await;
    browser.wait_for("#username").await;
    // Time for a registration started by the page that left to have shown up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let registrations = browser
        .eval(
            "return navigator.serviceWorker.getRegistrations()
               .then(all => all.map(r => (r.installing ?? r.waiting ?? r.active)?.scriptURL ?? null));",
        )
        .await;
    assert_eq!(registrations, json!([]));

    // Signed in and back on the list, the worker comes.
    browser.sign_in("alice", "alice").await;
    until_the_worker_controls(&browser, &provider).await;
    browser.quit().await;
}

#[tokio::test]
async fn installable_cached_for_repeat_visits_and_honest_offline() {
    let provider = provider_with_a_request().await;
    let browser = alice_with_worker(&provider).await;

    // Chromium's own verdict: a manifest with name, start_url, standalone display and 192/512 px
    // icons, and a worker with a fetch handler — nothing missing.
    // Chromium weighs a page's manifest link and worker a little after they appear: asked at
    // once it can still answer `no-manifest` for a page that becomes installable a moment later.
    let mut errors = Value::Null;
    for _ in 0..50 {
        let installability = browser
            .driver
            .cdp()
            .send_raw("Page.getInstallabilityErrors", json!({}))
            .await
            .unwrap();
        errors = installability["installabilityErrors"].clone();
        if errors == json!([]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(errors, json!([]), "not installable after 5 s");
    let http = reqwest::Client::new();
    for (path, content_type) in [
        ("/ciba/manifest.webmanifest", "application/manifest+json"),
        ("/ciba/sw.js", "text/javascript"),
    ] {
        let response = http.get(provider.host.url(path)).send().await.unwrap();
        let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
        assert!(header("content-type").starts_with(content_type), "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
    }
    // The page of its own offers notifications; headless Chromium has the Push API.
    assert_eq!(
        browser
            .wait_for("#notify-toggle")
            .await
            .attr("aria-pressed")
            .await
            .unwrap()
            .as_deref(),
        Some("false")
    );

    browser.emulate_phone(360).await;
    browser.screenshot("list-notify-360").await;

    // A repeat visit: the page, every script, wasm and stylesheet come from the worker's cache.
    let mut devtools = DevTools::connect(&browser.driver).await;
    devtools.send("Network.enable", json!({})).await;
    browser.goto(provider.host.url("/ciba/")).await;
    browser.wait_for("a[data-request-id]").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let statics: Vec<Value> = devtools
        .heard("Network.responseReceived")
        .into_iter()
        .map(|event| event["response"].clone())
        .filter(|response| {
            let url = response["url"].as_str().unwrap_or_default();
            url.contains("/ciba/")
                && [".js", ".wasm", ".css", "/ciba/"]
                    .iter()
                    .any(|ext| url.ends_with(ext))
        })
        .collect();
    for loaded in [".wasm", "/ciba/"] {
        assert!(
            statics
                .iter()
                .any(|r| r["url"].as_str().unwrap().ends_with(loaded)),
            "{loaded} was loaded: {statics:#?}"
        );
    }
    for response in &statics {
        assert_eq!(
            (
                &response["fromServiceWorker"],
                &response["serviceWorkerResponseSource"]
            ),
            (&json!(true), &json!("cache-storage")),
            "{} came from the network",
            response["url"]
        );
    }

    // Polling and the session ran under the worker: none of it was kept.
    let cached = cached_paths(&browser).await;
    assert!(
        cached.iter().any(|path| path.ends_with(".wasm")),
        "{cached:?}"
    );
    assert!(
        cached.contains(&"/ciba/index.html".to_owned()),
        "{cached:?}"
    );
    assert!(
        cached
            .iter()
            .all(|path| path.starts_with("/ciba/") && !path.starts_with("/ciba/api")),
        "only the app's own files are cached: {cached:?}"
    );

    // The server gone: the shell opens from the cache and says nothing can be decided now.
    provider.kill_hard();
    browser
        .goto(format!("{}/ciba/", browser_origin(&browser).await))
        .await;
    let alert = browser.wait_for("[role=alert]").await.text().await.unwrap();
    assert!(alert.contains("without a connection"), "{alert}");
    assert!(alert.contains("approved or denied"), "{alert}");
    assert!(!browser.exists("a[data-request-id]").await);
    browser.quit().await;
}

async fn browser_origin(browser: &Browser) -> String {
    browser
        .eval("return location.origin;")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// Notifications allowed for the page's origin, and a DevTools connection that can push to its
/// worker: `(devtools, origin, registration id)`.
async fn notifications_allowed(browser: &Browser) -> (DevTools, String, String) {
    let origin = browser_origin(browser).await;
    browser
        .driver
        .cdp()
        .send_raw(
            "Browser.grantPermissions",
            json!({ "origin": origin, "permissions": ["notifications"] }),
        )
        .await
        .unwrap();
    let mut devtools = DevTools::connect(&browser.driver).await;
    let registration = devtools
        .worker_registration_id(&format!("{origin}/ciba/"))
        .await;
    (devtools, origin, registration)
}

/// The notifications the worker shows, as `[{title, body, tag, url}]`.
async fn notifications(browser: &Browser) -> Value {
    browser
        .eval(
            "return (async () => {
               const registration = await navigator.serviceWorker.ready;
               return (await registration.getNotifications()).map((n) =>
                 ({ title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url }));
             })();",
        )
        .await
}

/// The tags of the notifications the worker shows now.
async fn tags(browser: &Browser) -> (Vec<String>, Value) {
    let shown = notifications(browser).await;
    let tags = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["tag"].as_str().unwrap().to_owned())
        .collect();
    (tags, shown)
}

/// Delivers `message` to the worker as a push service would, until it shows exactly `expected`.
/// Redelivered (up to three times, 5 s apart) as push services do: on two busy cores with two
/// browsers, Chromium's `deliverPushMessage` now and then drops one before the worker sees it.
/// Every message here is idempotent (same tag, same close).
async fn push_until(
    devtools: &DevTools,
    browser: &Browser,
    (origin, registration): (&str, &str),
    message: &Value,
    expected: &[&str],
) -> Value {
    let mut shown = Value::Null;
    for _ in 0..3 {
        devtools.deliver_push(origin, registration, message).await;
        for _ in 0..100 {
            let (now, all) = tags(browser).await;
            if now == expected {
                return all;
            }
            shown = all;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    panic!("after {message}: expected notifications {expected:?}, the worker shows {shown}");
}

/// An RFC 3339 instant `ms` from now, by the browser's clock (which the worker compares with).
async fn in_ms(browser: &Browser, ms: i64) -> String {
    browser
        .eval_with(
            "return new Date(Date.now() + arguments[0]).toISOString();",
            vec![json!(ms)],
        )
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

fn request(id: &str, client: &str, binding_message: Option<&str>, expires_at: String) -> Value {
    serde_json::to_value(PushMessage::Request {
        internal_id: id.into(),
        url: PushMessage::consent_url(id),
        client_name: client.into(),
        binding_message: binding_message.map(str::to_owned),
        expires_at,
    })
    .unwrap()
}

#[tokio::test]
async fn pushes_show_close_and_drop_expired_notifications() {
    let provider = provider_with_a_request().await;
    let browser = alice_with_worker(&provider).await;
    let (devtools, origin, registration) = notifications_allowed(&browser).await;

    let to = (origin.as_str(), registration.as_str());

    // A request: the client's name, the code to compare, a link to its consent page.
    // Long enough to outlast the next two steps (with redeliveries); waited out below.
    let soon = in_ms(&browser, 20_000).await;
    let r1 = request("r1", "Kitchen TV", Some("Till 3: 4711"), soon.clone());
    let shown = push_until(&devtools, &browser, to, &r1, &["r1"]).await;
    assert_eq!(
        shown[0],
        json!({ "title": "Kitchen TV", "body": "Till 3: 4711", "tag": "r1", "url": "/ciba/requests/r1" })
    );

    // With the code check on, the host sends no code: the notification says where to look.
    let later = in_ms(&browser, 600_000).await;
    let r2 = request("r2", "Fabrikam Till", None, later.clone());
    let shown = push_until(&devtools, &browser, to, &r2, &["r1", "r2"]).await;
    assert_eq!(shown[1]["body"], "Compare the code on the other device.");

    // Decided elsewhere: its notification goes.
    let closed = serde_json::to_value(PushMessage::Closed {
        internal_id: "r2".into(),
        url: PushMessage::consent_url("r2"),
    })
    .unwrap();
    push_until(&devtools, &browser, to, &closed, &["r1"]).await;

    // Once r1 has run out of time, the next push takes its notification away.
    while browser
        .eval_with(
            "return Date.now() <= Date.parse(arguments[0]);",
            vec![json!(soon)],
        )
        .await
        == json!(true)
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r3 = request("r3", "Kitchen TV", Some("1234"), later);
    push_until(&devtools, &browser, to, &r3, &["r3"]).await;
    browser.quit().await;
}

/// The whole way, as the "done" reads: the page subscribed (here with the test push
/// service's keys, since headless Chromium cannot reach a real one), a client calls `/connect/ciba`,
/// and within two seconds the push arrives — encrypted, VAPID-signed — and, delivered to the worker,
/// shows a notification whose link opens that request's consent page.
#[tokio::test]
async fn a_clients_request_reaches_the_phone_as_a_notification_within_two_seconds() {
    use ciba_test_support::push_receiver::PushReceiver;

    let provider = Provider::start_with(ProviderOptions {
        spa: true,
        ..ProviderOptions::default()
    })
    .await;
    let browser = alice_with_worker(&provider).await;
    let (devtools, origin, registration) = notifications_allowed(&browser).await;

    // What the page's toggle hands the host, from this browser's session.
    let receiver = PushReceiver::start().await;
    let subscription = serde_json::to_string(&receiver.subscription("/phone")).unwrap();
    let status = browser
        .eval_with(
            "return fetch('/api/ciba/push/subscriptions', { method: 'POST',
               headers: { 'Content-Type': 'application/json', 'X-CSRF': '1' }, body: arguments[0] })
               .then((r) => r.status);",
            vec![json!(subscription)],
        )
        .await;
    assert_eq!(status, json!(201));

    let started = std::time::Instant::now();
    provider
        .host
        .start_request("alice", "openid profile", "Till 3: 4711")
        .await;
    let delivery = receiver
        .next("/phone", Duration::from_secs(2))
        .await
        .expect("the push reaches the push service within two seconds of /connect/ciba");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(delivery.message["kind"], "request");
    assert_eq!(delivery.message["clientName"], "Demo Client");
    let id = delivery.message["internalId"].as_str().unwrap().to_owned();

    let to = (origin.as_str(), registration.as_str());
    let shown = push_until(&devtools, &browser, to, &delivery.message, &[id.as_str()]).await;
    assert_eq!(shown[0]["title"], "Demo Client");
    assert_eq!(shown[0]["body"], "Till 3: 4711");
    let url = shown[0]["url"].as_str().unwrap();
    assert_eq!(url, PushMessage::consent_url(&id));

    // What a tap opens (the worker's notificationclick goes to this address).
    browser.goto(provider.host.url(url)).await;
    // The consent page is there once it can be approved (its code and the request both loaded).
    browser.wait_for("#approve").await;
    let page = browser.wait_for("main").await.text().await.unwrap();
    assert!(
        page.contains("Demo Client") && page.contains("Till 3: 4711"),
        "{page}"
    );
    browser.quit().await;
}
