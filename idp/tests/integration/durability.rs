//! What a crash must not lose: the real binary over a database file, killed with SIGKILL (no chance to
//! flush anything) and started again.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Idp, Process, TempDb, free_port};

#[tokio::test]
async fn decisions_and_pending_requests_survive_kill_9() {
    let dir = std::env::temp_dir().join(format!(
        "ciba-durability-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = TempDb(dir.clone());
    let db = dir.join("ciba-idp.db");
    let port = free_port();
    let idp = Idp {
        base: format!("http://127.0.0.1:{port}"),
    };

    let server = Process::start(&db, port).await;
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
    server.kill_hard();

    let _server = Process::start(&db, port).await;
    let (status, tokens) = idp.poll(&approved).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["scope"], "openid profile");
    let (_, waiting) = idp.poll(&pending).await;
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
