//! Serving the router over TCP so that slow or idle clients cannot tie the provider up (issue 13):
//! a request's head must arrive within `[server] header_read_timeout_secs` (hyper's HTTP/1 header
//! read timeout, which also closes a kept-alive connection idle for as long), its whole body within
//! `body_read_timeout_secs` of the head (else 408), and at most `max_connections` are served at once.
//!
//! At the limit the loop stops accepting until a connection closes: new connections wait in the
//! listen backlog and are served in turn, so a normal client is slowed down rather than refused (an
//! accept-and-close would give it a reset instead). Idle and half-sent connections hold a slot for at
//! most the header timeout, so a waiting client gets in within about that long.
//!
//! Otherwise as `axum::serve` with graceful shutdown: HTTP/1 (axum serves no HTTP/2 here either),
//! `ConnectInfo<SocketAddr>` for handlers, accept errors (such as running out of file descriptors)
//! logged and retried after a second; on shutdown no new connection is accepted, open ones finish
//! their request and close, and `serve` returns once all are closed.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::{Service, ServiceExt};

use crate::config::ServerConfig;
use crate::oauth::OAuthError;

/// Serves `app` on `listener` with the limits of `server` until `shutdown` completes, then waits for
/// the open connections to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    server: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) {
    let body_timeout = Duration::from_secs(server.body_read_timeout_secs.into());
    let app = app.layer(axum::middleware::from_fn_with_state(
        body_timeout,
        body_deadline,
    ));
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(server.header_read_timeout_secs.into()));
    let max = server.max_connections;
    let slots = Arc::new(Semaphore::new(max as usize));
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    let mut full = false;

    loop {
        if slots.available_permits() == 0 && !full {
            tracing::warn!(
                "{max} connections open (server.max_connections): new ones wait until one closes"
            );
        }
        full = slots.available_permits() == 0;
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if !is_connection_error(&error) {
                        // As axum::serve: most likely out of file descriptors, which closing
                        // connections will free.
                        tracing::error!("accept error: {error}");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(1)) => {}
                            () = &mut shutdown => break,
                        }
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = ServiceExt::<SocketAddr>::ready(&mut make_service)
            .await
            .unwrap_or_else(|never: Infallible| match never {})
            .call(remote)
            .await
            .unwrap_or_else(|never: Infallible| match never {})
            .map_request(|request: Request<Incoming>| request.map(Body::new));
        let connection = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut connection = pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stopped.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!("connection from {remote} closed: {error}");
            }
        });
    }
    drop(listener);
    stop.send_replace(true);
    // Every connection task holds a slot until it ends.
    let _all = slots.acquire_many(max).await;
}

fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// Gives a request's body `timeout` from now (its head has just been read) to arrive in full. A
/// handler reading it past that gets an error, and the client a 408 in the format of the endpoint,
/// with `Connection: close` (the rest of the body is never read).
async fn body_deadline(State(timeout): State<Duration>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let expired = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            expired: expired.clone(),
        })
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    tracing::info!("{path}: the request body did not arrive within {timeout:?}");
    let (mut parts, _) = response.into_parts();
    let (content_type, body) = timed_out_answer(&path, timeout);
    parts.status = StatusCode::REQUEST_TIMEOUT;
    // What the inner layers set (no-store, CSP, nosniff…) stays; what described the old body goes.
    for stale in [
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::ETAG,
        header::WWW_AUTHENTICATE,
        header::ALLOW,
    ] {
        parts.headers.remove(stale);
    }
    parts.headers.insert(header::CONTENT_TYPE, content_type);
    parts
        .headers
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    Response::from_parts(parts, body)
}

/// A 408's body: OAuth JSON on the protocol endpoints, a problem document in the approval API.
fn timed_out_answer(path: &str, timeout: Duration) -> (HeaderValue, Body) {
    let detail = format!(
        "The request body did not arrive within {} s.",
        timeout.as_secs()
    );
    let response = if path.starts_with("/api/") {
        let status = StatusCode::REQUEST_TIMEOUT;
        let problem = ciba_contract::Problem {
            problem_type: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: Some(detail),
            outcome: None,
        };
        let mut response = axum::Json(problem).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(ciba_contract::PROBLEM_CONTENT_TYPE),
        );
        response
    } else if path.starts_with("/connect/") {
        OAuthError {
            status: StatusCode::REQUEST_TIMEOUT,
            error: "invalid_request",
            description: detail,
        }
        .into_response()
    } else {
        detail.into_response()
    };
    let (parts, body) = response.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("text/plain; charset=utf-8"));
    (content_type, body)
}

/// A request body that fails once its deadline has passed, and says so through `expired`.
struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

#[derive(Debug)]
struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl StdError for BodyTimedOut {}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(BodyTimedOut.into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use axum::routing::post;
    use serde_json::Value;

    use super::*;

    /// A body that sends `first` and then nothing, never ending: a client that stopped half-way.
    struct Stalled(Option<Bytes>);

    impl HttpBody for Stalled {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            match self.get_mut().0.take() {
                Some(first) => Poll::Ready(Some(Ok(Frame::data(first)))),
                None => Poll::Pending,
            }
        }
    }

    fn app() -> Router {
        let echo = post(|body: Bytes| async move { body });
        Router::new()
            .route("/connect/token", echo.clone())
            .route("/api/ciba/complete", echo.clone())
            .route("/Account/Login", echo)
            .layer(axum::middleware::from_fn_with_state(
                Duration::from_millis(200),
                body_deadline,
            ))
    }

    async fn send(path: &str, body: Body) -> (StatusCode, String, Option<String>, String) {
        let request = Request::post(path).body(body).unwrap();
        let response = app().oneshot(request).await.unwrap();
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &HeaderValue| v.to_str().unwrap().to_owned())
        };
        let content_type = header(header::CONTENT_TYPE).unwrap_or_default();
        let connection = header(header::CONNECTION);
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (
            status,
            content_type,
            connection,
            String::from_utf8(body.to_vec()).unwrap(),
        )
    }

    #[tokio::test]
    async fn a_body_in_time_passes_and_a_stalled_one_gets_408_in_the_endpoints_format() {
        let (status, _, connection, body) = send("/connect/token", Body::from("a=b")).await;
        assert_eq!(
            (status, connection, body.as_str()),
            (StatusCode::OK, None, "a=b")
        );

        let stalled = || Body::new(Stalled(Some(Bytes::from_static(b"grant_type="))));
        let started = std::time::Instant::now();
        let (status, content_type, connection, body) = send("/connect/token", stalled()).await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(connection.as_deref(), Some("close"));
        assert_eq!(content_type, "application/json");
        let oauth: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(oauth["error"], "invalid_request", "{body}");
        assert!(oauth["error_description"].is_string(), "{body}");

        let (status, content_type, _, body) = send("/api/ciba/complete", stalled()).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(content_type, ciba_contract::PROBLEM_CONTENT_TYPE);
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["status"], 408, "{body}");
        assert_eq!(problem["title"], "Request Timeout", "{body}");

        let (status, content_type, _, _) = send("/Account/Login", stalled()).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert!(content_type.starts_with("text/plain"), "{content_type}");
    }
}
