//! `make bench`: how heavy and how fast the approval page and ciba-idp are, each figure next to a
//! baseline measured in the same run. Prints the tables and writes `target/bench/report.md`.
//!
//! Runs against the release build of ciba-idp (`CIBA_IDP_BIN`) and the built SPA (`dist/`).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ciba_e2e::{Browser, DemoConfig, Idp, workspace_root};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The Duende template's consent page over the wire (bootstrap CSS and JS, jQuery, font, HTML),
/// brotli: 85–90 KB as measured for issue 6; the midpoint.
const DUENDE_TEMPLATE_KB: f64 = 87.5;
/// "Mobile" network and CPU for cold loads: 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, 4× slower CPU.
const RTT_MS: u32 = 150;
const DOWN_BYTES_PER_S: u32 = 1_600_000 / 8;
const UP_BYTES_PER_S: u32 = 750_000 / 8;
const CPU_SLOWDOWN: u32 = 4;
/// Cold loads per measurement; the median is reported.
const RUNS: usize = 3;
const LOAD_USERS: usize = 100;
const LOAD_REQUESTS_PER_USER: usize = 10;
/// Each load phase stops at this many requests or this much time, whichever comes first.
const LOAD_MAX_REQUESTS: usize = 20_000;
const LOAD_MAX_TIME: Duration = Duration::from_secs(20);

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let mut report = String::from("# ciba-approval benchmark\n\n");
    let _ = writeln!(
        report,
        "Measured on this machine by `make bench` ({} cores). Ratios compare with a baseline from the same run.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    section(&mut report, &bytes());
    section(&mut report, &levers());
    let idp = Idp::start_with_config(load_config()).await;
    section(&mut report, &browser_timings(&idp).await);
    section(&mut report, &polling_cost(&idp).await);
    section(&mut report, &load(&idp).await);
    section(
        &mut report,
        &format!(
            "Total bench time: {:.0} s.\n",
            started.elapsed().as_secs_f64()
        ),
    );
    let dir = workspace_root().join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.md"), &report).unwrap();
    println!("Report: target/bench/report.md");
}

fn section(report: &mut String, text: &str) {
    println!("{text}");
    report.push_str(text);
    report.push('\n');
}

fn kb(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Per-asset raw, gzip and brotli sizes of everything the first load fetches.
fn bytes() -> String {
    let dist = workspace_root().join("dist");
    let index = std::fs::read_to_string(dist.join("index.html")).expect("build the SPA first");
    // Every file index.html names that the browser fetches before the list shows: the stylesheet,
    // the JS glue, the wasm and the manifest (not the home-screen icon, which Chromium leaves).
    let mut assets = vec!["index.html".to_owned()];
    for (at, _) in index.match_indices("/ciba/") {
        let rest = &index[at + "/ciba/".len()..];
        // Trunk's minified HTML leaves most attribute values unquoted.
        let name = &rest[..rest.find(['"', '\'', ' ', '>']).unwrap_or(0)];
        let fetched = [".css", ".js", ".wasm", ".webmanifest"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if fetched && !assets.iter().any(|known| known == name) {
            assets.push(name.to_owned());
        }
    }
    let size = |name: &str| std::fs::metadata(dist.join(name)).map_or(0, |m| m.len());
    let budget: f64 = std::fs::read_to_string(workspace_root().join("perf-budget.toml"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("first_load_max_kb = "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap();
    let mut out = String::from(
        "## Bytes of the first load\n\n| Asset | Raw KB | gzip KB | brotli KB |\n| --- | ---: | ---: | ---: |\n",
    );
    let (mut raw, mut gz, mut br) = (0, 0, 0);
    for asset in &assets {
        let (r, g, b) = (
            size(asset),
            size(&format!("{asset}.gz")),
            size(&format!("{asset}.br")),
        );
        raw += r;
        gz += g;
        br += b;
        let _ = writeln!(
            out,
            "| {asset} | {:.1} | {:.1} | {:.1} |",
            kb(r),
            kb(g),
            kb(b)
        );
    }
    let total = kb(br);
    let _ = writeln!(
        out,
        "| **total** | {:.1} | {:.1} | **{total:.1}** |\n\nBrotli total against the budget in perf-budget.toml \
         ({budget} KB): **{:.2}×**; against the Duende template's consent page (~{DUENDE_TEMPLATE_KB} KB): \
         **{:.2}×**; against issue 6's hard limit (150 KB): **{:.2}×**.\n",
        kb(raw),
        kb(gz),
        total / budget,
        total / DUENDE_TEMPLATE_KB,
        total / 150.0,
    );
    out
}

/// The levers applied so far and what each saved, as the README's "Size and caching" lists them.
fn levers() -> String {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|line| !line.starts_with("| Lever | Saving |"))
        .take_while(|line| line.starts_with('|'))
        .collect();
    format!(
        "## Levers applied (README, \"Size and caching\")\n\n{}\n",
        table.join("\n")
    )
}

/// The demo configuration with limits out of the way and `LOAD_USERS` users (password: alice).
fn load_config() -> DemoConfig {
    let demo = std::fs::read_to_string(workspace_root().join("idp/ciba-idp.toml")).unwrap();
    let hash = demo
        .lines()
        .find_map(|line| line.strip_prefix("password_hash = "))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let mut config = DemoConfig::load()
        .set("rate_limits.backchannel_per_user_per_minute", 100_000)
        .set("rate_limits.backchannel_per_client_per_minute", 100_000)
        .set("rate_limits.login_per_user_per_minute", 100_000)
        .set("rate_limits.login_per_ip_per_minute", 100_000);
    for n in 1..=LOAD_USERS {
        let mut user = toml::Table::new();
        user.insert("subject".into(), format!("load-{n}").into());
        user.insert("username".into(), format!("user{n}").into());
        user.insert("password_hash".into(), hash.clone().into());
        user.insert("name".into(), format!("Load User {n}").into());
        config = config.push("users", user);
    }
    config
}

/// Signs `username` in over HTTP (the shared sign-in) and returns the session's `Cookie` header.
async fn sign_in(idp: &Idp, username: &str, password: &str) -> String {
    idp.signed_in(username, password)
        .await
        .cookie_header()
        .expect("a session cookie")
}

async fn start_requests(idp: &Idp, user: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        ids.push(
            idp.start_request(user, "openid profile", &format!("BENCH-{n}"))
                .await,
        );
    }
    ids
}

async fn throttle(browser: &Browser, on: bool) {
    let cdp = browser.driver.cdp();
    let network = if on {
        json!({"offline": false, "latency": RTT_MS, "downloadThroughput": DOWN_BYTES_PER_S,
               "uploadThroughput": UP_BYTES_PER_S})
    } else {
        json!({"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    };
    cdp.send_raw("Network.enable", json!({})).await.unwrap();
    cdp.send_raw("Network.emulateNetworkConditions", network)
        .await
        .unwrap();
    let rate = if on { CPU_SLOWDOWN } else { 1 };
    cdp.send_raw("Emulation.setCPUThrottlingRate", json!({ "rate": rate }))
        .await
        .unwrap();
}

/// Loads `path` with an empty cache and returns the milliseconds from navigation start until
/// `ready` (a script returning a number or null) gives a number.
async fn cold_load(browser: &Browser, path: &str, ready: &str) -> f64 {
    // Cold: no HTTP cache, and no service worker or Cache Storage (issue 15's worker would answer
    // every load after the first from its cache).
    let origin: String = path.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    let cdp = browser.driver.cdp();
    cdp.send_raw(
        "Storage.clearDataForOrigin",
        json!({ "origin": origin, "storageTypes": "service_workers,cache_storage" }),
    )
    .await
    .unwrap();
    cdp.send_raw("Network.clearBrowserCache", json!({}))
        .await
        .unwrap();
    browser.driver.goto(path).await.unwrap();
    for _ in 0..600 {
        if let Some(ms) = browser.eval(ready).await.as_f64() {
            return ms;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never became ready");
}

/// The median of `RUNS` cold loads of `url` until `ready`.
async fn median_cold_load(browser: &Browser, url: &str, ready: &str) -> f64 {
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        times.push(cold_load(browser, url, ready).await);
    }
    median(times)
}

const LIST_RENDERED: &str = "const m = performance.getEntriesByName('ciba:list-rendered')[0]; \
    return m ? m.startTime : null;";
const PAGE_LOADED: &str = "const n = performance.getEntriesByType('navigation')[0]; \
    return n && n.loadEventEnd > 0 ? n.loadEventEnd : null;";
const RENDER_MS: &str = "const d = performance.getEntriesByName('ciba:list-data'); \
    const r = performance.getEntriesByName('ciba:list-rendered'); \
    return d.length && r.length === d.length ? r[r.length - 1].startTime - d[d.length - 1].startTime : null;";

/// One row of the cold-load table: what was loaded, in how many ms, and how that compares with the
/// baseline.
fn cold_load_row(out: &mut String, what: &str, ms: f64, baseline: f64) {
    let _ = writeln!(out, "| {what} | {ms:.0} | {:.2} |", ms / baseline);
}

async fn browser_timings(idp: &Idp) -> String {
    let browser = Browser::start().await;
    browser.emulate_screen(360, 740, true).await;
    start_requests(idp, "alice", 3).await;
    browser.driver.goto(idp.url("/ciba/")).await.unwrap();
    browser.sign_in("alice", "alice").await;
    browser.wait_for("a[data-request-id]").await;

    let mut out = format!(
        "## Browser timings (headless Chromium)\n\nCold loads (empty cache, signed in) over a throttled \
         network ({RTT_MS} ms RTT, {:.1} Mbit/s down) with the CPU slowed {CPU_SLOWDOWN}×, median of {RUNS}. \
         Baseline: ciba-idp's server-rendered sign-in page (HTML + CSS, no script) under the same throttling, \
         until its load event.\n\n| Cold load | ms | × baseline |\n| --- | ---: | ---: |\n",
        f64::from(DOWN_BYTES_PER_S * 8) / 1e6
    );
    throttle(&browser, true).await;
    let baseline = median_cold_load(&browser, &idp.url("/Account/Login"), PAGE_LOADED).await;
    cold_load_row(
        &mut out,
        "baseline: sign-in page loaded",
        baseline,
        baseline,
    );
    let three = median_cold_load(&browser, &idp.url("/ciba/"), LIST_RENDERED).await;
    cold_load_row(&mut out, "list of 3 requests rendered", three, baseline);
    throttle(&browser, false).await;
    start_requests(idp, "alice", 497).await;
    throttle(&browser, true).await;
    let five_hundred = median_cold_load(&browser, &idp.url("/ciba/"), LIST_RENDERED).await;
    cold_load_row(
        &mut out,
        "list of 500 requests rendered",
        five_hundred,
        baseline,
    );

    // Unthrottled: building the list once its data is there, and a poll that changes one row.
    throttle(&browser, false).await;
    let render = median_cold_load(&browser, &idp.url("/ciba/"), RENDER_MS).await;
    let rows = browser
        .eval("return document.querySelectorAll('a[data-request-id]').length;")
        .await;
    browser
        .eval(
            "window.benchAdded = 0; window.benchRemoved = 0; \
             new MutationObserver((records) => { for (const r of records) { \
               for (const n of r.addedNodes) if (n.nodeType === 1 && (n.matches('li') || n.querySelector('a[data-request-id]'))) window.benchAdded++; \
               for (const n of r.removedNodes) if (n.nodeType === 1 && (n.matches('li') || n.querySelector('a[data-request-id]'))) window.benchRemoved++; \
             } }).observe(document.body, { childList: true, subtree: true }); \
             performance.clearMarks(); return null;",
        )
        .await;
    start_requests(idp, "alice", 1).await;
    let mut rerender = Value::Null;
    for _ in 0..300 {
        rerender = browser.eval(RENDER_MS).await;
        if rerender.is_number() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rerender = rerender.as_f64().expect("the poll brought the new request");
    let changed = browser
        .eval("return [window.benchAdded, window.benchRemoved];")
        .await;
    let _ = writeln!(
        out,
        "\nUnthrottled, after the data arrived (goal: under one frame, 16 ms):\n\n| Render | ms | × one frame |\n\
         | --- | ---: | ---: |\n| {rows} requests, first render | {render:.1} | {:.2} |\n\
         | poll with one new request (rows added: {}, removed: {}) | {rerender:.1} | {:.2} |\n",
        render / 16.0,
        changed[0],
        changed[1],
        rerender / 16.0
    );
    browser.quit().await;
    out
}

/// One raw HTTP/1.1 exchange; returns (bytes sent + received, response head).
async fn exchange(idp: &Idp, request: &str) -> (usize, String) {
    let address = idp.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response);
    let head = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    (request.len() + response.len(), head)
}

async fn polling_cost(idp: &Idp) -> String {
    let cookie = sign_in(idp, "bob", "bob").await;
    start_requests(idp, "bob", 3).await;
    let host = idp.base.trim_start_matches("http://");
    let get = |extra: &str| {
        format!(
            "GET /api/ciba/requests HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nAccept: application/json\r\n\
             Accept-Encoding: gzip, br\r\nUser-Agent: Mozilla/5.0 (bench)\r\n{extra}Connection: close\r\n\r\n"
        )
    };
    let (full, head) = exchange(idp, &get("")).await;
    let etag = head
        .lines()
        .find_map(|line| line.strip_prefix("etag: "))
        .expect("the list carries an ETag")
        .to_owned();
    let (unchanged, head) = exchange(idp, &get(&format!("If-None-Match: {etag}\r\n"))).await;
    assert!(head.starts_with("HTTP/1.1 304"), "{head}");
    let per_minute = 60 / 5;
    format!(
        "## Polling cost\n\nThe list polls every 5 s with `If-None-Match` (3 pending requests; request and response \
         bytes on the wire, HTTP/1.1, cookie included).\n\n| Poll | bytes | bytes/min | × naive |\n| --- | ---: | ---: | ---: |\n\
         | naive: full GET every time (baseline) | {full} | {} | 1.00 |\n| nothing changed: 304 | {unchanged} | {} | {:.2} |\n",
        full * per_minute,
        unchanged * per_minute,
        unchanged as f64 / full as f64
    )
}

/// Resident memory of the provider, in MB.
fn rss_mb(idp: &Idp) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", idp.pid())).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

/// Runs `LOAD_USERS` concurrent workers, each sending what `request` builds for it, until
/// `LOAD_MAX_REQUESTS` or `LOAD_MAX_TIME`. Returns (requests/s, p50 ms, p99 ms, status counts).
async fn hammer<F>(request: F) -> (f64, f64, f64, std::collections::BTreeMap<String, usize>)
where
    F: Fn(usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = std::sync::Arc::new(request);
    let started = Instant::now();
    let per_worker = LOAD_MAX_REQUESTS / LOAD_USERS;
    let mut workers = Vec::new();
    for worker in 0..LOAD_USERS {
        let request = request.clone();
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::with_capacity(per_worker);
            for n in 0..per_worker {
                if started.elapsed() > LOAD_MAX_TIME {
                    break;
                }
                let sent = Instant::now();
                let response = request(worker, n).send().await.unwrap();
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap_or(Value::Null);
                let outcome = body["error"]
                    .as_str()
                    .map_or(status.to_string(), |e| format!("{status} {e}"));
                seen.push((sent.elapsed().as_secs_f64() * 1000.0, outcome));
            }
            seen
        }));
    }
    let mut latencies = Vec::new();
    let mut outcomes = std::collections::BTreeMap::new();
    for worker in workers {
        for (ms, outcome) in worker.await.unwrap() {
            latencies.push(ms);
            *outcomes.entry(outcome).or_insert(0) += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    (
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        outcomes,
    )
}

async fn load(idp: &Idp) -> String {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(LOAD_USERS)
        .build()
        .unwrap();
    let mut cookies = Vec::new();
    let mut auth_req_ids = Vec::new();
    for n in 1..=LOAD_USERS {
        let user = format!("user{n}");
        cookies.push(sign_in(idp, &user, "alice").await);
        auth_req_ids.push(start_requests(idp, &user, LOAD_REQUESTS_PER_USER).await);
    }
    let memory_before = rss_mb(idp);
    let mut out = format!(
        "## ciba-idp under load\n\nRelease build on loopback; {LOAD_USERS} concurrent clients (one per user, in this \
         process), each phase bounded by {LOAD_MAX_REQUESTS} requests or {} s. {} stored requests across \
         {LOAD_USERS} users. Baseline: the discovery document (no database).\n\n\
         | Endpoint | requests/s | p50 ms | p99 ms | p99 × baseline | answers |\n| --- | ---: | ---: | ---: | ---: | --- |\n",
        LOAD_MAX_TIME.as_secs(),
        LOAD_USERS * LOAD_REQUESTS_PER_USER + 500 + 4,
    );
    let discovery = idp.url("/.well-known/openid-configuration");
    let c = client.clone();
    let (rps, p50, base_p99, outcomes) = hammer(move |_, _| c.get(&discovery)).await;
    let _ = writeln!(
        out,
        "| baseline: GET discovery | {rps:.0} | {p50:.1} | {base_p99:.1} | 1.00 | {outcomes:?} |"
    );

    let list = idp.url("/api/ciba/requests");
    let c = client.clone();
    let (rps, p50, p99, outcomes) =
        hammer(move |worker, _| c.get(&list).header("Cookie", &cookies[worker])).await;
    let _ = writeln!(
        out,
        "| GET /api/ciba/requests (10 pending each) | {rps:.0} | {p50:.1} | {p99:.1} | {:.2} | {outcomes:?} |",
        p99 / base_p99
    );

    let token = idp.url("/connect/token");
    let c = client.clone();
    let ids = auth_req_ids.clone();
    let (rps, p50, p99, outcomes) = hammer(move |worker, n| {
        let ids = &ids[worker];
        c.post(&token)
            .basic_auth("demo-client", Some("demo-secret"))
            .form(&[
                ("grant_type", "urn:openid:params:grant-type:ciba"),
                ("auth_req_id", ids[n % ids.len()].as_str()),
            ])
    })
    .await;
    let pending = outcomes
        .get("400 authorization_pending")
        .copied()
        .unwrap_or(0);
    let slowed = outcomes.get("400 slow_down").copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "| POST /connect/token (polling far too fast) | {rps:.0} | {p50:.1} | {p99:.1} | {:.2} | {outcomes:?} |",
        p99 / base_p99
    );
    let polled: usize = auth_req_ids.iter().map(Vec::len).sum();
    let _ = writeln!(
        out,
        "\n`slow_down` check: {pending} `authorization_pending` for {polled} requests polled (one each is \
         allowed; every later poll inside the interval must be `slow_down`) and {slowed} `slow_down` — {}.\n\n\
         Memory (resident) of ciba-idp: {memory_before:.1} MB before the load phases, {:.1} MB after.\n",
        if pending <= polled && pending + slowed == outcomes.values().sum::<usize>() {
            "correct"
        } else {
            "WRONG"
        },
        rss_mb(idp)
    );
    out
}
