//! Each promise broken on purpose: a reverse proxy in front of a real ciba-idp changes one thing about
//! its answers (or the requests it gets), and the kit must fail that promise and, where the fault
//! allows it, no other. ciba-idp runs with `--issuer` set to the proxy, so every URL the kit discovers
//! goes through the proxy; the proxy forwards everything else untouched (headers, status, body,
//! Set-Cookie, redirects not followed).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::support::{kit, kit_args, start_idp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    /// Discovery lists no CIBA grant type.
    DiscoveryWithoutCibaGrant,
    /// A session call without the cookie gets an HTML sign-in page with 401.
    SessionUnauthorizedAsHtml,
    /// The list leaves out every request's binding message.
    ListWithoutBindingMessage,
    /// The list sends no ETag.
    ListWithoutEtag,
    /// `If-None-Match` never reaches the host.
    IfNoneMatchIgnored,
    /// One request, fetched by id, shows another binding message.
    GetWithOtherBindingMessage,
    /// An id never listed gets 403 instead of 404.
    UnknownIdForbidden,
    /// A decided id gets a plain-text 404.
    DecidedIdAsPlainText,
    /// Every request arrives with `X-CSRF: 1`.
    CsrfHeaderAdded,
    /// Every `Origin` is rewritten to the host's own.
    OriginRewritten,
    /// `text/plain` bodies arrive as `application/json`.
    TextPlainAsJson,
    /// A body that is not JSON gets a plain-text 400.
    MalformedJsonAsPlainText,
    /// Scopes the request did not ask for are dropped from a grant.
    UnrequestedScopeDropped,
    /// A partial grant arrives as a grant of every requested scope.
    PartialGrantWidened,
    /// The token answer has no id_token.
    TokensWithoutIdToken,
    /// A denial arrives as a grant of every requested scope.
    DenialTurnedIntoApproval,
    /// 409 becomes 204 until the client has had its answer at the token endpoint.
    ConflictAsNoContentBeforePoll,
    /// The 401 of the session endpoint loses its Cache-Control.
    NoStoreStrippedFromOneAnswer,
    /// The page's script-src allows 'unsafe-inline'.
    CspAllowsUnsafeInline,
    /// The page's first inline script is not the one the CSP hash was made for.
    CspHashOfOtherScript,
    /// The page's inline stylesheet is not the one the CSP hash was made for.
    CspHashOfOtherStyle,
    /// With the code check on, the list gives the answer away: `bindingMessage` put back.
    ListLeaksTheCode,
    /// With the code check on, every approval arrives with the right pick, whatever was picked.
    EveryPickMadeRight,
}

use Fault::*;

/// Each fault and the promises it must break. Where a fault breaks more than its own promise, the
/// comment says why that is the honest verdict.
const TABLE: &[(Fault, &[&str])] = &[
    (DiscoveryWithoutCibaGrant, &["discovery"]),
    (SessionUnauthorizedAsHtml, &["session"]),
    (ListWithoutBindingMessage, &["list"]),
    (ListWithoutEtag, &["etag"]),
    (IfNoneMatchIgnored, &["etag"]),
    (GetWithOtherBindingMessage, &["get"]),
    (UnknownIdForbidden, &["not-found"]),
    (DecidedIdAsPlainText, &["not-found"]),
    (CsrfHeaderAdded, &["csrf"]),
    (OriginRewritten, &["origin"]),
    (TextPlainAsJson, &["content-type"]),
    (MalformedJsonAsPlainText, &["malformed-json"]),
    (UnrequestedScopeDropped, &["unrequested-scope"]),
    (PartialGrantWidened, &["approve"]),
    (TokensWithoutIdToken, &["approve"]),
    // The host approves what the kit denied, and then rightly says "approved" when the denial is
    // repeated, before and after the poll: those are not the outcome the kit decided.
    (
        DenialTurnedIntoApproval,
        &["deny", "409-before-poll", "409-after-poll"],
    ),
    (ConflictAsNoContentBeforePoll, &["409-before-poll"]),
    (NoStoreStrippedFromOneAnswer, &["no-store"]),
    (CspAllowsUnsafeInline, &["csp"]),
    (CspHashOfOtherScript, &["csp"]),
    (CspHashOfOtherStyle, &["csp"]),
    (ListLeaksTheCode, &["code-check"]),
    (EveryPickMadeRight, &["code-check"]),
];

/// How many provider + kit pairs run at once (two cores; most of the time is spent waiting).
const PARALLEL: usize = 4;

#[tokio::test]
async fn each_fault_fails_its_promise() {
    let slots = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut runs = JoinSet::new();
    for &(fault, expected) in TABLE {
        let slots = slots.clone();
        runs.spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            let (code, failed, output) = run_with(fault).await;
            (fault, expected, code, failed, output)
        });
    }
    let mut wrong = Vec::new();
    while let Some(result) = runs.join_next().await {
        let (fault, expected, code, failed, output) = result.unwrap();
        // Shown with --nocapture: what the kit said about each fault.
        println!("{fault:?} → {failed:?}");
        for line in output.lines().filter(|l| l.contains("\"detail\"")) {
            println!("    {}", line.trim());
        }
        if failed != expected || code != Some(1) {
            wrong.push(format!(
                "{fault:?}: expected {expected:?} to fail, {failed:?} failed (exit {code:?})\n{output}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// A provider behind a proxy with `fault`, and the kit pointed at the proxy.
async fn run_with(fault: Fault) -> (Option<i32>, Vec<String>, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let idp = start_idp(Some(&issuer), false).await;
    let proxy = Arc::new(Proxy {
        upstream: idp.base.clone(),
        origin: issuer.clone(),
        fault,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        memory: Mutex::default(),
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut args = vec!["--sign-in", "alice:alice", "--json"];
    if matches!(fault, ListLeaksTheCode | EveryPickMadeRight) {
        // The code check is skipped (not failed) for the others.
        args.extend([
            "--verify-client-id",
            "pos-terminal",
            "--verify-client-secret",
            "pos-secret",
        ]);
    }
    let run = kit(&kit_args(&issuer, &args)).await;
    server.abort();
    let failed = if run.stdout.trim_start().starts_with('{') {
        run.failed()
    } else {
        vec![format!("(no JSON report: {run})")]
    };
    (run.code, failed, run.to_string())
}

struct Proxy {
    upstream: String,
    /// The proxy's own origin: the issuer.
    origin: String,
    fault: Fault,
    http: reqwest::Client,
    memory: Mutex<Memory>,
}

/// What the proxy learnt from the traffic so far.
#[derive(Default)]
struct Memory {
    /// Every listed request's scope values, by internal id.
    listed: HashMap<String, Vec<String>>,
    /// Every listed request's code-check choices, by internal id.
    choices: HashMap<String, Vec<String>>,
    /// Ids a `POST /complete` decided (204).
    decided: HashSet<String>,
    /// Whether the token endpoint has given an answer other than pending.
    polled: bool,
    /// Every binding message a client sent to /connect/ciba.
    binding_messages: HashSet<String>,
}

impl Memory {
    /// The choice that is a binding message some client sent: the real one.
    fn real_code(&self, choices: &[String]) -> Option<String> {
        choices
            .iter()
            .find(|c| self.binding_messages.contains(*c))
            .cloned()
    }
}

/// One request or answer as the proxy holds it.
struct Message {
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let path = parts.uri.path().to_owned();
    let method = parts.method.clone();
    let mut sent = Message {
        headers: parts.headers,
        body,
    };
    proxy.on_request(&method, &path, &mut sent);

    let url = format!(
        "{}{}",
        proxy.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut headers = sent.headers.clone();
    for hop in [
        header::HOST,
        header::CONTENT_LENGTH,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
    ] {
        headers.remove(hop);
    }
    let answer = proxy
        .http
        .request(method.clone(), url)
        .headers(headers)
        .body(sent.body.clone())
        .send()
        .await
        .expect("ciba-idp answers");
    let mut status = answer.status();
    let mut headers = answer.headers().clone();
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    let body = answer.bytes().await.unwrap().to_vec();
    let mut got = Message { headers, body };
    proxy.learn(&method, &path, &sent, status, &got);
    proxy.on_response(&method, &path, &sent, &mut status, &mut got);

    let mut response = Response::new(Body::from(got.body));
    *response.status_mut() = status;
    *response.headers_mut() = got.headers;
    response
}

fn json_body(body: &[u8]) -> Option<Value> {
    serde_json::from_slice(body).ok()
}

/// The id in `/api/ciba/requests/{id}`.
fn request_id(path: &str) -> Option<&str> {
    path.strip_prefix("/api/ciba/requests/")
}

fn set_json(message: &mut Message, value: &Value) {
    message.body = serde_json::to_vec(value).unwrap();
}

fn plain_text(message: &mut Message, text: &str) {
    message.body = text.as_bytes().to_vec();
    message.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
}

impl Proxy {
    fn learn(
        &self,
        method: &Method,
        path: &str,
        sent: &Message,
        status: StatusCode,
        got: &Message,
    ) {
        let mut memory = self.memory.lock().unwrap();
        match (method.as_str(), path) {
            ("GET", "/api/ciba/requests") if status == StatusCode::OK => {
                for request in json_body(&got.body)
                    .and_then(|v| v.as_array().cloned())
                    .unwrap_or_default()
                {
                    let scopes = ["identityScopes", "apiScopes"]
                        .iter()
                        .flat_map(|k| request[k].as_array().cloned().unwrap_or_default())
                        .filter_map(|s| s["value"].as_str().map(str::to_owned))
                        .collect();
                    if let Some(id) = request["internalId"].as_str() {
                        memory.listed.insert(id.to_owned(), scopes);
                        if let Some(choices) = request["bindingMessageChoices"].as_array() {
                            let choices = choices
                                .iter()
                                .filter_map(|c| c.as_str().map(str::to_owned))
                                .collect();
                            memory.choices.insert(id.to_owned(), choices);
                        }
                    }
                }
            }
            ("POST", "/api/ciba/complete") if status == StatusCode::NO_CONTENT => {
                if let Some(id) =
                    json_body(&sent.body).and_then(|v| v["internalId"].as_str().map(str::to_owned))
                {
                    memory.decided.insert(id);
                }
            }
            ("POST", "/connect/ciba") => {
                for (name, value) in url::form_urlencoded::parse(&sent.body) {
                    if name == "binding_message" {
                        memory.binding_messages.insert(value.into_owned());
                    }
                }
            }
            ("POST", "/connect/token") => {
                let error =
                    json_body(&got.body).and_then(|v| v["error"].as_str().map(str::to_owned));
                if status == StatusCode::OK || error.as_deref() == Some("access_denied") {
                    memory.polled = true;
                }
            }
            _ => {}
        }
    }

    fn on_request(&self, method: &Method, path: &str, sent: &mut Message) {
        let complete = method == Method::POST && path == "/api/ciba/complete";
        match self.fault {
            IfNoneMatchIgnored => {
                sent.headers.remove(header::IF_NONE_MATCH);
            }
            CsrfHeaderAdded => {
                sent.headers.insert("x-csrf", HeaderValue::from_static("1"));
            }
            OriginRewritten if sent.headers.contains_key(header::ORIGIN) => {
                sent.headers
                    .insert(header::ORIGIN, HeaderValue::from_str(&self.origin).unwrap());
            }
            TextPlainAsJson
                if sent
                    .headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/plain")) =>
            {
                sent.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            EveryPickMadeRight if complete => {
                let Some(mut body) = json_body(&sent.body) else {
                    return;
                };
                let memory = self.memory.lock().unwrap();
                let right = body["internalId"]
                    .as_str()
                    .and_then(|id| memory.choices.get(id))
                    .and_then(|choices| memory.real_code(choices));
                if let Some(right) = right
                    && body["scopesValuesConsented"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty())
                {
                    body["bindingMessage"] = json!(right);
                    set_json(sent, &body);
                }
            }
            UnrequestedScopeDropped | PartialGrantWidened | DenialTurnedIntoApproval
                if complete =>
            {
                let Some(mut body) = json_body(&sent.body) else {
                    return;
                };
                let memory = self.memory.lock().unwrap();
                let requested = body["internalId"]
                    .as_str()
                    .and_then(|id| memory.listed.get(id))
                    .cloned()
                    .unwrap_or_default();
                let granted: Vec<String> = body["scopesValuesConsented"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let new = match self.fault {
                    UnrequestedScopeDropped => granted
                        .iter()
                        .filter(|s| requested.contains(s))
                        .cloned()
                        .collect(),
                    PartialGrantWidened
                        if !granted.is_empty()
                            && granted.len() < requested.len()
                            && granted.iter().all(|s| requested.contains(s)) =>
                    {
                        requested
                    }
                    DenialTurnedIntoApproval if granted.is_empty() => requested,
                    _ => return,
                };
                body["scopesValuesConsented"] = json!(new);
                set_json(sent, &body);
            }
            _ => {}
        }
    }

    fn on_response(
        &self,
        method: &Method,
        path: &str,
        sent: &Message,
        status: &mut StatusCode,
        got: &mut Message,
    ) {
        let memory = self.memory.lock().unwrap();
        match self.fault {
            DiscoveryWithoutCibaGrant if path == "/.well-known/openid-configuration" => {
                let mut metadata = json_body(&got.body).unwrap();
                metadata["grant_types_supported"] = json!(["refresh_token"]);
                set_json(got, &metadata);
            }
            SessionUnauthorizedAsHtml
                if path == "/api/ciba/session" && *status == StatusCode::UNAUTHORIZED =>
            {
                got.body = b"<!DOCTYPE html><h1>Sign in</h1>".to_vec();
                got.headers
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            }
            ListWithoutBindingMessage
                if path == "/api/ciba/requests" && *status == StatusCode::OK =>
            {
                let mut list = json_body(&got.body).unwrap();
                for request in list.as_array_mut().unwrap() {
                    request["bindingMessage"] = Value::Null;
                }
                set_json(got, &list);
            }
            ListLeaksTheCode if path == "/api/ciba/requests" && *status == StatusCode::OK => {
                let mut list = json_body(&got.body).unwrap();
                for request in list.as_array_mut().unwrap() {
                    let choices: Vec<String> = request["bindingMessageChoices"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|c| c.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    if let Some(right) = memory.real_code(&choices) {
                        request["bindingMessage"] = json!(right);
                    }
                }
                set_json(got, &list);
            }
            ListWithoutEtag if path == "/api/ciba/requests" => {
                got.headers.remove(header::ETAG);
            }
            GetWithOtherBindingMessage
                if request_id(path).is_some() && *status == StatusCode::OK =>
            {
                let mut request = json_body(&got.body).unwrap();
                request["bindingMessage"] = json!("Something else");
                set_json(got, &request);
            }
            UnknownIdForbidden
                if request_id(path).is_some_and(|id| !memory.listed.contains_key(id))
                    && *status == StatusCode::NOT_FOUND =>
            {
                *status = StatusCode::FORBIDDEN;
                let mut problem = json_body(&got.body).unwrap();
                problem["status"] = json!(403);
                problem["title"] = json!("Forbidden");
                set_json(got, &problem);
            }
            DecidedIdAsPlainText
                if request_id(path).is_some_and(|id| memory.decided.contains(id))
                    && *status == StatusCode::NOT_FOUND =>
            {
                plain_text(got, "Not Found");
            }
            MalformedJsonAsPlainText
                if method == Method::POST
                    && path == "/api/ciba/complete"
                    && json_body(&sent.body).is_none() =>
            {
                plain_text(got, "Bad Request");
            }
            TokensWithoutIdToken if path == "/connect/token" && *status == StatusCode::OK => {
                let mut tokens = json_body(&got.body).unwrap();
                tokens.as_object_mut().unwrap().remove("id_token");
                set_json(got, &tokens);
            }
            ConflictAsNoContentBeforePoll
                if path == "/api/ciba/complete"
                    && *status == StatusCode::CONFLICT
                    && !memory.polled =>
            {
                *status = StatusCode::NO_CONTENT;
                got.body.clear();
                got.headers.remove(header::CONTENT_TYPE);
            }
            NoStoreStrippedFromOneAnswer
                if path == "/api/ciba/session" && *status == StatusCode::UNAUTHORIZED =>
            {
                got.headers.remove(header::CACHE_CONTROL);
            }
            CspAllowsUnsafeInline if path.starts_with("/ciba") => {
                if let Some(policy) = got.headers.get(header::CONTENT_SECURITY_POLICY) {
                    let policy = policy
                        .to_str()
                        .unwrap()
                        .replace("script-src ", "script-src 'unsafe-inline' ");
                    got.headers.insert(
                        header::CONTENT_SECURITY_POLICY,
                        HeaderValue::from_str(&policy).unwrap(),
                    );
                }
            }
            CspHashOfOtherScript if path == "/ciba/" && *status == StatusCode::OK => {
                // One statement more inside the first inline script, however the page writes its
                // tag (`<script type="module">`, or minified `<script type=module>`).
                let mut html = String::from_utf8(got.body.clone()).unwrap();
                let tag = html.find("<script").expect("the page has an inline script");
                let body = tag + html[tag..].find('>').expect("the tag closes") + 1;
                html.insert_str(body, "\nconsole.log(1);");
                got.body = html.into_bytes();
            }
            CspHashOfOtherStyle if path == "/ciba/" && *status == StatusCode::OK => {
                // One rule more inside the inline stylesheet.
                let mut html = String::from_utf8(got.body.clone()).unwrap();
                let tag = html
                    .find("<style")
                    .expect("the page has an inline stylesheet");
                let body = tag + html[tag..].find('>').expect("the tag closes") + 1;
                html.insert_str(body, "p{color:red}");
                got.body = html.into_bytes();
            }
            _ => {}
        }
    }
}
