//! The approval API contract.
//!
//! These are the JSON shapes a host exposes over Duende's `IBackchannelAuthenticationInteractionService`
//! (or `ciba-idp` implements natively), and the only thing the approval SPA speaks. JSON is camelCase;
//! every error is an RFC 9457 problem document. The types live here once so the SPA (wasm) and the
//! server (native) cannot drift apart; the OpenAPI document is generated from them.

use serde::{Deserialize, Serialize};

/// Where the endpoints live, relative to the host's origin.
pub const API_BASE: &str = "/api/ciba";
/// State-changing calls must carry this header with the value [`CSRF_HEADER_VALUE`]: a cross-site form
/// cannot set it, and a cross-site `fetch` that sets it needs a CORS preflight the server never grants.
pub const CSRF_HEADER: &str = "X-CSRF";
pub const CSRF_HEADER_VALUE: &str = "1";
/// The longest device description a user may attach to a decision, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 100;
/// Media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";
/// The problem `type` of a 400 that refuses an approval because the code check was not passed: the
/// person picked a look-alike, or picked wrong before (the request then takes only Deny).
pub const WRONG_CODE_PROBLEM: &str = "https://ciba-approval.dev/problems/wrong-code";
/// The problem `type` of a 400 that refuses an approval sent without the person's pick of the code
/// (`bindingMessage`) although the check is on. Nothing is locked: the page should ask for the pick.
pub const CODE_REQUIRED_PROBLEM: &str = "https://ciba-approval.dev/problems/code-required";
/// How many codes the code check offers: the real one and two look-alikes.
pub const CODE_CHOICES: usize = 3;

/// `GET /api/ciba/session`: who the browser session belongs to.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub subject: String,
    pub name: String,
}

/// `GET /api/ciba/embedding`: which portal origins may embed the page. The page, when framed, talks
/// (`postMessage`) only to its parent and only when the parent's origin is one of these.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmbeddingSettings {
    /// Serialized origins, e.g. `https://portal.example`; empty when the page may not be framed.
    pub allowed_origins: Vec<String>,
}

/// The client application that started the request.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientInfo {
    pub client_id: String,
    pub client_name: String,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
}

/// One scope the client asked for, as the consent screen shows it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeInfo {
    pub value: String,
    pub display_name: String,
    pub description: Option<String>,
    /// Cannot be left out of a grant.
    pub required: bool,
    /// Deserves the user's attention (e.g. write access, offline access).
    pub emphasize: bool,
    /// API resources this scope belongs to; empty for identity scopes.
    #[serde(default)]
    pub resources: Vec<String>,
}

impl ScopeInfo {
    /// A scope shown by its value alone: no description, no emphasis, no API resources.
    pub fn named(value: &str, required: bool) -> Self {
        Self {
            value: value.into(),
            display_name: value.into(),
            description: None,
            required,
            emphasize: false,
            resources: vec![],
        }
    }
}

/// A pending backchannel login request (Duende's `BackchannelUserLoginRequest`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Request))]
pub struct LoginRequest {
    pub internal_id: String,
    pub client: ClientInfo,
    /// The text shown on the device that started the sign-in; the user compares the two. `null` when
    /// `verifyBindingMessage` is true: the person must then pick it from `bindingMessageChoices`, and
    /// a page that had it could show or send it without them looking at the other device.
    pub binding_message: Option<String>,
    #[serde(default)]
    pub acr_values: Vec<String>,
    pub tenant: Option<String>,
    pub idp: Option<String>,
    #[serde(default)]
    pub resource_indicators: Vec<String>,
    pub identity_scopes: Vec<ScopeInfo>,
    pub api_scopes: Vec<ScopeInfo>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub expires_at: String,
    /// Against consent fatigue: before Approve is enabled, the user must pick the binding message
    /// the other device shows from three choices, and the approval carries the pick
    /// (`CompleteRequest.bindingMessage`), which the host checks. Switched on per client by the host;
    /// false for a request without a binding message.
    #[serde(default)]
    pub verify_binding_message: bool,
    /// Present exactly when `verifyBindingMessage` is true: the real binding message and two
    /// look-alikes made by the host (the same words and shape, other digits or characters where the
    /// code is), in the order to show them. Stable for the life of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_message_choices: Option<Vec<String>>,
}

impl LoginRequest {
    /// Identity scopes first, then API scopes: the order the consent screen lists them.
    pub fn scopes(&self) -> impl Iterator<Item = &ScopeInfo> {
        self.identity_scopes.iter().chain(&self.api_scopes)
    }

    /// Checks a decision against this request, with the rules the server enforces (so the SPA can
    /// explain a refusal before sending it).
    pub fn check_completion(&self, completion: &CompleteRequest) -> Result<(), CompletionError> {
        if let Some(description) = &completion.description
            && description.chars().count() > DESCRIPTION_MAX_CHARS
        {
            return Err(CompletionError::DescriptionTooLong);
        }
        let granted = match completion.scopes_values_consented.as_deref() {
            None | Some([]) => return Ok(()), // a denial needs no scopes and no code
            Some(granted) => granted,
        };
        if self.verify_binding_message {
            // The host compares the pick with the real message; here only what the page can know.
            match &completion.binding_message {
                None => return Err(CompletionError::CodeRequired),
                Some(pick)
                    if self
                        .binding_message_choices
                        .as_ref()
                        .is_some_and(|choices| !choices.contains(pick)) =>
                {
                    return Err(CompletionError::WrongCode);
                }
                Some(_) => {}
            }
        }
        if let Some(unknown) = granted
            .iter()
            .find(|value| !self.scopes().any(|s| &s.value == *value))
        {
            return Err(CompletionError::NotRequested(unknown.clone()));
        }
        if let Some(missing) = self
            .scopes()
            .find(|s| s.required && !granted.contains(&s.value))
        {
            return Err(CompletionError::RequiredMissing(missing.value.clone()));
        }
        Ok(())
    }
}

/// Why a decision does not fit its request. The server answers each with 400.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompletionError {
    NotRequested(String),
    RequiredMissing(String),
    DescriptionTooLong,
    /// The code check is on and the approval carries no pick.
    CodeRequired,
    /// The pick is not the binding message (or an earlier pick was wrong): only Deny is left.
    WrongCode,
}

impl CompletionError {
    /// The problem `type` the server answers this refusal with.
    pub fn problem_type(&self) -> &'static str {
        match self {
            Self::CodeRequired => CODE_REQUIRED_PROBLEM,
            Self::WrongCode => WRONG_CODE_PROBLEM,
            _ => "about:blank",
        }
    }
}

impl std::fmt::Display for CompletionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotRequested(scope) => write!(f, "The scope '{scope}' was not requested."),
            Self::RequiredMissing(scope) => {
                write!(f, "The scope '{scope}' is required to approve.")
            }
            Self::DescriptionTooLong => {
                write!(
                    f,
                    "The description is longer than {DESCRIPTION_MAX_CHARS} characters."
                )
            }
            Self::CodeRequired => write!(
                f,
                "Pick the code the other device shows (bindingMessage) to approve."
            ),
            Self::WrongCode => write!(
                f,
                "That was not the code the other device shows. This request can now only be denied."
            ),
        }
    }
}

/// `POST /api/ciba/complete`: Duende's `CompleteBackchannelLoginRequest`. A non-empty
/// `scopesValuesConsented` grants exactly those scopes; `null` or `[]` denies.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompleteRequest {
    pub internal_id: String,
    pub scopes_values_consented: Option<Vec<String>>,
    pub description: Option<String>,
    /// The choice the person picked from `bindingMessageChoices`. Required to approve a request
    /// whose `verifyBindingMessage` is true: without it the host answers 400 (`type`
    /// `https://ciba-approval.dev/problems/code-required`); a pick that is not the binding message
    /// is refused with 400 (`type` `https://ciba-approval.dev/problems/wrong-code`) and leaves the
    /// request open to Deny only. Ignored otherwise, and when denying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_message: Option<String>,
}

impl CompleteRequest {
    pub fn approve(internal_id: &str, scopes: Vec<String>, description: Option<String>) -> Self {
        Self {
            internal_id: internal_id.to_owned(),
            scopes_values_consented: Some(scopes),
            description,
            binding_message: None,
        }
    }

    /// This decision with the code the person picked.
    pub fn with_code(mut self, picked: impl Into<String>) -> Self {
        self.binding_message = Some(picked.into());
        self
    }

    pub fn deny(internal_id: &str) -> Self {
        Self {
            internal_id: internal_id.to_owned(),
            scopes_values_consented: None,
            description: None,
            binding_message: None,
        }
    }

    pub fn outcome(&self) -> Outcome {
        match self.scopes_values_consented.as_deref() {
            None | Some([]) => Outcome::Denied,
            Some(_) => Outcome::Approved,
        }
    }
}

/// How a completed request was decided.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Outcome {
    Approved,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Denied => "denied",
        }
    }
}

/// `GET /api/ciba/push`: what the page needs to subscribe this device to Web Push.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSettings {
    /// The host's VAPID public key (RFC 8292): an uncompressed P-256 point, base64url without padding.
    /// The page passes it to `pushManager.subscribe` as `applicationServerKey`.
    pub vapid_public_key: String,
}

/// `POST /api/ciba/push/subscriptions`: exactly what the browser's `PushSubscription.toJSON()` gives.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscription {
    /// The push service URL the host sends to (https; see SECURITY.md on server-side request forgery).
    pub endpoint: String,
    /// When the push service will drop the subscription (ms since the epoch), if it says.
    #[serde(default)]
    pub expiration_time: Option<f64>,
    pub keys: PushKeys,
}

/// The subscription's RFC 8291 keys, base64url.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushKeys {
    /// The browser's P-256 public key (65 bytes, uncompressed point).
    pub p256dh: String,
    /// The 16-byte authentication secret.
    pub auth: String,
}

/// `DELETE /api/ciba/push/subscriptions`: which of this user's subscriptions to forget.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushUnsubscribe {
    pub endpoint: String,
}

/// The JSON a host pushes (RFC 8291 encrypted) to the page's service worker.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PushMessage {
    /// A new request: show a notification that opens `url`.
    #[serde(rename_all = "camelCase")]
    Request {
        internal_id: String,
        /// The consent page, `/ciba/requests/{internalId}`.
        url: String,
        client_name: String,
        /// Left out when the client has the code check on: the person must read the code on the other
        /// device, not on the notification.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        binding_message: Option<String>,
        /// RFC 3339; the worker drops the notification when this has passed.
        expires_at: String,
    },
    /// The request was decided or expired: close its notification on every device.
    #[serde(rename_all = "camelCase")]
    Closed { internal_id: String, url: String },
}

impl PushMessage {
    /// The consent page of a request, as the notification opens it.
    pub fn consent_url(internal_id: &str) -> String {
        format!("/ciba/requests/{internal_id}")
    }
}

/// An RFC 9457 problem document, the body of every error response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(rename = "type", default = "about_blank")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Only on 409: how the request was already decided, so a retry after a lost response counts as done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

fn about_blank() -> String {
    "about:blank".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> LoginRequest {
        LoginRequest {
            internal_id: "r1".into(),
            client: ClientInfo {
                client_id: "c".into(),
                client_name: "C".into(),
                client_uri: None,
                logo_uri: None,
            },
            binding_message: Some("X".into()),
            acr_values: vec![],
            tenant: None,
            idp: None,
            resource_indicators: vec![],
            identity_scopes: vec![
                ScopeInfo::named("openid", true),
                ScopeInfo::named("profile", false),
            ],
            api_scopes: vec![ScopeInfo::named("api1.read", false)],
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: "2026-01-01T00:05:00Z".into(),
            verify_binding_message: false,
            binding_message_choices: None,
        }
    }

    #[test]
    fn push_json_is_what_browsers_and_service_workers_use() {
        let browser = r#"{"endpoint":"https://push.example/x","expirationTime":null,"keys":{"p256dh":"BA","auth":"AA"}}"#;
        let subscription: PushSubscription = serde_json::from_str(browser).unwrap();
        assert_eq!(subscription.keys.p256dh, "BA");
        assert_eq!(serde_json::to_string(&subscription).unwrap(), browser);
        let closed = PushMessage::Closed {
            internal_id: "r1".into(),
            url: PushMessage::consent_url("r1"),
        };
        assert_eq!(
            serde_json::to_string(&closed).unwrap(),
            r#"{"kind":"closed","internalId":"r1","url":"/ciba/requests/r1"}"#
        );
    }

    #[test]
    fn json_is_camel_case_as_documented() {
        let json = serde_json::to_value(request()).unwrap();
        assert_eq!(json["internalId"], "r1");
        assert_eq!(json["client"]["clientName"], "C");
        assert_eq!(json["identityScopes"][0]["displayName"], "openid");
        assert!(json["client"]["logoUri"].is_null());
        let problem = Problem {
            problem_type: "about:blank".into(),
            title: "Conflict".into(),
            status: 409,
            detail: None,
            outcome: Some(Outcome::Denied),
        };
        assert_eq!(
            serde_json::to_string(&problem).unwrap(),
            r#"{"type":"about:blank","title":"Conflict","status":409,"outcome":"denied"}"#
        );
    }

    #[test]
    fn completion_rules() {
        let r = request();
        let grant = |scopes: &[&str]| {
            CompleteRequest::approve("r1", scopes.iter().map(|s| s.to_string()).collect(), None)
        };
        assert_eq!(r.check_completion(&grant(&["openid", "api1.read"])), Ok(()));
        assert_eq!(
            r.check_completion(&grant(&["openid", "api9"])),
            Err(CompletionError::NotRequested("api9".into()))
        );
        assert_eq!(
            r.check_completion(&grant(&["profile"])),
            Err(CompletionError::RequiredMissing("openid".into()))
        );
        assert_eq!(r.check_completion(&CompleteRequest::deny("r1")), Ok(()));
        let mut long = grant(&["openid"]);
        long.description = Some("é".repeat(DESCRIPTION_MAX_CHARS + 1));
        assert_eq!(
            r.check_completion(&long),
            Err(CompletionError::DescriptionTooLong)
        );
        long.description = Some("é".repeat(DESCRIPTION_MAX_CHARS));
        assert_eq!(r.check_completion(&long), Ok(()));
        assert_eq!(grant(&[]).outcome(), Outcome::Denied);
        assert_eq!(grant(&["openid"]).outcome(), Outcome::Approved);
    }

    #[test]
    fn with_the_code_check_on_an_approval_needs_one_of_the_choices() {
        let mut r = request();
        r.verify_binding_message = true;
        r.binding_message = None;
        r.binding_message_choices = Some(vec!["A 1".into(), "A 2".into(), "A 3".into()]);
        let grant = CompleteRequest::approve("r1", vec!["openid".into()], None);
        assert_eq!(
            r.check_completion(&grant),
            Err(CompletionError::CodeRequired)
        );
        assert_eq!(
            r.check_completion(&grant.clone().with_code("B 1")),
            Err(CompletionError::WrongCode)
        );
        assert_eq!(r.check_completion(&grant.clone().with_code("A 2")), Ok(()));
        assert_eq!(r.check_completion(&CompleteRequest::deny("r1")), Ok(()));
        assert_eq!(
            CompletionError::WrongCode.problem_type(),
            WRONG_CODE_PROBLEM
        );
        // Off: a pick is ignored.
        assert_eq!(request().check_completion(&grant.with_code("B 1")), Ok(()));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["bindingMessageChoices"][1], "A 2");
        assert!(json["bindingMessage"].is_null());
        assert!(
            serde_json::to_value(request())
                .unwrap()
                .get("bindingMessageChoices")
                .is_none()
        );
    }
}
