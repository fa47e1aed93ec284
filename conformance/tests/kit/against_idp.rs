//! The kit against ciba-idp as it is, and with Duende's forgetting switched on.

use ciba_conformance::checks::PROMISES;
use ciba_conformance::user::BrowserSession;
use url::Url;

use crate::support::{TempDir, kit, kit_args, start_idp};

#[tokio::test]
async fn ciba_idp_keeps_every_promise() {
    let idp = start_idp(None, false).await;
    let all = format!("{} passed, 0 failed", PROMISES.len());

    // With a client whose code check is on, every promise is checked.
    let run = kit(&kit_args(
        &idp.base,
        &[
            "--sign-in",
            "alice:alice",
            "--verify-client-id",
            "pos-terminal",
            "--verify-client-secret",
            "pos-secret",
        ],
    ))
    .await;
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.last_line(), all, "{run}");
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("PASS  "))
            .count(),
        PROMISES.len(),
        "{run}"
    );

    // A cookie copied from a signed-in browser, and the report as JSON in a file; without such a
    // client, the code check is skipped and said to be.
    let all_but_code_check = format!("{} passed, 0 failed, 1 skipped", PROMISES.len() - 1);
    let browser =
        BrowserSession::new(Url::parse(&format!("{}/api/ciba", idp.base)).unwrap()).unwrap();
    let login = Url::parse(&format!("{}/Account/Login", idp.base)).unwrap();
    browser.sign_in(&login, "alice", "alice").await.unwrap();
    let cookie = browser.cookie_header().expect("a session cookie");
    let dir = TempDir::new();
    let file = dir.0.join("report.json");
    let run = kit(&kit_args(
        &idp.base,
        &["--cookie", &cookie, "--json", file.to_str().unwrap()],
    ))
    .await;
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.last_line(), all_but_code_check, "{run}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("SKIP  code-check: ") && l.contains("--verify-client-id")),
        "{run}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(report["passed"], PROMISES.len() - 1);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["skipped"], 1);
    let promises = report["promises"].as_array().unwrap();
    let ids: Vec<&str> = promises.iter().map(|p| p["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = PROMISES.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, expected);
    assert!(
        promises
            .iter()
            .all(|p| p["passed"] == true || (p["id"] == "code-check" && p["skipped"] == true)),
        "{report:#}"
    );

    // `--json` alone: JSON on stdout instead of the lines.
    let run = kit(&kit_args(&idp.base, &["--cookie", &cookie, "--json"])).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.json()["failed"], 0, "{run}");
}

/// Duende deletes a decided request when the client polls; the contract promises 409 after that too.
#[tokio::test]
async fn duende_forgetting_breaks_exactly_409_after_poll() {
    let idp = start_idp(None, true).await;
    let run = kit(&kit_args(
        &idp.base,
        &["--sign-in", "alice:alice", "--json"],
    ))
    .await;
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.failed(), ["409-after-poll"], "{run}");
}

#[tokio::test]
async fn the_cli_wants_exactly_one_way_to_the_session() {
    for extra in [
        &[][..],
        &["--cookie", "a=b", "--sign-in", "alice:alice"][..],
    ] {
        let run = kit(&kit_args("http://127.0.0.1:9", extra)).await;
        assert_eq!(run.code, Some(2), "{run}");
        assert!(run.stdout.is_empty(), "{run}");
    }
}
