//! What the test crates share (idp/tests, tests/e2e, the bench, the conformance kit's own tests): the
//! real `ciba-idp` as a process ([`provider`]), its configuration edited by name and checked
//! ([`config`]), and the plumbing under both — free ports, scratch directories, child processes that
//! die with the test. [`push_receiver`] plays a Web Push service. The protocol itself is spoken by `ciba-conformance`'s typed client and browser
//! session, re-exported here, so every test starts requests, polls and signs in the same way an
//! integrator's conformance run does.

pub mod config;
pub mod host;
pub mod provider;
pub mod push_receiver;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use ciba_conformance::client::{self, TokenAnswer, Tokens};
pub use ciba_conformance::user::{self, BrowserSession};
pub use config::DemoConfig;
pub use host::{DEMO_CLIENT, Host};
pub use provider::{Provider, ProviderOptions};

/// The repository root (this crate lives in `tests/support`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scratch directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "ciba-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process, killed and reaped when the test ends, pass or fail (PID 1 here reaps nobody).
pub struct Process(pub Child);

impl Process {
    pub fn spawn(command: &mut Command) -> Self {
        let child = command
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        Self(child)
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// SIGKILL: the process gets no chance to flush, close or checkpoint anything.
    pub fn kill_hard(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `url` answers at all (any status), for at most 20 seconds.
pub async fn wait_until_listening(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not start listening at {url}");
}
