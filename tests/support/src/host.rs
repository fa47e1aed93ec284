//! The two other parties of a CIBA sign-in, against any provider at a base URL (a spawned binary, or
//! one a test serves in-process): a relying party (start a request, poll) and a person's browser
//! signed in through the sign-in form. Spoken with `ciba-conformance`'s typed client and browser
//! session, so every test does these steps the way an integrator's conformance run does.

use std::time::Duration;

use ciba_conformance::client::{self, BackchannelAnswer, CIBA_GRANT, TokenAnswer};
use ciba_conformance::user::BrowserSession;
use reqwest::StatusCode;
use serde_json::Value;

/// The demo relying party every test uses unless it says otherwise.
pub const DEMO_CLIENT: (&str, &str) = ("demo-client", "demo-secret");

#[derive(Clone, Debug)]
pub struct Host {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

impl Host {
    pub fn new(base: impl Into<String>) -> Self {
        Self { base: base.into() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A relying party of this provider, found through discovery.
    pub async fn client(&self, (client_id, secret): (&str, &str)) -> client::Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let provider = client::Provider::discover(&http, &self.base)
            .await
            .expect("discovery");
        client::Client::new(http, &provider, client_id, secret).expect("a CIBA client")
    }

    /// What a relying party does first: a backchannel request for `user` as the demo client;
    /// returns the `auth_req_id`.
    pub async fn start_request(&self, user: &str, scope: &str, binding_message: &str) -> String {
        self.start_request_as(DEMO_CLIENT, user, scope, Some(binding_message), None)
            .await
    }

    /// The same as any client, with or without a binding message and a requested expiry.
    pub async fn start_request_as(
        &self,
        client: (&str, &str),
        user: &str,
        scope: &str,
        binding_message: Option<&str>,
        requested_expiry: Option<u32>,
    ) -> String {
        let answer = self
            .client(client)
            .await
            .start_request(user, scope, binding_message, requested_expiry)
            .await
            .expect("the backchannel endpoint answers");
        match answer {
            BackchannelAnswer::Started(started) => started.auth_req_id,
            BackchannelAnswer::Refused(error) => panic!("the request was refused: {error}"),
        }
    }

    /// One poll of the token endpoint as the demo client.
    pub async fn poll(&self, auth_req_id: &str) -> TokenAnswer {
        self.poll_as(DEMO_CLIENT, auth_req_id).await
    }

    pub async fn poll_as(&self, client: (&str, &str), auth_req_id: &str) -> TokenAnswer {
        self.client(client)
            .await
            .poll_token(auth_req_id)
            .await
            .expect("the token endpoint answers")
    }

    /// One poll as `client`, the answer as the wire has it: for tests of the token endpoint itself.
    pub async fn poll_json(
        &self,
        (client_id, secret): (&str, &str),
        auth_req_id: &str,
    ) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .post(self.url("/connect/token"))
            .basic_auth(client_id, Some(secret))
            .form(&[("grant_type", CIBA_GRANT), ("auth_req_id", auth_req_id)])
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// A browser-like session (cookie jar, redirects not followed) signed in through the sign-in
    /// form, anti-forgery token and all.
    pub async fn signed_in(&self, user: &str, password: &str) -> BrowserSession {
        let api = url::Url::parse(&self.url("/api/ciba")).unwrap();
        let session = BrowserSession::new(api).expect("a session");
        let login = url::Url::parse(&self.url("/Account/Login")).unwrap();
        session
            .sign_in(&login, user, password)
            .await
            .unwrap_or_else(|e| panic!("sign-in as {user}: {e}"));
        session
    }
}
