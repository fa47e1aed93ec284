//! A fresh provider per test (in-memory database, served inside the test process so it can be built
//! from any configuration), and the parties that talk to it: the shared test-support crate's typed
//! client and signed-in browser, plus the raw calls the protocol and login tests examine.

use std::ops::Deref;
use std::time::Duration;

use ciba_idp::config::Config;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub use ciba_test_support::{
    DEMO_CLIENT, DemoConfig, Host, Provider, ProviderOptions, TempDir, free_port,
};

pub const DEMO_CONFIG: &str = include_str!("../../ciba-idp.toml");

/// The binary this test run built, as deployed (its own process), with `config`.
pub fn spawned(config: DemoConfig) -> ProviderOptions {
    ProviderOptions {
        binary: Some(env!("CARGO_BIN_EXE_ciba-idp").into()),
        config,
        ..ProviderOptions::default()
    }
}

/// A client that exists but may not use CIBA, for `unauthorized_client`.
fn no_ciba_client() -> toml::Table {
    toml::toml! {
        client_id = "no-ciba"
        client_secret = "no-ciba-secret"
        client_name = "No CIBA"
        allowed_scopes = ["openid"]
        allow_ciba = false
    }
}

pub struct Idp {
    host: Host,
}

impl Deref for Idp {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}

impl Idp {
    pub async fn start() -> Self {
        Self::start_with_config(DemoConfig::load()).await
    }

    /// A provider with `config` (the demo configuration, edited by setting name).
    pub async fn start_with_config(config: DemoConfig) -> Self {
        let text = config.push("clients", no_ciba_client()).text();
        let config = Config::parse(&text).expect("test config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = ciba_idp::build(ciba_idp::Options {
            config,
            db: ":memory:".into(),
            issuer: base.clone(),
            dist: None,
            demo: false,
            demo_pages: false,
        })
        .await
        .expect("provider starts");
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap()
        });
        Self::at(base)
    }

    /// The same calls against a provider that runs elsewhere (a spawned binary).
    pub fn at(base: impl Into<String>) -> Self {
        Self {
            host: Host::new(base),
        }
    }

    /// `POST /connect/ciba` as `demo-client` (client_secret_basic), the answer as the wire has it.
    pub async fn backchannel(&self, params: &[(&str, &str)]) -> Response {
        self.backchannel_as(DEMO_CLIENT, params).await
    }

    /// The same as `client` (id and secret).
    pub async fn backchannel_as(
        &self,
        (client_id, secret): (&str, &str),
        params: &[(&str, &str)],
    ) -> Response {
        Client::new()
            .post(self.url("/connect/ciba"))
            .basic_auth(client_id, Some(secret))
            .form(params)
            .send()
            .await
            .unwrap()
    }

    /// A browser-like client (cookie jar, no redirects followed) signed in as `user` (password =
    /// user name in the demo configuration) through the sign-in form.
    pub async fn browser(&self, user: &str) -> Client {
        self.signed_in(user, user).await.http().clone()
    }

    pub fn anonymous_browser(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    /// Loads the sign-in form (for its anti-forgery token) and posts it.
    pub async fn sign_in(
        &self,
        browser: &Client,
        username: &str,
        password: &str,
        return_url: &str,
    ) -> Response {
        let page = self.page(browser, "/Account/Login").await;
        let token = form_token(&page);
        self.post_sign_in_form(
            browser,
            &[
                ("username", username),
                ("password", password),
                ("ReturnUrl", return_url),
                ("form_token", &token),
            ],
        )
        .await
    }

    /// `POST /Account/Login` with exactly `fields`, as a form, from `browser`.
    pub async fn post_sign_in_form(&self, browser: &Client, fields: &[(&str, &str)]) -> Response {
        browser
            .post(self.url("/Account/Login"))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// `GET path` as the browser's user.
    pub async fn get(&self, browser: &Client, path: &str) -> Response {
        browser.get(self.url(path)).send().await.unwrap()
    }

    /// `GET path` as the browser's user, as text (a server-rendered page).
    pub async fn page(&self, browser: &Client, path: &str) -> String {
        self.get(browser, path).await.text().await.unwrap()
    }

    /// `GET path` as the browser's user, as JSON.
    pub async fn get_json(&self, browser: &Client, path: &str) -> Value {
        self.get(browser, path).await.json().await.unwrap()
    }

    /// The internal id of the only pending request of the browser's user.
    pub async fn only_pending_id(&self, browser: &Client) -> String {
        let list = self.get_json(browser, "/api/ciba/requests").await;
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        list[0]["internalId"].as_str().unwrap().to_owned()
    }

    /// The demo client starts a request for `user`; returns `user`'s signed-in browser and the
    /// request's internal id (the only one pending for them).
    pub async fn pending_request_for(
        &self,
        user: &str,
        scope: &str,
        binding_message: &str,
    ) -> (Client, String) {
        self.start_request(user, scope, binding_message).await;
        let browser = self.browser(user).await;
        let internal_id = self.only_pending_id(&browser).await;
        (browser, internal_id)
    }

    /// [`Self::complete`], asserting that the decision was taken (204).
    pub async fn complete_accepted(&self, browser: &Client, body: Value) {
        assert_eq!(
            self.complete(browser, body).await.status(),
            StatusCode::NO_CONTENT
        );
    }

    /// `POST /api/ciba/complete` the way the SPA sends it.
    pub async fn complete(&self, browser: &Client, body: Value) -> Response {
        browser
            .post(self.url("/api/ciba/complete"))
            .header("X-CSRF", "1")
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// A decision that denies `internal_id` (no scopes: `null`), as `complete` takes it.
pub fn denial(internal_id: &str) -> Value {
    json!({"internalId": internal_id, "scopesValuesConsented": null})
}

pub fn form_token(page: &str) -> String {
    let marker = "name=\"form_token\" value=\"";
    let start = page
        .find(marker)
        .expect("the form has an anti-forgery token")
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// Asserts an RFC 9457 problem response and returns its body.
pub async fn assert_problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}
