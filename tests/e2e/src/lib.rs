//! Harness for the end-to-end tests: a real `ciba-idp` serving the built SPA, a real headless Chromium
//! driven over WebDriver, and a relying party speaking plain HTTP to the protocol endpoints.
//!
//! Every test gets its own provider (in-memory database) and its own browser, so tests cannot see each
//! other's requests. Both run in their own process group and are killed with it when the test ends,
//! pass or fail.

pub mod cdp;

use std::ops::Deref;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use thirtyfour::prelude::*;

pub use ciba_test_support::{
    DEMO_CLIENT, DemoConfig, Host, Process, Provider, ProviderOptions, TempDir, TokenAnswer,
    free_port, wait_until_listening, workspace_root,
};

/// A running `ciba-idp` serving the built SPA (the shared test-support crate's [`Provider`]).
pub struct Idp(Provider);

impl Deref for Idp {
    type Target = Provider;

    fn deref(&self) -> &Provider {
        &self.0
    }
}

impl Idp {
    /// A provider with the committed demo configuration.
    pub async fn start() -> Self {
        Self::start_with_config(DemoConfig::load()).await
    }

    /// A provider with `config` (the demo configuration edited by setting name).
    pub async fn start_with_config(config: DemoConfig) -> Self {
        Self::start_with(ProviderOptions {
            config,
            ..ProviderOptions::default()
        })
        .await
    }

    /// The demo client asks alice to approve `scope`, with `binding_message` on her screen; returns
    /// the `auth_req_id` the client polls with.
    pub async fn ask_alice(&self, scope: &str, binding_message: &str) -> String {
        self.start_request("alice", scope, binding_message).await
    }

    /// The `error` the demo client's next token poll for `auth_req_id` is answered with.
    pub async fn poll_error(&self, auth_req_id: &str) -> Value {
        self.poll_json(DEMO_CLIENT, auth_req_id).await.1["error"].clone()
    }

    /// A provider that also serves the demo vendor portal on another port (another origin), which
    /// the configuration allows to embed the page.
    pub async fn start_with_portal() -> Self {
        Self::start_with_portal_on("127.0.0.1").await
    }

    /// The same with the portal's origin under `host` (e.g. `localhost`: another *site* than the
    /// provider's `127.0.0.1`, so the page in its frame is a third party).
    pub async fn start_with_portal_on(host: &str) -> Self {
        Self::start_with(ProviderOptions {
            portal_host: Some(host.to_owned()),
            ..ProviderOptions::default()
        })
        .await
    }

    async fn start_with(options: ProviderOptions) -> Self {
        Self(
            Provider::start_with(ProviderOptions {
                spa: true,
                ..options
            })
            .await,
        )
    }
}

/// The claims of a JWT (signature checking is the protocol tests' job).
pub fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

const RECORD_CSP_VIOLATIONS: &str = r#"
document.addEventListener('securitypolicyviolation', (event) => {
  const seen = JSON.parse(sessionStorage.getItem('cspViolations') || '[]');
  seen.push(`${event.effectiveDirective} blocked ${event.blockedURI} on ${location.pathname}`);
  sessionStorage.setItem('cspViolations', JSON.stringify(seen));
});
"#;

/// Headless Chromium behind its own chromedriver.
pub struct Browser {
    pub driver: WebDriver,
    _chromedriver: Process,
    _profile: TempDir,
}

impl Browser {
    pub async fn start() -> Self {
        Self::start_with_args(&[]).await
    }

    /// A fresh browser on the provider's page, signed in as `user` (the demo's password is the user
    /// name) through the sign-in form the page sends it to.
    pub async fn signed_in_as(idp: &Idp, user: &str) -> Self {
        let browser = Self::start().await;
        browser.driver.goto(idp.url("/ciba/")).await.unwrap();
        browser.sign_in(user, user).await;
        browser
    }

    /// A fresh browser signed in as `user`, with the internal id of the first request in their list.
    pub async fn signed_in_with_first_request(idp: &Idp, user: &str) -> (Self, String) {
        let browser = Self::signed_in_as(idp, user).await;
        let internal_id = browser.first_request_id().await;
        (browser, internal_id)
    }

    /// A fresh browser signed in as `user` and on the consent page of the first request in their
    /// list.
    pub async fn on_first_request_as(idp: &Idp, user: &str) -> Self {
        let browser = Self::signed_in_as(idp, user).await;
        browser.open_first_request().await;
        browser
    }

    /// A browser whose user prefers `language` (e.g. `de-DE`): `navigator.languages` and
    /// `Accept-Language` say so.
    pub async fn start_in_language(language: &str) -> Self {
        Self::start_with_args(&[
            &format!("--lang={language}"),
            &format!("--accept-lang={language}"),
        ])
        .await
    }

    pub async fn start_with_args(extra_args: &[&str]) -> Self {
        let port = free_port();
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let process = Process::spawn(
            Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_until_listening(&format!("http://127.0.0.1:{port}/status"), "chromedriver").await;
        let profile = TempDir::new();
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()))
            .unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--window-size=1280,800",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.0.display()))
            .unwrap();
        for arg in extra_args {
            caps.add_arg(arg).unwrap();
        }
        let driver = WebDriver::new(&format!("http://127.0.0.1:{port}"), caps)
            .await
            .expect("a Chromium session");
        driver
            .set_implicit_wait_timeout(Duration::ZERO)
            .await
            .unwrap();
        let browser = Self {
            driver,
            _chromedriver: process,
            _profile: profile,
        };
        // Record every Content-Security-Policy violation for `quit` to check; kept in sessionStorage
        // across navigations.
        browser.run_in_every_page(RECORD_CSP_VIOLATIONS).await;
        browser
    }

    /// Runs `script` in every document loaded from now on, before the page's own scripts. Injected
    /// over CDP, so the page's Content-Security-Policy does not apply to it.
    pub async fn run_in_every_page(&self, script: &str) {
        self.driver
            .cdp()
            .send_raw(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({ "source": script }),
            )
            .await
            .expect("a script for every page");
    }

    /// Renders pages as a phone `width` CSS pixels wide would (touch, mobile viewport rules).
    pub async fn emulate_phone(&self, width: u32) {
        self.driver
            .cdp()
            .send_raw(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": 720, "deviceScaleFactor": 2, "mobile": true }),
            )
            .await
            .expect("device emulation");
    }

    /// Renders at `width`×`height` CSS pixels, as a phone (touch, mobile viewport) or a desktop window.
    pub async fn emulate_screen(&self, width: u32, height: u32, mobile: bool) {
        self.driver
            .cdp()
            .send_raw(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
            )
            .await
            .expect("device emulation");
    }

    /// Makes `prefers-color-scheme` answer `scheme` ("light" or "dark").
    pub async fn emulate_color_scheme(&self, scheme: &str) {
        self.driver
            .cdp()
            .send_raw(
                "Emulation.setEmulatedMedia",
                json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
            )
            .await
            .expect("media emulation");
    }

    /// Runs `script` (a function body that `return`s) in the page and gives back its result.
    pub async fn eval(&self, script: &str) -> Value {
        self.eval_with(script, Vec::new()).await
    }

    /// Like [`Browser::eval`], with `arguments[0..]` passed in.
    pub async fn eval_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.driver
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
            .json()
            .clone()
    }

    /// The first element matching `css`, waiting up to 10 s for it to appear.
    pub async fn wait_for(&self, css: &str) -> WebElement {
        self.driver
            .query(By::Css(css))
            .wait(Duration::from_secs(10), Duration::from_millis(50))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no element {css} appeared: {e}"))
    }

    /// Clicks the first element matching `css`, once there is one.
    pub async fn click(&self, css: &str) {
        self.wait_for(css).await.click().await.unwrap();
    }

    /// The text of the first element matching `css`, once there is one.
    pub async fn text_of(&self, css: &str) -> String {
        self.wait_for(css).await.text().await.unwrap()
    }

    /// Goes to `url` and waits for the page to load.
    pub async fn goto(&self, url: impl Into<String>) {
        self.driver.goto(url.into()).await.unwrap();
    }

    /// The internal id of the first request in the list, once the list shows one.
    pub async fn first_request_id(&self) -> String {
        self.wait_for("a[data-request-id]")
            .await
            .attr("data-request-id")
            .await
            .unwrap()
            .expect("a request link names its request")
    }

    /// Waits (up to 10 s) until the first element matching `css` says `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> WebElement {
        let mut seen = String::new();
        for _ in 0..200 {
            if let Ok(element) = self.driver.find(By::Css(css)).await {
                seen = element.text().await.unwrap_or_default();
                if seen == text {
                    return element;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} never said {text:?}; last it said {seen:?}");
    }

    /// What a phone user would notice on the page shown: its width, anything sticking out
    /// sideways, controls smaller than a 44 px target, and the boxes of Approve and Deny.
    pub async fn layout_report(&self) -> Value {
        self.eval(
            r#"
            const box = (el) => el.getBoundingClientRect();
            const small = [...document.querySelectorAll('button, a, input, select, summary, .scope label')]
              .filter((el) => el.offsetParent !== null && el.type !== 'checkbox')
              .filter((el) => box(el).height < 44 && !el.closest('.scope'))
              .map((el) => el.outerHTML.slice(0, 80));
            // Rows hidden in the closed scopes disclosure are not targets until it is opened.
            const labels = [...document.querySelectorAll('.scope label')]
              .filter((l) => l.offsetParent !== null && box(l).height < 44);
            return {
              viewport: window.innerWidth,
              scrollWidth: document.documentElement.scrollWidth,
              small,
              smallScopeRows: labels.length,
              approve: box(document.getElementById('approve')),
              deny: box(document.getElementById('deny')),
            };
            "#,
        )
        .await
    }

    /// Text on the page whose contrast with its background is under WCAG 2.2 AA (4.5:1, or 3:1 for
    /// large text), each with its colours; disabled controls are exempt, as WCAG says.
    pub async fn contrast_failures(&self) -> Value {
        self.eval(
            r#"
            const parse = (c) => {
              const m = c.match(/rgba?\(([^)]+)\)/);
              if (!m) return null;
              const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
              return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
            };
            const lum = ({ r, g, b }) => {
              const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
              return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
            };
            const background = (el) => {
              for (let e = el; e; e = e.parentElement) {
                const c = parse(getComputedStyle(e).backgroundColor);
                if (c && c.a > 0) return c;
              }
              return parse(getComputedStyle(document.documentElement).backgroundColor) || { r: 255, g: 255, b: 255 };
            };
            const failures = [];
            const seen = new Set();
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            while (walker.nextNode()) {
              const node = walker.currentNode;
              const el = node.parentElement;
              if (!node.textContent.trim() || seen.has(el)) continue;
              seen.add(el);
              if (el.offsetParent === null || el.closest(':disabled, [aria-hidden=true]')) continue;
              const style = getComputedStyle(el);
              const fg = parse(style.color), bg = background(el);
              const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
              const ratio = (hi + 0.05) / (lo + 0.05);
              const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
              const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
              if (ratio < need) {
                failures.push({ text: node.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100,
                                need, color: style.color, background: `rgb(${bg.r}, ${bg.g}, ${bg.b})` });
              }
            }
            return failures;
            "#,
        )
        .await
    }

    /// The `lang` of the page's `<html>`.
    pub async fn page_language(&self) -> Value {
        self.eval("return document.documentElement.lang;").await
    }

    /// Waits for the consent page of the request whose binding message contains `binding_message`
    /// (with Approve: a request that needs no code check first).
    pub async fn wait_for_consent_page(&self, binding_message: &str) {
        self.wait_for("#approve").await;
        let shown = self.text_of(".binding-message").await;
        assert!(shown.contains(binding_message), "{shown}");
    }

    /// Opens the first request in the list, once the list shows one, and waits for its consent page
    /// (Deny is always there, whatever else the page asks first).
    pub async fn open_first_request(&self) {
        self.wait_for("a[data-request-id]")
            .await
            .click()
            .await
            .unwrap();
        self.wait_for("#deny").await;
    }

    /// Opens "What it may access" on the consent page (if it is not open yet), so the scope
    /// checkboxes and the device name can be used, as a person has to.
    pub async fn show_scopes(&self) {
        let toggle = self.wait_for("details.access > summary").await;
        let open = self
            .eval("return document.querySelector('details.access').open;")
            .await;
        if open != json!(true) {
            toggle.click().await.unwrap();
        }
        self.wait_for("details.access[open] input[name=scope]")
            .await;
    }

    /// Clicks Approve on the consent page and waits for the page to say the request is approved.
    pub async fn approve(&self) {
        self.click("#approve").await;
        self.wait_for("[data-outcome=approved]").await;
    }

    /// Clicks Deny on the consent page and waits for the page to say the request is denied.
    pub async fn deny(&self) {
        self.click("#deny").await;
        self.wait_for("[data-outcome=denied]").await;
    }

    /// Whether an element matching `css` exists right now.
    pub async fn exists(&self, css: &str) -> bool {
        !self.driver.find_all(By::Css(css)).await.unwrap().is_empty()
    }

    /// Signs in on the provider's form, which the SPA sent us to.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.wait_for("#username")
            .await
            .send_keys(username)
            .await
            .unwrap();
        self.wait_for("#password")
            .await
            .send_keys(password)
            .await
            .unwrap();
        self.wait_for("button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
    }

    pub async fn path_and_query(&self) -> String {
        let url = self.driver.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Saves a screenshot under `target/screenshots/` for people to look at.
    pub async fn screenshot(&self, name: &str) {
        let dir = workspace_root().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        self.driver
            .screenshot(&dir.join(format!("{name}.png")))
            .await
            .unwrap();
    }

    /// The next load from `origin` is cold: no service worker (it caches the assets once the list
    /// shows and would answer from Cache Storage), no Cache Storage, no HTTP cache.
    pub async fn forget_everything_cached(&self, origin: &str) {
        let cdp = self.driver.cdp();
        cdp.send_raw(
            "Storage.clearDataForOrigin",
            json!({"origin": origin, "storageTypes": "service_workers,cache_storage"}),
        )
        .await
        .unwrap();
        cdp.send_raw("Network.clearBrowserCache", json!({}))
            .await
            .unwrap();
    }

    /// Turns on CDP's Network domain, which network emulation and blocking need.
    pub async fn enable_network_domain(&self) {
        self.driver
            .cdp()
            .send_raw("Network.enable", json!({}))
            .await
            .unwrap();
    }

    /// Every CSP violation seen on this origin's pages so far.
    pub async fn csp_violations(&self) -> Value {
        self.eval("return JSON.parse(sessionStorage.getItem('cspViolations') || '[]');")
            .await
    }

    /// Ends the session; the pages it showed must have run without a single CSP violation.
    pub async fn quit(self) {
        let violations = self.csp_violations().await;
        let Self { driver, .. } = self;
        driver.quit().await.unwrap();
        assert_eq!(violations, json!([]), "Content-Security-Policy violations");
    }
}

/// The consent page as [`Browser::layout_report`] saw it fits a phone `width` px wide: no sideways
/// scrolling, every control at least 44 px, Approve and Deny of the same size.
pub fn assert_fits_phone(layout: &Value, width: u32) {
    assert_eq!(layout["viewport"], width, "{layout}");
    assert!(
        layout["scrollWidth"].as_f64().unwrap() <= f64::from(width),
        "no sideways scrolling: {layout}"
    );
    assert_eq!(layout["small"], json!([]), "controls under 44 px: {layout}");
    assert_eq!(layout["smallScopeRows"], 0, "{layout}");
    // Approve and Deny carry equal weight: the same size.
    assert_eq!(
        layout["approve"]["width"], layout["deny"]["width"],
        "{layout}"
    );
    assert_eq!(
        layout["approve"]["height"], layout["deny"]["height"],
        "{layout}"
    );
    assert!(
        layout["approve"]["height"].as_f64().unwrap() >= 44.0,
        "{layout}"
    );
}
