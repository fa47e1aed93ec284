//! The weight budget: everything the browser downloads before the pending list shows, as it was served
//! (precompressed), must stay under the limit in `perf-budget.toml`. Measured by the browser itself
//! (Resource Timing's `encodedBodySize`), so a missing precompressed file or a new asset counts too.

use ciba_e2e::{Browser, Idp, workspace_root};

/// The round trip (ms) of the throttled network the round-trip test loads over.
const RTT: f64 = 150.0;

fn budget_kb() -> f64 {
    let text = std::fs::read_to_string(workspace_root().join("perf-budget.toml")).unwrap();
    let line = text
        .lines()
        .find(|line| line.trim_start().starts_with("first_load_max_kb"))
        .expect("perf-budget.toml has first_load_max_kb");
    line.split('=').nth(1).unwrap().trim().parse().unwrap()
}

/// ciba-idp with a request for alice, and alice signed in with her list on screen.
async fn alice_with_a_request() -> (Idp, Browser) {
    let idp = Idp::start().await;
    idp.ask_alice("openid profile", "Till 3: 4711").await;
    let browser = Browser::signed_in_as(&idp, "alice").await;
    browser.wait_for("a[data-request-id]").await;
    (idp, browser)
}

/// Alice signed in with one request waiting, then the list loaded again with an empty cache: the
/// page as a returning user gets it cold. `network` (CDP conditions), if any, applies to that load.
async fn cold_load_signed_in(network: Option<serde_json::Value>) -> (Idp, Browser) {
    let (idp, browser) = alice_with_a_request().await;
    if let Some(network) = network {
        browser.enable_network_domain().await;
        let cdp = browser.driver.cdp();
        cdp.send_raw("Network.emulateNetworkConditions", network)
            .await
            .unwrap();
    }
    browser.forget_everything_cached(&idp.url("")).await;
    browser.goto(idp.url("/ciba/")).await;
    browser.wait_for("a[data-request-id]").await;
    (idp, browser)
}

#[tokio::test]
async fn the_first_load_stays_within_the_committed_budget() {
    let (_idp, browser) = cold_load_signed_in(None).await;

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
    let assets = |part: &str| {
        entries
            .iter()
            .filter(|e| e["path"].as_str().is_some_and(|p| p.contains(part)))
            .count()
    };
    // The app's wasm, its JS glue and the split module's loader (build/split-wasm.mjs); the CSS is
    // inside index.html (build/paint-first.mjs); not the consent page's code, which waits for a
    // consent page.
    assert!(
        assets(".wasm") == 1 && assets(".js") == 2 && assets(".css") == 0,
        "the wasm, its JS glue and loader were all counted, and no stylesheet: {entries:?}"
    );
    assert_eq!(assets("split-consent"), 0, "{entries:?}");
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

/// No waterfall: the wasm, its JS glue and the two API calls the list needs (the list and who is
/// signed in, preloaded by index.html) are requested together as soon as the page has painted, each
/// once, and nothing is left to ask when the wasm arrives — two round trips to a rendered list.
/// Measured on a network with a 150 ms round trip, where every extra trip would show; the margins
/// are relative, so a busy machine does not fail it.
#[tokio::test]
async fn the_first_load_takes_two_round_trips() {
    let (_idp, browser) = cold_load_signed_in(Some(serde_json::json!({
        "offline": false, "latency": RTT, "downloadThroughput": -1, "uploadThroughput": -1
    })))
    .await;
    let timeline = browser
        .eval(
            r#"
            const at = (e) => ({ path: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd,
                                 by: e.initiatorType, status: e.responseStatus });
            return {
              html: at(performance.getEntriesByType('navigation')[0]),
              paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
              resources: performance.getEntriesByType('resource').map(at),
              rendered: performance.getEntriesByName('ciba:list-rendered')[0].startTime,
            };
            "#,
        )
        .await;
    println!("{timeline:#}");
    let html_end = timeline["html"]["end"].as_f64().unwrap();
    let resources = timeline["resources"].as_array().unwrap();
    let find = |pred: &dyn Fn(&str) -> bool| {
        resources
            .iter()
            .filter(|r| pred(r["path"].as_str().unwrap()))
            .collect::<Vec<_>>()
    };
    let assets = find(&|p| p.ends_with(".wasm") || p.ends_with(".js") || p.ends_with(".css"));
    // The wasm, its glue and the split module's loader.
    assert_eq!(assets.len(), 3, "{timeline}");
    let api = find(&|p| p == "/api/ciba/requests" || p == "/api/ciba/session");
    // Asked once each: the app's own calls took the preloaded answers instead of asking again.
    assert_eq!(
        api.len(),
        2,
        "the list and session were each fetched once: {timeline}"
    );
    assert!(
        api.iter()
            .all(|call| call["by"] == "link" && call["status"] == 200),
        "both came from index.html's preloads: {timeline}"
    );
    let mut first_wave = assets.clone();
    first_wave.extend(api.iter().copied());
    // Each waiting on another would put a whole round trip between their starts; parsing the HTML
    // on a busy machine may delay all of them alike, but by less than a round trip.
    let starts: Vec<f64> = first_wave
        .iter()
        .map(|a| a["start"].as_f64().unwrap())
        .collect();
    let spread = starts.iter().copied().fold(f64::MIN, f64::max)
        - starts.iter().copied().fold(f64::MAX, f64::min);
    assert!(
        spread < RTT / 2.0,
        "the assets and API calls were requested {spread:.0} ms apart, not together: {timeline}"
    );
    // They wait for the page's first paint (the_placeholder_paints_before_anything_is_fetched), which
    // a busy machine may delay, but for no round trip after it.
    let painted = timeline["paint"].as_f64().unwrap_or(html_end).max(html_end);
    assert_each_left_within_a_round_trip(
        &first_wave,
        painted,
        "the HTML arrived and the page painted: it waited for something",
    );
    // Nothing was left to ask once the wasm had arrived: no API call between its last byte and
    // the rendered list (how long the CPU then takes depends on the machine, not the network).
    let wasm_end = find(&|p| p.ends_with(".wasm"))[0]["end"].as_f64().unwrap();
    let rendered = timeline["rendered"].as_f64().unwrap();
    let late: Vec<_> = find(&|p| p.starts_with("/api/"))
        .into_iter()
        .filter(|call| {
            let start = call["start"].as_f64().unwrap();
            start > wasm_end && start < rendered
        })
        .collect();
    assert!(
        late.is_empty(),
        "the list waited for calls made after the wasm arrived: {late:?}"
    );
    browser.quit().await;
}

/// Run in every page before its own scripts: records whether `ciba:list-data` was marked in the task
/// that marked `ciba:main` (a zero timeout set then has not run yet), and how many animation frames
/// found the list's "Loading…" line in the document.
const WATCH_FIRST_FRAME: &str = r#"
    window.firstFrame = { dataInMainTask: null, loadingFrames: 0 };
    const mark = performance.mark.bind(performance);
    let mainTaskOver = null;
    performance.mark = (name, ...rest) => {
      if (name === "ciba:main") {
        mainTaskOver = false;
        setTimeout(() => { mainTaskOver = true; });
      }
      if (name === "ciba:list-data" && window.firstFrame.dataInMainTask === null) {
        window.firstFrame.dataInMainTask = mainTaskOver === false;
      }
      return mark(name, ...rest);
    };
    const frame = () => {
      if (document.querySelector("[data-state=loading]")) window.firstFrame.loadingFrames++;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
"#;

/// The list (and who is signed in) reach the app in the task that starts it: index.html reads the
/// preloads' answers while the wasm is on its way and hands them over (`window.cibaEarly`), so
/// the app's first frame shows the list, never "Loading…", and no task or frame comes between.
#[tokio::test]
async fn the_preloaded_list_is_in_the_apps_first_frame() {
    let (idp, browser) = alice_with_a_request().await;
    browser.run_in_every_page(WATCH_FIRST_FRAME).await;
    browser.forget_everything_cached(&idp.url("")).await;
    browser.goto(idp.url("/ciba/")).await;
    browser.wait_for("a[data-request-id]").await;
    let seen = browser.eval("return window.firstFrame;").await;
    assert_eq!(
        seen,
        serde_json::json!({ "dataInMainTask": true, "loadingFrames": 0 }),
        "the list arrived in the app's first task and no frame showed it loading"
    );
    browser.quit().await;
}

/// The formatter for "Started 2 minutes ago" is made once per page, by index.html while the wasm is
/// on its way (its first costs ~100 ms on a slow phone), and the app uses that one instead of
/// making its own in the list's first render.
#[tokio::test]
async fn the_list_uses_the_date_formatter_the_page_made_early() {
    for (language, ago) in [("en-US", "ago"), ("de-DE", "vor")] {
        let idp = Idp::start().await;
        idp.ask_alice("openid profile", "Till 3: 4711").await;
        let browser = Browser::start_in_language(language).await;
        browser
            .run_in_every_page(
                r#"
                window.formattersMade = 0;
                Intl.RelativeTimeFormat = new Proxy(Intl.RelativeTimeFormat, {
                  construct(target, args, newTarget) {
                    window.formattersMade++;
                    return Reflect.construct(target, args, newTarget);
                  },
                });
                "#,
            )
            .await;
        browser.goto(idp.url("/ciba/")).await;
        browser.sign_in("alice", "alice").await;
        let started = browser.wait_for("time.started").await.text().await.unwrap();
        assert!(started.contains(ago), "{language}: {started:?}");
        let made = browser.eval("return window.formattersMade;").await;
        assert_eq!(
            made,
            serde_json::json!(1),
            "{language}: one formatter for the page"
        );
        browser.quit().await;
    }
}

/// The preloaded list is the start of the usual polling: the next poll asks with the preloaded
/// answer's `ETag` and an unchanged list comes back as a bodiless 304.
#[tokio::test]
async fn the_preloaded_list_is_polled_with_its_etag() {
    let (_idp, browser) = cold_load_signed_in(None).await;
    let mut statuses = serde_json::Value::Null;
    for _ in 0..100 {
        statuses = browser
            .eval(
                "return performance.getEntriesByType('resource')
                   .filter((e) => new URL(e.name).pathname === '/api/ciba/requests')
                   .map((e) => [e.initiatorType, e.responseStatus]);",
            )
            .await;
        if statuses.as_array().is_some_and(|s| s.len() >= 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        statuses,
        serde_json::json!([["link", 200], ["fetch", 304]]),
        "preloaded once, then polled with If-None-Match"
    );
    browser.quit().await;
}

/// A list shown later in the page's life is current: index.html's preload of the list, left
/// unused when the page opened on a consent page, is not handed to it — it still holds the request
/// decided since.
#[tokio::test]
async fn a_list_opened_after_deciding_is_current() {
    let idp = Idp::start().await;
    idp.ask_alice("openid profile", "Till 3: 4711").await;
    idp.ask_alice("openid profile", "Till 4: 0815").await;
    let (browser, decided) = Browser::signed_in_with_first_request(&idp, "alice").await;
    // A fresh page on the consent page (as from a notification): it preloads the list, unused.
    browser
        .goto(idp.url(&format!("/ciba/requests/{decided}")))
        .await;
    browser.wait_for("#deny").await;
    browser.approve().await;
    browser.click("a.app-title").await;
    browser.wait_for("a[data-request-id]").await;
    let shown = browser
        .eval(
            "return [...document.querySelectorAll('a[data-request-id]')] \
               .map((a) => a.getAttribute('data-request-id'));",
        )
        .await;
    assert_eq!(shown.as_array().unwrap().len(), 1, "{shown}");
    assert!(
        !shown
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(decided)),
        "the request just approved is not listed: {shown}"
    );
    browser.quit().await;
}

/// Nothing on the page jumps when the list arrives: on a phone-like cold load (slow network, CPU
/// 4× slower, so the page is seen waiting for its data) the layout shifts add up to nothing —
/// what sits below the list (the notification switch, the footer) shows only once it is there.
#[tokio::test]
async fn nothing_moves_when_the_list_arrives() {
    let idp = Idp::start().await;
    for message in ["Till 3: 4711", "Till 4: 0815", "Till 5: 1234"] {
        idp.ask_alice("openid profile", message).await;
    }
    let browser = Browser::signed_in_as(&idp, "alice").await;
    browser.emulate_screen(360, 740, true).await;
    browser.wait_for("a[data-request-id]").await;
    browser.forget_everything_cached(&idp.url("")).await;
    browser.enable_network_domain().await;
    let cdp = browser.driver.cdp();
    cdp.send_raw(
        "Network.emulateNetworkConditions",
        serde_json::json!({"offline": false, "latency": RTT,
                           "downloadThroughput": 200_000, "uploadThroughput": 93_750}),
    )
    .await
    .unwrap();
    cdp.send_raw(
        "Emulation.setCPUThrottlingRate",
        serde_json::json!({"rate": 4}),
    )
    .await
    .unwrap();
    browser.goto(idp.url("/ciba/")).await;
    browser.wait_for("a[data-request-id]").await;
    // Wait for what comes after the list (the switch asks the browser for its state) to settle.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let shifts = browser
        .eval(
            "return await new Promise((done) => { \
               const seen = []; \
               new PerformanceObserver((list) => { for (const e of list.getEntries()) \
                 if (!e.hadRecentInput) seen.push([e.value, e.sources.map((s) => s.node && s.node.outerHTML.slice(0, 60))]); \
               }).observe({ type: 'layout-shift', buffered: true }); \
               setTimeout(() => done(seen), 300); });",
        )
        .await;
    let total: f64 = shifts
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[0].as_f64().unwrap())
        .sum();
    assert!(total < 0.01, "the page moved by {total:.3}: {shifts}");
    browser.quit().await;
}

/// Before the wasm runs, index.html paints the list's heading, in the language the app will speak,
/// and room for the first requests (the page is not blank on a slow network, and its largest text
/// is there at once); the app replaces it when it starts. A consent page's placeholder has no
/// heading: its own comes with the request.
#[tokio::test]
async fn a_placeholder_shows_until_the_app_starts() {
    let (idp, browser) = alice_with_a_request().await;
    assert!(!browser.exists("#ciba-shell").await, "the app removed it");
    browser.quit().await;

    let app_title = |language: &str| {
        let path = workspace_root().join(format!("locales/{language}.json"));
        let texts: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        texts["app_title"].as_str().unwrap().to_owned()
    };
    for (browser_language, language) in [("en-US", "en"), ("de-AT", "de")] {
        let browser = Browser::start_in_language(browser_language).await;
        browser.enable_network_domain().await;
        let cdp = browser.driver.cdp();
        cdp.send_raw(
            "Network.setBlockedURLs",
            serde_json::json!({"urls": ["*.wasm"]}),
        )
        .await
        .unwrap();
        for (path, heading) in [
            ("/ciba/", Some(app_title(language))),
            ("/ciba/requests/x", None),
        ] {
            browser.goto(idp.url(path)).await;
            let shown = browser
                .eval(
                    "const s = document.getElementById('ciba-shell'); \
                     const h = document.getElementById('ciba-shell-title'); \
                     return [s.getAttribute('aria-busy'), s.querySelectorAll('.shell-card').length, \
                             h && h.textContent, h && h.getBoundingClientRect().height > 0, \
                             document.documentElement.lang];",
                )
                .await;
            let expected_lang = if heading.is_some() { language } else { "en" };
            assert_eq!(
                shown,
                serde_json::json!([
                    "true",
                    3,
                    heading,
                    heading.is_some().then_some(true),
                    expected_lang
                ]),
                "{browser_language} at {path}"
            );
        }
        // The inline script ran under the strict CSP (its hash is in the policy): no violation.
        browser.quit().await;
    }
}

/// The placeholder paints from the HTML alone (issue 16: LCP): its stylesheet is inline, and nothing
/// — not the app's files, not the API — is asked for before that first paint, so the paint waits
/// for no request (also in Lighthouse's simulation, which counts every request finished before it).
#[tokio::test]
async fn the_placeholder_paints_before_anything_is_fetched() {
    let (_idp, browser) = cold_load_signed_in(None).await;
    let timeline = browser
        .eval(
            r#"
            const paint = performance.getEntriesByName('first-contentful-paint')[0];
            return {
              paint: paint ? paint.startTime : null,
              fetched: performance.getEntriesByType('resource')
                .map((e) => ({ path: new URL(e.name).pathname, start: e.startTime }))
                .filter((e) => /\.(js|wasm|css)$/.test(e.path) || e.path.startsWith('/api/')),
              linked: document.querySelectorAll('link[rel=stylesheet]').length,
              styled: getComputedStyle(document.body).margin,
            };
            "#,
        )
        .await;
    println!("{timeline:#}");
    let paint = timeline["paint"]
        .as_f64()
        .unwrap_or_else(|| panic!("the page painted: {timeline}"));
    let fetched = timeline["fetched"].as_array().unwrap();
    // The wasm, its glue, the split module's loader, the list and who is signed in.
    assert!(fetched.len() >= 5, "{timeline}");
    let early: Vec<_> = fetched
        .iter()
        .filter(|e| e["start"].as_f64().unwrap() < paint)
        .collect();
    assert!(
        early.is_empty(),
        "asked for before the first paint at {paint:.1} ms: {early:?}"
    );
    assert_eq!(timeline["linked"], 0, "no stylesheet file: {timeline}");
    // main.css's `body { margin: 0 }` applies, from index.html.
    assert_eq!(timeline["styled"], "0px", "{timeline}");
    browser.quit().await;
}

/// Asserts that each of the `requests` (resource timing entries) left less than a round trip after
/// `since` (ms), the moment `what` happened.
fn assert_each_left_within_a_round_trip(requests: &[&serde_json::Value], since: f64, what: &str) {
    for request in requests {
        let waited = request["start"].as_f64().unwrap() - since;
        assert!(
            waited < RTT,
            "{} left {waited:.0} ms after {what}",
            request["path"]
        );
    }
}
