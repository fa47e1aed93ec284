//! What a crash must not lose: the real binary over a database file, killed with SIGKILL (no chance to
//! flush anything) and started again.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{DEMO_CLIENT, DemoConfig, Idp, Provider, ProviderOptions, TempDir, spawned};

#[tokio::test]
async fn decisions_and_pending_requests_survive_kill_9() {
    let dir = TempDir::new();
    let on_disk = || ProviderOptions {
        db: Some(dir.0.join("ciba-idp.db")),
        ..spawned(DemoConfig::load())
    };
    let server = Provider::start_with(on_disk()).await;
    let idp = Idp::at(server.base.clone());
    let approved = idp
        .start_request("alice", "openid profile", "approved then crash")
        .await;
    let alice = idp.browser("alice").await;
    let approved_id = idp.only_pending_id(&alice).await;
    let pending = idp.start_request("alice", "openid", "still pending").await;
    let before = idp.get_json(&alice, "/api/ciba/requests").await;
    let response = idp
        .complete(
            &alice,
            json!({"internalId": approved_id, "scopesValuesConsented": ["openid", "profile"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let server_port = server.port;
    server.kill_hard();

    // Started again on the same address, so the browser's cookie goes to it.
    let _server = Provider::start_with(ProviderOptions {
        port: Some(server_port),
        ..on_disk()
    })
    .await;
    let (status, tokens) = idp.poll_json(DEMO_CLIENT, &approved).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["scope"], "openid profile");
    let (_, waiting) = idp.poll_json(DEMO_CLIENT, &pending).await;
    assert_eq!(waiting["error"], "authorization_pending", "{waiting}");

    // The same sign-in as before the crash: sessions live in the database too.
    let after = idp.get_json(&alice, "/api/ciba/requests").await;
    let still_pending = before
        .as_array()
        .unwrap()
        .iter()
        .find(|request| request["bindingMessage"] == "still pending")
        .unwrap();
    assert_eq!(
        after,
        json!([still_pending]),
        "the pending request, with the same expiry"
    );
}
