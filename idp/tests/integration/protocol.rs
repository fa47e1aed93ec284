//! The OpenID Provider side: discovery, `/connect/ciba`, `/connect/token`, `/connect/userinfo`.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::{DEMO_CLIENT, Idp, denial};

async fn oauth_error(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(body["error_description"].is_string(), "{body}");
    (status, body["error"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn discovery_advertises_ciba_poll_mode() {
    let idp = Idp::start().await;
    let doc = idp
        .get_json(&Client::new(), "/.well-known/openid-configuration")
        .await;
    assert_eq!(doc["issuer"], idp.base);
    assert_eq!(
        doc["backchannel_authentication_endpoint"],
        idp.url("/connect/ciba")
    );
    assert_eq!(doc["token_endpoint"], idp.url("/connect/token"));
    assert_eq!(
        doc["backchannel_token_delivery_modes_supported"],
        json!(["poll"])
    );
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("urn:openid:params:grant-type:ciba"))
    );
    assert!(
        doc["id_token_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("RS256"))
    );
    assert!(
        doc["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("offline_access"))
    );
    let jwks: Value = reqwest::get(doc["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
}

/// A refused backchannel call: what it is, its form, and the status and `error` it must get.
type RefusedCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, StatusCode, &'a str);

#[tokio::test]
async fn backchannel_errors_follow_the_ciba_spec() {
    let idp = Idp::start().await;
    let ok = [("scope", "openid"), ("login_hint", "alice")];
    let too_long = "x".repeat(65);
    let cases: Vec<RefusedCase> = vec![
        (
            "missing scope",
            vec![("login_hint", "alice")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "no openid",
            vec![("scope", "profile"), ("login_hint", "alice")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "unknown scope",
            vec![("scope", "openid admin"), ("login_hint", "alice")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            "no hint",
            vec![("scope", "openid")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "two hints",
            vec![
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("id_token_hint", "x"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "unknown user",
            vec![("scope", "openid"), ("login_hint", "mallory")],
            StatusCode::BAD_REQUEST,
            "unknown_user_id",
        ),
        (
            "binding too long",
            vec![
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("binding_message", &too_long),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_binding_message",
        ),
        (
            "binding with control",
            vec![
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("binding_message", "a\nb"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_binding_message",
        ),
        (
            "expiry zero",
            vec![
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("requested_expiry", "0"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "expiry too long",
            vec![
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("requested_expiry", "601"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "expiry not a number",
            vec![
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("requested_expiry", "soon"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "repeated parameter",
            vec![
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("login_hint", "bob"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (name, params, status, error) in cases {
        assert_eq!(
            oauth_error(idp.backchannel(&params).await).await,
            (status, error.to_owned()),
            "{name}"
        );
    }

    let wrong_secret = idp.backchannel_as(("demo-client", "wrong"), &ok).await;
    assert_eq!(
        wrong_secret.headers()["www-authenticate"],
        "Basic realm=\"ciba-idp\""
    );
    assert_eq!(
        oauth_error(wrong_secret).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    let anonymous = Client::new()
        .post(idp.url("/connect/ciba"))
        .form(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(
        oauth_error(anonymous).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    let not_allowed_scope = idp
        .backchannel_as(
            ("callcentre", "callcentre-secret"),
            &[("scope", "openid api1.write"), ("login_hint", "alice")],
        )
        .await;
    assert_eq!(
        oauth_error(not_allowed_scope).await,
        (StatusCode::BAD_REQUEST, "invalid_scope".into())
    );
    let no_ciba = idp.backchannel_as(("no-ciba", "no-ciba-secret"), &ok).await;
    assert_eq!(
        oauth_error(no_ciba).await,
        (StatusCode::BAD_REQUEST, "unauthorized_client".into())
    );
    let json_body = Client::new()
        .post(idp.url("/connect/ciba"))
        .basic_auth("demo-client", Some("demo-secret"))
        .json(&json!({"scope": "openid", "login_hint": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        oauth_error(json_body).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );

    // client_secret_post is accepted too, and the answer has what a poller needs.
    let post_auth = Client::new()
        .post(idp.url("/connect/ciba"))
        .form(&[
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("scope", "openid"),
            ("login_hint", "alice"),
            ("requested_expiry", "120"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post_auth.status(), StatusCode::OK);
    let body: Value = post_auth.json().await.unwrap();
    assert!(body["auth_req_id"].as_str().unwrap().len() >= 32);
    assert_eq!(body["expires_in"], 120);
    assert_eq!(body["interval"], 5);
}

#[tokio::test]
async fn polling_too_fast_slows_the_client_down() {
    let idp = Idp::start().await;
    let auth_req_id = idp.start_request("alice", "openid", "slow").await;
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["error"],
        "authorization_pending"
    );
    let (status, body) = idp.poll_json(DEMO_CLIENT, &auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "slow_down")
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("10 seconds"),
        "{body}"
    );
    // The raised interval sticks: still too fast.
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["error"],
        "slow_down"
    );
}

#[tokio::test]
async fn unknown_or_foreign_auth_req_id_is_invalid_grant() {
    let idp = Idp::start().await;
    let auth_req_id = idp.start_request("alice", "openid", "mine").await;
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, "made-up").await.1["error"],
        "invalid_grant"
    );
    let (status, body) = idp
        .poll_json(("callcentre", "callcentre-secret"), &auth_req_id)
        .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    let unsupported = Client::new()
        .post(idp.url("/connect/token"))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&[("grant_type", "password"), ("username", "alice")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        oauth_error(unsupported).await,
        (StatusCode::BAD_REQUEST, "unsupported_grant_type".into())
    );
}

#[tokio::test]
async fn an_expired_request_is_expired_token_and_leaves_the_list() {
    let idp = Idp::start().await;
    let response = idp
        .backchannel(&[
            ("scope", "openid"),
            ("login_hint", "alice"),
            ("requested_expiry", "1"),
        ])
        .await;
    let auth_req_id = response.json::<Value>().await.unwrap()["auth_req_id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["error"],
        "expired_token"
    );
    let alice = idp.browser("alice").await;
    let list = idp.get_json(&alice, "/api/ciba/requests").await;
    assert_eq!(list, json!([]));
}

/// The whole CIBA flow, verified the way a relying party would: tokens, a signed ID token checked
/// against the published JWKS, userinfo, refresh, and single use.
#[tokio::test]
async fn approval_yields_verifiable_tokens_once() {
    let idp = Idp::start().await;
    let auth_req_id = idp
        .start_request(
            "alice",
            "openid profile api1.read api1.write offline_access",
            "Till 3",
        )
        .await;
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["error"],
        "authorization_pending"
    );

    let alice = idp.browser("alice").await;
    let internal_id = idp.only_pending_id(&alice).await;
    let granted = json!({"internalId": internal_id, "scopesValuesConsented": ["openid", "api1.read", "offline_access"], "description": "My phone"});
    idp.complete_accepted(&alice, granted).await;

    let (status, tokens) = idp.poll_json(DEMO_CLIENT, &auth_req_id).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid api1.read offline_access");
    assert!(tokens["refresh_token"].is_string());

    let jwks = idp.get_json(&Client::new(), "/.well-known/jwks").await;
    let key = &jwks["keys"][0];
    let decoding =
        DecodingKey::from_rsa_components(key["n"].as_str().unwrap(), key["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["demo-client"]);
    validation.set_issuer(&[&idp.base]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp", "iat"]);
    let id_token =
        jsonwebtoken::decode::<Value>(tokens["id_token"].as_str().unwrap(), &decoding, &validation)
            .expect("the id_token verifies against the JWKS");
    assert_eq!(
        jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap())
            .unwrap()
            .kid
            .as_deref(),
        key["kid"].as_str()
    );
    assert_eq!(id_token.claims["sub"], "818727");
    assert!(
        id_token.claims["auth_time"].as_i64().unwrap() <= id_token.claims["iat"].as_i64().unwrap()
    );
    assert!(
        id_token.claims.get("name").is_none(),
        "profile was not granted"
    );

    // Single use.
    assert_eq!(
        idp.poll_json(DEMO_CLIENT, &auth_req_id).await.1["error"],
        "invalid_grant"
    );

    let userinfo: Value = Client::new()
        .get(idp.url("/connect/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo, json!({"sub": "818727"}));
    let bad = Client::new()
        .get(idp.url("/connect/userinfo"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);

    let refresh = |token: String| {
        let url = idp.url("/connect/token");
        async move {
            Client::new()
                .post(url)
                .basic_auth("demo-client", Some("demo-secret"))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
                .send()
                .await
                .unwrap()
        }
    };
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = refresh(refresh_token.clone()).await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    assert_eq!(
        refreshed.json::<Value>().await.unwrap()["scope"],
        "openid api1.read offline_access"
    );
    assert_eq!(
        oauth_error(refresh(refresh_token).await).await.1,
        "invalid_grant",
        "refresh tokens rotate"
    );
}

#[tokio::test]
async fn no_refresh_token_without_offline_access_and_profile_claims_when_granted() {
    let idp = Idp::start().await;
    let auth_req_id = idp
        .start_request("alice", "openid profile email offline_access", "x")
        .await;
    let alice = idp.browser("alice").await;
    let internal_id = idp.only_pending_id(&alice).await;
    let granted =
        json!({"internalId": internal_id, "scopesValuesConsented": ["openid", "profile", "email"]});
    idp.complete_accepted(&alice, granted).await;
    let (_, tokens) = idp.poll_json(DEMO_CLIENT, &auth_req_id).await;
    assert_eq!(tokens["scope"], "openid profile email");
    assert!(tokens.get("refresh_token").is_none());
    let claims =
        jsonwebtoken::dangerous::insecure_decode::<Value>(tokens["id_token"].as_str().unwrap())
            .unwrap()
            .claims;
    assert_eq!(claims["name"], "Alice Smith");
    assert_eq!(claims["email"], "alice@example.com");
}

#[tokio::test]
async fn denial_is_access_denied() {
    let idp = Idp::start().await;
    let auth_req_id = idp.start_request("alice", "openid", "deny me").await;
    let alice = idp.browser("alice").await;
    let internal_id = idp.only_pending_id(&alice).await;
    idp.complete_accepted(&alice, denial(&internal_id)).await;
    let (status, body) = idp.poll_json(DEMO_CLIENT, &auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "access_denied")
    );
}
