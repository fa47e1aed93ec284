//! Embedding in a vendor portal (docs/embedding.md), against ciba-idp and its demo portal: the iframe
//! on an allowed origin, a page on another origin, and the mount entry point on a same-origin page.

use std::time::Duration;

use ciba_e2e::{Browser, Idp, TokenAnswer};
use serde_json::Value;
use thirtyfour::prelude::*;

/// The messages the demo portal has received from the approval frame, oldest first.
async fn portal_events(browser: &Browser) -> Vec<Value> {
    let events = browser
        .eval("return [...document.querySelectorAll('#events li')].map((li) => li.textContent);")
        .await;
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|text| serde_json::from_str(text.as_str().unwrap()).unwrap())
        .collect()
}

/// Waits (up to 10 s) for a message of `kind` and returns the newest one.
async fn wait_for_event(browser: &Browser, kind: &str) -> Value {
    for _ in 0..200 {
        if let Some(event) = portal_events(browser)
            .await
            .into_iter()
            .rev()
            .find(|event| event["type"] == kind)
        {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the portal never received {kind}; it got {:?}",
        portal_events(browser).await
    );
}

async fn enter_frame(browser: &Browser) {
    let frame = browser.wait_for("#approval").await;
    frame.enter_frame().await.unwrap();
}

/// The address of the document the driver is in (WebDriver's current URL is always the top page's).
async fn location(browser: &Browser) -> String {
    browser
        .eval("return location.pathname + location.search;")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

async fn leave_frame(browser: &Browser) {
    browser.driver.enter_default_frame().await.unwrap();
}

#[tokio::test]
async fn the_portal_frames_the_page_hears_the_decision_and_sizes_the_frame() {
    let idp = Idp::start_with_portal().await;
    let portal = idp.portal.clone().unwrap();
    let auth_req_id = idp.ask_alice("openid profile", "DESK-42").await;
    let browser = Browser::start().await;
    browser.goto(format!("{portal}/")).await;

    // No session yet: the portal is told, and the frame goes to the sign-in page.
    let required = wait_for_event(&browser, "sessionRequired").await;
    assert_eq!(required["reason"], "signIn", "{required}");
    assert_eq!(required["protocol"], "ciba-approval");
    assert_eq!(required["version"], 1);
    enter_frame(&browser).await;
    browser.sign_in("alice", "alice").await;
    let internal_id = browser.first_request_id().await;
    // Embedded: none of the page's own chrome, and links keep it embedded.
    assert!(
        browser
            .eval("return getComputedStyle(document.querySelector('.app-header')).display;")
            .await
            == "none"
    );
    assert!(location(&browser).await.ends_with("embed=1"));
    leave_frame(&browser).await;
    wait_for_event(&browser, "ready").await;

    // The frame is as tall as its content: no scrollbar inside it.
    let resize = wait_for_event(&browser, "resize").await;
    let height = resize["height"].as_u64().unwrap();
    assert!(height > 100, "{resize}");
    let frame_height = browser
        .eval("return document.getElementById('approval').getBoundingClientRect().height;")
        .await;
    assert_eq!(frame_height.as_f64().unwrap().round() as u64, height);
    enter_frame(&browser).await;
    let overflow = browser
        .eval(
            "return document.documentElement.scrollHeight - document.documentElement.clientHeight;",
        )
        .await;
    assert!(overflow.as_i64().unwrap() <= 0, "scrolls by {overflow} px");

    // The portal's theme reaches the page.
    leave_frame(&browser).await;
    browser.click("#theme-portal").await;
    enter_frame(&browser).await;
    let mut accent = Value::Null;
    for _ in 0..100 {
        accent = browser
            .eval("return getComputedStyle(document.documentElement).getPropertyValue('--ciba-accent').trim();")
            .await;
        if accent == "#6b2d8f" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(accent, "#6b2d8f");

    // Approve inside the frame: the portal hears which request and how.
    browser.open_first_request().await;
    browser.click("#approve").await;
    leave_frame(&browser).await;
    let decided = wait_for_event(&browser, "decided").await;
    assert_eq!(decided["internalId"], internal_id.as_str(), "{decided}");
    assert_eq!(decided["outcome"], "approved", "{decided}");
    let tokens = idp.poll(&auth_req_id).await;
    assert!(matches!(tokens, TokenAnswer::Tokens(_)), "{tokens:?}");
    browser.quit().await;
}

#[tokio::test]
async fn only_the_allowed_portal_may_frame_the_page_or_steer_it() {
    let idp = Idp::start_with_portal().await;
    let portal = idp.portal.clone().unwrap();
    let port = portal.rsplit(':').next().unwrap();
    // The same portal under another host name is another origin, and not on the list.
    let stranger = format!("http://localhost:{port}");

    // The policy names exactly the configured portal.
    let response = reqwest::get(idp.url("/ciba/")).await.unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let frame_ancestors = policy
        .split(';')
        .map(str::trim)
        .find(|directive| directive.starts_with("frame-ancestors"))
        .unwrap();
    assert_eq!(frame_ancestors, format!("frame-ancestors {portal}"));

    // The browser refuses to show the page in the stranger's frame.
    let browser = Browser::start().await;
    browser.goto(format!("{stranger}/")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    enter_frame(&browser).await;
    assert!(
        !browser.exists("#main").await && !browser.exists("#username").await,
        "the page rendered inside a frame on {stranger}"
    );
    leave_frame(&browser).await;
    assert!(portal_events(&browser).await.is_empty());

    // In the allowed portal, a message from a frame on another origin is ignored; the portal's
    // own message is obeyed.
    idp.ask_alice("openid", "STEER-1").await;
    browser.goto(format!("{portal}/")).await;
    enter_frame(&browser).await;
    browser.sign_in("alice", "alice").await;
    let internal_id = browser.first_request_id().await;
    leave_frame(&browser).await;
    wait_for_event(&browser, "ready").await;
    browser
        .eval_with(
            "addEventListener('message', (event) => { if (event.data.relayed) window.relayed = true; }); \
             const relay = document.createElement('iframe'); \
             relay.src = arguments[0]; document.body.append(relay); return null;",
            vec![format!("{stranger}/relay#{internal_id}").into()],
        )
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        browser.eval("return window.relayed === true;").await,
        true,
        "the relay frame did not run"
    );
    enter_frame(&browser).await;
    assert!(
        !location(&browser).await.contains("/requests/"),
        "a message from {stranger} opened a request"
    );
    leave_frame(&browser).await;
    browser
        .wait_for("#open-id")
        .await
        .send_keys(&internal_id)
        .await
        .unwrap();
    browser.click("#open-form button").await;
    enter_frame(&browser).await;
    browser.wait_for("#deny").await;
    assert!(location(&browser).await.contains(&internal_id));
    leave_frame(&browser).await;
    browser.quit().await;
}

#[tokio::test]
async fn the_mounted_ui_approves_without_touching_the_host_page() {
    let idp = Idp::start_with_portal().await;
    let auth_req_id = idp.ask_alice("openid profile", "MOUNT-7").await;
    let browser = Browser::start().await;
    browser.goto(idp.url("/demo/mount")).await;
    // No session: the whole page goes to sign in and comes back to the host page.
    browser.sign_in("alice", "alice").await;
    for _ in 0..100 {
        if browser.path_and_query().await == "/demo/mount" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(browser.path_and_query().await, "/demo/mount");
    let history = browser.eval("return history.length;").await;

    let host = browser.wait_for("#approvals").await;
    let mut request_link = None;
    for _ in 0..200 {
        let shadow = host.get_shadow_root().await.unwrap();
        if let Ok(link) = shadow.find(By::Css("a[data-request-id]")).await {
            request_link = Some(link);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let request_link = request_link.expect("the mounted list shows the request");
    let internal_id = request_link.attr("data-request-id").await.unwrap().unwrap();
    request_link.click().await.unwrap();
    let shadow = host.get_shadow_root().await.unwrap();
    let approve = shadow
        .query(By::Css("#approve"))
        .wait(Duration::from_secs(10), Duration::from_millis(50))
        .first()
        .await
        .unwrap();
    // Styles do not cross: the host's loud fonts stay out of the widget, ours out of the host.
    let fonts = browser
        .eval_with(
            "return [getComputedStyle(arguments[0]).fontFamily, \
             getComputedStyle(document.getElementById('host-text')).fontFamily];",
            vec![approve.to_json().unwrap()],
        )
        .await;
    assert!(
        !fonts[0].as_str().unwrap().contains("Comic Sans"),
        "{fonts}"
    );
    assert!(fonts[1].as_str().unwrap().contains("Georgia"), "{fonts}");
    approve.click().await.unwrap();

    let decided = wait_for_event(&browser, "decided").await;
    assert_eq!(decided["internalId"], internal_id.as_str(), "{decided}");
    assert_eq!(decided["outcome"], "approved");
    // The host page's address and history are untouched.
    assert_eq!(browser.path_and_query().await, "/demo/mount");
    assert_eq!(browser.eval("return history.length;").await, history);
    let tokens = idp.poll(&auth_req_id).await;
    assert!(matches!(tokens, TokenAnswer::Tokens(_)), "{tokens:?}");
    browser.quit().await;
}

/// A portal on another site, in a browser that blocks third-party cookies: a sign-in inside the
/// frame could never stick, so the page says so, tells the portal, and opens a window of its own.
#[tokio::test]
async fn a_frame_whose_cookie_is_blocked_offers_a_new_window() {
    let idp = Idp::start_with_portal_on("localhost").await;
    let portal = idp.portal.clone().unwrap();
    let browser = Browser::start_with_args(&["--test-third-party-cookie-phaseout"]).await;
    browser.goto(format!("{portal}/")).await;

    let required = wait_for_event(&browser, "sessionRequired").await;
    assert_eq!(required["reason"], "cookieBlocked", "{required}");
    enter_frame(&browser).await;
    let offer = browser.wait_for(".embed-blocked button").await;
    assert_eq!(
        location(&browser).await,
        "/ciba/?embed=1",
        "the frame stays put"
    );
    let portal_window = browser.driver.window().await.unwrap();
    offer.click().await.unwrap();
    leave_frame(&browser).await;
    let mut windows = Vec::new();
    for _ in 0..100 {
        windows = browser.driver.windows().await.unwrap();
        if windows.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(windows.len(), 2, "no new window opened");
    let opened = windows.into_iter().find(|w| *w != portal_window).unwrap();
    browser.driver.switch_to_window(opened).await.unwrap();
    // At top level the provider's cookie is first-party: the usual sign-in, then the list.
    browser.sign_in("alice", "alice").await;
    browser.wait_for("main h1").await;
    assert_eq!(browser.path_and_query().await, "/ciba/");
    browser.quit().await;
}

/// What the theme shows on the page the driver is in: the custom properties an attack would set,
/// and the colours of what they paint (time left, code background), plus whether the chrome shows.
async fn look(browser: &Browser) -> Value {
    browser
        .eval(
            "const root = getComputedStyle(document.documentElement); \
             const style = (css, property) => { const el = document.querySelector(css); \
               return el && getComputedStyle(el)[property]; }; \
             return { codeBg: root.getPropertyValue('--ciba-code-bg').trim(), \
                      muted: root.getPropertyValue('--ciba-muted').trim(), \
                      accent: root.getPropertyValue('--ciba-accent').trim(), \
                      logo: style('.client-logo', 'backgroundColor'), \
                      binding: style('.binding .binding-message', 'backgroundColor'), \
                      timeLeft: style('.time-left', 'color'), \
                      header: style('.app-header', 'display'), \
                      embedded: document.documentElement.classList.contains('embedded') };",
        )
        .await
}

/// Issue 13: a link cannot restyle the page or strip its chrome. At top level, `?embed=1` and
/// `theme-*` parameters change nothing: the list and the consent page look exactly as without them.
#[tokio::test]
async fn a_link_neither_restyles_the_page_nor_strips_its_chrome() {
    let idp = Idp::start().await;
    idp.ask_alice("openid profile", "LINK-13").await;
    let browser = Browser::start().await;
    browser.goto(idp.url("/ciba/")).await;
    browser.sign_in("alice", "alice").await;
    let internal_id = browser.first_request_id().await;
    let attack = "embed=1&theme-code-bg=%231b1f24&theme-muted=%23f6f7f9";

    for (page, path, ready) in [
        ("list", "/ciba/".to_owned(), "a[data-request-id] .time-left"),
        ("consent", format!("/ciba/requests/{internal_id}"), "#deny"),
    ] {
        browser.goto(idp.url(&path)).await;
        browser.wait_for(ready).await;
        let plain = look(&browser).await;
        assert_eq!(plain["header"], "flex", "{page}: {plain}");

        browser.goto(idp.url(&format!("{path}?{attack}"))).await;
        browser.wait_for(ready).await;
        let linked = look(&browser).await;
        assert_eq!(linked, plain, "{page}: the link changed the page");
        assert_eq!(
            browser.contrast_failures().await,
            serde_json::json!([]),
            "{page}"
        );
        if page == "list" {
            // Its links no longer claim to be embedded either.
            let href = browser
                .wait_for("a[data-request-id]")
                .await
                .attr("href")
                .await
                .unwrap()
                .unwrap();
            assert!(!href.contains("embed"), "{href}");
        }
    }
    browser.quit().await;
}

/// Text in the frame (the driver is in it) under WCAG AA contrast. The frame's background is
/// transparent; what shows through is the portal's white iframe, or in the dark scheme the opaque
/// dark canvas the browser paints behind a dark document in a light page: CSS `Canvas` is both.
async fn frame_contrast_failures(browser: &Browser) -> Value {
    browser
        .eval("document.documentElement.style.backgroundColor = 'Canvas'; return null;")
        .await;
    let failures = browser.contrast_failures().await;
    browser
        .eval("document.documentElement.style.removeProperty('background-color'); return null;")
        .await;
    failures
}

/// The message the portal posts to the frame, as its own window (the real, allowed parent).
async fn post_theme(browser: &Browser, idp: &Idp, properties: Value) {
    browser
        .eval_with(
            "document.getElementById('approval').contentWindow.postMessage( \
               { protocol: 'ciba-approval', version: 1, type: 'theme', properties: arguments[1] }, \
               arguments[0]); return null;",
            vec![idp.base.clone().into(), properties],
        )
        .await;
}

/// Waits (up to 5 s) in the frame until `--ciba-accent` is `accent`; returns what the frame shows.
async fn wait_for_accent(browser: &Browser, accent: &str) -> Value {
    enter_frame(browser).await;
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = look(browser).await;
        if seen["accent"] == accent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    leave_frame(browser).await;
    assert_eq!(seen["accent"], accent, "{seen}");
    seen
}

/// Issue 13: the allowed portal still themes the page, but a theme that would hide what the person
/// must read (here the issue's: code background as dark as the text, the time left as light as the
/// page) is refused whole, and the portal is told; a theme that only held in the light scheme is
/// dropped when the person switches to dark.
#[tokio::test]
async fn the_portal_may_theme_the_page_but_not_make_it_unreadable() {
    let idp = Idp::start_with_portal().await;
    let portal = idp.portal.clone().unwrap();
    idp.ask_alice("openid profile", "THEME-13").await;
    let browser = Browser::start().await;
    browser.goto(format!("{portal}/")).await;
    enter_frame(&browser).await;
    browser.sign_in("alice", "alice").await;
    browser.open_first_request().await;
    let plain = look(&browser).await;
    assert_eq!(plain["embedded"], true, "{plain}");
    leave_frame(&browser).await;
    wait_for_event(&browser, "ready").await;

    // The unreadable theme, then a readable one: once the second shows, the first was handled.
    post_theme(
        &browser,
        &idp,
        serde_json::json!({ "code-bg": "#1b1f24", "muted": "#f6f7f9", "accent": "#1b1f24" }),
    )
    .await;
    post_theme(
        &browser,
        &idp,
        serde_json::json!({ "code-bg": "#e6f4ea", "accent": "#6b2d8f", "text": "#1b1f24" }),
    )
    .await;
    let themed = wait_for_accent(&browser, "#6b2d8f").await;
    assert_eq!(themed["codeBg"], "#e6f4ea", "{themed}");
    assert_eq!(themed["binding"], "rgb(230, 244, 234)", "{themed}");
    assert_eq!(
        themed["muted"], plain["muted"],
        "the refused theme got in: {themed}"
    );
    assert_eq!(themed["timeLeft"], plain["timeLeft"], "{themed}");
    enter_frame(&browser).await;
    assert_eq!(
        frame_contrast_failures(&browser).await,
        serde_json::json!([])
    );
    leave_frame(&browser).await;
    let refused = wait_for_event(&browser, "themeRefused").await;
    assert_eq!(refused["reason"], "contrast", "{refused}");
    assert!(refused["ratio"].as_f64().unwrap() < 4.5, "{refused}");

    // Dark text was fine on the light page; on the dark one it is not, so the theme goes.
    browser.emulate_color_scheme("dark").await;
    let dark = wait_for_accent(&browser, "#8ab4f8").await;
    assert_eq!(dark["codeBg"], "#1f2a3d", "{dark}");
    enter_frame(&browser).await;
    assert_eq!(
        frame_contrast_failures(&browser).await,
        serde_json::json!([])
    );
    leave_frame(&browser).await;
    let events = portal_events(&browser).await;
    let refusals: Vec<_> = events
        .iter()
        .filter(|event| event["type"] == "themeRefused")
        .collect();
    assert_eq!(refusals.len(), 2, "{events:?}");
    assert_eq!(refusals[1]["properties"][0], "text", "{events:?}");
    browser.quit().await;
}
