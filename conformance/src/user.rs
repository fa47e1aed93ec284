//! The person's side: a browser session on the host and the approval API the SPA speaks with it.
//!
//! [`BrowserSession::sign_in`] fills in the host's own sign-in form as a browser would (the approval API
//! is authenticated by the session cookie alone), or [`BrowserSession::add_cookie`] takes a cookie the
//! integrator copied from a signed-in browser. Every approval-API answer is kept ([`BrowserSession::seen`])
//! so the kit can check the caching headers of all of them, errors included.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ciba_contract::{
    CSRF_HEADER, CSRF_HEADER_VALUE, CompleteRequest, PROBLEM_CONTENT_TYPE, Problem,
};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use scraper::{ElementRef, Html, Selector};
use serde::de::DeserializeOwned;
use url::Url;

use crate::{Error, Result, excerpt};

/// One HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Answer {
    pub method: Method,
    pub url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The media type without parameters, lower-case.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// `GET /api/ciba/session → 401 text/html "<h1>…"`: what a message shows of an answer.
    pub fn describe(&self) -> String {
        let media = match self.media_type() {
            m if m.is_empty() => "no content type".to_owned(),
            m => m,
        };
        let body = excerpt(&self.body, 100);
        let body = if body.is_empty() {
            String::new()
        } else {
            format!(" {body}")
        };
        format!(
            "{} {} → {} {media}{body}",
            self.method,
            self.url.path(),
            self.status.as_u16()
        )
    }

    /// The body as JSON of type `T`, from a 200 answer.
    pub fn json<T: DeserializeOwned>(&self) -> std::result::Result<T, String> {
        if self.status != StatusCode::OK {
            return Err(format!("expected 200, got {}", self.describe()));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("{}: not the contract's JSON ({e})", self.describe()))
    }

    /// The contract's error: this status, `application/problem+json`, a problem document whose
    /// `status` matches and whose `title` says something.
    pub fn problem(&self, status: u16) -> std::result::Result<Problem, String> {
        if self.status.as_u16() != status || self.media_type() != PROBLEM_CONTENT_TYPE {
            return Err(format!(
                "expected {status} {PROBLEM_CONTENT_TYPE}, got {}",
                self.describe()
            ));
        }
        let problem: Problem = serde_json::from_slice(&self.body)
            .map_err(|e| format!("{}: not a problem document ({e})", self.describe()))?;
        if problem.status != status || problem.title.trim().is_empty() {
            return Err(format!(
                "{}: the problem's status/title do not fit",
                self.describe()
            ));
        }
        Ok(problem)
    }

    /// Whether `Cache-Control` carries `no-store`.
    pub fn is_no_store(&self) -> bool {
        self.headers
            .get_all(header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
    }
}

/// How a request to `POST /complete` is dressed: the SPA sends JSON, `X-CSRF: 1` and its own `Origin`.
#[derive(Debug, Clone)]
pub struct Dress<'a> {
    pub content_type: &'a str,
    pub csrf: bool,
    pub origin: Option<&'a str>,
}

/// A browser: a cookie jar, no redirects followed on its own, and the approval API's base.
#[derive(Clone)]
pub struct BrowserSession {
    http: reqwest::Client,
    jar: Arc<Jar>,
    api_base: Url,
    /// Our own origin, e.g. `https://id.example.com`: the `Origin` of legitimate posts.
    origin: String,
    seen: Arc<Mutex<Vec<Answer>>>,
}

impl BrowserSession {
    /// A browser with no cookies yet. `api_base` is e.g. `https://id.example.com/api/ciba`.
    pub fn new(api_base: Url) -> Result<Self> {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("ciba-conformance/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            jar,
            origin: api_base.origin().ascii_serialization(),
            api_base,
            seen: Arc::default(),
        })
    }

    /// The same browser without its cookies (a stranger), whose answers are kept with ours.
    pub fn without_cookies(&self) -> Result<Self> {
        let mut stranger = Self::new(self.api_base.clone())?;
        stranger.seen = self.seen.clone();
        Ok(stranger)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The browser's HTTP client (its cookie jar, redirects not followed), for requests of any kind.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Takes a session cookie `NAME=VALUE` (or several, as a `Cookie` header joins them with `; `)
    /// copied from a signed-in browser.
    pub fn add_cookie(&self, cookie: &str) -> Result<()> {
        for pair in cookie.split(';').filter(|p| !p.trim().is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .filter(|(name, _)| !name.trim().is_empty())
                .ok_or_else(|| Error(format!("--cookie {cookie:?} is not NAME=VALUE")))?;
            self.jar.add_cookie_str(
                &format!("{}={}; Path=/", name.trim(), value.trim()),
                &self.api_base,
            );
        }
        Ok(())
    }

    /// The `Cookie` header this browser sends to the approval API.
    pub fn cookie_header(&self) -> Option<String> {
        self.jar
            .cookies(&self.api_base)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
    }

    /// Every approval-API answer so far.
    pub fn seen(&self) -> Vec<Answer> {
        self.seen.lock().expect("not poisoned").clone()
    }

    fn api(&self, path: &str) -> Url {
        let mut url = self.api_base.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{path}"));
        url
    }

    async fn send(&self, method: Method, request: reqwest::RequestBuilder) -> Result<Answer> {
        let response = request.send().await?;
        let url = response.url().clone();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(Answer {
            method,
            url,
            status,
            headers,
            body,
        })
    }

    async fn call(&self, method: Method, request: reqwest::RequestBuilder) -> Result<Answer> {
        let answer = self.send(method, request).await?;
        self.seen.lock().expect("not poisoned").push(answer.clone());
        Ok(answer)
    }

    /// `GET /session`.
    pub async fn session(&self) -> Result<Answer> {
        let url = self.api("/session");
        self.call(Method::GET, self.http.get(url)).await
    }

    /// `GET /requests`, with `If-None-Match` when given.
    pub async fn list(&self, if_none_match: Option<&str>) -> Result<Answer> {
        let mut request = self.http.get(self.api("/requests"));
        if let Some(etag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        self.call(Method::GET, request).await
    }

    /// `GET /requests/{internalId}`.
    pub async fn get(&self, internal_id: &str) -> Result<Answer> {
        let mut url = self.api("/requests");
        url.path_segments_mut()
            .map_err(|()| Error("the API base cannot have a path".into()))?
            .push(internal_id);
        self.call(Method::GET, self.http.get(url)).await
    }

    /// `POST /complete` the way the SPA sends it.
    pub async fn complete(&self, completion: &CompleteRequest) -> Result<Answer> {
        let body = serde_json::to_vec(completion).expect("the contract serializes");
        let origin = self.origin.clone();
        self.post_complete(
            body,
            &Dress {
                content_type: "application/json",
                csrf: true,
                origin: Some(&origin),
            },
        )
        .await
    }

    /// `POST /complete` with any body and dress, for the refusals the contract promises.
    pub async fn post_complete(&self, body: Vec<u8>, dress: &Dress<'_>) -> Result<Answer> {
        let mut request = self
            .http
            .post(self.api("/complete"))
            .header(header::CONTENT_TYPE, dress.content_type)
            .body(body);
        if dress.csrf {
            request = request.header(CSRF_HEADER, CSRF_HEADER_VALUE);
        }
        if let Some(origin) = dress.origin {
            request = request.header(header::ORIGIN, origin);
        }
        self.call(Method::POST, request).await
    }

    /// `GET url` as a browser navigates: following up to five redirects. Not an API call.
    pub async fn page(&self, url: &Url) -> Result<Answer> {
        let mut url = url.clone();
        for _ in 0..5 {
            let request = self
                .http
                .get(url.clone())
                .header(header::ACCEPT, "text/html");
            let answer = self.send(Method::GET, request).await?;
            match answer.header("location") {
                Some(location) if answer.status.is_redirection() => {
                    url = url
                        .join(location)
                        .map_err(|e| Error(format!("bad Location {location:?} ({e})")))?;
                }
                _ => return Ok(answer),
            }
        }
        Err(Error(format!("GET {url}: too many redirects")))
    }

    /// Signs in through the host's own form at `login_url`, then checks that the session endpoint
    /// knows us.
    pub async fn sign_in(&self, login_url: &Url, user: &str, password: &str) -> Result<()> {
        let page = self.page(login_url).await?;
        if page.status != StatusCode::OK {
            return Err(Error(format!(
                "the sign-in page answered {}",
                page.describe()
            )));
        }
        let form = LoginForm::find(&String::from_utf8_lossy(&page.body), &page.url)?;
        let fields = form.fill(user, password);
        let origin = form.action.origin().ascii_serialization();
        let response = self
            .http
            .post(form.action.clone())
            .header(header::ORIGIN, origin)
            .form(&fields)
            .send()
            .await?;
        let status = response.status();
        if !matches!(status, StatusCode::FOUND | StatusCode::SEE_OTHER) {
            let body = response.bytes().await.unwrap_or_default();
            let html = Html::parse_document(&String::from_utf8_lossy(&body));
            let alert = selector("[role=alert], .validation-summary-errors, .danger, .error");
            let why = html
                .select(&alert)
                .map(|e| e.text().collect::<String>())
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                .find(|t| !t.is_empty())
                .unwrap_or_else(|| excerpt(&body, 100));
            return Err(Error(format!(
                "posting the sign-in form to {} answered {status} ({why})",
                form.action
            )));
        }
        let session = self.session().await?;
        if session.status != StatusCode::OK {
            return Err(Error(format!(
                "signed in ({status}), but {}",
                session.describe()
            )));
        }
        Ok(())
    }
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

/// The sign-in form of a page: where it posts and what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginForm {
    pub action: Url,
    /// Every hidden input (anti-forgery tokens, the return URL), in document order.
    pub hidden: Vec<(String, String)>,
    pub username_field: String,
    pub password_field: String,
    /// The first submit button's `name=value`, when it has a name (Duende's `Input.Button=login`).
    pub button: Option<(String, String)>,
}

impl LoginForm {
    /// The first form with a password field. Username and password are the inputs labelled so
    /// (`<label for>`, any case); failing that, the password input and the text input before it.
    pub fn find(html: &str, page_url: &Url) -> Result<Self> {
        let document = Html::parse_document(html);
        let form = document
            .select(&selector("form"))
            .find(|form| {
                form.select(&selector("input"))
                    .any(|i| input_type(&i) == "password")
            })
            .ok_or_else(|| Error(format!("{page_url} has no form with a password field")))?;
        let inputs: Vec<ElementRef> = form.select(&selector("input")).collect();
        let labelled = |text: &str| {
            document
                .select(&selector("label[for]"))
                .filter(|label| {
                    label
                        .text()
                        .collect::<String>()
                        .trim()
                        .eq_ignore_ascii_case(text)
                })
                .filter_map(|label| label.value().attr("for"))
                .find_map(|id| inputs.iter().find(|i| i.value().id() == Some(id)))
                .and_then(|i| i.value().attr("name"))
                .map(str::to_owned)
        };
        let password_at = inputs.iter().position(|i| input_type(i) == "password");
        let password_field = labelled("password")
            .or_else(|| {
                password_at.and_then(|at| inputs[at].value().attr("name").map(str::to_owned))
            })
            .ok_or_else(|| Error("the password field has no name".into()))?;
        let username_field = labelled("username")
            .or_else(|| {
                inputs[..password_at.unwrap_or(0)]
                    .iter()
                    .rev()
                    .find(|i| matches!(input_type(i).as_str(), "text" | "email"))
                    .and_then(|i| i.value().attr("name"))
                    .map(str::to_owned)
            })
            .ok_or_else(|| Error("the sign-in form has no username field".into()))?;
        let hidden = inputs
            .iter()
            .filter(|i| input_type(i) == "hidden")
            .filter_map(|i| {
                let name = i.value().attr("name")?;
                Some((
                    name.to_owned(),
                    i.value().attr("value").unwrap_or("").to_owned(),
                ))
            })
            .collect();
        let button = form
            .select(&selector("button, input"))
            .find(|e| match e.value().name() {
                "button" => matches!(
                    e.value()
                        .attr("type")
                        .map(str::to_ascii_lowercase)
                        .as_deref(),
                    None | Some("submit")
                ),
                _ => input_type(e) == "submit",
            })
            .and_then(|b| {
                let name = b.value().attr("name")?;
                Some((
                    name.to_owned(),
                    b.value().attr("value").unwrap_or("").to_owned(),
                ))
            });
        let action = match form.value().attr("action").map(str::trim) {
            Some(action) if !action.is_empty() => page_url
                .join(action)
                .map_err(|e| Error(format!("the form's action {action:?} is not a URL ({e})")))?,
            _ => page_url.clone(),
        };
        Ok(Self {
            action,
            hidden,
            username_field,
            password_field,
            button,
        })
    }

    /// The fields to post, in form order: hidden ones, username, password, the button.
    pub fn fill(&self, user: &str, password: &str) -> Vec<(String, String)> {
        let mut fields = self.hidden.clone();
        fields.push((self.username_field.clone(), user.to_owned()));
        fields.push((self.password_field.clone(), password.to_owned()));
        fields.extend(self.button.clone());
        fields
    }
}

fn input_type(input: &ElementRef) -> String {
    input
        .value()
        .attr("type")
        .unwrap_or("text")
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Duende IdentityServer UI template's sign-in page, as ASP.NET renders it.
    const DUENDE_LOGIN: &str = r#"<html><body><div class="login-page">
      <form action="/Account/Login?ReturnUrl=%2Fciba%2F" method="post">
        <input type="hidden" id="Input_ReturnUrl" name="Input.ReturnUrl" value="/ciba/" />
        <div class="form-group">
          <label for="Input_Username">Username</label>
          <input class="form-control" placeholder="Username" autofocus type="text" id="Input_Username" name="Input.Username" value="" />
        </div>
        <div class="form-group">
          <label for="Input_Password">Password</label>
          <input type="password" class="form-control" placeholder="Password" autocomplete="off" id="Input_Password" name="Input.Password" />
        </div>
        <div class="form-group"><div class="form-check">
          <input class="form-check-input" type="checkbox" id="Input_RememberLogin" name="Input.RememberLogin" value="true" />
          <label class="form-check-label" for="Input_RememberLogin">Remember My Login</label>
        </div></div>
        <button class="btn btn-primary" name="Input.Button" value="login">Login</button>
        <button class="btn btn-secondary" name="Input.Button" value="cancel">Cancel</button>
        <input name="__RequestVerificationToken" type="hidden" value="CfDJ8-token" />
        <input name="Input.RememberLogin" type="hidden" value="false" />
      </form></div></body></html>"#;

    #[test]
    fn fills_in_the_duende_template_form() {
        let page = Url::parse("https://id.example.com/Account/Login?ReturnUrl=%2Fciba%2F").unwrap();
        let form = LoginForm::find(DUENDE_LOGIN, &page).unwrap();
        assert_eq!(
            form.action.as_str(),
            "https://id.example.com/Account/Login?ReturnUrl=%2Fciba%2F"
        );
        let fields = form.fill("alice", "secret");
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("Input.ReturnUrl", "/ciba/"),
                ("__RequestVerificationToken", "CfDJ8-token"),
                ("Input.RememberLogin", "false"),
                ("Input.Username", "alice"),
                ("Input.Password", "secret"),
                ("Input.Button", "login"),
            ]
        );
    }

    #[test]
    fn falls_back_to_the_text_input_before_the_password() {
        let html = r#"<form><input type="text" name="q"></form>
            <form method="post"><input name="user"><input type="password" name="pw">
            <button type="button" name="x">Show</button><input type="submit" value="Go"></form>"#;
        let page = Url::parse("http://127.0.0.1:1/login").unwrap();
        let form = LoginForm::find(html, &page).unwrap();
        assert_eq!(form.action, page);
        assert_eq!(
            (form.username_field.as_str(), form.password_field.as_str()),
            ("user", "pw")
        );
        assert_eq!(form.button, None);
    }
}
