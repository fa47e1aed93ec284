//! `ciba-conformance`: points the kit at a host and prints which promises of the contract it keeps.

use std::process::ExitCode;

use ciba_conformance::checks::{self, Auth, Settings};
use clap::Parser;
use url::Url;

/// Proves that an identity provider keeps the ciba-approval contract: starts CIBA requests as a client,
/// decides them as the signed-in user through the approval API, and checks every promise.
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// The provider's issuer, e.g. https://id.example.com (discovery is read from it).
    #[arg(long)]
    issuer: String,
    /// A client allowed to use CIBA, with client_secret_basic.
    #[arg(long)]
    client_id: String,
    /// The client's secret.
    #[arg(long)]
    client_secret: String,
    /// The user the kit's requests are for: the same user as the session.
    #[arg(long)]
    login_hint: String,
    /// The user's session cookie, NAME=VALUE, copied from a signed-in browser.
    #[arg(long, required_unless_present = "sign_in", conflicts_with = "sign_in")]
    cookie: Option<String>,
    /// Sign in through the host's sign-in form instead.
    #[arg(long, value_name = "USER:PASSWORD")]
    sign_in: Option<String>,
    /// Write the report as JSON: to FILE (the lines still print), or alone instead of the lines.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    json: Option<String>,
    /// The scopes to request; at least one must be optional, so a partial grant means something.
    #[arg(long, default_value = "openid profile email")]
    scope: String,
    /// The approval API [default: {issuer}/api/ciba].
    #[arg(long)]
    api_base: Option<String>,
    /// The approval page [default: {issuer}/ciba/].
    #[arg(long)]
    page_url: Option<String>,
    /// The sign-in page [default: {issuer}/Account/Login].
    #[arg(long)]
    login_url: Option<String>,
    /// A client of the host with the code check on (verifyBindingMessage), for the code-check
    /// promise; skipped without it.
    #[arg(long, requires = "verify_client_secret")]
    verify_client_id: Option<String>,
    /// That client's secret.
    #[arg(long, requires = "verify_client_id")]
    verify_client_secret: Option<String>,
}

fn url(flag: &str, given: Option<String>, default: String) -> Result<Url, String> {
    let text = given.unwrap_or(default);
    Url::parse(&text).map_err(|e| format!("--{flag} {text:?} is not a URL: {e}"))
}

fn settings(cli: Cli) -> Result<Settings, String> {
    let issuer = cli.issuer.trim_end_matches('/').to_owned();
    Url::parse(&issuer).map_err(|e| format!("--issuer {issuer:?} is not a URL: {e}"))?;
    let auth = match (cli.cookie, cli.sign_in) {
        (Some(cookie), _) => Auth::Cookie(cookie),
        (None, Some(sign_in)) => {
            let (user, password) = sign_in
                .split_once(':')
                .ok_or("--sign-in must be USER:PASSWORD")?;
            Auth::SignIn {
                user: user.to_owned(),
                password: password.to_owned(),
            }
        }
        (None, None) => return Err("give --cookie or --sign-in".into()),
    };
    Ok(Settings {
        api_base: url("api-base", cli.api_base, format!("{issuer}/api/ciba"))?,
        page_url: url("page-url", cli.page_url, format!("{issuer}/ciba/"))?,
        login_url: url(
            "login-url",
            cli.login_url,
            format!("{issuer}/Account/Login"),
        )?,
        issuer,
        client_id: cli.client_id,
        client_secret: cli.client_secret,
        login_hint: cli.login_hint,
        auth,
        scope: cli.scope,
        verify_client: cli.verify_client_id.zip(cli.verify_client_secret),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json.clone();
    let settings = match settings(cli) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("ciba-conformance: {error}");
            return ExitCode::from(2);
        }
    };
    let report = checks::run(&settings).await;
    match json.as_deref() {
        Some("-") => print!("{}", report.json()),
        Some(file) => {
            print!("{}", report.lines());
            if let Err(error) = std::fs::write(file, report.json()) {
                eprintln!("ciba-conformance: cannot write {file}: {error}");
                return ExitCode::from(2);
            }
        }
        None => print!("{}", report.lines()),
    }
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
