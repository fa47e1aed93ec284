//! Every promise of the approval contract, checked against a live host.
//!
//! The kit starts three CIBA requests as a client (few, because providers rate-limit sign-in prompts per
//! user): one it approves with a partial grant, one it denies, and one it uses for the refusals. The
//! refusals come first on their own request, unrequested-scope first of them: a host that wrongly
//! accepts one has decided that request, and the later refusals are answered before the request is
//! looked at. Each refusal checks that *its* call left a pending request pending. Then the decisions,
//! the repeats before the client polls, the polls, and the repeats after them (Duende forgets a
//! decided request at the poll; the contract does not). No-store is judged on every API answer seen.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Duration;

use base64::Engine;
use ciba_contract::{CompleteRequest, LoginRequest, Outcome, SessionInfo};
use scraper::{Html, Selector};
use sha2::{Digest, Sha256};
use url::Url;

use crate::client::{BackchannelAnswer, CIBA_GRANT, Client, Provider, Started, TokenAnswer};
use crate::report::{Finding, Report};
use crate::user::{Answer, BrowserSession, Dress};

/// Each promise: a stable short id and what it says, in the order of the report.
pub const PROMISES: &[(&str, &str)] = &[
    (
        "discovery",
        "discovery names the issuer, the backchannel and token endpoints and the CIBA grant",
    ),
    (
        "session",
        "GET /session answers the cookie's user, and 401 problem+json without the cookie",
    ),
    (
        "list",
        "the new request appears in the list with its fields",
    ),
    (
        "etag",
        "the list answers an ETag, and If-None-Match with it gets 304",
    ),
    ("get", "GET /requests/{id} answers the same request"),
    (
        "not-found",
        "one 404 problem+json, alike for an unknown and a decided id",
    ),
    (
        "csrf",
        "POST /complete without X-CSRF gets 403 problem+json and decides nothing",
    ),
    (
        "origin",
        "POST /complete from a foreign Origin gets 403 problem+json and decides nothing",
    ),
    (
        "malformed-json",
        "POST /complete with malformed JSON gets 400 problem+json",
    ),
    (
        "content-type",
        "POST /complete with a JSON body sent as text/plain gets 400 problem+json and decides nothing",
    ),
    (
        "unrequested-scope",
        "granting a scope the request did not ask for gets 400 problem+json and decides nothing",
    ),
    (
        "approve",
        "an approval gets 204, then tokens with exactly the granted scopes and an id_token",
    ),
    (
        "deny",
        "a denial gets 204, then access_denied at the token endpoint",
    ),
    (
        "409-before-poll",
        "a repeated decision gets 409 problem+json with its outcome",
    ),
    (
        "409-after-poll",
        "after the client has polled, a repeated decision still gets 409 with its outcome",
    ),
    (
        "no-store",
        "every approval-API answer carries Cache-Control: no-store",
    ),
    (
        "csp",
        "the page's CSP allows wasm, and its inline scripts and stylesheet by hash, never 'unsafe-inline'",
    ),
    (
        "code-check",
        "for a client with the code check on, the list and GET show verifyBindingMessage, three distinct \
bindingMessageChoices with the real one and no bindingMessage; an approval without the pick, with a wrong \
pick, and after a wrong pick even with the right one gets 400 problem+json and decides nothing; a denial \
still gets access_denied",
    ),
];

/// Promises checked only when the kit is given what they need; skipped otherwise.
const NEEDS: &[(&str, &str)] = &[(
    "code-check",
    "give --verify-client-id and --verify-client-secret: a client of the host with the code check on",
)];

/// How the kit gets the user's session.
#[derive(Debug, Clone)]
pub enum Auth {
    /// `NAME=VALUE` copied from a signed-in browser.
    Cookie(String),
    /// Through the host's sign-in form.
    SignIn { user: String, password: String },
}

/// What the kit is pointed at.
#[derive(Debug, Clone)]
pub struct Settings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub login_hint: String,
    pub auth: Auth,
    /// Space-separated; needs an optional scope so a partial grant can be told from a full one.
    pub scope: String,
    pub api_base: Url,
    pub page_url: Url,
    pub login_url: Url,
    /// A client with the code check on (`verifyBindingMessage`), id and secret, for `code-check`.
    pub verify_client: Option<(String, String)>,
}

/// How long the kit waits for the token endpoint to stop saying `authorization_pending` after a decision.
const PATIENCE: Duration = Duration::from_secs(30);
/// A site that is not the host's, for the `Origin` of a forged post.
const FOREIGN_ORIGIN: &str = "https://evil.example";

/// Checks every promise and says which the host kept.
pub async fn run(settings: &Settings) -> Report {
    let mut verdicts = Verdicts::default();
    if settings.verify_client.is_none() {
        verdicts.skip("code-check");
    }
    match BrowserSession::new(settings.api_base.clone()) {
        Ok(user) => {
            if let Err(Stop(why)) = walk(settings, &user, &mut verdicts).await {
                verdicts.stopped = Some(why);
            }
            verdicts.record("no-store", no_store(&user.seen()));
        }
        Err(error) => verdicts.stopped = Some(error.0),
    }
    Report::new(&settings.issuer, verdicts.findings())
}

/// Why the walk could not go on; every promise not yet checked fails with it.
struct Stop(String);

impl From<crate::Error> for Stop {
    fn from(error: crate::Error) -> Self {
        Self(error.0)
    }
}

#[derive(Default)]
struct Verdicts {
    results: BTreeMap<&'static str, Result<(), String>>,
    skipped: BTreeSet<&'static str>,
    stopped: Option<String>,
}

impl Verdicts {
    fn skip(&mut self, id: &'static str) {
        self.skipped.insert(id);
    }

    fn record(&mut self, id: &'static str, result: Result<(), String>) {
        debug_assert!(PROMISES.iter().any(|(p, _)| *p == id), "{id}");
        self.results.insert(id, result);
    }

    fn findings(&self) -> Vec<Finding> {
        PROMISES
            .iter()
            .map(|&(id, promise)| {
                if self.skipped.contains(id) {
                    let why = NEEDS
                        .iter()
                        .find(|(need, _)| *need == id)
                        .map(|(_, why)| *why);
                    return Finding {
                        id,
                        promise,
                        passed: false,
                        skipped: true,
                        detail: why.map(str::to_owned),
                    };
                }
                let result = self.results.get(id).cloned().unwrap_or_else(|| {
                    Err(format!(
                        "not checked: {}",
                        self.stopped.as_deref().unwrap_or("the kit stopped early")
                    ))
                });
                Finding {
                    id,
                    promise,
                    passed: result.is_ok(),
                    skipped: false,
                    detail: result.err(),
                }
            })
            .collect()
    }
}

/// One of the kit's own requests: what it sent and how the list shows it.
struct Mine {
    started: Started,
    binding_message: String,
    listed: LoginRequest,
}

impl Mine {
    fn id(&self) -> &str {
        &self.listed.internal_id
    }
}

async fn walk(s: &Settings, user: &BrowserSession, v: &mut Verdicts) -> Result<(), Stop> {
    v.record("csp", csp(user, &s.page_url).await);

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .user_agent(concat!("ciba-conformance/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(crate::Error::from)?;
    let provider = match Provider::discover(&http, &s.issuer).await {
        Ok(provider) => provider,
        Err(error) => {
            v.record("discovery", Err(error.0));
            return Err(Stop("discovery failed".into()));
        }
    };
    v.record("discovery", discovery(&provider, &s.issuer));
    let client = Client::new(http.clone(), &provider, &s.client_id, &s.client_secret)?;

    // The session.
    match &s.auth {
        Auth::Cookie(cookie) => user.add_cookie(cookie)?,
        Auth::SignIn {
            user: name,
            password,
        } => {
            if let Err(error) = user.sign_in(&s.login_url, name, password).await {
                v.record("session", Err(format!("sign-in failed: {error}")));
                return Err(Stop("no signed-in session (see session)".into()));
            }
        }
    }
    let me = user.session().await?;
    let stranger = user.without_cookies()?.session().await?;
    v.record("session", session(&me, &stranger));
    if me.status != reqwest::StatusCode::OK {
        return Err(Stop("no signed-in session (see session)".into()));
    }

    // Three requests, each found in the list by what is new in it (so a list that garbles a field
    // still lets the other promises be checked).
    let requested: Vec<String> = s.scope.split_whitespace().map(str::to_owned).collect();
    let first = user.list(None).await?;
    let mut known: HashSet<String> = match first.json::<Vec<LoginRequest>>() {
        Ok(items) => items.into_iter().map(|r| r.internal_id).collect(),
        Err(error) => {
            v.record("list", Err(error));
            return Err(Stop("the list cannot be read (see list)".into()));
        }
    };
    let tag = random_hex(8);
    let mut mine = Vec::new();
    let mut list_problems = Vec::new();
    let mut last_list = first;
    for role in ["approve", "deny", "refuse"] {
        let binding_message = format!("Conformance {tag} {role}");
        let started = start(&client, s, &binding_message).await?;
        let list = user.list(None).await?;
        let items = match list.json::<Vec<LoginRequest>>() {
            Ok(items) => items,
            Err(error) => {
                v.record("list", Err(error));
                return Err(Stop("the list cannot be read (see list)".into()));
            }
        };
        let new: Vec<LoginRequest> = items
            .into_iter()
            .filter(|r| !known.contains(&r.internal_id))
            .collect();
        known.extend(new.iter().map(|r| r.internal_id.clone()));
        let ours: Vec<&LoginRequest> = new
            .iter()
            .filter(|r| r.client.client_id == s.client_id)
            .collect();
        let listed = new
            .iter()
            .find(|r| r.binding_message.as_deref() == Some(binding_message.as_str()))
            .or(match ours.as_slice() {
                [only] => Some(*only),
                _ => None,
            });
        let Some(listed) = listed.cloned() else {
            v.record(
                "list",
                Err(format!(
                    "the request started with binding message {binding_message:?} is not in the list \
                     ({} new entries)",
                    new.len()
                )),
            );
            return Err(Stop(
                "the kit's requests are not in the list (see list)".into(),
            ));
        };
        let expected = Expected {
            client_id: &s.client_id,
            binding_message: &binding_message,
            scopes: &requested,
            expires_in: started.expires_in,
        };
        if list_problems.is_empty() {
            list_problems = fields(&listed, &expected);
        }
        mine.push(Mine {
            started,
            binding_message,
            listed,
        });
        last_list = list;
    }
    v.record("list", joined(list_problems));

    // ETag: the list has not changed since the last answer.
    let etag = match last_list.header("etag") {
        None => Err(format!("{} has no ETag", short(&last_list))),
        Some(tag) => {
            let again = user.list(Some(tag)).await?;
            if again.status == reqwest::StatusCode::NOT_MODIFIED {
                Ok(())
            } else {
                Err(format!("If-None-Match: {tag} got {}", again.describe()))
            }
        }
    };
    v.record("etag", etag);

    let mut get_problems = Vec::new();
    for m in &mine {
        let answer = user.get(m.id()).await?;
        let problems = match answer.json::<LoginRequest>() {
            Err(error) => vec![error],
            Ok(got) => {
                let expected = Expected {
                    client_id: &s.client_id,
                    binding_message: &m.binding_message,
                    scopes: &requested,
                    expires_in: m.started.expires_in,
                };
                let mut problems = fields(&got, &expected);
                if got.internal_id != m.listed.internal_id
                    || got.created_at != m.listed.created_at
                    || got.expires_at != m.listed.expires_at
                {
                    problems.push(format!(
                        "internalId/createdAt/expiresAt {:?}/{:?}/{:?}, the list said {:?}/{:?}/{:?}",
                        got.internal_id,
                        got.created_at,
                        got.expires_at,
                        m.listed.internal_id,
                        m.listed.created_at,
                        m.listed.expires_at
                    ));
                }
                problems
            }
        };
        if get_problems.is_empty() {
            get_problems = problems;
        }
    }
    v.record("get", joined(get_problems));

    // The refusals, on the third request.
    let [approved, denied, refused] = &mine[..] else {
        unreachable!("three requests")
    };
    let id = refused.id();
    let origin = user.origin().to_owned();
    let json = Dress {
        content_type: "application/json",
        csrf: true,
        origin: Some(&origin),
    };
    let valid = serde_json::to_vec(&CompleteRequest::approve(
        id,
        partial_grant(&refused.listed),
        None,
    ))
    .expect("serializes");
    // A scope the host knows, when it names one the request did not ask for: refusing only unknown
    // scopes would not be enough.
    let extra = provider
        .metadata
        .scopes_supported
        .iter()
        .find(|scope| !requested.contains(scope))
        .cloned()
        .unwrap_or_else(|| "ciba-conformance.unrequested".into());
    let mut too_much: Vec<String> = refused.listed.scopes().map(|s| s.value.clone()).collect();
    too_much.push(extra);
    let too_much =
        serde_json::to_vec(&CompleteRequest::approve(id, too_much, None)).expect("serializes");
    v.record(
        "unrequested-scope",
        refusal(user, id, 400, too_much, &json).await?,
    );
    let malformed = format!(r#"{{"internalId":"{id}","scopesValuesConsented":["#).into_bytes();
    v.record(
        "malformed-json",
        refusal(user, id, 400, malformed, &json).await?,
    );
    let text_plain = Dress {
        content_type: "text/plain;charset=UTF-8",
        ..json.clone()
    };
    v.record(
        "content-type",
        refusal(user, id, 400, valid.clone(), &text_plain).await?,
    );
    let no_csrf = Dress {
        csrf: false,
        ..json.clone()
    };
    v.record(
        "csrf",
        refusal(user, id, 403, valid.clone(), &no_csrf).await?,
    );
    let foreign = Dress {
        origin: Some(FOREIGN_ORIGIN),
        ..json.clone()
    };
    v.record("origin", refusal(user, id, 403, valid, &foreign).await?);

    // The decisions, and their repeats before the client polls.
    let grant = partial_grant(&approved.listed);
    let approval = CompleteRequest::approve(approved.id(), grant.clone(), None);
    let approval_answer = user.complete(&approval).await?;
    let approval_taken = approval_answer.status == reqwest::StatusCode::NO_CONTENT;
    let mut before_poll = Vec::new();
    if approval_taken {
        let again = user.complete(&approval).await?;
        before_poll.extend(conflict(&again, Outcome::Approved).err());
    } else {
        before_poll.push("not checked for an approval, which was refused (see approve)".into());
    }

    let unknown = user.get(&random_hex(32)).await?;
    let decided = user.get(approved.id()).await?;
    v.record("not-found", not_found(&unknown, &decided));

    let denial = CompleteRequest::deny(denied.id());
    let denial_answer = user.complete(&denial).await?;
    let denial_taken = denial_answer.status == reqwest::StatusCode::NO_CONTENT;
    if denial_taken {
        let again = user.complete(&denial).await?;
        before_poll.extend(conflict(&again, Outcome::Denied).err());
    } else {
        before_poll.push("not checked for a denial, which was refused (see deny)".into());
    }
    v.record("409-before-poll", joined(before_poll));

    // The client polls; then the repeats once more.
    let mut after_poll = Vec::new();
    let mut approve_problems = Vec::new();
    if approved.listed.scopes().all(|s| s.required) {
        approve_problems.push(format!(
            "the request has no optional scope to leave out of the grant; pass a --scope with one (now {:?})",
            s.scope
        ));
    }
    if approval_taken {
        let started = &approved.started;
        let answer = client
            .wait_for_answer(&started.auth_req_id, started.interval(), PATIENCE)
            .await?;
        approve_problems.extend(tokens(&answer, &grant).err());
        if is_final(&answer) {
            let again = user.complete(&approval).await?;
            after_poll.extend(conflict(&again, Outcome::Approved).err());
        } else {
            after_poll.push("not checked for the approval: the client got no answer".into());
        }
    } else {
        approve_problems.push(format!("approving got {}", approval_answer.describe()));
        after_poll.push("not checked for an approval, which was refused (see approve)".into());
    }
    v.record("approve", joined(approve_problems));

    let deny_result = if denial_taken {
        let started = &denied.started;
        let answer = client
            .wait_for_answer(&started.auth_req_id, started.interval(), PATIENCE)
            .await?;
        if is_final(&answer) {
            let again = user.complete(&denial).await?;
            after_poll.extend(conflict(&again, Outcome::Denied).err());
        } else {
            after_poll.push("not checked for the denial: the client got no answer".into());
        }
        match answer {
            TokenAnswer::Denied => Ok(()),
            other => Err(format!(
                "after the denial the token endpoint answered {}",
                token_answer(&other)
            )),
        }
    } else {
        after_poll.push("not checked for a denial, which was refused (see deny)".into());
        Err(format!("denying got {}", denial_answer.describe()))
    };
    v.record("deny", deny_result);
    v.record("409-after-poll", joined(after_poll));

    // Leave nothing pending behind.
    if user.get(id).await?.status == reqwest::StatusCode::OK {
        user.complete(&CompleteRequest::deny(id)).await?;
    }

    if let Some((client_id, secret)) = &s.verify_client {
        let verifying = Client::new(http, &provider, client_id, secret)?;
        let result = code_check(s, user, &verifying, client_id, &known, &tag).await?;
        v.record("code-check", result);
    }
    Ok(())
}

/// The code check, enforced by the host: a request through a client with the check on shows three
/// choices and not the answer, and only the right pick approves — after a wrong one, nothing does.
async fn code_check(
    s: &Settings,
    user: &BrowserSession,
    client: &Client,
    client_id: &str,
    known: &HashSet<String>,
    tag: &str,
) -> Result<Result<(), String>, Stop> {
    let message = format!("Conformance {tag} 4711");
    let started = match client
        .start_request(&s.login_hint, "openid", Some(&message), None)
        .await?
    {
        BackchannelAnswer::Started(started) => started,
        BackchannelAnswer::Refused(error) => {
            return Ok(Err(format!(
                "the backchannel authentication endpoint refused a request through {client_id}: {error}"
            )));
        }
    };
    let items: Vec<LoginRequest> = match user.list(None).await?.json() {
        Ok(items) => items,
        Err(error) => return Ok(Err(error)),
    };
    let Some(listed) = items
        .into_iter()
        .find(|r| !known.contains(&r.internal_id) && r.client.client_id == client_id)
    else {
        return Ok(Err(format!(
            "the request started through {client_id} is not in the list"
        )));
    };
    let id = listed.internal_id.clone();
    let mut problems = Vec::new();
    let choices = listed.binding_message_choices.clone().unwrap_or_default();
    problems.extend(
        choice_problems(&listed, &message)
            .into_iter()
            .map(|p| format!("in the list: {p}")),
    );
    match user.get(&id).await?.json::<LoginRequest>() {
        Ok(got) => problems.extend(
            choice_problems(&got, &message)
                .into_iter()
                .map(|p| format!("from GET: {p}")),
        ),
        Err(error) => problems.push(error),
    }

    let json = Dress {
        content_type: "application/json",
        csrf: true,
        origin: Some(user.origin()),
    };
    let approval = |pick: Option<&str>| {
        let mut approval = CompleteRequest::approve(&id, vec!["openid".into()], None);
        approval.binding_message = pick.map(str::to_owned);
        serde_json::to_vec(&approval).expect("serializes")
    };
    let wrong = choices
        .iter()
        .find(|c| **c != message)
        .cloned()
        .unwrap_or_else(|| format!("{message}0"));
    for (what, pick) in [
        ("without a pick", None),
        ("with a wrong pick", Some(wrong.as_str())),
        (
            "with the right pick after a wrong one",
            Some(message.as_str()),
        ),
    ] {
        if let Err(error) = refusal(user, &id, 400, approval(pick), &json).await? {
            problems.push(format!("approving {what}: {error}"));
        }
    }
    let denial = user.complete(&CompleteRequest::deny(&id)).await?;
    if denial.status == reqwest::StatusCode::NO_CONTENT {
        let answer = client
            .wait_for_answer(&started.auth_req_id, started.interval(), PATIENCE)
            .await?;
        if !matches!(answer, TokenAnswer::Denied) {
            problems.push(format!(
                "after the denial the token endpoint answered {}",
                token_answer(&answer)
            ));
        }
    } else if !problems.iter().any(|p| p.contains("decided the request")) {
        problems.push(format!("denying got {}", denial.describe()));
    }
    Ok(joined(problems))
}

/// What is wrong with a request whose code check is on, as the API shows it.
fn choice_problems(r: &LoginRequest, message: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !r.verify_binding_message {
        problems.push("verifyBindingMessage is not true".to_owned());
    }
    if let Some(shown) = &r.binding_message {
        problems.push(format!(
            "bindingMessage is {shown:?}: the page could show or send it without the person"
        ));
    }
    match &r.binding_message_choices {
        None => problems.push("no bindingMessageChoices".into()),
        Some(choices) => {
            let distinct: BTreeSet<&String> = choices.iter().collect();
            if choices.len() != 3 || distinct.len() != 3 {
                problems.push(format!(
                    "bindingMessageChoices {choices:?}: not three distinct choices"
                ));
            }
            if !choices.iter().any(|c| c == message) {
                problems.push(format!(
                    "bindingMessageChoices {choices:?} lack the binding message {message:?}"
                ));
            }
        }
    }
    problems
}

/// Starts a request, waiting out the host's per-user rate limit (`slow_down`) for up to a minute.
async fn start(client: &Client, s: &Settings, binding_message: &str) -> Result<Started, Stop> {
    for attempt in 0.. {
        match client
            .start_request(&s.login_hint, &s.scope, Some(binding_message), None)
            .await?
        {
            BackchannelAnswer::Started(started) => return Ok(started),
            BackchannelAnswer::Refused(error) if error.error == "slow_down" && attempt < 4 => {
                eprintln!("ciba-conformance: the host says slow_down ({error}); waiting 15 s");
                tokio::time::sleep(Duration::from_secs(15)).await;
            }
            BackchannelAnswer::Refused(error) => {
                return Err(Stop(format!(
                    "the backchannel authentication endpoint refused the kit's request: {error}"
                )));
            }
        }
    }
    unreachable!("the loop returns")
}

fn discovery(provider: &Provider, issuer: &str) -> Result<(), String> {
    let m = &provider.metadata;
    let mut problems = Vec::new();
    if m.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        problems.push(format!("issuer {:?}, expected {issuer:?}", m.issuer));
    }
    if m.backchannel_authentication_endpoint.is_none() {
        problems.push("no backchannel_authentication_endpoint".into());
    }
    if m.token_endpoint.is_none() {
        problems.push("no token_endpoint".into());
    }
    if !m.grant_types_supported.iter().any(|g| g == CIBA_GRANT) {
        problems.push(format!(
            "grant_types_supported {:?} lacks {CIBA_GRANT}",
            m.grant_types_supported
        ));
    }
    let modes = &m.backchannel_token_delivery_modes_supported;
    if !modes.is_empty() && !modes.iter().any(|mode| mode == "poll") {
        problems.push(format!(
            "backchannel_token_delivery_modes_supported {modes:?} lacks poll"
        ));
    }
    joined(problems)
}

fn session(me: &Answer, stranger: &Answer) -> Result<(), String> {
    let info: SessionInfo = me.json()?;
    if info.subject.trim().is_empty() || info.name.trim().is_empty() {
        return Err(format!("{}: empty subject or name", me.describe()));
    }
    stranger
        .problem(401)
        .map(|_| ())
        .map_err(|e| format!("without the cookie: {e}"))
}

struct Expected<'a> {
    client_id: &'a str,
    binding_message: &'a str,
    scopes: &'a [String],
    expires_in: u64,
}

/// What is wrong with a request as the API shows it, given what the kit started.
fn fields(r: &LoginRequest, e: &Expected) -> Vec<String> {
    let mut problems = Vec::new();
    if r.internal_id.trim().is_empty() {
        problems.push("internalId is empty".to_owned());
    }
    if r.client.client_id != e.client_id {
        problems.push(format!(
            "client.clientId {:?}, expected {:?}",
            r.client.client_id, e.client_id
        ));
    }
    if r.binding_message.as_deref() != Some(e.binding_message) {
        problems.push(format!(
            "bindingMessage {}, sent {:?}",
            or_null(r.binding_message.as_deref()),
            e.binding_message
        ));
    }
    let shown: BTreeSet<&str> = r.scopes().map(|s| s.value.as_str()).collect();
    let asked: BTreeSet<&str> = e.scopes.iter().map(String::as_str).collect();
    if shown != asked {
        problems.push(format!("scopes {shown:?}, requested {asked:?}"));
    }
    let time = |name: &str, text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|_| format!("{name} {text:?} is not RFC 3339"))
    };
    match (
        time("createdAt", &r.created_at),
        time("expiresAt", &r.expires_at),
    ) {
        (Ok(created), Ok(expires)) => {
            let lifetime = (expires - created).num_seconds();
            if lifetime <= 0 {
                problems.push(format!(
                    "expiresAt {:?} is not after createdAt {:?}",
                    r.expires_at, r.created_at
                ));
            } else if lifetime.abs_diff(e.expires_in as i64) > 5 {
                problems.push(format!(
                    "expiresAt − createdAt is {lifetime} s, but expires_in was {} s",
                    e.expires_in
                ));
            }
        }
        (created, expires) => problems.extend(created.err().into_iter().chain(expires.err())),
    }
    problems
}

/// Every required scope and all optional ones but the last: a grant that differs from both the
/// request and the minimum.
fn partial_grant(r: &LoginRequest) -> Vec<String> {
    let left_out = if r.scopes().count() > 1 {
        r.scopes().filter(|s| !s.required).last()
    } else {
        None
    };
    r.scopes()
        .filter(|s| Some(*s) != left_out)
        .map(|s| s.value.clone())
        .collect()
}

/// A refusal by `status` with a problem document, and the request (if it was pending) still pending.
async fn refusal(
    user: &BrowserSession,
    id: &str,
    status: u16,
    body: Vec<u8>,
    dress: &Dress<'_>,
) -> Result<Result<(), String>, Stop> {
    let pending_before = user.get(id).await?.status == reqwest::StatusCode::OK;
    let answer = user.post_complete(body, dress).await?;
    let verdict = answer.problem(status).map(|_| ());
    let pending_after = user.get(id).await?.status == reqwest::StatusCode::OK;
    let decided = pending_before && !pending_after;
    Ok(match verdict {
        Err(error) if decided => Err(format!("{error}; the call decided the request")),
        Ok(()) if decided => Err(format!(
            "{}, but the request is no longer pending",
            short(&answer)
        )),
        other => other,
    })
}

fn conflict(answer: &Answer, outcome: Outcome) -> Result<(), String> {
    let problem = answer
        .problem(409)
        .map_err(|e| format!("repeating the {}: {e}", noun(outcome)))?;
    match problem.outcome {
        Some(said) if said == outcome => Ok(()),
        said => Err(format!(
            "repeating the {}: 409 with outcome {}, expected {}",
            noun(outcome),
            said.map_or("(none)", Outcome::as_str),
            outcome.as_str()
        )),
    }
}

fn noun(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Approved => "approval",
        Outcome::Denied => "denial",
    }
}

fn not_found(unknown: &Answer, decided: &Answer) -> Result<(), String> {
    let unknown = unknown
        .problem(404)
        .map_err(|e| format!("an unknown id: {e}"))?;
    let decided = decided
        .problem(404)
        .map_err(|e| format!("a decided id: {e}"))?;
    if (&unknown.title, &unknown.detail) != (&decided.title, &decided.detail) {
        return Err(format!(
            "the answers differ: {:?}/{:?} for an unknown id, {:?}/{:?} for a decided one",
            unknown.title, unknown.detail, decided.title, decided.detail
        ));
    }
    Ok(())
}

fn tokens(answer: &TokenAnswer, grant: &[String]) -> Result<(), String> {
    let TokenAnswer::Tokens(tokens) = answer else {
        return Err(format!(
            "after the approval the token endpoint answered {}",
            token_answer(answer)
        ));
    };
    let granted: BTreeSet<&str> = grant.iter().map(String::as_str).collect();
    let mut problems = Vec::new();
    match tokens.scope.as_deref() {
        None => problems.push(format!(
            "the token answer has no scope; it must, as the grant {granted:?} differs from the request"
        )),
        Some(scope) => {
            let issued: BTreeSet<&str> = scope.split_whitespace().collect();
            if issued != granted {
                problems.push(format!("token scope {issued:?}, granted {granted:?}"));
            }
        }
    }
    if tokens.id_token.as_deref().is_none_or(str::is_empty) {
        problems.push("no id_token".into());
    }
    joined(problems)
}

fn is_final(answer: &TokenAnswer) -> bool {
    !matches!(answer, TokenAnswer::Pending | TokenAnswer::SlowDown)
}

fn token_answer(answer: &TokenAnswer) -> String {
    match answer {
        TokenAnswer::Tokens(t) => format!("tokens (scope {})", or_null(t.scope.as_deref())),
        TokenAnswer::Pending => "authorization_pending".into(),
        TokenAnswer::SlowDown => "slow_down".into(),
        TokenAnswer::Denied => "access_denied".into(),
        TokenAnswer::Expired => "expired_token".into(),
        TokenAnswer::Other { status, body } => format!("{status} {body}"),
    }
}

fn no_store(seen: &[Answer]) -> Result<(), String> {
    if seen.is_empty() {
        return Err("not checked: no approval-API answer was received".into());
    }
    let missing: Vec<String> = seen
        .iter()
        .filter(|a| !a.is_no_store())
        .map(|a| {
            format!(
                "{} had Cache-Control {:?}",
                short(a),
                a.header("cache-control").unwrap_or("(none)")
            )
        })
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(one.clone()),
        [first, rest @ ..] => Err(format!("{first}, and {} more", rest.len())),
    }
}

/// The page's Content-Security-Policy against its own inline scripts and stylesheets.
async fn csp(browser: &BrowserSession, page_url: &Url) -> Result<(), String> {
    let page = browser.page(page_url).await.map_err(|e| e.0)?;
    if page.status != reqwest::StatusCode::OK {
        return Err(format!("the page answered {}", page.describe()));
    }
    let inline = inline_code(&String::from_utf8_lossy(&page.body));
    if !inline
        .scripts
        .iter()
        .any(|(t, _)| t.as_deref() == Some("module"))
    {
        return Err(format!(
            "{} has no inline <script type=\"module\"> (is --page-url the approval page?)",
            page_url
        ));
    }
    let policies: Vec<Vec<(String, Vec<String>)>> = page
        .headers
        .get_all("content-security-policy")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(parse_csp)
        .collect();
    if policies.is_empty() {
        return Err("the page has no Content-Security-Policy header".into());
    }
    joined(csp_problems(&policies, &inline))
}

/// What of a page runs or applies from the HTML itself, and so needs its hash in the CSP.
#[derive(Debug, Default)]
struct InlineCode {
    /// Each inline script the browser would run: its `type` and its text.
    scripts: Vec<(Option<String>, String)>,
    /// The text of each `<style>` element.
    styles: Vec<String>,
}

/// The page's inline scripts and stylesheets, those in a `<template>`'s contents too: the browser
/// checks them against the CSP once the page clones them into the document. (scraper keeps template
/// contents as a fragment under the `<template>` element, and `Html::select` walks every node.)
fn inline_code(html: &str) -> InlineCode {
    let html = Html::parse_document(html);
    let scripts = Selector::parse("script:not([src])").expect("a valid selector");
    let styles = Selector::parse("style").expect("a valid selector");
    let runs = |t: Option<&str>| {
        matches!(
            t.map(|t| t.trim().to_ascii_lowercase()).as_deref(),
            None | Some("" | "module" | "text/javascript" | "application/javascript")
        )
    };
    // The browser ignores a <style> of another type than text/css.
    let applies =
        |t: Option<&str>| t.is_none_or(|t| t.is_empty() || t.eq_ignore_ascii_case("text/css"));
    InlineCode {
        scripts: html
            .select(&scripts)
            .filter(|s| runs(s.value().attr("type")))
            .map(|s| {
                (
                    s.value().attr("type").map(str::to_owned),
                    s.text().collect(),
                )
            })
            .collect(),
        styles: html
            .select(&styles)
            .filter(|s| applies(s.value().attr("type")))
            .map(|s| s.text().collect())
            .collect(),
    }
}

/// What the policies get wrong for the page's inline code.
fn csp_problems(policies: &[Vec<(String, Vec<String>)>], inline: &InlineCode) -> Vec<String> {
    let mut problems = Vec::new();
    for policy in policies {
        for (name, values) in policy {
            if matches!(name.as_str(), "script-src" | "style-src" | "default-src")
                && values
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case("'unsafe-inline'"))
            {
                problems.push(format!("{name} allows 'unsafe-inline'"));
            }
        }
    }
    let directive = |wanted: &str| {
        policies
            .iter()
            .find_map(|p| p.iter().find(|(name, _)| name == wanted))
    };
    match directive("script-src") {
        None => problems.push("the policy has no script-src".into()),
        Some((_, values)) => {
            if !values.iter().any(|v| v == "'wasm-unsafe-eval'") {
                problems.push("script-src lacks 'wasm-unsafe-eval'".into());
            }
            for (_, text) in &inline.scripts {
                let source = sha256_source(text);
                if !values.contains(&source) {
                    problems.push(format!(
                        "script-src lacks {source}, the hash of the inline script"
                    ));
                }
            }
        }
    }
    // Without a style-src the browser applies default-src to styles.
    match directive("style-src").or_else(|| directive("default-src")) {
        None => {
            problems.push("the policy restricts no styles (no style-src or default-src)".into())
        }
        Some((name, values)) => {
            for text in &inline.styles {
                let source = sha256_source(text);
                if !values.contains(&source) {
                    problems.push(format!(
                        "{name} lacks {source}, the hash of the inline stylesheet"
                    ));
                }
            }
        }
    }
    problems
}

/// `'sha256-…'`: the CSP source that allows exactly `text` inline.
fn sha256_source(text: &str) -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text));
    format!("'sha256-{hash}'")
}

/// `default-src 'self'; script-src 'self' …` → directive names (lower-case) and their sources.
fn parse_csp(policy: &str) -> Vec<(String, Vec<String>)> {
    policy
        .split(';')
        .filter_map(|directive| {
            let mut words = directive.split_whitespace();
            let name = words.next()?.to_ascii_lowercase();
            Some((name, words.map(str::to_owned).collect()))
        })
        .collect()
}

/// `"text"` or `null`, as JSON shows it.
fn or_null(value: Option<&str>) -> String {
    value.map_or_else(|| "null".to_owned(), |v| format!("{v:?}"))
}

fn short(answer: &Answer) -> String {
    format!(
        "{} {} → {}",
        answer.method,
        answer.url.path(),
        answer.status.as_u16()
    )
}

fn joined(problems: Vec<String>) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Random enough to tell this run's requests from others': a hash of the time, the process and a counter.
fn random_hex(len: usize) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let seed = format!(
        "{nanos}:{}:{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let hex: String = Sha256::digest(seed.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex[..len.min(hex.len())].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciba_contract::{ClientInfo, ScopeInfo};

    fn request(scopes: &[(&str, bool)]) -> LoginRequest {
        LoginRequest {
            internal_id: "r".into(),
            client: ClientInfo {
                client_id: "c".into(),
                client_name: "C".into(),
                client_uri: None,
                logo_uri: None,
            },
            binding_message: Some("m".into()),
            acr_values: vec![],
            tenant: None,
            idp: None,
            resource_indicators: vec![],
            identity_scopes: scopes
                .iter()
                .map(|&(value, required)| ScopeInfo::named(value, required))
                .collect(),
            api_scopes: vec![],
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: "2026-01-01T00:05:00.5+00:00".into(),
            verify_binding_message: false,
            binding_message_choices: None,
        }
    }

    #[test]
    fn a_partial_grant_leaves_out_the_last_optional_scope() {
        let r = request(&[("openid", true), ("profile", false), ("email", false)]);
        assert_eq!(partial_grant(&r), ["openid", "profile"]);
        let r = request(&[("openid", true)]);
        assert_eq!(partial_grant(&r), ["openid"]);
        let r = request(&[("profile", false)]);
        assert_eq!(partial_grant(&r), ["profile"]);
    }

    #[test]
    fn fields_are_compared_with_what_was_sent() {
        let r = request(&[("openid", true)]);
        let scopes = vec!["openid".to_owned()];
        let mut e = Expected {
            client_id: "c",
            binding_message: "m",
            scopes: &scopes,
            expires_in: 300,
        };
        assert_eq!(fields(&r, &e), Vec::<String>::new());
        e.binding_message = "other";
        e.expires_in = 600;
        let problems = fields(&r, &e);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn a_checked_request_shows_three_choices_and_no_answer() {
        let mut r = request(&[("openid", true)]);
        r.verify_binding_message = true;
        r.binding_message = None;
        r.binding_message_choices = Some(vec!["A 1".into(), "A 2".into(), "A 3".into()]);
        assert_eq!(choice_problems(&r, "A 2"), Vec::<String>::new());
        assert_eq!(choice_problems(&r, "A 4").len(), 1);
        r.binding_message = Some("A 2".into());
        r.binding_message_choices = Some(vec!["A 2".into(), "A 2".into(), "A 3".into()]);
        assert_eq!(choice_problems(&r, "A 2").len(), 2);
    }

    #[test]
    fn csp_directives_are_split() {
        let policy = parse_csp("default-src 'self'; Script-Src 'self' 'wasm-unsafe-eval';");
        assert_eq!(policy[1].0, "script-src");
        assert_eq!(policy[1].1, ["'self'", "'wasm-unsafe-eval'"]);
    }

    #[test]
    fn a_module_script_inside_a_template_is_found() {
        let inline = inline_code(
            "<!doctype html><html><head><style data-href=/ciba/main-1.css>p{color:red}</style>\
<style type=text/plain>not css</style></head><body><template id=x><script type=module>import a from '/a.js';\
</script><link rel=modulepreload href=/a.js></template><script src=/b.js></script></body></html>",
        );
        assert_eq!(
            inline.scripts,
            [(
                Some("module".to_owned()),
                "import a from '/a.js';".to_owned()
            )]
        );
        assert_eq!(inline.styles, ["p{color:red}"]);
    }

    #[test]
    fn an_inline_stylesheet_needs_its_hash_in_style_src() {
        let inline = InlineCode {
            scripts: vec![(Some("module".into()), "import a from '/a.js';".into())],
            styles: vec!["p{color:red}".into()],
        };
        let script = sha256_source("import a from '/a.js';");
        let style = sha256_source("p{color:red}");
        let problems = |policy: &str| csp_problems(&[parse_csp(policy)], &inline);
        let allowed = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {script}; style-src 'self' {style}"
        );
        assert_eq!(problems(&allowed), Vec::<String>::new());
        let without = format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {script}; style-src 'self'"
        );
        assert_eq!(
            problems(&without),
            [format!(
                "style-src lacks {style}, the hash of the inline stylesheet"
            )]
        );
        // Without a style-src, default-src governs styles.
        let by_default =
            format!("default-src 'self' {style}; script-src 'self' 'wasm-unsafe-eval' {script}");
        assert_eq!(problems(&by_default), Vec::<String>::new());
        let neither = format!("script-src 'self' 'wasm-unsafe-eval' {script}");
        assert_eq!(
            problems(&neither),
            ["the policy restricts no styles (no style-src or default-src)"]
        );
    }

    #[test]
    fn unsafe_inline_for_styles_is_reported() {
        let inline = InlineCode::default();
        let policy = parse_csp(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'Unsafe-Inline'",
        );
        assert_eq!(
            csp_problems(&[policy], &inline),
            ["style-src allows 'unsafe-inline'"]
        );
    }
}
