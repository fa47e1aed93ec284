//! The approval API contract as the SPA (and an attacker) would call it, plus sign-in and sign-out.

use std::sync::Arc;

use reqwest::cookie::CookieStore;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::{DEMO_CLIENT, DemoConfig, Idp, assert_problem, denial, form_token};

#[tokio::test]
async fn every_endpoint_needs_a_session() {
    let idp = Idp::start().await;
    let anonymous = idp.anonymous_browser();
    for path in [
        "/api/ciba/session",
        "/api/ciba/requests",
        "/api/ciba/requests/abc",
    ] {
        assert_problem(idp.get(&anonymous, path).await, StatusCode::UNAUTHORIZED).await;
    }
    let complete = idp.complete(&anonymous, denial("abc")).await;
    assert_problem(complete, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn session_names_the_signed_in_user() {
    let idp = Idp::start().await;
    let alice = idp.browser("alice").await;
    let session = idp.get_json(&alice, "/api/ciba/session").await;
    assert_eq!(session, json!({"subject": "818727", "name": "Alice Smith"}));
}

#[tokio::test]
async fn list_is_per_user_newest_first_with_etag() {
    let idp = Idp::start().await;
    idp.start_request("alice", "openid profile", "first").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    idp.start_request("alice", "openid api1.read offline_access", "second")
        .await;
    idp.start_request("bob", "openid", "bob's").await;

    let alice = idp.browser("alice").await;
    let response = idp.get(&alice, "/api/ciba/requests").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let list: Value = response.json().await.unwrap();
    let messages: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["bindingMessage"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["second", "first"]);
    let newest = &list[0];
    assert_eq!(newest["client"]["clientName"], "Demo Client");
    assert_eq!(newest["identityScopes"][0]["value"], "openid");
    assert_eq!(newest["identityScopes"][0]["required"], true);
    let api_scopes: Vec<&str> = newest["apiScopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        api_scopes,
        ["api1.read", "offline_access"],
        "offline_access is listed among API scopes"
    );
    assert_eq!(newest["apiScopes"][0]["resources"], json!(["api1"]));

    let unchanged = alice
        .get(idp.url("/api/ciba/requests"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert!(unchanged.bytes().await.unwrap().is_empty());
    idp.start_request("alice", "openid", "third").await;
    let changed = alice
        .get(idp.url("/api/ciba/requests"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);

    let bob = idp.browser("bob").await;
    let bobs = idp.get_json(&bob, "/api/ciba/requests").await;
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    assert_eq!(bobs[0]["bindingMessage"], "bob's");
}

/// Unknown, someone else's, expired and decided all get the very same answer.
#[tokio::test]
async fn one_404_for_unknown_foreign_expired_and_decided() {
    let idp = Idp::start().await;
    let (alice, decided) = idp.pending_request_for("alice", "openid", "decided").await;
    let deny = json!({"internalId": decided, "scopesValuesConsented": []});
    idp.complete_accepted(&alice, deny).await;

    idp.backchannel(&[
        ("scope", "openid"),
        ("login_hint", "alice"),
        ("requested_expiry", "1"),
    ])
    .await;
    let expired = idp.only_pending_id(&alice).await;
    let (_bob, bobs) = idp.pending_request_for("bob", "openid", "bob's").await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let mut bodies = Vec::new();
    for id in ["does-not-exist", &bobs, &expired, &decided] {
        let response = idp.get(&alice, &format!("/api/ciba/requests/{id}")).await;
        bodies.push(assert_problem(response, StatusCode::NOT_FOUND).await);
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "{bodies:?}"
    );

    // Completing follows the same rule, except that alice hears how she decided her own request.
    for id in ["does-not-exist", bobs.as_str(), expired.as_str()] {
        let response = idp
            .complete(
                &alice,
                json!({"internalId": id, "scopesValuesConsented": ["openid"]}),
            )
            .await;
        assert_eq!(
            assert_problem(response, StatusCode::NOT_FOUND).await,
            bodies[0]
        );
    }
}

#[tokio::test]
async fn a_repeated_decision_is_409_with_the_outcome() {
    let idp = Idp::start().await;
    let (alice, id) = idp.pending_request_for("alice", "openid", "twice").await;
    let approve = json!({"internalId": id, "scopesValuesConsented": ["openid"]});
    idp.complete_accepted(&alice, approve.clone()).await;
    let again = assert_problem(idp.complete(&alice, approve).await, StatusCode::CONFLICT).await;
    assert_eq!(again["outcome"], "approved");
    let deny = assert_problem(
        idp.complete(&alice, denial(&id)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(deny["outcome"], "approved", "the first decision stands");
    // Someone else learns nothing.
    let bob = idp.browser("bob").await;
    assert_problem(idp.complete(&bob, denial(&id)).await, StatusCode::NOT_FOUND).await;
}

/// With Duende's behaviour switched on, the client's poll deletes a decided request: the approval API
/// then knows nothing of it (404, not 409), which is what the page and the Duende guide must survive.
#[tokio::test]
async fn with_duendes_forgetting_a_polled_decision_is_gone() {
    let idp = Idp::start_with_config(DemoConfig::load().duende_forgets_decisions()).await;
    let alice = idp.browser("alice").await;
    for (scopes, answer) in [(json!(["openid"]), "scope"), (json!([]), "error")] {
        let auth_req_id = idp.start_request("alice", "openid", "forget").await;
        let id = idp.only_pending_id(&alice).await;
        let body = json!({"internalId": id, "scopesValuesConsented": scopes});
        idp.complete_accepted(&alice, body.clone()).await;
        // Until the client polls, the decision is still known.
        assert_problem(
            idp.complete(&alice, body.clone()).await,
            StatusCode::CONFLICT,
        )
        .await;
        let (_, first) = idp.poll_json(DEMO_CLIENT, &auth_req_id).await;
        assert!(first.get(answer).is_some(), "{first}");
        assert_problem(idp.complete(&alice, body).await, StatusCode::NOT_FOUND).await;
        let (status, again) = idp.poll_json(DEMO_CLIENT, &auth_req_id).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(again["error"], "invalid_grant", "{again}");
    }
}

/// Two tabs, a double tap and a retry, all at once: exactly one decision is recorded, and every other
/// call is told which one it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_decisions_record_exactly_one() {
    let idp = std::sync::Arc::new(Idp::start().await);
    let auth_req_id = idp.start_request("alice", "openid", "race").await;
    let alice = idp.browser("alice").await;
    let id = idp.only_pending_id(&alice).await;

    let mut calls = tokio::task::JoinSet::new();
    for attempt in 0..24 {
        let (idp, alice) = (idp.clone(), alice.clone());
        let scopes = if attempt % 2 == 0 {
            json!(["openid"])
        } else {
            json!(null)
        };
        let body = json!({"internalId": id, "scopesValuesConsented": scopes});
        calls.spawn(async move {
            let response = idp.complete(&alice, body).await;
            let status = response.status();
            let problem: Value = response.json().await.unwrap_or(Value::Null);
            let outcome = if attempt % 2 == 0 {
                "approved"
            } else {
                "denied"
            };
            (status, outcome, problem["outcome"].clone())
        });
    }
    let results = calls.join_all().await;

    let winners: Vec<_> = results
        .iter()
        .filter(|(status, ..)| *status == StatusCode::NO_CONTENT)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winning_outcome = winners[0].1;
    for (status, _, reported) in &results {
        if *status != StatusCode::NO_CONTENT {
            assert_eq!(*status, StatusCode::CONFLICT, "{results:?}");
            assert_eq!(reported, winning_outcome, "{results:?}");
        }
    }
    let (_, tokens) = idp.poll_json(DEMO_CLIENT, &auth_req_id).await;
    match winning_outcome {
        "approved" => assert_eq!(tokens["scope"], "openid", "{tokens}"),
        _ => assert_eq!(tokens["error"], "access_denied", "{tokens}"),
    }
}

#[tokio::test]
async fn a_decision_that_does_not_fit_is_400_and_changes_nothing() {
    let idp = Idp::start().await;
    let (alice, id) = idp
        .pending_request_for("alice", "openid profile", "check")
        .await;
    let cases = [
        json!({"internalId": id, "scopesValuesConsented": ["openid", "api1.write"]}),
        json!({"internalId": id, "scopesValuesConsented": ["profile"]}),
        json!({"internalId": id, "scopesValuesConsented": ["openid"], "description": "x".repeat(101)}),
        json!({"internalId": id, "scopesValuesConsented": "openid"}),
        json!({"scopesValuesConsented": ["openid"]}),
    ];
    for body in cases {
        assert_problem(
            idp.complete(&alice, body.clone()).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let malformed = alice
        .post(idp.url("/api/ciba/complete"))
        .header("X-CSRF", "1")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_problem(malformed, StatusCode::BAD_REQUEST).await;
    assert_eq!(idp.only_pending_id(&alice).await, id, "still pending");
    let fits = json!({"internalId": id, "scopesValuesConsented": ["openid"], "description": "é".repeat(100)});
    idp.complete_accepted(&alice, fits).await;
}

#[tokio::test]
async fn complete_needs_the_csrf_header_and_our_origin() {
    let idp = Idp::start().await;
    let (alice, id) = idp.pending_request_for("alice", "openid", "csrf").await;
    let body = json!({"internalId": id, "scopesValuesConsented": ["openid"]});
    let no_header = alice
        .post(idp.url("/api/ciba/complete"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(no_header, StatusCode::FORBIDDEN).await;
    let foreign = alice
        .post(idp.url("/api/ciba/complete"))
        .header("X-CSRF", "1")
        .header("Origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(foreign, StatusCode::FORBIDDEN).await;
    assert_eq!(idp.only_pending_id(&alice).await, id, "nothing was decided");
    let ours = alice
        .post(idp.url("/api/ciba/complete"))
        .header("X-CSRF", "1")
        .header("Origin", &idp.base)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(ours.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn sign_in_refuses_open_redirects_and_wrong_passwords() {
    let idp = Idp::start().await;
    let browser = idp.anonymous_browser();
    let wrong = idp.sign_in(&browser, "alice", "bob", "/ciba/").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("The username or password is not correct.")
    );
    assert_problem(
        idp.get(&browser, "/api/ciba/session").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    for hostile in [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
    ] {
        let browser = idp.anonymous_browser();
        let response = idp.sign_in(&browser, "alice", "alice", hostile).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()["location"], "/ciba/", "{hostile}");
    }
    let browser = idp.anonymous_browser();
    let response = idp.sign_in(&browser, "alice", "alice", "/ciba?id=42").await;
    assert_eq!(response.headers()["location"], "/ciba?id=42");
}

#[tokio::test]
async fn the_login_form_has_its_own_anti_forgery_token() {
    let idp = Idp::start().await;
    let browser = idp.anonymous_browser();
    let page = idp.page(&browser, "/Account/Login?ReturnUrl=/ciba/").await;
    assert!(
        page.contains("<label for=\"username\">Username</label>")
            && page.contains("<label for=\"password\">Password</label>")
    );
    let forged = idp
        .post_sign_in_form(
            &browser,
            &[
                ("username", "alice"),
                ("password", "alice"),
                ("ReturnUrl", "/ciba/"),
                ("form_token", "guessed"),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged.text().await.unwrap().contains("expired"));
    // A form from another browser session carries a token that is not this session's.
    let other = idp.anonymous_browser();
    let other_page = idp.page(&other, "/Account/Login").await;
    let fresh = Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let stolen = idp
        .post_sign_in_form(
            &fresh,
            &[
                ("username", "alice"),
                ("password", "alice"),
                ("form_token", &form_token(&other_page)),
            ],
        )
        .await;
    assert_eq!(stolen.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_sign_in_posted_from_another_site_is_refused_and_sets_no_cookie() {
    let idp = Idp::start().await;
    let browser = idp.anonymous_browser();
    let page = idp.page(&browser, "/Account/Login").await;
    // Even with a valid form token and the right password: the post comes from another site. Sent
    // as a cross-site post is: without the user's `SameSite=Lax` cookie.
    let cross_site = idp.anonymous_browser();
    for origin in ["https://attacker.example", "null"] {
        let forged = cross_site
            .post(idp.url("/Account/Login"))
            .header("Origin", origin)
            .form(&[
                ("username", "alice"),
                ("password", "alice"),
                ("ReturnUrl", "/ciba/"),
                ("form_token", &form_token(&page)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN, "Origin: {origin}");
        assert!(
            forged.headers().get("set-cookie").is_none(),
            "a refused post must not replace the user's session cookie"
        );
    }
    let same_site = idp.sign_in(&browser, "alice", "alice", "/ciba/").await;
    assert_eq!(
        same_site.status(),
        StatusCode::SEE_OTHER,
        "our own form still works"
    );
}

#[tokio::test]
async fn sign_in_renews_the_session_id_and_sign_out_ends_it() {
    let idp = Idp::start().await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let browser = Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = idp.base.parse().unwrap();
    let page = idp.page(&browser, "/Account/Login").await;
    assert!(
        jar.cookies(&url).is_none(),
        "showing the sign-in form starts no session"
    );
    // A session id planted before sign-in (fixation) is not the one that gets signed in.
    jar.add_cookie_str("ciba_session=planted-by-someone-else", &url);
    let before = jar.cookies(&url).unwrap();
    let signed_in = idp
        .post_sign_in_form(
            &browser,
            &[
                ("username", "alice"),
                ("password", "alice"),
                ("ReturnUrl", "/ciba/"),
                ("form_token", &form_token(&page)),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let after = jar.cookies(&url).unwrap();
    assert_ne!(before, after, "the session id changes at sign-in");
    let cookie_header = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Lax"),
        "{cookie_header}"
    );

    // Sign-out works like the Duende template's: a header alone (what the page used to send) ends
    // nothing; a GET asks; only the prompt's own form, with its anti-forgery token, signs out.
    let header_only = browser
        .post(idp.url("/Account/Logout"))
        .header("X-CSRF", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(header_only.status(), StatusCode::BAD_REQUEST);
    let still = idp.get(&browser, "/api/ciba/session").await;
    assert_eq!(still.status(), StatusCode::OK, "still signed in");
    let prompt = idp.page(&browser, "/Account/Logout?ReturnUrl=/ciba/").await;
    assert!(prompt.contains("Sign out?"), "{prompt}");
    let token = form_token(&prompt);
    let foreign = browser
        .post(idp.url("/Account/Logout"))
        .header("Origin", "https://evil.example")
        .form(&[("form_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN, "a foreign Origin");
    let out = browser
        .post(idp.url("/Account/Logout"))
        .header("Origin", &idp.base)
        .form(&[("form_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(out.headers()["location"], "/Account/LoggedOut");
    let done = idp.page(&browser, "/Account/LoggedOut").await;
    assert!(done.contains("You are signed out"), "{done}");

    // Replaying the old cookie after sign-out gets nothing.
    let replay = Client::new()
        .get(idp.url("/api/ciba/session"))
        .header("Cookie", after.to_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_problem(replay, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_sign_in_ends_after_its_absolute_lifetime_however_active() {
    let idp =
        Idp::start_with_config(DemoConfig::load().set("session_absolute_timeout_secs", 3)).await;
    let alice = idp.browser("alice").await;
    let session = idp.url("/api/ciba/session");
    // Busy the whole time, so the idle timeout never strikes. (Sign-in times are whole seconds: stay
    // clear of the boundary on both sides.)
    for _ in 0..3 {
        let response = alice.get(&session).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    assert_problem(
        alice.get(&session).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // Ended, not just refused: signing in again starts a fresh lifetime.
    let again = idp.browser("alice").await;
    let response = again.get(&session).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_sign_in_ends_after_its_idle_timeout_and_activity_keeps_it() {
    let idp = Idp::start_with_config(DemoConfig::load().set("session_idle_timeout_secs", 2)).await;
    let alice = idp.browser("alice").await;
    let session = idp.url("/api/ciba/session");
    // In use for longer than the idle timeout, never idle for long: the sign-in holds.
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        let response = alice.get(&session).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "activity keeps the sign-in"
        );
    }
    // Then left alone for longer than the timeout.
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    assert_problem(
        alice.get(&session).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn openapi_document_is_served_and_the_committed_copy_is_current() {
    let idp = Idp::start().await;
    let served = reqwest::get(idp.url("/api/ciba/openapi.json"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let committed = include_str!("../../../contract/openapi.json");
    assert!(
        served == committed,
        "contract/openapi.json is stale: run `make openapi` and commit the result"
    );
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/ciba/session",
        "/api/ciba/requests",
        "/api/ciba/requests/{internalId}",
        "/api/ciba/complete",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path}");
    }
    assert!(doc["components"]["schemas"].get("Request").is_some());
}

#[tokio::test]
async fn the_code_check_is_asked_for_per_client() {
    let idp = Idp::start().await;
    let till = idp
        .backchannel_as(
            ("pos-terminal", "pos-secret"),
            &[
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("binding_message", "Till 3: 4711"),
            ],
        )
        .await;
    assert_eq!(till.status(), StatusCode::OK);
    idp.start_request("alice", "openid", "Desk 7").await;
    let alice = idp.browser("alice").await;
    let list = idp.get_json(&alice, "/api/ciba/requests").await;
    let verify = |client: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|request| request["client"]["clientId"] == client)
            .map(|request| request["verifyBindingMessage"].clone())
    };
    assert_eq!(verify("pos-terminal"), Some(json!(true)), "{list}");
    assert_eq!(verify("demo-client"), Some(json!(false)), "{list}");
}

/// A configured scope's name as the list and the request give it to a page asking in `language`.
async fn api1_read_name(idp: &Idp, alice: &Client, language: &str) -> (Value, Value, String) {
    let list = alice
        .get(idp.url("/api/ciba/requests"))
        .header("Accept-Language", language)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(list.headers()["vary"], "Accept-Language", "{language}");
    let etag = list.headers()["etag"].to_str().unwrap().to_owned();
    let list: Value = list.json().await.unwrap();
    let id = list[0]["internalId"].as_str().unwrap();
    let one = alice
        .get(idp.url(&format!("/api/ciba/requests/{id}")))
        .header("Accept-Language", language)
        .send()
        .await
        .unwrap();
    assert_eq!(one.headers()["vary"], "Accept-Language", "{language}");
    let one: Value = one.json().await.unwrap();
    (
        list[0]["apiScopes"][0].clone(),
        one["apiScopes"][0].clone(),
        etag,
    )
}

#[tokio::test]
async fn scope_names_follow_accept_language_and_the_etag_does_too() {
    let idp = Idp::start().await;
    let (alice, _) = idp
        .pending_request_for("alice", "openid api1.read", "Desk 7")
        .await;

    let (german, german_one, german_tag) = api1_read_name(&idp, &alice, "de-AT, en;q=0.5").await;
    assert_eq!(german["displayName"], "Ihre Daten in API 1 lesen");
    assert_eq!(german_one["displayName"], "Ihre Daten in API 1 lesen");
    // q-values count: German preferred by weight, though named second.
    let (weighted, _, _) = api1_read_name(&idp, &alice, "fr;q=0.9, de;q=0.95, en;q=0.1").await;
    assert_eq!(weighted["displayName"], "Ihre Daten in API 1 lesen");
    // No translation for any of them: the default text.
    for language in ["fr", "de;q=0, en", "", "*"] {
        let (default, default_one, _) = api1_read_name(&idp, &alice, language).await;
        assert_eq!(
            default["displayName"], "Read your data in API 1",
            "{language:?}"
        );
        assert_eq!(
            default_one["displayName"], "Read your data in API 1",
            "{language:?}"
        );
    }

    // A page that switched to English must not get a 304 for the German list.
    let (_, _, english_tag) = api1_read_name(&idp, &alice, "en").await;
    assert_ne!(english_tag, german_tag);
    // Even where every name is the same (nothing translated into French), the tag is per language.
    let (_, _, french_tag) = api1_read_name(&idp, &alice, "fr").await;
    assert_ne!(french_tag, english_tag);
    let switched = alice
        .get(idp.url("/api/ciba/requests"))
        .header("Accept-Language", "en")
        .header("If-None-Match", &german_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), StatusCode::OK);
    let same = alice
        .get(idp.url("/api/ciba/requests"))
        .header("Accept-Language", "de-AT, en;q=0.5")
        .header("If-None-Match", &german_tag)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(same.headers()["vary"], "Accept-Language");
}

/// The API's JSON is compressed for a browser that accepts it (a long list crosses a phone's
/// network in a tenth of the bytes); the sign-in page, which carries an anti-forgery token, is not
/// (no BREACH oracle next to a secret).
#[tokio::test]
async fn api_answers_are_compressed_and_the_sign_in_page_is_not() {
    let idp = Idp::start_with_config(
        DemoConfig::load().set("rate_limits.backchannel_per_user_per_minute", 100),
    )
    .await;
    for n in 0..40 {
        idp.start_request("alice", "openid profile", &format!("Till {n}: 4711"))
            .await;
    }
    let alice = idp.browser("alice").await;
    let plain = idp.get(&alice, "/api/ciba/requests").await;
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap().len();
    for encoding in ["br", "gzip"] {
        let compressed = alice
            .get(idp.url("/api/ciba/requests"))
            .header("Accept-Encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(compressed.status(), StatusCode::OK);
        assert_eq!(compressed.headers()["content-encoding"], encoding);
        assert_eq!(compressed.headers()["cache-control"], "no-store");
        let size = compressed.bytes().await.unwrap().len();
        assert!(
            size * 4 < plain,
            "{encoding}: {size} bytes for {plain} of JSON"
        );
    }
    let sign_in = idp
        .anonymous_browser()
        .get(idp.url("/Account/Login"))
        .header("Accept-Encoding", "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), StatusCode::OK);
    assert!(sign_in.headers().get("content-encoding").is_none());
}
