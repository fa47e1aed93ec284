//! A real `ciba-idp` per test (its own process, in-memory database, the repository's configuration with
//! higher rate limits and a one-second poll interval), and the kit run as the integrator runs it.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn workspace_root() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

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
            "ciba-conformance-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The repository's configuration, edited for tests: limits that many runs cannot reach, polls every
/// second, and Duende's forgetting when asked for.
pub fn config(duende_forgets: bool) -> String {
    let demo = std::fs::read_to_string(workspace_root().join("idp/ciba-idp.toml")).unwrap();
    let mut edited = demo.replace("poll_interval_secs = 5", "poll_interval_secs = 1");
    for limit in [
        "backchannel_per_user_per_minute = 5",
        "backchannel_per_client_per_minute = 60",
        "login_per_user_per_minute = 5",
        "login_per_ip_per_minute = 20",
    ] {
        assert!(
            edited.contains(limit),
            "idp/ciba-idp.toml changed shape: no {limit:?}"
        );
        let name = limit.split(" = ").next().unwrap();
        edited = edited.replace(limit, &format!("{name} = 10000"));
    }
    assert!(
        edited.contains("poll_interval_secs = 1"),
        "idp/ciba-idp.toml changed shape"
    );
    if duende_forgets {
        edited.push_str("\n[duende]\nremove_decided_on_poll = true\n");
    }
    edited
}

/// `ciba-idp` in its own process, killed on drop.
pub struct Idp {
    /// Where it listens (the issuer may be a proxy in front of it).
    pub base: String,
    child: Child,
    _dir: TempDir,
}

impl Idp {
    /// A provider whose issuer is its own address.
    pub async fn start(duende_forgets: bool) -> Self {
        Self::start_behind(None, duende_forgets).await
    }

    /// A provider whose issuer (and so every discovered URL) is `issuer`, e.g. a proxy's address.
    pub async fn start_behind(issuer: Option<&str>, duende_forgets: bool) -> Self {
        let root = workspace_root();
        let binary = std::env::var_os("CIBA_IDP_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/debug/ciba-idp"));
        assert!(
            binary.is_file(),
            "build ciba-idp first: {} is missing (`make conformance` builds it)",
            binary.display()
        );
        let dist = std::env::var_os("CIBA_DIST")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("dist"));
        assert!(
            dist.join("index.html").is_file(),
            "build the SPA first: {} is missing; the csp promise checks the page ciba-idp serves from it \
             (`make` builds dist/, or set CIBA_DIST)",
            dist.join("index.html").display()
        );
        let dir = TempDir::new();
        let config = dir.0.join("ciba-idp.toml");
        std::fs::write(&config, self::config(duende_forgets)).unwrap();
        // A free port may be taken by a neighbour before ciba-idp binds it: then try another.
        for _ in 0..3 {
            let port = free_port();
            let mut command = Command::new(&binary);
            command
                .arg("--config")
                .arg(&config)
                .args(["--db", ":memory:", "--listen", &format!("127.0.0.1:{port}")])
                .arg("--dist")
                .arg(&dist)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null());
            if let Some(issuer) = issuer {
                command.args(["--issuer", issuer]);
            }
            let mut child = command.spawn().expect("ciba-idp starts");
            let base = format!("http://127.0.0.1:{port}");
            let discovery = format!("{base}/.well-known/openid-configuration");
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if reqwest::get(&discovery).await.is_ok() {
                    return Self {
                        base,
                        child,
                        _dir: dir,
                    };
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "ciba-idp did not start listening"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        panic!("ciba-idp exited three times on start (see its output above)");
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What one run of `ciba-conformance` printed and how it exited.
pub struct KitRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for KitRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl KitRun {
    pub fn last_line(&self) -> &str {
        self.stdout.lines().last().unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{self}"))
    }

    /// The ids of the failed promises (not the skipped ones), from a `--json` run.
    pub fn failed(&self) -> Vec<String> {
        self.json()["promises"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["passed"] == false && p["skipped"] != true)
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The kit's arguments for a host at `issuer`, signing in as alice, plus `extra`.
pub fn kit_args(issuer: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--issuer",
        issuer,
        "--client-id",
        "demo-client",
        "--client-secret",
        "demo-secret",
        "--login-hint",
        "alice",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// Runs the built `ciba-conformance` binary.
pub async fn kit(args: &[String]) -> KitRun {
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ciba-conformance"))
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), child)
        .await
        .expect("the kit finishes within two minutes")
        .expect("the kit runs");
    KitRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
