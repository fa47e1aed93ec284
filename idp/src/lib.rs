//! ciba-idp: a small, real CIBA OpenID Provider (poll mode) that also hosts the approval SPA.
//!
//! A client starts a sign-in at `/connect/ciba`, the user decides on the approval page (which speaks the
//! JSON contract in [`approval`]), and the client's poll of `/connect/token` then yields tokens or
//! `access_denied`.
//!
//! # Layout
//!
//! | Module | What |
//! | --- | --- |
//! | [`discovery`] | Step 0: the OpenID Provider metadata and the JWKS. |
//! | [`backchannel`] | Step 1: `POST /connect/ciba`, a client asks to authenticate a user. |
//! | [`approval`] | Step 2: the approval API the page speaks (`/api/ciba/…`) and its OpenAPI document. |
//! | [`push_api`], [`push`] | Step 1 → 2: the page subscribes the device; each new request is pushed to it (Web Push), and closed when decided or expired. |
//! | [`code_check`] | Step 2: the binding message's look-alikes for clients with the code check on. |
//! | [`token`] | Step 3: `POST /connect/token`, the client's poll, and refresh tokens. |
//! | [`userinfo`] | Step 4: `/connect/userinfo`, claims for a bearer access token. |
//! | [`claims`] | Which user claims each scope releases (ID token and userinfo). |
//! | [`scopes`] | The space-separated scope text, parsed once; scope names in the language `Accept-Language` asks for. |
//! | [`oauth`] | OAuth plumbing: form parameters, client authentication, OAuth errors, random tokens. |
//! | [`problem`] | The approval API's errors as RFC 9457 problem documents ([`problem::ApiProblem`]). |
//! | [`account`] | The server-rendered sign-in and sign-out pages. |
//! | [`session`], [`session_store`] | The cookie session, its extractor, and its SQLite store. |
//! | [`origin`] | Whether a state-changing request came from a foreign origin. |
//! | [`limits`] | Rate limits on prompts and password attempts. |
//! | [`keys`] | The signing key: ID tokens, JWKS, the sign-in form's anti-forgery tokens. |
//! | [`db`] | SQLite storage: requests, tokens, keys (schema in `migrations/`). |
//! | [`config`] | The TOML configuration: users, clients, scopes, settings. |
//! | [`state`] | [`state::AppState`], what every handler can reach, and the purger. |
//! | [`clock`] | Unix seconds, and RFC 3339 for the API. |
//! | [`routes`] | The route table and the security headers every response gets. |
//! | [`csp`] | The Content-Security-Policy. |
//! | [`spa`] | The built page (`dist/`) at `/ciba/`: cache headers, `mount.js`, inline-script hashes. |
//! | [`serve`] | The accept loop: read timeouts and a connection limit. |
//! | [`demo`], [`demo_portal`] | `--demo` requests, and the demo vendor portal and mount page. |

pub mod account;
pub mod approval;
pub mod backchannel;
pub mod claims;
pub mod clock;
pub mod code_check;
pub mod config;
pub mod csp;
pub mod db;
pub mod demo;
pub mod demo_portal;
pub mod discovery;
pub mod keys;
pub mod limits;
pub mod oauth;
pub mod origin;
pub mod problem;
pub mod push;
pub mod push_api;
pub mod routes;
pub mod scopes;
pub mod serve;
pub mod session;
pub mod session_store;
pub mod spa;
pub mod state;
pub mod token;
pub mod userinfo;

use std::path::PathBuf;

use axum::Router;

use crate::config::{Config, CookieSameSite};
use crate::db::Db;
use crate::spa::Spa;
use crate::state::AppState;

/// How to start a provider.
pub struct Options {
    pub config: Config,
    pub db: String,
    pub issuer: String,
    /// The built SPA (Trunk's `dist/`), served at `/ciba/`.
    pub dist: Option<PathBuf>,
    pub demo: bool,
    /// Serve the same-origin demo host page for the mount entry point at `/demo/mount`.
    pub demo_pages: bool,
}

/// Opens storage, loads the key, seeds demo data, starts the purger, and returns [`routes::router`]
/// ready to serve.
pub async fn build(options: Options) -> anyhow::Result<Router> {
    if options.config.embedding.cookie_same_site == CookieSameSite::None
        && !options.issuer.starts_with("https://")
    {
        anyhow::bail!(
            "embedding.cookie_same_site = \"none\" needs an https issuer: browsers drop SameSite=None \
             cookies that are not Secure, and Secure cookies need https"
        );
    }
    let db = Db::open(&options.db).await?;
    let state = AppState::new(options.config, db, &options.issuer).await?;
    if options.demo {
        demo::seed(&state).await?;
    }
    state.spawn_purger();
    push::spawn_sweeper(&state);
    Ok(routes::router(
        state,
        options.dist.map(Spa::load),
        options.demo_pages,
    ))
}
