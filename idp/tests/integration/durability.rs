//! What a crash must not lose: the real binary over a database file, killed with SIGKILL (no chance to
//! flush anything) and started again.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::Idp;

/// `ciba-idp` as deployed: its own process, a database file, the demo configuration.
struct Process {
    child: Child,
}

impl Process {
    async fn start(db: &Path, port: u16) -> Self {
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/ciba-idp.toml");
        let child = Command::new(env!("CARGO_BIN_EXE_ciba-idp"))
            .args(["--config", config, "--listen", &format!("127.0.0.1:{port}")])
            .arg("--db")
            .arg(db)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
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

    /// SIGKILL: the process gets no chance to flush, close or checkpoint anything.
    fn kill_hard(mut self) {
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

struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn decisions_and_pending_requests_survive_kill_9() {
    let dir = std::env::temp_dir().join(format!(
        "ciba-durability-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = TempDb(dir.clone());
    let db = dir.join("ciba-idp.db");
    let port = free_port();
    let idp = Idp {
        base: format!("http://127.0.0.1:{port}"),
    };

    let server = Process::start(&db, port).await;
    let approved = idp
        .start_request("alice", "openid profile", "approved then crash")
        .await;
    let alice = idp.browser("alice").await;
    let approved_id = idp.only_pending_id(&alice).await;
    let pending = idp.start_request("alice", "openid", "still pending").await;
    let before = idp.get_json(&alice, "/api/ciba/requests").await;
    let response = idp
        .complete(
            &alice,
            json!({"internalId": approved_id, "scopesValuesConsented": ["openid", "profile"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    server.kill_hard();

    let _server = Process::start(&db, port).await;
    let (status, tokens) = idp.poll(&approved).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["scope"], "openid profile");
    let (_, waiting) = idp.poll(&pending).await;
    assert_eq!(waiting["error"], "authorization_pending", "{waiting}");

    let alice = idp.browser("alice").await;
    let after = idp.get_json(&alice, "/api/ciba/requests").await;
    let still_pending = before
        .as_array()
        .unwrap()
        .iter()
        .find(|request| request["bindingMessage"] == "still pending")
        .unwrap();
    assert_eq!(
        after,
        json!([still_pending]),
        "the pending request, with the same expiry"
    );
}
