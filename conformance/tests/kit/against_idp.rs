//! The kit against ciba-idp as it is, and with Duende's forgetting switched on.

use ciba_conformance::checks::PROMISES;
use ciba_conformance::user::BrowserSession;
use url::Url;

use crate::support::{Idp, TempDir, kit, kit_args};

#[tokio::test]
async fn ciba_idp_keeps_every_promise() {
    let idp = Idp::start(false).await;
    let all = format!("{} passed, 0 failed", PROMISES.len());

    let run = kit(&kit_args(&idp.base, &["--sign-in", "alice:alice"])).await;
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

    // A cookie copied from a signed-in browser, and the report as JSON in a file.
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
    assert_eq!(run.last_line(), all, "{run}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(report["passed"], PROMISES.len());
    assert_eq!(report["failed"], 0);
    let promises = report["promises"].as_array().unwrap();
    let ids: Vec<&str> = promises.iter().map(|p| p["id"].as_str().unwrap()).collect();
    let expected: Vec<&str> = PROMISES.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, expected);
    assert!(promises.iter().all(|p| p["passed"] == true), "{report:#}");

    // `--json` alone: JSON on stdout instead of the lines.
    let run = kit(&kit_args(&idp.base, &["--cookie", &cookie, "--json"])).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(run.json()["failed"], 0, "{run}");
}

/// Duende deletes a decided request when the client polls; the contract promises 409 after that too.
#[tokio::test]
async fn duende_forgetting_breaks_exactly_409_after_poll() {
    let idp = Idp::start(true).await;
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
