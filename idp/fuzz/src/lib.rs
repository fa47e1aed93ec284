//! The harness both fuzz targets share: one ciba-idp (the repository's configuration, an in-memory
//! database, rate limits out of the way so deep paths stay reachable) and one request per input.
//!
//! The property: whatever the body and client authentication, the answer is an OAuth error or a
//! success — never a 5xx, never a panic, and always a JSON body.

use std::sync::LazyLock;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ciba_contract::Outcome;
use ciba_idp::clock::now;
use ciba_idp::config::Config;
use ciba_idp::db::{Db, Decision};
use ciba_idp::routes;
use ciba_idp::scopes::Scopes;
use ciba_idp::state::AppState;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// A client allowed to use CIBA, from `idp/ciba-idp.toml`.
const CLIENT: (&str, &str) = ("demo-client", "demo-secret");

pub struct Harness {
    runtime: Runtime,
    app: Router,
    /// `auth_req_id`s the inputs can name as `$PENDING` and `$APPROVED`.
    pending: String,
    approved: String,
}

pub static HARNESS: LazyLock<Harness> = LazyLock::new(Harness::start);

impl Harness {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let mut config =
            Config::parse(include_str!("../../ciba-idp.toml")).expect("the repo config");
        let limits = &mut config.rate_limits;
        limits.backchannel_per_user_per_minute = 1_000_000_000;
        limits.backchannel_per_client_per_minute = 1_000_000_000;
        let (app, pending, approved) = runtime.block_on(async {
            let db = Db::open(":memory:").await.expect("an in-memory database");
            let state = AppState::new(config, db, "http://127.0.0.1:8080")
                .await
                .expect("the provider's state");
            // The provider's own router, as `ciba_idp::build` makes it (no SPA, no demo pages).
            let app = routes::router(state.clone(), None, false);
            let pending = start_request(&app).await;
            let approved = start_request(&app).await;
            let row = state
                .db
                .request_by_auth_req_id(&approved)
                .await
                .unwrap()
                .unwrap();
            let granted = Scopes::parse("openid profile");
            let decision = Decision {
                outcome: Outcome::Approved,
                granted_scopes: Some(&granted),
                description: None,
                session_auth_time: now(),
            };
            assert!(
                state
                    .db
                    .complete(&row.internal_id, &row.subject, now(), &decision)
                    .await
                    .unwrap()
            );
            (app, pending, approved)
        });
        Self {
            runtime,
            app,
            pending,
            approved,
        }
    }

    /// Sends `input` to `path` and checks the property. The first byte picks how the client
    /// authenticates and the content type; the rest is the body (`$PENDING`/`$APPROVED` become real ids).
    pub fn check(&self, path: &str, input: &[u8]) {
        let Some((&mode, body)) = input.split_first() else {
            return;
        };
        let body = self.substitute(body);
        let mut request = Request::post(path);
        request = match mode % 3 {
            0 => request.header(header::AUTHORIZATION, basic(CLIENT.0, CLIENT.1)),
            1 => request,
            _ => request.header(header::AUTHORIZATION, basic(CLIENT.0, "wrong")),
        };
        if mode & 0x80 == 0 {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request.body(Body::from(body)).unwrap();
        self.runtime.block_on(async {
            let response = self.app.clone().oneshot(request).await.unwrap();
            let status = response.status();
            assert!(
                status.is_success() || status.is_client_error(),
                "{path} answered {status}"
            );
            let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
            let json: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("{path} answered {status} without JSON"));
            if status != StatusCode::OK {
                assert!(
                    json["error"].is_string(),
                    "{path}: an error without `error`: {json}"
                );
            }
        });
    }

    fn substitute(&self, body: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(body);
        if !text.contains('$') {
            return body.to_vec();
        }
        text.replace("$PENDING", &self.pending)
            .replace("$APPROVED", &self.approved)
            .into_bytes()
    }
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

async fn start_request(app: &Router) -> String {
    let request = Request::post("/connect/ciba")
        .header(header::AUTHORIZATION, basic(CLIENT.0, CLIENT.1))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "scope=openid%20profile&login_hint=alice&binding_message=FUZZ-1",
        ))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let bytes = to_bytes(response.into_body(), usize::MAX).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    json["auth_req_id"]
        .as_str()
        .expect("an auth_req_id")
        .to_owned()
}
