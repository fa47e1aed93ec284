//! The route table, and the headers every response gets: the CSP, HSTS on https, `nosniff`,
//! `no-referrer`, and `no-store` on the protocol and API endpoints.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Redirect;
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::problem::ApiProblem;
use crate::spa::Spa;
use crate::state::AppState;
use crate::{
    account, approval, backchannel, csp, demo_portal, discovery, oauth, push_api, session, token,
    userinfo,
};

/// The provider: the protocol endpoints, the approval API, the account pages, the SPA from `spa` (when
/// it serves one) and `/demo/mount` when `demo_pages`.
pub fn router(state: AppState, spa: Option<Spa>, demo_pages: bool) -> Router {
    let content_security_policy = csp::policy(
        &spa.as_ref().map(Spa::inline_hashes).unwrap_or_default(),
        state
            .config
            .clients
            .iter()
            .filter_map(|client| client.logo_uri.as_deref()),
        &state.config.embedding.allowed_origins,
    );
    let mut app = Router::new()
        .merge(protocol())
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
    // Browsers ignore HSTS over plain http; send it only where it means something.
    let hsts = state.issuer.starts_with("https://").then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        )
    });
    let partitioned = state
        .config
        .embedding
        .cookie_partitioned
        .then(|| axum::middleware::map_response(session::partition_cookie));
    // Outside the session layer, which writes the cookie on the way out.
    let mut app = app
        .layer(session::layer(&state))
        .layer(tower::util::option_layer(partitioned));
    // The page's files are added after the session layer, so they never load, extend or re-set the
    // session: with `always_save` every file would otherwise cost a store write and carry a
    // `Set-Cookie`, and a file still loading (the service worker precaches in the background) when
    // the browser's cookies are cleared would put the session back.
    if let Some(spa) = spa {
        app = spa.serve(app);
    }
    app.layer(SetResponseHeaderLayer::overriding(
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

/// Discovery, the CIBA, token and userinfo endpoints, and the approval API: never cached.
fn protocol() -> Router<AppState> {
    let api = Router::new()
        .route("/session", get(approval::session))
        .route("/embedding", get(approval::embedding))
        .route("/requests", get(approval::list_requests))
        .route("/requests/{internal_id}", get(approval::get_request))
        .route("/complete", post(approval::complete))
        .route("/push", get(push_api::push_settings))
        .route(
            "/push/subscriptions",
            post(push_api::subscribe).delete(push_api::unsubscribe),
        )
        .route("/openapi.json", get(approval::openapi))
        // Unknown paths and methods answer as every other API error: problem+json, no-store.
        .fallback(|| async { ApiProblem::NotFound })
        .method_not_allowed_fallback(|| async { ApiProblem::MethodNotAllowed })
        // JSON compresses ~20×: 40 requests are 27.8 KB, 1.3 KB brotli, 1.6 KB gzip (measured); at
        // a phone's 1.6 Mbit/s a long list loses seconds. The bodies hold no secret beside text a
        // client chose (no BREACH target).
        .layer(CompressionLayer::new().br(true).gzip(true));
    Router::new()
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
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ))
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt;

    use crate::csp::InlineHashes;
    use crate::db::Db;
    use crate::spa::Spa;
    use crate::state::AppState;
    use crate::{Options, build, config};

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

    /// A provider serving a small built page from `dist` (a fresh folder named `name`), and the
    /// hashes of its inline script and style.
    async fn provider_with_page(name: &str) -> (Router, InlineHashes, std::path::PathBuf) {
        let dist = std::env::temp_dir().join(format!("ciba-routes-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<style data-href=/ciba/main-60aa15abdfbecd52.css>body{}</style>\
             <template id=ciba-after-paint><script type=\"module\">\
             import init, * as bindings from '/ciba/app-76e14d1fb836ef44.js';\
             await init({ module_or_path: '/ciba/app-76e14d1fb836ef44_bg.wasm' });</script></template>",
        )
        .unwrap();
        std::fs::write(dist.join("main-60aa15abdfbecd52.css"), "body{}").unwrap();
        let config = config::Config::parse(include_str!("../ciba-idp.toml")).unwrap();
        let db = Db::open(":memory:").await.unwrap();
        let state = AppState::new(config, db, "http://127.0.0.1:8080")
            .await
            .unwrap();
        let spa = Spa::load(dist.clone());
        let hashes = spa.inline_hashes();
        (super::router(state, Some(spa), false), hashes, dist)
    }

    /// The page's files neither extend nor re-set the session: a file still loading when the
    /// browser's cookies are cleared (the service worker precaches in the background) must not
    /// sign the user back in, and a file should not cost a session write.
    #[tokio::test]
    async fn the_page_files_leave_the_session_cookie_alone() {
        let (app, _, dist) = provider_with_page("cookie").await;
        let (_, session) = sign_in_cookies(app.clone()).await;
        let cookie = session.split(';').next().unwrap().to_owned();
        let get = |path: &str| {
            let request = Request::get(path)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap();
            app.clone().oneshot(request)
        };
        let mut answers = Vec::new();
        for path in [
            "/ciba/",
            "/ciba/requests/x",
            "/ciba/main-60aa15abdfbecd52.css",
        ] {
            answers.push((path, get(path).await.unwrap()));
        }
        let api = get("/api/ciba/session").await.unwrap();
        std::fs::remove_dir_all(&dist).ok();
        for (path, answer) in answers {
            assert_eq!(answer.status(), StatusCode::OK, "{path}");
            assert!(
                !answer.headers().contains_key(header::SET_COOKIE),
                "{path}: {:?}",
                answer.headers().get(header::SET_COOKIE)
            );
        }
        // The API still extends the session on every call.
        assert_eq!(api.status(), StatusCode::OK);
        let renewed = api.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(renewed.starts_with("ciba_session="), "{renewed}");
    }

    /// One reading of `dist/index.html` gives both the mount entry point and the CSP's hashes.
    #[tokio::test]
    async fn the_spa_is_served_with_its_mount_script_and_inline_hashes() {
        let (app, hashes, dist) = provider_with_page("mount").await;
        let get = |path: &str| {
            let request = Request::get(path).body(Body::empty()).unwrap();
            app.clone().oneshot(request)
        };

        let mount = get("/ciba/mount.js").await.unwrap();
        std::fs::remove_dir_all(&dist).ok();
        assert_eq!(mount.status(), StatusCode::OK);
        assert_eq!(
            mount.headers()[header::CONTENT_TYPE],
            "text/javascript; charset=utf-8"
        );
        assert_eq!(mount.headers()[header::CACHE_CONTROL], "no-cache");
        let csp = mount.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_owned();
        let [script] = &hashes.scripts[..] else {
            panic!("one inline script: {hashes:?}")
        };
        let [style] = &hashes.styles[..] else {
            panic!("one inline style: {hashes:?}")
        };
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-{script}';"
            )),
            "{csp}"
        );
        assert!(
            csp.contains(&format!("style-src 'self' 'sha256-{style}';")),
            "{csp}"
        );
        let body = axum::body::to_bytes(mount.into_body(), 1 << 16)
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            body.contains("from \"/ciba/app-76e14d1fb836ef44.js\"")
                && body.contains("stylesheet: \"/ciba/main-60aa15abdfbecd52.css\""),
            "{body}"
        );
    }
}
