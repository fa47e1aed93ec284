//! The real `ciba-idp` binary, started the way a deployer starts it (`--config`, `--db`, `--listen`,
//! `--dist`), one per test so tests cannot see each other's requests; and the two parties of a CIBA
//! sign-in against it: a client (start a request, poll) and a signed-in browser session over HTTP.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{DemoConfig, Host, Process, TempDir, free_port, wait_until_listening, workspace_root};

/// How to start the provider.
pub struct ProviderOptions {
    /// The binary; default [`binary()`].
    pub binary: Option<PathBuf>,
    pub config: DemoConfig,
    /// Serve the built SPA from `dist/` (`CIBA_DIST` overrides); the build must exist.
    pub spa: bool,
    /// Also serve the demo vendor portal, its origin under this host name (`127.0.0.1`, or `localhost`
    /// for another site).
    pub portal_host: Option<String>,
    /// The public origin, when something (a proxy) stands in front; default `http://127.0.0.1:<port>`.
    pub issuer: Option<String>,
    /// A database file that outlives the process (restart tests); default `:memory:`.
    pub db: Option<PathBuf>,
    /// `RUST_LOG`, and a file for the process's output (else it is dropped).
    pub rust_log: String,
    pub log: Option<PathBuf>,
    /// Listen here instead of a free port (a restart on the same address).
    pub port: Option<u16>,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        Self {
            binary: None,
            config: DemoConfig::load(),
            spa: false,
            portal_host: None,
            issuer: None,
            db: None,
            rust_log: "warn".into(),
            log: None,
            port: None,
        }
    }
}

/// A running `ciba-idp`.
pub struct Provider {
    /// Where it listens, and the parties that talk to it.
    pub host: Host,
    pub port: u16,
    /// The demo portal's origin, when started with one.
    pub portal: Option<String>,
    process: Process,
    _dir: TempDir,
}

/// Where the binary is: `CIBA_IDP_BIN`, else the debug build `make` makes first.
pub fn binary() -> PathBuf {
    let binary = std::env::var_os("CIBA_IDP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug/ciba-idp"));
    assert!(
        binary.is_file(),
        "build ciba-idp first ({} is missing; `make test` does)",
        binary.display()
    );
    binary
}

/// The built SPA: `CIBA_DIST`, else `dist/`.
pub fn dist() -> PathBuf {
    let dist = std::env::var_os("CIBA_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("dist"));
    assert!(
        dist.join("index.html").is_file(),
        "build the SPA first ({} is missing; `make dist/index.html`)",
        dist.display()
    );
    dist
}

impl Provider {
    /// The demo configuration, no SPA.
    pub async fn start() -> Self {
        Self::start_with(ProviderOptions::default()).await
    }

    pub async fn start_with(options: ProviderOptions) -> Self {
        let dir = TempDir::new();
        let mut config = options.config;
        let portal = options.portal_host.map(|host| {
            let portal_port = free_port();
            let origin = format!("http://{host}:{portal_port}");
            config =
                std::mem::take(&mut config).set("embedding.allowed_origins", vec![origin.clone()]);
            (origin, portal_port)
        });
        let config_path = config.write(&dir.0);
        let binary = options.binary.unwrap_or_else(binary);
        let output = || match &options.log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .unwrap(),
            ),
            None => Stdio::null(),
        };
        // A free port may be taken by a neighbour before ciba-idp binds it: then try another.
        let (process, port) = 'started: {
            for _ in 0..3 {
                let port = options.port.unwrap_or_else(free_port);
                let mut command = Command::new(&binary);
                command
                    .arg("--config")
                    .arg(&config_path)
                    .arg("--db")
                    .arg(options.db.clone().unwrap_or_else(|| ":memory:".into()))
                    .args(["--listen", &format!("127.0.0.1:{port}")])
                    .env("RUST_LOG", &options.rust_log);
                if options.spa {
                    command.arg("--dist").arg(dist());
                }
                if let Some(issuer) = &options.issuer {
                    command.args(["--issuer", issuer]);
                }
                if let Some((_, portal_port)) = &portal {
                    command.args(["--demo-portal", &format!("127.0.0.1:{portal_port}")]);
                }
                // Without a log file, what it says on stderr (a panic) shows in the test's output.
                command.stdout(output()).stderr(if options.log.is_some() {
                    output()
                } else {
                    Stdio::inherit()
                });
                let mut process = Process::spawn(&mut command);
                if listening(&mut process, port).await {
                    break 'started (process, port);
                }
            }
            panic!("ciba-idp exited three times on start (see its output above)");
        };
        let base = format!("http://127.0.0.1:{port}");
        if let Some((origin, _)) = &portal {
            wait_until_listening(&format!("{origin}/"), "the demo portal").await;
        }
        Self {
            host: Host::new(base),
            port,
            portal: portal.map(|(origin, _)| origin),
            process,
            _dir: dir,
        }
    }

    /// The process id (for its memory use).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// SIGKILL: no chance to flush, close or checkpoint anything.
    pub fn kill_hard(self) {
        self.process.kill_hard();
    }
}

/// Waits until the provider answers discovery (true) or its process has exited (false).
async fn listening(process: &mut Process, port: u16) -> bool {
    let discovery = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if reqwest::get(&discovery).await.is_ok() {
            return true;
        }
        if process.0.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(
            Instant::now() < deadline,
            "ciba-idp did not start listening"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl std::ops::Deref for Provider {
    type Target = Host;

    fn deref(&self) -> &Host {
        &self.host
    }
}
