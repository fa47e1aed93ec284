//! What an outside probe got through (issue 13), each answered as the protocol says: binding messages
//! that look like another, errors outside their documented formats, and lax client authentication,
//! `requested_expiry` grammar and origin checks.

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::support::{Idp, assert_problem};

async fn oauth_error(response: reqwest::Response, status: StatusCode, error: &str) -> Value {
    assert_eq!(response.status(), status);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        response.headers()
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error, "{body}");
    body
}

#[tokio::test]
async fn binding_messages_that_hide_or_reorder_text_are_refused() {
    let idp = Idp::start().await;
    for message in [
        "Till 3: \u{202e}1174",
        "Till 3: \u{2066}4711\u{2069}",
        "47\u{200b}11",
        "\u{feff}4711",
        "4711\u{e0031}",
        "Till\u{2028}3",
        " \u{3000} ",
    ] {
        let response = alice_asks_with(&idp, ("binding_message", message)).await;
        oauth_error(response, StatusCode::BAD_REQUEST, "invalid_binding_message").await;
    }
    // Bytes that are not UTF-8 are refused, not replaced.
    let response = Client::new()
        .post(idp.url("/connect/ciba"))
        .basic_auth("demo-client", Some("demo-secret"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("scope=openid&login_hint=alice&binding_message=Till%203%3A%20%FF%FE")
        .send()
        .await
        .unwrap();
    oauth_error(response, StatusCode::BAD_REQUEST, "invalid_binding_message").await;

    // A decomposed message is stored composed (NFC): the page shows what the till shows.
    idp.start_request("alice", "openid", "Cafe\u{301} 4711")
        .await;
    let alice = idp.browser("alice").await;
    let list = idp.get_json(&alice, "/api/ciba/requests").await;
    assert_eq!(list[0]["bindingMessage"], "Caf\u{e9} 4711");
}

#[tokio::test]
async fn protocol_errors_are_oauth_json_and_api_errors_problem_json() {
    let idp = Idp::start().await;
    let huge = "x".repeat(3 * 1024 * 1024);
    for path in ["/connect/ciba", "/connect/token"] {
        let response = Client::new()
            .post(idp.url(path))
            .basic_auth("demo-client", Some("demo-secret"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("scope={huge}"))
            .send()
            .await
            .unwrap();
        oauth_error(response, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request").await;
        let response = Client::new().get(idp.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["allow"], "POST");
        oauth_error(response, StatusCode::METHOD_NOT_ALLOWED, "invalid_request").await;
    }

    let alice = idp.browser("alice").await;
    let response = alice
        .post(idp.url("/api/ciba/complete"))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .body(format!("{{\"internalId\":\"{huge}\"}}"))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    for path in ["/api/ciba/nothing-here", "/api/ciba/requests/a/b"] {
        let response = idp.get(&alice, path).await;
        assert_problem(response, StatusCode::NOT_FOUND).await;
    }
    let response = idp.get(&alice, "/api/ciba/complete").await;
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn client_authentication_and_requested_expiry_follow_the_rfcs() {
    let idp = Idp::start().await;
    let basic = |scheme: &str| {
        use base64::Engine;
        let credentials =
            base64::engine::general_purpose::STANDARD.encode("demo-client:demo-secret");
        format!("{scheme} {credentials}")
    };
    // RFC 7235: the scheme name is case-insensitive.
    for scheme in ["basic", "BASIC", "bAsIc"] {
        let response = Client::new()
            .post(idp.url("/connect/ciba"))
            .header("Authorization", basic(scheme))
            .form(&[("scope", "openid"), ("login_hint", "bob")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
    }
    // Basic for one client, client_id for another: refused, whichever would win.
    let response = Client::new()
        .post(idp.url("/connect/ciba"))
        .header("Authorization", basic("Basic"))
        .form(&[
            ("scope", "openid"),
            ("login_hint", "bob"),
            ("client_id", "callcentre"),
        ])
        .send()
        .await
        .unwrap();
    oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;

    for expiry in ["+5", "05", "5.0", " 5", "1e2"] {
        let response = alice_asks_with(&idp, ("requested_expiry", expiry)).await;
        oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    }
}

/// "Ours" is the configured issuer, not whatever `Host` the sender put in the request.
#[tokio::test]
async fn the_origin_check_trusts_the_issuer_not_the_host_header() {
    let idp = Idp::start().await;
    let (alice, id) = idp.pending_request_for("alice", "openid", "origin").await;
    let response = alice
        .post(idp.url("/api/ciba/complete"))
        .header("X-CSRF", "1")
        .header("Host", "evil.example:8080")
        .header("Origin", "http://evil.example:8080")
        .json(&json!({"internalId": id, "scopesValuesConsented": ["openid"]}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::FORBIDDEN).await;
    assert_eq!(idp.only_pending_id(&alice).await, id, "still pending");
}

/// The demo client's backchannel request for alice (scope `openid`) with one more parameter.
async fn alice_asks_with(idp: &Idp, extra: (&str, &str)) -> Response {
    idp.backchannel(&[("scope", "openid"), ("login_hint", "alice"), extra])
        .await
}
