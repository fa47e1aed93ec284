use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use ciba_idp::config::Config;
use clap::{Parser, Subcommand};

/// A small CIBA OpenID Provider (poll mode) that hosts the ciba-approval page.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The TOML configuration: users, clients, scopes.
    #[arg(long, default_value = "ciba-idp.toml")]
    config: PathBuf,
    /// The SQLite file, or `:memory:`.
    #[arg(long, default_value = "ciba-idp.db")]
    db: String,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Our public origin (default: http://<listen>).
    #[arg(long)]
    issuer: Option<String>,
    /// The built approval SPA to serve at /ciba/.
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Start two pending requests for alice.
    #[arg(long)]
    demo: bool,
    /// Also serve a demo vendor portal on this address (another origin) that embeds the approval
    /// page in an iframe, and a same-origin demo page for the mount entry point at /demo/mount.
    #[arg(long, value_name = "ADDRESS")]
    demo_portal: Option<SocketAddr>,
}

#[derive(Subcommand)]
enum Command {
    /// Read a password on stdin and print its Argon2 hash for the configuration file.
    HashPassword,
    /// Print the approval API's OpenAPI document.
    Openapi,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into()),
        )
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ciba-idp: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::HashPassword) => {
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let salt = SaltString::generate(&mut OsRng);
            let hash = argon2::Argon2::default()
                .hash_password(password.trim_end_matches(['\r', '\n']).as_bytes(), &salt)
                .map_err(|e| anyhow::anyhow!("cannot hash: {e}"))?;
            println!("{hash}");
            Ok(())
        }
        Some(Command::Openapi) => {
            print!("{}", ciba_idp::approval::openapi_json());
            Ok(())
        }
        None => serve(cli),
    }
}

#[tokio::main]
async fn serve(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)?;
    let issuer = cli
        .issuer
        .unwrap_or_else(|| format!("http://{}", cli.listen));
    if let Some(dist) = &cli.dist
        && !dist.join("index.html").is_file()
    {
        anyhow::bail!(
            "--dist {} has no index.html (build the SPA first: trunk build --release)",
            dist.display()
        );
    }
    let server = config.server.clone();
    let app = ciba_idp::build(ciba_idp::Options {
        config,
        db: cli.db,
        issuer: issuer.clone(),
        dist: cli.dist,
        demo: cli.demo,
        demo_pages: cli.demo_portal.is_some(),
    })
    .await?;
    if let Some(address) = cli.demo_portal {
        let portal = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address} for the demo portal"))?;
        tracing::info!("demo portal on http://{address}/ (frames {issuer}/ciba/)");
        let app = ciba_idp::demo_portal::portal(&issuer);
        let server = server.clone();
        tokio::spawn(async move {
            ciba_idp::serve::serve(portal, app, &server, std::future::pending()).await
        });
    }
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    tracing::info!("ciba-idp listening on {issuer} (approval page: {issuer}/ciba/)");
    // Header and body read timeouts and a connection limit ([server]); see src/serve.rs.
    ciba_idp::serve::serve(listener, app, &server, shutdown()).await;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
