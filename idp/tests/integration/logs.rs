//! What the logs must never hold: passwords (right or wrong), session ids, tokens; and binding
//! messages only when debug logging is asked for. The real binary, its output captured, through a
//! whole flow: a failed and a good sign-in, a request, the decision, the tokens, sign-out.

use std::io::Write;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{DEMO_CLIENT, DemoConfig, Idp, Provider, ProviderOptions, TempDir, spawned};

const PASSWORD: &str = "Correct-Horse-7f3a";
const WRONG_PASSWORD: &str = "Wrong-Battery-9c1d";
const BINDING_MESSAGE: &str = "Till 9: BX-4471";

/// An Argon2 hash of `password`, made by the binary the way an operator would.
fn hash_password(password: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ciba-idp"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Runs the flow against a server logging at `rust_log`; returns everything it printed and the
/// secrets that went past it.
async fn flow_logged_at(rust_log: &str) -> (String, Vec<String>) {
    let dir = TempDir::new();
    let mut carol = toml::Table::new();
    carol.insert("subject".into(), "555001".into());
    carol.insert("username".into(), "carol".into());
    carol.insert("password_hash".into(), hash_password(PASSWORD).into());
    carol.insert("name".into(), "Carol".into());
    let log = dir.0.join("ciba-idp.log");
    let server = Provider::start_with(ProviderOptions {
        db: Some(dir.0.join("db")),
        rust_log: rust_log.into(),
        log: Some(log.clone()),
        ..spawned(DemoConfig::load().push("users", carol))
    })
    .await;
    let idp = Idp::at(server.base.clone());

    let browser = idp.anonymous_browser();
    let refused = idp
        .sign_in(&browser, "carol", WRONG_PASSWORD, "/ciba/")
        .await;
    assert_ne!(refused.status(), StatusCode::SEE_OTHER);
    let signed_in = idp.sign_in(&browser, "carol", PASSWORD, "/ciba/").await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session_cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|cookie| cookie.split(';').next()?.split_once('='))
        .map(|(_, value)| value.to_owned())
        .find(|value| value.len() >= 16)
        .expect("a session cookie");
    let auth_req_id = idp
        .start_request("carol", "openid profile offline_access", BINDING_MESSAGE)
        .await;
    let internal_id = idp.only_pending_id(&browser).await;
    let decided = idp
        .complete(
            &browser,
            json!({"internalId": internal_id, "scopesValuesConsented": ["openid", "profile", "offline_access"]}),
        )
        .await;
    assert_eq!(decided.status(), StatusCode::NO_CONTENT);
    let (status, tokens) = idp.poll_json(DEMO_CLIENT, &auth_req_id).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let mut secrets = vec![
        PASSWORD.to_owned(),
        WRONG_PASSWORD.to_owned(),
        session_cookie,
        auth_req_id,
    ];
    for token in ["access_token", "id_token", "refresh_token"] {
        secrets.push(tokens[token].as_str().expect(token).to_owned());
    }
    server.kill_hard();
    (std::fs::read_to_string(&log).unwrap(), secrets)
}

fn assert_keeps_secrets(logs: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret ({}…) is in the logs:\n{logs}",
            &secret[..6]
        );
    }
}

#[tokio::test]
async fn at_the_default_level_the_logs_say_what_happened_and_nothing_sensitive() {
    let (logs, secrets) = flow_logged_at("info").await;
    assert!(logs.contains("signed in"), "the logs are captured:\n{logs}");
    assert!(logs.contains("login request completed"), "{logs}");
    assert_keeps_secrets(&logs, &secrets);
    assert!(
        !logs.contains(BINDING_MESSAGE),
        "binding messages only at debug level:\n{logs}"
    );
}

#[tokio::test]
async fn even_debug_logging_keeps_passwords_sessions_and_tokens_out() {
    let (logs, secrets) = flow_logged_at("debug").await;
    assert!(
        logs.contains(BINDING_MESSAGE),
        "debug logging is on and shows the binding message:\n{logs}"
    );
    assert_keeps_secrets(&logs, &secrets);
}
