//! Web Push (issue 15) with the test as the push service: the subscription API, what arrives at the
//! push service (checked VAPID, decrypted body, TTL, Urgency), closing, and what the sender refuses.

use std::time::{Duration, Instant};

use ciba_contract::PushSubscription;
use ciba_test_support::push_receiver::{Answer, Delivery, PushReceiver};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    DEMO_CLIENT, DemoConfig, Idp, Provider, ProviderOptions, TempDir, assert_problem, denial,
    form_token, spawned,
};

const SOON: Duration = Duration::from_secs(2);
/// How long to wait before concluding that nothing (more) is coming.
const QUIET: Duration = Duration::from_millis(700);

/// The demo configuration (which lets a loopback push service in) without rate limits, sweeping
/// for closed requests every second.
fn config() -> DemoConfig {
    DemoConfig::load()
        .for_fast_tests()
        .add("push.sweep_interval_secs", 1)
}

async fn subscribe(idp: &Idp, browser: &Client, subscription: &PushSubscription) -> Response {
    browser
        .post(idp.url("/api/ciba/push/subscriptions"))
        .header("X-CSRF", "1")
        .json(subscription)
        .send()
        .await
        .unwrap()
}

async fn subscribed(idp: &Idp, browser: &Client, subscription: &PushSubscription) {
    let response = subscribe(idp, browser, subscription).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        subscription.endpoint
    );
}

async fn unsubscribe(idp: &Idp, browser: &Client, endpoint: &str) -> Response {
    browser
        .delete(idp.url("/api/ciba/push/subscriptions"))
        .header("X-CSRF", "1")
        .json(&json!({ "endpoint": endpoint }))
        .send()
        .await
        .unwrap()
}

/// The demo client asks for `user` with a binding message; returns the request's internal id as the
/// push announces it at `path`.
async fn pushed_request(idp: &Idp, receiver: &PushReceiver, path: &str, user: &str) -> Delivery {
    idp.start_request(user, "openid", "Till 3: 4711").await;
    let delivery = receiver
        .next(path, SOON)
        .await
        .expect("the new request is pushed");
    assert_eq!(delivery.message["kind"], "request", "{}", delivery.message);
    delivery
}

fn internal_id(delivery: &Delivery) -> &str {
    delivery.message["internalId"].as_str().unwrap()
}

#[tokio::test]
async fn a_new_request_arrives_encrypted_with_vapid_its_lifetime_as_ttl_and_high_urgency() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let alice = idp.browser("alice").await;
    let settings = idp.get_json(&alice, "/api/ciba/push").await;
    let key = settings["vapidPublicKey"].as_str().unwrap();
    use base64::Engine;
    let point = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key)
        .unwrap();
    assert_eq!(
        (point.len(), point[0]),
        (65, 4),
        "an uncompressed P-256 point"
    );
    subscribed(&idp, &alice, &receiver.subscription("alice-phone")).await;

    let asked = Instant::now();
    idp.start_request_as(
        DEMO_CLIENT,
        "alice",
        "openid profile",
        Some("Till 3: 4711"),
        Some(120),
    )
    .await;
    let delivery = receiver
        .next("alice-phone", SOON)
        .await
        .expect("pushed within 2 s");
    assert!(asked.elapsed() < SOON);
    let list = idp.get_json(&alice, "/api/ciba/requests").await;
    let request = &list[0];
    assert_eq!(
        delivery.message,
        json!({
            "kind": "request",
            "internalId": request["internalId"],
            "url": format!("/ciba/requests/{}", request["internalId"].as_str().unwrap()),
            "clientName": "Demo Client",
            "bindingMessage": "Till 3: 4711",
            "expiresAt": request["expiresAt"],
        })
    );
    assert!((115..=120).contains(&delivery.ttl), "TTL {}", delivery.ttl);
    assert_eq!(delivery.urgency, "high");
    assert_eq!(
        delivery.vapid_key, key,
        "signed with the key the page subscribed with"
    );
    assert_eq!(delivery.vapid_subject, "mailto:ciba-idp@localhost");

    // Bob's request is not pushed to Alice's phone.
    idp.start_request("bob", "openid", "for bob").await;
    assert!(receiver.next("alice-phone", QUIET).await.is_none());

    let anonymous = idp.anonymous_browser();
    assert_problem(
        idp.get(&anonymous, "/api/ciba/push").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn the_code_checks_push_does_not_give_the_code_away() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let alice = idp.browser("alice").await;
    subscribed(&idp, &alice, &receiver.subscription("phone")).await;
    idp.start_request_as(
        ("pos-terminal", "pos-secret"),
        "alice",
        "openid",
        Some("Kasse 3: 4711"),
        None,
    )
    .await;
    let delivery = receiver.next("phone", SOON).await.expect("pushed");
    assert_eq!(delivery.message["clientName"], "Fabrikam Till 3");
    assert!(
        delivery.message.get("bindingMessage").is_none(),
        "{}",
        delivery.message
    );
}

#[tokio::test]
async fn deciding_and_expiring_close_the_notification_once() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let alice = idp.browser("alice").await;
    subscribed(&idp, &alice, &receiver.subscription("phone")).await;

    let decided = pushed_request(&idp, &receiver, "phone", "alice").await;
    let id = internal_id(&decided).to_owned();
    idp.complete_accepted(&alice, denial(&id)).await;
    let closed = receiver
        .next("phone", SOON)
        .await
        .expect("closed after the decision");
    assert_eq!(
        closed.message,
        json!({"kind": "closed", "internalId": id, "url": format!("/ciba/requests/{id}")})
    );

    idp.start_request_as(DEMO_CLIENT, "alice", "openid", None, Some(2))
        .await;
    let expiring = receiver.next("phone", SOON).await.expect("pushed");
    let expiring_id = internal_id(&expiring).to_owned();
    let closed = receiver
        .next("phone", Duration::from_secs(5))
        .await
        .expect("closed after it expired");
    assert_eq!(closed.message["kind"], "closed");
    assert_eq!(closed.message["internalId"], expiring_id.as_str());
    // Neither is closed a second time by the sweep.
    assert!(
        receiver
            .next("phone", Duration::from_millis(1500))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_subscription_is_replaced_by_endpoint_limited_per_user_and_deleted_only_by_its_user() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config().add("push.max_subscriptions_per_user", 2)).await;
    let alice = idp.browser("alice").await;
    let bob = idp.browser("bob").await;

    // The same endpoint again, now Bob's and with new keys: Alice's requests no longer go there.
    subscribed(&idp, &alice, &receiver.subscription("shared")).await;
    subscribed(&idp, &bob, &receiver.subscription("shared")).await;
    pushed_request(&idp, &receiver, "shared", "bob").await;
    idp.start_request("alice", "openid", "not for bob").await;
    assert!(receiver.next("shared", QUIET).await.is_none());

    // A third device drops Alice's oldest.
    for device in ["first", "second", "third"] {
        subscribed(&idp, &alice, &receiver.subscription(device)).await;
    }
    let pushed = pushed_request(&idp, &receiver, "third", "alice").await;
    let second = receiver
        .next("second", SOON)
        .await
        .expect("still subscribed");
    assert_eq!(second.message, pushed.message);
    assert!(
        receiver.next("first", QUIET).await.is_none(),
        "the oldest was dropped"
    );

    // Bob cannot unsubscribe Alice's device; Alice can.
    let endpoint = receiver.endpoint("second");
    assert_eq!(
        unsubscribe(&idp, &bob, &endpoint).await.status(),
        StatusCode::NO_CONTENT
    );
    pushed_request(&idp, &receiver, "second", "alice").await;
    receiver.next("third", SOON).await.expect("third too");
    assert_eq!(
        unsubscribe(&idp, &alice, &endpoint).await.status(),
        StatusCode::NO_CONTENT
    );
    pushed_request(&idp, &receiver, "third", "alice").await;
    assert!(
        receiver.next("second", QUIET).await.is_none(),
        "unsubscribed"
    );
}

#[tokio::test]
async fn the_push_api_needs_a_session_the_csrf_header_and_our_origin() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let subscription = receiver.subscription("phone");
    let anonymous = idp.anonymous_browser();
    assert_problem(
        subscribe(&idp, &anonymous, &subscription).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        unsubscribe(&idp, &anonymous, &subscription.endpoint).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let alice = idp.browser("alice").await;
    let url = idp.url("/api/ciba/push/subscriptions");
    let without_header = alice.post(&url).json(&subscription).send().await.unwrap();
    assert_problem(without_header, StatusCode::FORBIDDEN).await;
    let foreign = alice
        .post(&url)
        .header("X-CSRF", "1")
        .header("Origin", "https://evil.example")
        .json(&subscription)
        .send()
        .await
        .unwrap();
    assert_problem(foreign, StatusCode::FORBIDDEN).await;
    let delete_without_header = alice
        .delete(&url)
        .json(&json!({"endpoint": subscription.endpoint}))
        .send()
        .await
        .unwrap();
    assert_problem(delete_without_header, StatusCode::FORBIDDEN).await;
    // None of them stored anything.
    idp.start_request("alice", "openid", "nothing stored").await;
    assert!(receiver.next("phone", QUIET).await.is_none());

    let ours = alice
        .post(&url)
        .header("X-CSRF", "1")
        .header("Origin", &idp.base)
        .json(&subscription)
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_bad_subscription_is_a_400_that_says_what_is_wrong() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let alice = idp.browser("alice").await;
    let good = serde_json::to_value(receiver.subscription("phone")).unwrap();
    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body.pointer_mut(field).map(|slot| *slot = value).unwrap();
        body
    };
    let cases = [
        (
            with("/endpoint", json!("http://push.example.com/p")),
            "https",
        ),
        (with("/endpoint", json!("https://10.1.2.3/p")), "public"),
        (
            with("/endpoint", json!("https://169.254.169.254/latest")),
            "public",
        ),
        (with("/endpoint", json!("https://[fd00::1]/p")), "public"),
        (with("/endpoint", json!("not a url")), "URL"),
        (
            with(
                "/endpoint",
                json!(format!("https://push.example.com/{}", "a".repeat(1100))),
            ),
            "longer than 1024",
        ),
        (with("/keys/p256dh", json!("BAAA")), "p256dh"),
        (with("/keys/p256dh", json!("!!!")), "p256dh"),
        (with("/keys/auth", json!("AAAA")), "keys.auth"),
        (json!({"endpoint": good["endpoint"]}), "keys"),
        (json!([]), "PushSubscription"),
    ];
    for (body, says) in cases {
        let response = alice
            .post(idp.url("/api/ciba/push/subscriptions"))
            .header("X-CSRF", "1")
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, StatusCode::BAD_REQUEST).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{body}: {detail}");
    }
    let not_json = alice
        .post(idp.url("/api/ciba/push/subscriptions"))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_problem(not_json, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn loopback_http_is_refused_unless_switched_on() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config().set("push.allow_loopback_http", false)).await;
    let alice = idp.browser("alice").await;
    for subscription in [
        receiver.subscription("phone"),
        PushSubscription {
            endpoint: receiver.endpoint("phone").replace("127.0.0.1", "localhost"),
            ..receiver.subscription("phone")
        },
    ] {
        let problem = assert_problem(
            subscribe(&idp, &alice, &subscription).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("https"),
            "{problem}"
        );
    }
    // Switched on (as every other test here runs), the same subscription is taken.
    let allowed = Idp::start_with_config(config()).await;
    let alice = allowed.browser("alice").await;
    subscribed(&allowed, &alice, &receiver.subscription("phone")).await;
}

#[tokio::test]
async fn gone_and_not_found_remove_the_subscription() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let alice = idp.browser("alice").await;
    for device in ["gone", "expired", "fine"] {
        subscribed(&idp, &alice, &receiver.subscription(device)).await;
    }
    receiver.answer("gone", Answer::Gone);
    receiver.answer("expired", Answer::NotFound);
    pushed_request(&idp, &receiver, "fine", "alice").await;
    for device in ["gone", "expired"] {
        receiver.next(device, SOON).await.expect("pushed once");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    pushed_request(&idp, &receiver, "fine", "alice").await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        receiver.requests("gone"),
        1,
        "410: never again, not retried"
    );
    assert_eq!(
        receiver.requests("expired"),
        1,
        "404: never again, not retried"
    );
}

#[tokio::test]
async fn a_busy_push_service_gets_two_retries_then_no_more() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let alice = idp.browser("alice").await;
    subscribed(&idp, &alice, &receiver.subscription("busy")).await;
    receiver.answer("busy", Answer::Unavailable);
    idp.start_request("alice", "openid", "busy").await;
    // Backoff 1 s, then 2 s.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert_eq!(receiver.requests("busy"), 3);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.requests("busy"), 3);
    // The 503 does not remove it.
    receiver.answer("busy", Answer::Created);
    while receiver.next("busy", Duration::ZERO).await.is_some() {}
    pushed_request(&idp, &receiver, "busy", "alice").await;
}

#[tokio::test]
async fn a_hanging_push_service_delays_no_request_and_sends_stay_bounded() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config().add("push.max_in_flight", 2)).await;
    let alice = idp.browser("alice").await;
    subscribed(&idp, &alice, &receiver.subscription("stuck")).await;
    receiver.answer("stuck", Answer::Hang);

    for n in 0..6 {
        let asked = Instant::now();
        idp.start_request("alice", "openid", &format!("stuck {n}"))
            .await;
        assert!(
            asked.elapsed() < Duration::from_millis(500),
            "/connect/ciba took {:?}",
            asked.elapsed()
        );
    }
    let pending = idp.get_json(&alice, "/api/ciba/requests").await;
    let decided = Instant::now();
    let id = pending[0]["internalId"].as_str().unwrap();
    idp.complete_accepted(&alice, denial(id)).await;
    assert!(
        decided.elapsed() < Duration::from_millis(500),
        "{:?}",
        decided.elapsed()
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        receiver.peak_in_flight(),
        2,
        "two sends at once, never more"
    );
    assert_eq!(receiver.requests("stuck"), 2, "the rest wait their turn");
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let receiver = PushReceiver::start().await;
    let elsewhere = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let alice = idp.browser("alice").await;
    elsewhere.subscription("target");
    subscribed(&idp, &alice, &receiver.subscription("moved")).await;
    receiver.answer("moved", Answer::Redirect(elsewhere.endpoint("target")));
    pushed_request(&idp, &receiver, "moved", "alice").await;
    assert!(
        elsewhere
            .next("target", Duration::from_millis(1500))
            .await
            .is_none()
    );
    assert_eq!(elsewhere.requests("target"), 0);
    assert_eq!(
        receiver.requests("moved"),
        1,
        "a redirect is not retried either"
    );
}

#[tokio::test]
async fn signing_out_removes_this_devices_subscriptions_only() {
    let receiver = PushReceiver::start().await;
    let idp = Idp::start_with_config(config()).await;
    let phone = idp.browser("alice").await;
    let laptop = idp.browser("alice").await;
    subscribed(&idp, &phone, &receiver.subscription("phone")).await;
    subscribed(&idp, &laptop, &receiver.subscription("laptop")).await;

    let prompt = idp.page(&phone, "/Account/Logout?ReturnUrl=/ciba/").await;
    let token = form_token(&prompt);
    let out = phone
        .post(idp.url("/Account/Logout"))
        .form(&[("form_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);

    pushed_request(&idp, &receiver, "laptop", "alice").await;
    assert!(receiver.next("phone", QUIET).await.is_none());
}

/// The real binary over a database file, killed and started again: the VAPID key is the same (the
/// browser's subscription was made against it), a request that expired while it was down still gets
/// its "closed" push, and an endpoint is checked again at send time under the new configuration.
#[tokio::test]
async fn a_restart_keeps_the_vapid_key_and_closes_what_expired_meanwhile() {
    let receiver = PushReceiver::start().await;
    let dir = TempDir::new();
    let on_disk = |config: DemoConfig, port: Option<u16>| ProviderOptions {
        db: Some(dir.0.join("ciba-idp.db")),
        port,
        ..spawned(config)
    };
    let server = Provider::start_with(on_disk(config(), None)).await;
    let port = server.port;
    let idp = Idp::at(server.base.clone());
    let alice = idp.browser("alice").await;
    let before = idp.get_json(&alice, "/api/ciba/push").await;
    subscribed(&idp, &alice, &receiver.subscription("phone")).await;
    idp.start_request_as(DEMO_CLIENT, "alice", "openid", None, Some(2))
        .await;
    let pushed = receiver.next("phone", SOON).await.expect("pushed");
    server.kill_hard();
    tokio::time::sleep(Duration::from_secs(2)).await;

    let server = Provider::start_with(on_disk(config(), Some(port))).await;
    let after = idp.get_json(&alice, "/api/ciba/push").await;
    assert!(before["vapidPublicKey"].is_string(), "{before}");
    assert_eq!(before, after);
    let closed = receiver
        .next("phone", Duration::from_secs(4))
        .await
        .expect("closed after the restart");
    assert_eq!(closed.message["kind"], "closed");
    assert_eq!(closed.message["internalId"], pushed.message["internalId"]);
    assert_eq!(closed.vapid_key, before["vapidPublicKey"].as_str().unwrap());
    server.kill_hard();

    // Stored while loopback http was allowed; with the switch off it is no longer sent to.
    let _server = Provider::start_with(on_disk(
        config().set("push.allow_loopback_http", false),
        Some(port),
    ))
    .await;
    idp.start_request("alice", "openid", "switched off").await;
    assert!(
        receiver
            .next("phone", Duration::from_millis(1500))
            .await
            .is_none()
    );
    assert_eq!(receiver.requests("phone"), 2, "nothing was even attempted");
}
