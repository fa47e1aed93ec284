//! Rate limits: a client cannot flood a user with prompts, and nobody can guess passwords at speed.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{DemoConfig, Idp};

#[tokio::test]
async fn a_user_gets_at_most_five_backchannel_requests_a_minute() {
    let idp = Idp::start().await;
    let request = |user: &'static str| {
        let idp = &idp;
        async move {
            idp.backchannel(&[("scope", "openid"), ("login_hint", user)])
                .await
        }
    };
    for attempt in 1..=5 {
        assert_eq!(
            request("alice").await.status(),
            StatusCode::OK,
            "request {attempt}"
        );
    }
    let refused = request("alice").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "slow_down", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("try again"),
        "{body}"
    );
    // Another user is not affected.
    assert_eq!(request("bob").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn password_guessing_is_stopped_even_when_the_guess_is_right() {
    let idp = Idp::start().await;
    let browser = idp.anonymous_browser();
    for attempt in 1..=5 {
        let response = idp.sign_in(&browser, "alice", "wrong", "/ciba/").await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "attempt {attempt}"
        );
    }
    let response = idp.sign_in(&browser, "alice", "alice", "/ciba/").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = response.text().await.unwrap();
    assert!(page.contains("Too many sign-in attempts"), "{page}");
    let session = idp.get(&browser, "/api/ciba/session").await;
    assert_eq!(session.status(), StatusCode::UNAUTHORIZED, "not signed in");
    // Bob, from the same address, can still sign in.
    let response = idp
        .sign_in(&idp.anonymous_browser(), "bob", "bob", "/ciba/")
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_client_that_floods_the_endpoint_is_slowed_down_valid_calls_or_not() {
    let idp = Idp::start_with_config(
        DemoConfig::load().set("rate_limits.backchannel_per_client_per_minute", 3),
    )
    .await;
    // Malformed calls count: a client probing the endpoint is as limited as one prompting users.
    for attempt in 1..=2 {
        let response = idp.backchannel(&[("login_hint", "alice")]).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "attempt {attempt}"
        );
    }
    let third = idp
        .backchannel(&[("scope", "openid"), ("login_hint", "bob")])
        .await;
    assert_eq!(third.status(), StatusCode::OK);
    let refused = idp
        .backchannel(&[("scope", "openid"), ("login_hint", "alice")])
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "slow_down", "{body}");
    // Another client is not affected.
    let other = idp
        .backchannel_as(
            ("callcentre", "callcentre-secret"),
            &[("scope", "openid"), ("login_hint", "alice")],
        )
        .await;
    assert_eq!(other.status(), StatusCode::OK);
}

#[tokio::test]
async fn one_address_guessing_many_usernames_is_stopped() {
    let idp = Idp::start().await;
    let browser = idp.anonymous_browser();
    // Four guesses each for five names: under the per-user limit, at the per-address limit of 20.
    for attempt in 0..20 {
        let user = format!("user{}", attempt % 5);
        let response = idp.sign_in(&browser, &user, "guess", "/ciba/").await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "attempt {attempt}"
        );
    }
    let response = idp
        .sign_in(&idp.anonymous_browser(), "bob", "bob", "/ciba/")
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = response.text().await.unwrap();
    assert!(page.contains("Too many sign-in attempts"), "{page}");
}
