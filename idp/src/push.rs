//! Web Push: telling the user's devices about a new request (step 1 → step 2) and closing that
//! notification when the request is decided or expires.
//!
//! The page subscribes its service worker with the browser's push service and hands us the
//! subscription (`crate::push_api`). For each push we encrypt the JSON [`PushMessage`] for that
//! subscription's keys (RFC 8291, `aes128gcm`) and sign a VAPID token (RFC 8292: ES256 over `aud` = the
//! endpoint's origin) with a key pair made once and kept in the database, and POST it to the endpoint
//! (RFC 8030) with `TTL` = how long the request can still be decided, so the push service drops what
//! would arrive too late. `web-push-native` does the cryptography; we only put the headers together.
//!
//! Sending never holds up the protocol: `/connect/ciba` and `/api/ciba/complete` only queue a job, a
//! bounded number of sends run at once, each attempt is bounded in time, and retries (on 429, 5xx and
//! timeouts only) are few. 404 and 410 mean the subscription is gone, so we forget it.
//!
//! The endpoint is a URL a browser gave us, so the server POSTs to wherever a signed-in user (or a
//! script in their page) chooses: server-side request forgery. Endpoints must therefore be `https` on a
//! public address — checked when subscribing and again before each send, where the host's DNS answer
//! is checked too ([`PublicOnly`]), so a name cannot later point at `169.254.169.254` or the intranet.
//! Redirects are not followed and the answer's body is not read. `[push] allow_loopback_http` lets a
//! push service on this machine in, for tests and the demo.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ciba_contract::PushMessage;
use reqwest::{StatusCode, Url};
use tokio::sync::{Semaphore, mpsc};
use web_push_native::jwt_simple::algorithms::{
    ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
};
use web_push_native::jwt_simple::prelude::Claims;
use web_push_native::p256;

use crate::clock::{now, rfc3339};
use crate::config::PushConfig;
use crate::db::{Db, PushSubscriptionRow};
use crate::state::AppState;

/// The longest endpoint we store; real push services use a few hundred characters.
pub const MAX_ENDPOINT_LEN: usize = 1024;
/// Time for one attempt: connecting, and the whole exchange.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts after the first, on 429, 5xx or a timeout; the wait doubles from [`FIRST_BACKOFF`].
const RETRIES: u32 = 2;
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// How long the VAPID token is valid (RFC 8292 §2: at most 24 hours).
const VAPID_VALIDITY: Duration = Duration::from_secs(12 * 3600);
/// How long a push service keeps a "closed" push for an offline device: a notification it still
/// shows should go away when it comes back.
const CLOSED_TTL_SECS: i64 = 3600;

/// The sending side of Web Push, in [`AppState`].
pub struct Push {
    sender: Arc<Sender>,
    queue: mpsc::Sender<Job>,
    max_subscriptions: u32,
}

/// What every send needs; shared by the running sends.
struct Sender {
    key: ES256KeyPair,
    /// The public key as the page and the `k=` parameter carry it: uncompressed point, base64url.
    public_key: String,
    vapid_subject: String,
    allow_loopback: bool,
    client: reqwest::Client,
    db: Db,
}

/// One push to one subscription.
struct Job {
    subscription: PushSubscriptionRow,
    message: PushMessage,
    ttl_secs: i64,
    urgency: &'static str,
}

impl Push {
    /// Loads the VAPID key pair (making and storing it the first time) and starts the sending queue.
    pub async fn load_or_create(
        config: &PushConfig,
        db: &Db,
        issuer: &str,
        now: i64,
    ) -> anyhow::Result<Self> {
        let stored = match db.vapid_key().await? {
            Some(stored) => stored,
            None => {
                let fresh = URL_SAFE_NO_PAD.encode(ES256KeyPair::generate().to_bytes());
                let kept = db.insert_vapid_key(&fresh, now).await?;
                tracing::info!("generated the VAPID key pair for Web Push");
                kept
            }
        };
        let key = ES256KeyPair::from_bytes(&URL_SAFE_NO_PAD.decode(stored)?)
            .map_err(|error| anyhow::anyhow!("the stored VAPID key is unusable: {error}"))?;
        let public_key =
            URL_SAFE_NO_PAD.encode(key.public_key().public_key().to_bytes_uncompressed());
        let vapid_subject = config.vapid_subject.clone().unwrap_or_else(|| {
            if issuer.starts_with("https://") {
                issuer.to_owned()
            } else {
                "mailto:ciba-idp@localhost".to_owned()
            }
        });
        let client = reqwest::Client::builder()
            .connect_timeout(ATTEMPT_TIMEOUT)
            .timeout(ATTEMPT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            // A proxy from the environment would make the DNS check below check the wrong host.
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly {
                allow_loopback: config.allow_loopback_http,
            }))
            .build()?;
        let sender = Arc::new(Sender {
            key,
            public_key,
            vapid_subject,
            allow_loopback: config.allow_loopback_http,
            client,
            db: db.clone(),
        });
        let (queue, jobs) = mpsc::channel(config.queue_len as usize);
        tokio::spawn(dispatch(
            sender.clone(),
            jobs,
            Arc::new(Semaphore::new(config.max_in_flight as usize)),
        ));
        Ok(Self {
            sender,
            queue,
            max_subscriptions: config.max_subscriptions_per_user,
        })
    }

    /// The VAPID public key for `pushManager.subscribe`: an uncompressed P-256 point, base64url.
    pub fn public_key(&self) -> &str {
        &self.sender.public_key
    }

    /// How many subscriptions one user keeps.
    pub fn max_subscriptions(&self) -> u32 {
        self.max_subscriptions
    }

    /// Whether we would send to `endpoint` (see the module doc), as the subscribe call checks it.
    pub fn check_endpoint(&self, endpoint: &str) -> Result<Url, EndpointError> {
        check_endpoint(endpoint, self.sender.allow_loopback)
    }

    /// Queues one push; when the queue is full it is dropped (and said so), never waited for.
    fn enqueue(&self, job: Job) {
        if let Err(error) = self.queue.try_send(job) {
            tracing::warn!("push not sent: {error}");
        }
    }
}

/// A new request for `subject`: push it to each of their devices. Returns at once.
pub fn request_created(state: &AppState, created: NewRequestPush) {
    let state = state.clone();
    tokio::spawn(async move {
        let ttl_secs = created.expires_at - now();
        let message = PushMessage::Request {
            url: PushMessage::consent_url(&created.internal_id),
            internal_id: created.internal_id,
            client_name: created.client_name,
            binding_message: created.binding_message,
            expires_at: rfc3339(created.expires_at),
        };
        send_to_user(&state, &created.subject, message, ttl_secs, "high").await;
    });
}

/// What the new request's push says; the binding message is `None` for a client with the code check.
pub struct NewRequestPush {
    pub internal_id: String,
    pub subject: String,
    pub client_name: String,
    pub binding_message: Option<String>,
    pub expires_at: i64,
}

/// A request was just decided: close its notification on every device, unless the sweep did already.
pub fn request_decided(state: &AppState, internal_id: &str, subject: &str) {
    let (state, internal_id, subject) = (state.clone(), internal_id.to_owned(), subject.to_owned());
    tokio::spawn(async move {
        let claimed = match state.db.claim_push_closed(&internal_id).await {
            // Not claimable: the sweep got it first, or the request is already gone (Duende's
            // remove-on-poll), in which case nobody else will close it.
            Ok(false) => matches!(state.db.request(&internal_id).await, Ok(None)),
            Ok(true) => true,
            Err(error) => {
                tracing::warn!("push: cannot mark {internal_id} closed: {error}");
                false
            }
        };
        if claimed {
            send_closed(&state, internal_id, &subject).await;
        }
    });
}

/// Every `sweep_interval_secs`, closes the notifications of requests decided or expired since the
/// last sweep. The mark is in the database, so a restart neither loses nor repeats one.
pub fn spawn_sweeper(state: &AppState) {
    let state = state.clone();
    let every = Duration::from_secs(u64::from(state.config.push.sweep_interval_secs));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match state.db.claim_due_push_closed(now()).await {
                Ok(closed) => {
                    for request in closed {
                        send_closed(&state, request.internal_id, &request.subject).await;
                    }
                }
                Err(error) => tracing::warn!("push sweep failed: {error}"),
            }
        }
    });
}

/// Signing out removes the subscriptions this sign-in made: "sign-out removes this device's".
pub async fn forget_session(state: &AppState, session: &tower_sessions::session::Id) {
    match state
        .db
        .delete_session_push_subscriptions(&crate::session_store::id_hash(session))
        .await
    {
        Ok(0) => {}
        Ok(removed) => tracing::info!(
            removed,
            "push subscriptions of the signed-out session removed"
        ),
        Err(error) => tracing::warn!("push: cannot remove the session's subscriptions: {error}"),
    }
}

async fn send_closed(state: &AppState, internal_id: String, subject: &str) {
    let message = PushMessage::Closed {
        url: PushMessage::consent_url(&internal_id),
        internal_id,
    };
    send_to_user(state, subject, message, CLOSED_TTL_SECS, "normal").await;
}

async fn send_to_user(
    state: &AppState,
    subject: &str,
    message: PushMessage,
    ttl_secs: i64,
    urgency: &'static str,
) {
    let subscriptions = match state.db.push_subscriptions(subject).await {
        Ok(subscriptions) => subscriptions,
        Err(error) => {
            tracing::warn!("push: cannot read subscriptions: {error}");
            return;
        }
    };
    for subscription in subscriptions {
        state.push.enqueue(Job {
            subscription,
            message: message.clone(),
            ttl_secs: ttl_secs.max(1),
            urgency,
        });
    }
}

/// Takes jobs off the queue and runs each, at most `in_flight` at once.
async fn dispatch(sender: Arc<Sender>, mut jobs: mpsc::Receiver<Job>, in_flight: Arc<Semaphore>) {
    while let Some(job) = jobs.recv().await {
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let sender = sender.clone();
        tokio::spawn(async move {
            sender.deliver(job).await;
            drop(permit);
        });
    }
}

/// How one attempt went.
enum Attempt {
    Delivered(StatusCode),
    /// 404 or 410: the subscription expired or was unsubscribed.
    Gone(StatusCode),
    /// Worth another try: 429, 5xx, a timeout or a failed connection.
    Again(String),
    /// Not worth another try.
    Refused(String),
}

impl Sender {
    async fn deliver(&self, job: Job) {
        let kind = match job.message {
            PushMessage::Request { .. } => "request",
            PushMessage::Closed { .. } => "closed",
        };
        let origin = Url::parse(&job.subscription.endpoint)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default();
        let mut backoff = FIRST_BACKOFF;
        for attempt in 0..=RETRIES {
            if attempt > 0 {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            match self.attempt(&job).await {
                Attempt::Delivered(status) => {
                    tracing::info!(%origin, kind, status = status.as_u16(), "push delivered");
                    return;
                }
                Attempt::Gone(status) => {
                    tracing::info!(%origin, kind, status = status.as_u16(), "push subscription gone; removed");
                    let subscription = &job.subscription;
                    if let Err(error) = self
                        .db
                        .delete_gone_push_subscription(&subscription.endpoint, &subscription.p256dh)
                        .await
                    {
                        tracing::warn!("push: cannot remove a gone subscription: {error}");
                    }
                    return;
                }
                Attempt::Refused(reason) => {
                    tracing::info!(%origin, kind, "push not sent: {reason}");
                    return;
                }
                Attempt::Again(reason) => {
                    tracing::debug!(%origin, kind, attempt, "push attempt failed: {reason}");
                }
            }
        }
        tracing::info!(%origin, kind, "push not delivered after {} attempts", RETRIES + 1);
    }

    async fn attempt(&self, job: &Job) -> Attempt {
        let subscription = &job.subscription;
        // Checked again: the switch may have been turned off since the subscription was stored.
        let endpoint = match check_endpoint(&subscription.endpoint, self.allow_loopback) {
            Ok(endpoint) => endpoint,
            Err(error) => return Attempt::Refused(error.to_string()),
        };
        let keys = match SubscriberKeys::decode(&subscription.p256dh, &subscription.auth) {
            Ok(keys) => keys,
            Err(error) => return Attempt::Refused(error.to_string()),
        };
        let payload = serde_json::to_vec(&job.message).expect("push messages serialize");
        let body = match web_push_native::encrypt(payload, &keys.public, &keys.auth) {
            Ok(body) => body,
            Err(error) => return Attempt::Refused(format!("cannot encrypt: {error}")),
        };
        let authorization = match self.vapid(&endpoint) {
            Ok(authorization) => authorization,
            Err(error) => return Attempt::Refused(format!("cannot sign VAPID: {error}")),
        };
        let sent = self
            .client
            .post(endpoint)
            .header("TTL", job.ttl_secs.to_string())
            .header("Urgency", job.urgency)
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::AUTHORIZATION, authorization)
            .body(body)
            .send()
            .await;
        // The answer's body is never read: nothing in it is needed, and it could be large or slow.
        match sent {
            Ok(response) => {
                let status = response.status();
                match status {
                    _ if status.is_success() => Attempt::Delivered(status),
                    StatusCode::NOT_FOUND | StatusCode::GONE => Attempt::Gone(status),
                    StatusCode::TOO_MANY_REQUESTS => Attempt::Again(status.to_string()),
                    _ if status.is_server_error() => Attempt::Again(status.to_string()),
                    _ if status.is_redirection() => {
                        Attempt::Refused(format!("{status}: redirects are not followed"))
                    }
                    _ => Attempt::Refused(status.to_string()),
                }
            }
            Err(error) if refused_address(&error) => Attempt::Refused(format!("{error:#}")),
            Err(error) => Attempt::Again(error.to_string()),
        }
    }

    /// `Authorization: vapid t=<JWT>, k=<public key>` (RFC 8292 §3). Signed here rather than by
    /// `web-push-native`'s builder, whose `aud` leaves out the port, so it is not the origin.
    fn vapid(&self, endpoint: &Url) -> Result<String, web_push_native::jwt_simple::Error> {
        let claims = Claims::create(VAPID_VALIDITY.into())
            .with_audience(endpoint.origin().ascii_serialization())
            .with_subject(&self.vapid_subject);
        let token = self.key.sign(claims)?;
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }
}

/// A subscription's RFC 8291 keys, decoded and checked.
pub struct SubscriberKeys {
    pub public: p256::PublicKey,
    pub auth: web_push_native::Auth,
}

impl SubscriberKeys {
    /// From the base64url text of `PushSubscription.toJSON()` (padding tolerated).
    pub fn decode(p256dh: &str, auth: &str) -> Result<Self, KeyError> {
        let decode = |text: &str| URL_SAFE_NO_PAD.decode(text.trim_end_matches('='));
        let public = decode(p256dh)
            .ok()
            .filter(|bytes| bytes.len() == 65 && bytes[0] == 4)
            .and_then(|bytes| p256::PublicKey::from_sec1_bytes(&bytes).ok())
            .ok_or(KeyError::P256dh)?;
        let auth: [u8; 16] = decode(auth)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(KeyError::Auth)?;
        Ok(Self {
            public,
            auth: auth.into(),
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "keys.p256dh must be base64url of a P-256 public key (65 bytes, uncompressed point on the curve)."
    )]
    P256dh,
    #[error("keys.auth must be base64url of 16 bytes.")]
    Auth,
}

/// Why we would not send to an endpoint.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EndpointError {
    #[error("The endpoint is longer than {MAX_ENDPOINT_LEN} characters.")]
    TooLong,
    #[error("The endpoint is not an absolute URL.")]
    NotAUrl,
    #[error("The endpoint must not contain a user name or password.")]
    Credentials,
    #[error("The endpoint must be an https URL.")]
    NotHttps,
    #[error("The endpoint's host is not a public address.")]
    NotPublic,
}

/// Whether `endpoint` is a URL we may POST to: https on a public host; with `allow_loopback`, also
/// http or https on this machine's loopback. A host name is checked again when it is resolved.
pub fn check_endpoint(endpoint: &str, allow_loopback: bool) -> Result<Url, EndpointError> {
    if endpoint.len() > MAX_ENDPOINT_LEN {
        return Err(EndpointError::TooLong);
    }
    let url = Url::parse(endpoint).map_err(|_| EndpointError::NotAUrl)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointError::Credentials);
    }
    let loopback = match url.host() {
        None => return Err(EndpointError::NotAUrl),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => classify(IpAddr::V4(ip)) == Reach::Loopback,
        Some(url::Host::Ipv6(ip)) => classify(IpAddr::V6(ip)) == Reach::Loopback,
    };
    let public = match url.host() {
        Some(url::Host::Ipv4(ip)) => classify(IpAddr::V4(ip)) == Reach::Public,
        Some(url::Host::Ipv6(ip)) => classify(IpAddr::V6(ip)) == Reach::Public,
        _ => !loopback,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback && allow_loopback => {}
        _ => return Err(EndpointError::NotHttps),
    }
    if public || (loopback && allow_loopback) {
        Ok(url)
    } else {
        Err(EndpointError::NotPublic)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    Public,
    Loopback,
    /// Private, link-local, unique-local, multicast, reserved and the like.
    Internal,
}

fn classify(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(ip) => classify_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return classify_v4(v4);
            }
            let [first, second, ..] = ip.segments();
            // NAT64 (64:ff9b::/96) reaches the IPv4 address in its last 32 bits.
            if ip.segments()[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., a, b, c, d] = ip.octets();
                return classify_v4(Ipv4Addr::new(a, b, c, d));
            }
            if ip.is_loopback() {
                Reach::Loopback
            } else if ip.is_unspecified()
                || ip.is_multicast()
                || first & 0xfe00 == 0xfc00 // unique local fc00::/7
                || first & 0xffc0 == 0xfe80 // link-local fe80::/10
                || first & 0xffc0 == 0xfec0 // site-local fec0::/10 (deprecated)
                || (first == 0x2001 && second == 0x0db8) // documentation
                || first == 0x2002
            // 6to4, which can carry any IPv4 address
            {
                Reach::Internal
            } else {
                Reach::Public
            }
        }
    }
}

fn classify_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Reach::Loopback
    } else if ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240
    {
        Reach::Internal
    } else {
        Reach::Public
    }
}

/// The DNS resolver of the push client: refuses a name with any non-public address, so a name cannot
/// send us to the cloud metadata service or the intranet (IP literals never reach a resolver; they are
/// checked by [`check_endpoint`]).
struct PublicOnly {
    allow_loopback: bool,
}

/// A name resolved to an address we do not send to.
#[derive(Debug, thiserror::Error)]
#[error("{name} resolves to a non-public address")]
struct NonPublicAddress {
    name: String,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let allowed = |address: &SocketAddr| match classify(address.ip()) {
                Reach::Public => true,
                Reach::Loopback => allow_loopback,
                Reach::Internal => false,
            };
            if addresses.is_empty() || !addresses.iter().all(allowed) {
                return Err(Box::new(NonPublicAddress { name }) as _);
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether a send failed because [`PublicOnly`] refused the address (no retry then).
fn refused_address(error: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(error) = source {
        if error.downcast_ref::<NonPublicAddress>().is_some() {
            return true;
        }
        source = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{EndpointError, KeyError, SubscriberKeys, check_endpoint};

    #[test]
    fn only_https_on_public_hosts_unless_loopback_is_allowed() {
        for good in [
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/x",
            "https://8.8.8.8/p",
            "https://[2606:4700::1111]/p",
        ] {
            assert!(check_endpoint(good, false).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("http://push.example.com/p", EndpointError::NotHttps),
            ("http://127.0.0.1:9/p", EndpointError::NotHttps),
            ("https://127.0.0.1/p", EndpointError::NotPublic),
            ("https://localhost/p", EndpointError::NotPublic),
            ("https://10.0.0.1/p", EndpointError::NotPublic),
            ("https://172.16.5.4/p", EndpointError::NotPublic),
            ("https://192.168.1.1/p", EndpointError::NotPublic),
            ("https://169.254.169.254/latest", EndpointError::NotPublic),
            ("https://100.64.0.1/p", EndpointError::NotPublic),
            ("https://0.0.0.0/p", EndpointError::NotPublic),
            ("https://[::1]/p", EndpointError::NotPublic),
            ("https://[fd00::1]/p", EndpointError::NotPublic),
            ("https://[fe80::1]/p", EndpointError::NotPublic),
            (
                "https://[::ffff:169.254.169.254]/p",
                EndpointError::NotPublic,
            ),
            ("https://[64:ff9b::a9fe:a9fe]/p", EndpointError::NotPublic),
            ("https://2130706433/p", EndpointError::NotPublic),
            (
                "https://user:pw@push.example.com/p",
                EndpointError::Credentials,
            ),
            ("ftp://push.example.com/p", EndpointError::NotHttps),
            ("/relative", EndpointError::NotAUrl),
        ] {
            assert_eq!(check_endpoint(bad, false).unwrap_err(), why, "{bad}");
        }
        let long = format!("https://push.example.com/{}", "a".repeat(1024));
        assert_eq!(
            check_endpoint(&long, false).unwrap_err(),
            EndpointError::TooLong
        );
        for loopback in [
            "http://127.0.0.1:9/p",
            "http://[::1]:9/p",
            "http://localhost:9/p",
        ] {
            assert!(check_endpoint(loopback, true).is_ok(), "{loopback}");
        }
        for still_bad in [
            "http://10.0.0.1/p",
            "https://169.254.169.254/p",
            "http://push.example.com/p",
        ] {
            assert!(check_endpoint(still_bad, true).is_err(), "{still_bad}");
        }
    }

    /// A name is refused when it resolves to this machine, unless loopback is allowed: so a public
    /// looking name cannot reach what an IP literal may not.
    #[tokio::test]
    async fn the_resolver_refuses_names_of_non_public_addresses() {
        use reqwest::dns::Resolve;
        let name = |text: &str| text.parse::<reqwest::dns::Name>().unwrap();
        let strict = super::PublicOnly {
            allow_loopback: false,
        };
        let error = strict.resolve(name("localhost")).await.err().unwrap();
        assert_eq!(
            error.to_string(),
            "localhost resolves to a non-public address"
        );
        let loose = super::PublicOnly {
            allow_loopback: true,
        };
        let addresses: Vec<_> = loose.resolve(name("localhost")).await.unwrap().collect();
        assert!(
            addresses.iter().all(|a| a.ip().is_loopback()),
            "{addresses:?}"
        );
    }

    #[test]
    fn subscriber_keys_must_have_the_right_length_and_be_on_the_curve() {
        use base64::Engine;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let secret = web_push_native::p256::SecretKey::from_slice(&[7; 32]).unwrap();
        let point = {
            use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
            secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec()
        };
        assert!(SubscriberKeys::decode(&b64(&point), &b64(&[1; 16])).is_ok());
        assert!(
            SubscriberKeys::decode(&format!("{}=", b64(&point)), &b64(&[1; 16])).is_ok(),
            "padding tolerated"
        );
        let mut off_curve = point.clone();
        off_curve[64] ^= 1;
        for p256dh in [b64(&off_curve), b64(&point[..33]), "not base64!".into()] {
            assert_eq!(
                SubscriberKeys::decode(&p256dh, &b64(&[1; 16])).err(),
                Some(KeyError::P256dh)
            );
        }
        assert_eq!(
            SubscriberKeys::decode(&b64(&point), &b64(&[1; 15])).err(),
            Some(KeyError::Auth)
        );
    }
}
