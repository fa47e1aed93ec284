//! A fresh provider per test (in-memory database) and the clients that talk to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ciba_idp::config::Config;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

pub const DEMO_CONFIG: &str = include_str!("../../ciba-idp.toml");

/// A client that exists but may not use CIBA, for `unauthorized_client`.
const NO_CIBA_CLIENT: &str = r#"
[[clients]]
client_id = "no-ciba"
client_secret = "no-ciba-secret"
client_name = "No CIBA"
allowed_scopes = ["openid"]
allow_ciba = false
"#;

pub struct Idp {
    pub base: String,
}

impl Idp {
    pub async fn start() -> Self {
        Self::start_with_config(|demo| demo).await
    }

    /// A provider whose demo configuration `edit` changed first.
    pub async fn start_with_config(edit: impl FnOnce(String) -> String) -> Self {
        let text = edit(format!("{DEMO_CONFIG}{NO_CIBA_CLIENT}"));
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
        Self { base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /connect/ciba` as `demo-client` (client_secret_basic).
    pub async fn backchannel(&self, params: &[(&str, &str)]) -> Response {
        self.backchannel_as("demo-client", "demo-secret", params)
            .await
    }

    pub async fn backchannel_as(
        &self,
        client_id: &str,
        secret: &str,
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

    /// Starts a request for `user` and returns its `auth_req_id`.
    pub async fn start_request(&self, user: &str, scope: &str, binding_message: &str) -> String {
        let response = self
            .backchannel(&[
                ("scope", scope),
                ("login_hint", user),
                ("binding_message", binding_message),
            ])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["auth_req_id"].as_str().unwrap().to_owned()
    }

    /// Polls the token endpoint once as `demo-client`.
    pub async fn poll(&self, auth_req_id: &str) -> (StatusCode, Value) {
        self.poll_as("demo-client", "demo-secret", auth_req_id)
            .await
    }

    pub async fn poll_as(
        &self,
        client_id: &str,
        secret: &str,
        auth_req_id: &str,
    ) -> (StatusCode, Value) {
        let response = Client::new()
            .post(self.url("/connect/token"))
            .basic_auth(client_id, Some(secret))
            .form(&[
                ("grant_type", "urn:openid:params:grant-type:ciba"),
                ("auth_req_id", auth_req_id),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// A browser-like client (cookie jar, no redirects followed) signed in as `user`.
    pub async fn browser(&self, user: &str) -> Client {
        let browser = self.anonymous_browser();
        let response = self.sign_in(&browser, user, user, "/ciba/").await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in as {user}"
        );
        browser
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
        browser
            .post(self.url("/Account/Login"))
            .form(&[
                ("username", username),
                ("password", password),
                ("ReturnUrl", return_url),
                ("form_token", &token),
            ])
            .send()
            .await
            .unwrap()
    }

    /// `GET path` as the browser's user, as text (a server-rendered page).
    pub async fn page(&self, browser: &Client, path: &str) -> String {
        browser
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// `GET path` as the browser's user, as JSON.
    pub async fn get_json(&self, browser: &Client, path: &str) -> Value {
        browser
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The internal id of the only pending request of the browser's user.
    pub async fn only_pending_id(&self, browser: &Client) -> String {
        let list = self.get_json(browser, "/api/ciba/requests").await;
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        list[0]["internalId"].as_str().unwrap().to_owned()
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

/// `ciba-idp` as deployed: its own process over a database file.
pub struct Process {
    child: Child,
}

impl Process {
    /// With the demo configuration, logging only warnings.
    pub async fn start(db: &Path, port: u16) -> Self {
        let config = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/ciba-idp.toml"));
        Self::start_with(config, db, port, "warn", None).await
    }

    /// With `config`, logging at `rust_log` into the file `log` (both stdout and stderr) if given.
    pub async fn start_with(
        config: &Path,
        db: &Path,
        port: u16,
        rust_log: &str,
        log: Option<&Path>,
    ) -> Self {
        let output = || match log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap(),
            ),
            None => Stdio::null(),
        };
        let child = Command::new(env!("CARGO_BIN_EXE_ciba-idp"))
            .arg("--config")
            .arg(config)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--db")
            .arg(db)
            .env("RUST_LOG", rust_log)
            .stdin(Stdio::null())
            .stdout(output())
            .stderr(if log.is_some() {
                output()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("ciba-idp starts");
        let discovery = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(&discovery).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "ciba-idp did not start listening"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the process gets no chance to flush, close or checkpoint anything.
    pub fn kill_hard(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scratch directory, removed on drop.
pub struct TempDb(pub PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
