//! A Web Push service for tests: a loopback HTTP server that checks and decrypts what a provider pushes.
//!
//! Each subscription is a path on the receiver with fresh RFC 8291 keys made by the test, so the
//! receiver can do what a browser's push service and the browser together do: check the VAPID
//! `Authorization` (RFC 8292: an ES256 JWT verified against its `k=` key, `aud` = the receiver's own
//! origin, `exp` in the future and at most 24 hours away), the `Content-Encoding`, `TTL` and `Urgency`
//! headers, and decrypt the `aes128gcm` body. Per path the test chooses the answer: 201, 404, 410, a
//! redirect, a 503, or no answer at all.
//!
//! ```no_run
//! # async fn example() {
//! use ciba_test_support::push_receiver::{Answer, PushReceiver};
//! use std::time::Duration;
//! let receiver = PushReceiver::start().await;
//! let subscription = receiver.subscription("alice-phone"); // POST it to /api/ciba/push/subscriptions
//! receiver.answer("alice-phone", Answer::Gone);             // the next push there gets 410
//! let delivery = receiver.next("alice-phone", Duration::from_secs(2)).await;
//! # }
//! ```
//!
//! A push that fails a check is answered 400 and makes [`PushReceiver::next`] panic with the reason,
//! so a test cannot pass on a push a real push service would refuse.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciba_contract::{PushKeys, PushSubscription};
use serde_json::Value;
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256PublicKey};
use web_push_native::jwt_simple::prelude::{NoCustomClaims, VerificationOptions};
use web_push_native::p256;
use web_push_native::p256::elliptic_curve::rand_core::{OsRng, RngCore};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

/// How the receiver answers pushes to one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 201 Created, as push services accept a message. The default.
    Created,
    /// 404: the subscription has expired.
    NotFound,
    /// 410: the user unsubscribed.
    Gone,
    /// 503: try again later.
    Unavailable,
    /// 307 to this URL (which a sender must not follow).
    Redirect(String),
    /// Reads the request, then never answers.
    Hang,
}

/// One push as the receiver got it, checked and decrypted.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: HeaderMap,
    /// The decrypted body, as JSON (the provider's `PushMessage`).
    pub message: Value,
    /// The `TTL` header, seconds.
    pub ttl: u64,
    /// The `Urgency` header.
    pub urgency: String,
    /// The VAPID `k=` key (base64url) the JWT was verified with.
    pub vapid_key: String,
    /// The JWT's `sub`: how the push service would reach the sender.
    pub vapid_subject: String,
}

/// A running receiver on `127.0.0.1`.
pub struct PushReceiver {
    origin: String,
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    origin: String,
    endpoints: Mutex<HashMap<String, Endpoint>>,
    arrived: tokio::sync::Notify,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

struct Endpoint {
    secret: p256::SecretKey,
    auth: [u8; 16],
    answer: Answer,
    deliveries: VecDeque<Result<Delivery, String>>,
    /// Every POST that reached this path, accepted or not.
    requests: usize,
}

impl PushReceiver {
    /// Listens on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            origin: origin.clone(),
            ..Inner::default()
        });
        let app = Router::new()
            .route("/push/{*path}", axum::routing::post(receive))
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { origin, inner }
    }

    /// `http://127.0.0.1:<port>`: the `aud` the provider's VAPID tokens must carry.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The endpoint URL of `path`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}/push/{path}", self.origin)
    }

    /// A new subscription at `path` with fresh keys (replacing any earlier one there), as the
    /// browser's `PushSubscription.toJSON()` would give it; answered [`Answer::Created`].
    pub fn subscription(&self, path: &str) -> PushSubscription {
        let secret = p256::SecretKey::random(&mut OsRng);
        let mut auth = [0u8; 16];
        OsRng.fill_bytes(&mut auth);
        let keys = PushKeys {
            p256dh: URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes()),
            auth: URL_SAFE_NO_PAD.encode(auth),
        };
        self.inner.endpoints.lock().unwrap().insert(
            path.to_owned(),
            Endpoint {
                secret,
                auth,
                answer: Answer::Created,
                deliveries: VecDeque::new(),
                requests: 0,
            },
        );
        PushSubscription {
            endpoint: self.endpoint(path),
            expiration_time: None,
            keys,
        }
    }

    /// How pushes to `path` are answered from now on.
    pub fn answer(&self, path: &str, answer: Answer) {
        let mut endpoints = self.inner.endpoints.lock().unwrap();
        let endpoint = endpoints
            .get_mut(path)
            .unwrap_or_else(|| panic!("no subscription at {path}"));
        endpoint.answer = answer;
    }

    /// The next push to `path` not yet taken, waiting up to `timeout`; `None` if none came.
    /// Panics if a push there failed the receiver's checks.
    pub async fn next(&self, path: &str, timeout: Duration) -> Option<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.inner.arrived.notified();
            if let Some(delivery) = self
                .inner
                .endpoints
                .lock()
                .unwrap()
                .get_mut(path)
                .and_then(|endpoint| endpoint.deliveries.pop_front())
            {
                return Some(delivery.unwrap_or_else(|problem| {
                    panic!("the push to {path} would be refused by a push service: {problem}")
                }));
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// How many POSTs reached `path` so far (including refused and unanswered ones).
    pub fn requests(&self, path: &str) -> usize {
        self.inner
            .endpoints
            .lock()
            .unwrap()
            .get(path)
            .map_or(0, |endpoint| endpoint.requests)
    }

    /// The most pushes the receiver was handling at once.
    pub fn peak_in_flight(&self) -> usize {
        self.inner.peak_in_flight.load(Ordering::SeqCst)
    }
}

/// Counts a request as in flight for as long as it lives (a hanging one until the sender gives up).
struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn receive(
    State(inner): State<Arc<Inner>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now_in_flight = inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    inner
        .peak_in_flight
        .fetch_max(now_in_flight, Ordering::SeqCst);
    let _in_flight = InFlight(inner.clone());
    let answer = {
        let mut endpoints = inner.endpoints.lock().unwrap();
        let Some(endpoint) = endpoints.get_mut(&path) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        endpoint.requests += 1;
        let delivery = check(
            &inner.origin,
            &headers,
            &body,
            &endpoint.secret,
            &endpoint.auth,
        );
        let refused = delivery.is_err();
        endpoint.deliveries.push_back(delivery);
        inner.arrived.notify_waiters();
        if refused {
            return StatusCode::BAD_REQUEST.into_response();
        }
        endpoint.answer.clone()
    };
    match answer {
        Answer::Created => StatusCode::CREATED.into_response(),
        Answer::NotFound => StatusCode::NOT_FOUND.into_response(),
        Answer::Gone => StatusCode::GONE.into_response(),
        Answer::Unavailable => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        Answer::Redirect(to) => {
            (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)]).into_response()
        }
        Answer::Hang => std::future::pending().await,
    }
}

/// What a push service and the browser check, in that order; the decrypted push if it passes.
fn check(
    origin: &str,
    headers: &HeaderMap,
    body: &[u8],
    secret: &p256::SecretKey,
    auth: &[u8; 16],
) -> Result<Delivery, String> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| format!("no {name} header"))
    };
    let (token, key) = vapid_parameters(text("authorization")?)?;
    let public = URL_SAFE_NO_PAD
        .decode(key)
        .ok()
        .and_then(|bytes| ES256PublicKey::from_bytes(&bytes).ok())
        .ok_or("the k= key is not a base64url P-256 point")?;
    let options = VerificationOptions {
        allowed_audiences: Some([origin.to_owned()].into()),
        ..VerificationOptions::default()
    };
    let claims = public
        .verify_token::<NoCustomClaims>(token, Some(options))
        .map_err(|error| {
            format!("the VAPID JWT does not verify (ES256 with k=, aud {origin}): {error}")
        })?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let exp = claims
        .expires_at
        .ok_or("the VAPID JWT has no exp")?
        .as_secs();
    if exp <= now || exp > now + 24 * 3600 {
        return Err(format!("exp is {exp}, not within 24 h after now ({now})"));
    }
    let vapid_subject = claims.subject.unwrap_or_default();
    if !(vapid_subject.starts_with("mailto:") || vapid_subject.starts_with("https:")) {
        return Err(format!(
            "sub must be mailto: or https:, is {vapid_subject:?}"
        ));
    }
    if text("content-encoding")? != "aes128gcm" {
        return Err("Content-Encoding is not aes128gcm".into());
    }
    let ttl = text("ttl")?
        .parse()
        .map_err(|_| "TTL is not a number of seconds")?;
    let urgency = text("urgency")?.to_owned();
    if !["very-low", "low", "normal", "high"].contains(&urgency.as_str()) {
        return Err(format!("Urgency {urgency:?} is not an RFC 8030 value"));
    }
    let plain = web_push_native::decrypt(body.to_vec(), secret, &(*auth).into())
        .map_err(|error| format!("the body does not decrypt (RFC 8291): {error}"))?;
    let message = serde_json::from_slice(&plain).map_err(|error| format!("not JSON: {error}"))?;
    Ok(Delivery {
        headers: headers.clone(),
        message,
        ttl,
        urgency,
        vapid_key: key.to_owned(),
        vapid_subject,
    })
}

/// `vapid t=<JWT>, k=<key>` → (JWT, key).
fn vapid_parameters(authorization: &str) -> Result<(&str, &str), String> {
    let parameters = authorization
        .strip_prefix("vapid ")
        .ok_or_else(|| format!("Authorization is not the vapid scheme: {authorization:?}"))?;
    let mut token = None;
    let mut key = None;
    for parameter in parameters.split(',').map(str::trim) {
        if let Some(value) = parameter.strip_prefix("t=") {
            token = Some(value);
        } else if let Some(value) = parameter.strip_prefix("k=") {
            key = Some(value);
        }
    }
    token
        .zip(key)
        .ok_or_else(|| "Authorization lacks t= or k=".into())
}
