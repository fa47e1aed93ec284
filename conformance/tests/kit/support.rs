//! A real `ciba-idp` per test (its own process, in-memory database, the repository's configuration with
//! limits no run reaches and a one-second poll interval, serving the built page for the csp promise),
//! from the shared test-support crate; and the kit run as the integrator runs it.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

pub use ciba_test_support::{DemoConfig, Provider as Idp, ProviderOptions, TempDir};

/// A provider whose issuer (and so every discovered URL) is `issuer` when given, e.g. a proxy's
/// address; with Duende's forgetting of decided requests when asked.
pub async fn start_idp(issuer: Option<&str>, duende_forgets: bool) -> Idp {
    let mut config = DemoConfig::load().for_fast_tests();
    if duende_forgets {
        config = config.duende_forgets_decisions();
    }
    Idp::start_with(ProviderOptions {
        config,
        spa: true,
        issuer: issuer.map(str::to_owned),
        ..ProviderOptions::default()
    })
    .await
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
