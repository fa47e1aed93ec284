//! A broken installation is reported, not crashed on: a missing or malformed configuration, or a
//! database file that is not one, ends ciba-idp with exit code 2 and one line saying what and where —
//! never a panic trace.

use std::path::Path;
use std::process::Command;

use crate::support::{DEMO_CONFIG, TempDir, free_port};

/// Starts the binary with `config` and `db`; it must give up at once. Returns what it said.
fn refuses_to_start(config: &Path, db: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_ciba-idp"))
        .arg("--config")
        .arg(config)
        .arg("--db")
        .arg(db)
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "exit code 2: {stderr}");
    assert!(!stderr.contains("panicked"), "no panic trace: {stderr}");
    assert!(stderr.starts_with("ciba-idp: "), "one clear line: {stderr}");
    stderr
}

fn scratch() -> TempDir {
    TempDir::new()
}

#[test]
fn a_missing_configuration_is_named() {
    let dir = scratch();
    let missing = dir.0.join("nowhere.toml");
    let said = refuses_to_start(&missing, &dir.0.join("db"));
    assert!(said.contains("nowhere.toml"), "{said}");
}

#[test]
fn a_malformed_configuration_says_where() {
    let dir = scratch();
    let config = dir.0.join("ciba-idp.toml");
    std::fs::write(
        &config,
        format!("{DEMO_CONFIG}\n[[clients]]\nclient_id = \n"),
    )
    .unwrap();
    let said = refuses_to_start(&config, &dir.0.join("db"));
    assert!(said.contains("ciba-idp.toml"), "{said}");
    assert!(said.contains("line"), "the position of the mistake: {said}");
}

#[test]
fn a_file_that_is_not_a_database_is_refused() {
    let dir = scratch();
    let config = dir.0.join("ciba-idp.toml");
    std::fs::write(&config, DEMO_CONFIG).unwrap();
    let db = dir.0.join("ciba-idp.db");
    std::fs::write(&db, "this is a shopping list, not a database\n".repeat(200)).unwrap();
    let said = refuses_to_start(&config, &db);
    assert!(said.contains("database"), "{said}");
    assert_eq!(
        std::fs::read_to_string(&db).unwrap().lines().next(),
        Some("this is a shopping list, not a database"),
        "the file is left as it was"
    );
}
