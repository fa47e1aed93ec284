//! ciba-idp: a small, real CIBA OpenID Provider (poll mode) that also hosts the approval SPA.
//!
//! A client starts a sign-in at `/connect/ciba`, the user decides on the approval page (which speaks the
//! JSON contract in [`approval`]), and the client's poll of `/connect/token` then yields tokens or
//! `access_denied`.

pub mod account;
pub mod approval;
pub mod backchannel;
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
pub mod serve;
pub mod session;
pub mod session_store;
pub mod token;
pub mod userinfo;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::{get, post};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::config::{Config, CookieSameSite};
use crate::db::Db;
use crate::keys::SigningKey;
use crate::limits::RateLimits;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub keys: Arc<SigningKey>,
    pub limits: Arc<RateLimits>,
    /// Our own origin, e.g. `http://127.0.0.1:8080`: the `iss` of tokens and the base of every link.
    pub issuer: Arc<str>,
}

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

/// Opens storage, loads the key, seeds demo data, and returns the router ready to serve.
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
    let keys = SigningKey::load_or_create(&db, now()).await?;
    let state = AppState {
        limits: Arc::new(RateLimits::new(&options.config.rate_limits)),
        config: Arc::new(options.config),
        db,
        keys: Arc::new(keys),
        issuer: options.issuer.trim_end_matches('/').into(),
    };
    if options.demo {
        demo::seed(&state).await?;
    }
    spawn_purger(state.db.clone(), state.limits.clone());
    Ok(router_with(state, options.dist, options.demo_pages))
}

pub fn router(state: AppState, dist: Option<PathBuf>) -> Router {
    router_with(state, dist, false)
}

/// The provider's routes, with `/demo/mount` when `demo_pages`; every response gets the same
/// security headers.
fn router_with(state: AppState, dist: Option<PathBuf>, demo_pages: bool) -> Router {
    let no_store = SetResponseHeaderLayer::overriding(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    let api = Router::new()
        .route("/session", get(approval::session))
        .route("/embedding", get(approval::embedding))
        .route("/requests", get(approval::list_requests))
        .route("/requests/{internal_id}", get(approval::get_request))
        .route("/complete", post(approval::complete))
        .route("/openapi.json", get(approval::openapi))
        // Unknown paths and methods answer as every other API error: problem+json, no-store.
        .fallback(|| async { problem::ApiError::NotFound })
        .method_not_allowed_fallback(|| async { problem::ApiError::MethodNotAllowed });
    let protocol = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/.well-known/jwks", get(discovery::jwks))
        .route(
            "/connect/ciba",
            post(backchannel::backchannel_authentication).fallback(oauth::method_not_allowed),
        )
        .route(
            "/connect/token",
            post(token::token).fallback(oauth::method_not_allowed),
        )
        .route(
            "/connect/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .nest("/api/ciba", api)
        .layer(no_store)
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ));

    let embedding = &state.config.embedding;
    let sessions =
        SessionManagerLayer::new(session_store::SqliteSessions::new(state.db.pool().clone()))
            .with_name(session::COOKIE_NAME)
            .with_http_only(true)
            .with_same_site(match embedding.cookie_same_site {
                CookieSameSite::Lax => SameSite::Lax,
                CookieSameSite::Strict => SameSite::Strict,
                CookieSameSite::None => SameSite::None,
            })
            .with_secure(state.issuer.starts_with("https://"))
            .with_expiry(Expiry::OnInactivity(time::Duration::seconds(i64::from(
                state.config.session_idle_timeout_secs,
            ))))
            // Saved (and so extended) on every request, not only when it changes: otherwise the idle
            // timeout would count from sign-in and end the session of a user who is busy with it.
            .with_always_save(true);

    let index_html = dist.as_ref().and_then(|dist| {
        let path = dist.join("index.html");
        std::fs::read_to_string(&path)
            .inspect_err(|error| tracing::warn!("cannot read {}: {error}", path.display()))
            .ok()
    });
    let content_security_policy = csp::policy(
        index_html.as_deref(),
        state
            .config
            .clients
            .iter()
            .filter_map(|client| client.logo_uri.as_deref()),
        &state.config.embedding.allowed_origins,
    );

    let mut app = Router::new()
        .merge(protocol)
        .route(
            "/Account/Login",
            get(account::login_page).post(account::login),
        )
        .route(
            "/Account/Logout",
            get(account::logout_page).post(account::logout),
        )
        .route(account::LOGGED_OUT, get(account::logged_out_page))
        .route("/Account/login.css", get(account::stylesheet))
        .route("/", get(|| async { Redirect::to("/ciba/") }));
    if demo_pages {
        app = app.merge(demo_portal::mount_demo());
    }
    if let Some(dist) = dist {
        // Client-side routes (`/ciba/requests/…`) are not files: they all get the SPA's index.html.
        // Brotli or gzip copies (made at build time) are served when the browser accepts them.
        let index = ServeFile::new(dist.join("index.html"))
            .precompressed_br()
            .precompressed_gzip();
        let spa = ServeDir::new(&dist)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(index);
        if let Some(script) = index_html.as_deref().and_then(mount_script) {
            app = app.route(
                "/ciba/mount.js",
                get(move || async move {
                    (
                        [
                            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                            // A stable name over hashed files: revalidated, like index.html.
                            (header::CACHE_CONTROL, "no-cache"),
                        ],
                        script,
                    )
                }),
            );
        }
        let spa = tower::ServiceBuilder::new()
            .layer(axum::middleware::from_fn(spa_cache_headers))
            .service(spa);
        app = app.nest_service("/ciba", spa);
    }
    // Browsers ignore HSTS over plain http; send it only where it means something.
    let hsts = state.issuer.starts_with("https://").then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        )
    });
    let partitioned = embedding
        .cookie_partitioned
        .then(|| axum::middleware::map_response(session::partition_cookie));
    // Outside the session layer, which writes the cookie on the way out.
    app.layer(sessions)
        .layer(tower::util::option_layer(partitioned))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            content_security_policy,
        ))
        .layer(tower::util::option_layer(hsts))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state)
}

/// The loader behind the mount entry point (`/ciba/mount.js`, src/mount.rs), pointing at this build's
/// hashed files as Trunk wrote them into `index.html`. A stable address for host pages to import.
fn mount_script(index_html: &str) -> Option<String> {
    let between = |start: &str, end: &str| {
        let from = index_html.find(start)? + start.len();
        let to = index_html[from..].find(end)?;
        Some(index_html[from..from + to].to_owned())
    };
    let glue = between("import init, * as bindings from '", "'")?;
    let wasm = between("module_or_path: '", "'")?;
    let css = between("<link rel=\"stylesheet\" href=\"", "\"")?;
    Some(format!(
        r#"// ciba-approval's mount entry point (docs/embedding.md); generated by ciba-idp from this build.
import init, {{ mount as mountApproval }} from "{glue}";

let started;

/** Renders the approval UI into `element`, in a shadow root of its own. Options: docs/embedding.md. */
export async function mount(element, options = {{}}) {{
  globalThis.__cibaApprovalMountOnly = true;
  started ??= init({{ module_or_path: "{wasm}" }});
  await started;
  mountApproval(element, {{ stylesheet: "{css}", ...options }});
}}
"#
    ))
}

/// Trunk names every asset after a hash of its content, so those never change and may be cached for
/// good; `index.html` (and every client-side route, which is `index.html`) must be revalidated so a
/// new build is picked up — a repeat visit then costs a 304.
async fn spa_cache_headers(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let immutable = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    let policy = if immutable && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// `main-60aa15abdfbecd52.css`, `ciba-approval-76e14d1fb836ef44_bg.wasm`: a 16-hex-digit content hash.
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    name.match_indices('-').any(|(at, _)| {
        let rest = &name[at + 1..];
        rest.len() > 16
            && rest[..16].chars().all(|c| c.is_ascii_hexdigit())
            && matches!(rest.as_bytes()[16], b'.' | b'_')
    })
}

/// Deletes long-expired requests and tokens once a minute, so nothing stale is kept or shown, and lets
/// the rate limiters forget idle keys.
fn spawn_purger(db: Db, limits: Arc<RateLimits>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            limits.forget_idle();
            match db.purge(now()).await {
                Ok(0) => {}
                Ok(purged) => tracing::debug!(purged, "purged expired rows"),
                Err(error) => tracing::warn!("purge failed: {error}"),
            }
        }
    });
}

/// Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn rfc3339(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;

    use super::{Options, Router, build, config, is_hashed_asset};

    async fn provider(issuer: &str, edit: impl FnOnce(String) -> String) -> anyhow::Result<Router> {
        let config = config::Config::parse(&edit(include_str!("../ciba-idp.toml").into()))?;
        build(Options {
            config,
            db: ":memory:".into(),
            issuer: issuer.into(),
            dist: None,
            demo: false,
            demo_pages: false,
        })
        .await
    }

    async fn headers_of(app: Router, path: &str) -> axum::http::HeaderMap {
        let request = Request::get(path).body(Body::empty()).unwrap();
        app.oneshot(request).await.unwrap().headers().clone()
    }

    async fn headers_of_discovery(issuer: &str) -> axum::http::HeaderMap {
        let app = provider(issuer, |c| c).await.unwrap();
        headers_of(app, "/.well-known/openid-configuration").await
    }

    /// Signs alice in through the real form and returns every `Set-Cookie` of the way: the form's
    /// anti-forgery cookie first, then the session cookie.
    async fn sign_in_cookies(app: Router) -> (String, String) {
        let page = app
            .clone()
            .oneshot(Request::get("/Account/Login").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let cookies: Vec<_> = page.headers().get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(
            cookies.len(),
            1,
            "showing the form stores no session: {cookies:?}"
        );
        let form_cookie = cookies[0].to_str().unwrap().to_owned();
        let token = form_cookie["ciba_form=".len()..].split(';').next().unwrap();
        let mut request = Request::post("/Account/Login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, format!("ciba_form={token}"))
            .body(Body::from(format!(
                "username=alice&password=alice&ReturnUrl=%2Fciba%2F&form_token={token}"
            )))
            .unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                9,
            ))));
        let signed_in = app.oneshot(request).await.unwrap();
        assert_eq!(signed_in.status(), axum::http::StatusCode::SEE_OTHER);
        let session = signed_in.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .to_owned();
        (form_cookie, session)
    }

    /// A portal on another site gets the session cookie (and the sign-in form's) only as
    /// `SameSite=None; Secure`, and in browsers that block third-party cookies only when it is also
    /// `Partitioned`.
    #[tokio::test]
    async fn the_session_cookie_follows_the_embedding_settings() {
        let cross_site = |c: String| {
            c.replace("cookie_same_site = \"lax\"", "cookie_same_site = \"none\"")
                .replace("cookie_partitioned = false", "cookie_partitioned = true")
        };
        let app = provider("https://id.example.com", cross_site)
            .await
            .unwrap();
        let (form, session) = sign_in_cookies(app).await;
        assert!(session.starts_with("ciba_session="), "{session}");
        for cookie in [&form, &session] {
            for attribute in ["SameSite=None", "Secure", "HttpOnly", "Partitioned"] {
                assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
            }
        }

        let app = provider("http://127.0.0.1:8080", |c| c).await.unwrap();
        let (form, session) = sign_in_cookies(app).await;
        for cookie in [&form, &session] {
            assert!(cookie.contains("SameSite=Lax"), "{cookie}");
            assert!(
                !cookie.contains("Secure") && !cookie.contains("Partitioned"),
                "{cookie}"
            );
        }

        let error = provider("http://127.0.0.1:8080", cross_site)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("needs an https issuer"),
            "{error}"
        );
    }

    /// HSTS over plain http is ignored by browsers and would pin a dev machine's localhost to https.
    #[tokio::test]
    async fn hsts_is_sent_exactly_when_the_provider_is_on_https() {
        let https = headers_of_discovery("https://id.example.com").await;
        assert_eq!(https[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000");
        let http = headers_of_discovery("http://127.0.0.1:8080").await;
        assert!(!http.contains_key(header::STRICT_TRANSPORT_SECURITY));
        for headers in [https, http] {
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        }
    }

    #[test]
    fn only_trunk_hashed_names_are_immutable() {
        assert!(is_hashed_asset("/ciba-approval-76e14d1fb836ef44_bg.wasm"));
        assert!(is_hashed_asset("/ciba-approval-76e14d1fb836ef44.js"));
        assert!(is_hashed_asset("/main-60aa15abdfbecd52.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset(
            "/requests/0d29ddf9ca4042eb9758234f3a289eda"
        ));
        assert!(!is_hashed_asset("/"));
    }
}
