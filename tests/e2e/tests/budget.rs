//! The weight budget: everything the browser downloads before the pending list shows, as it was served
//! (precompressed), must stay under the limit in `perf-budget.toml`. Measured by the browser itself
//! (Resource Timing's `encodedBodySize`), so a missing precompressed file or a new asset counts too.

use ciba_e2e::{Browser, Idp, workspace_root};

fn budget_kb() -> f64 {
    let text = std::fs::read_to_string(workspace_root().join("perf-budget.toml")).unwrap();
    let line = text
        .lines()
        .find(|line| line.trim_start().starts_with("first_load_max_kb"))
        .expect("perf-budget.toml has first_load_max_kb");
    line.split('=').nth(1).unwrap().trim().parse().unwrap()
}

#[tokio::test]
async fn the_first_load_stays_within_the_committed_budget() {
    let idp = Idp::start().await;
    idp.start_request("alice", "openid profile", "Till 3: 4711")
        .await;
    let browser = Browser::start().await;
    browser.driver.goto(idp.url("/ciba/")).await.unwrap();
    browser.sign_in("alice", "alice").await;
    // A fresh load now that the session cookie exists: the page as a returning user gets it cold.
    browser
        .driver
        .cdp()
        .send_raw("Network.clearBrowserCache", serde_json::json!({}))
        .await
        .unwrap();
    browser.driver.goto(idp.url("/ciba/")).await.unwrap();
    browser.wait_for("a[data-request-id]").await;

    let entries = browser
        .eval(
            r#"
            return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
              .filter((e) => !new URL(e.name).pathname.startsWith('/api/'))
              .map((e) => ({ path: new URL(e.name).pathname, bytes: e.encodedBodySize }));
            "#,
        )
        .await;
    let entries = entries.as_array().unwrap();
    let mut total = 0.0;
    println!("{:<60} {:>10}", "first load (as served)", "bytes");
    for entry in entries {
        let bytes = entry["bytes"].as_f64().unwrap();
        total += bytes;
        println!("{:<60} {bytes:>10}", entry["path"].as_str().unwrap());
    }
    let total_kb = total / 1024.0;
    let budget = budget_kb();
    println!("{:<60} {total_kb:>9.1}K (budget {budget} KB)", "total");
    let assets = |suffix: &str| {
        entries
            .iter()
            .filter(|e| e["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .count()
    };
    assert!(
        assets(".wasm") == 1 && assets(".js") == 1 && assets(".css") == 1,
        "the wasm, its JS glue and the CSS were all counted: {entries:?}"
    );
    assert!(
        total_kb <= budget,
        "the first load is {total_kb:.1} KB, over the {budget} KB budget in perf-budget.toml"
    );
    assert!(
        entries.iter().all(|e| e["bytes"].as_f64() > Some(0.0)),
        "nothing came from a cache: {entries:?}"
    );
    browser.quit().await;
}
