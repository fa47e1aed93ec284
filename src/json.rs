//! The contract's JSON read and written through the browser's own `JSON.parse`/`JSON.stringify`
//! rather than serde_json: the contract types keep their serde derives (ciba-idp and the OpenAPI
//! document use them), but the SPA links none of serde's visitor code, which was ~9 KB of wasm.
//! `tests/components/json_mapping.rs` checks every type here against serde's own encoding of it.

use ciba_contract::{
    ClientInfo, CompleteRequest, EmbeddingSettings, LoginRequest, Outcome, Problem, ScopeInfo,
    SessionInfo,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A value read from parsed JSON; `None` when the shape is not what the contract says.
pub trait FromJson: Sized {
    fn from_json(value: &JsValue) -> Option<Self>;
}

/// A value written as JSON.
pub trait ToJson {
    fn to_json(&self) -> JsValue;
}

/// Parses `text` as a `T`.
pub fn parse<T: FromJson>(text: &str) -> Option<T> {
    T::from_json(&js_sys::JSON::parse(text).ok()?)
}

/// `value` as JSON text.
pub fn stringify(value: &impl ToJson) -> String {
    js_sys::JSON::stringify(&value.to_json())
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_default()
}

/// The member `name` of an object (`undefined` when absent).
pub fn member(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A required member.
pub fn get<T: FromJson>(object: &JsValue, name: &str) -> Option<T> {
    T::from_json(&member(object, name))
}

/// An optional member: absent or `null` is `Some(None)`, a wrong type is `None`.
pub fn get_optional<T: FromJson>(object: &JsValue, name: &str) -> Option<Option<T>> {
    let value = member(object, name);
    if value.is_null() || value.is_undefined() {
        Some(None)
    } else {
        T::from_json(&value).map(Some)
    }
}

/// A member that may be left out, with its default then.
pub fn get_or_default<T: FromJson + Default>(object: &JsValue, name: &str) -> Option<T> {
    get_optional(object, name).map(Option::unwrap_or_default)
}

/// Builds an object from `(name, value)` pairs; `None` values are left out.
pub fn object(members: &[(&str, Option<JsValue>)]) -> JsValue {
    let object = Object::new();
    for (name, value) in members {
        if let Some(value) = value {
            let _ = Reflect::set(&object, &JsValue::from_str(name), value);
        }
    }
    object.into()
}

impl FromJson for String {
    fn from_json(value: &JsValue) -> Option<Self> {
        value.as_string()
    }
}

impl FromJson for bool {
    fn from_json(value: &JsValue) -> Option<Self> {
        value.as_bool()
    }
}

impl FromJson for f64 {
    fn from_json(value: &JsValue) -> Option<Self> {
        value.as_f64()
    }
}

impl FromJson for u16 {
    fn from_json(value: &JsValue) -> Option<Self> {
        let number = value.as_f64()?;
        (number.fract() == 0.0 && (0.0..=65535.0).contains(&number)).then_some(number as u16)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: &JsValue) -> Option<Self> {
        value
            .dyn_ref::<Array>()?
            .iter()
            .map(|item| T::from_json(&item))
            .collect()
    }
}

impl ToJson for String {
    fn to_json(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self) -> JsValue {
        self.iter().map(ToJson::to_json).collect::<Array>().into()
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn to_json(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, ToJson::to_json)
    }
}

impl FromJson for Outcome {
    fn from_json(value: &JsValue) -> Option<Self> {
        match value.as_string()?.as_str() {
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            _ => None,
        }
    }
}

impl ToJson for Outcome {
    fn to_json(&self) -> JsValue {
        JsValue::from_str(self.as_str())
    }
}

impl FromJson for SessionInfo {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            subject: get(value, "subject")?,
            name: get(value, "name")?,
        })
    }
}

impl FromJson for EmbeddingSettings {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            allowed_origins: get(value, "allowedOrigins")?,
        })
    }
}

impl FromJson for ClientInfo {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            client_id: get(value, "clientId")?,
            client_name: get(value, "clientName")?,
            client_uri: get_optional(value, "clientUri")?,
            logo_uri: get_optional(value, "logoUri")?,
        })
    }
}

impl FromJson for ScopeInfo {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            value: get(value, "value")?,
            display_name: get(value, "displayName")?,
            description: get_optional(value, "description")?,
            required: get(value, "required")?,
            emphasize: get(value, "emphasize")?,
            resources: get_or_default(value, "resources")?,
        })
    }
}

impl FromJson for LoginRequest {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            internal_id: get(value, "internalId")?,
            client: get(value, "client")?,
            binding_message: get_optional(value, "bindingMessage")?,
            acr_values: get_or_default(value, "acrValues")?,
            tenant: get_optional(value, "tenant")?,
            idp: get_optional(value, "idp")?,
            resource_indicators: get_or_default(value, "resourceIndicators")?,
            identity_scopes: get(value, "identityScopes")?,
            api_scopes: get(value, "apiScopes")?,
            created_at: get(value, "createdAt")?,
            expires_at: get(value, "expiresAt")?,
            verify_binding_message: get_or_default(value, "verifyBindingMessage")?,
            binding_message_choices: get_optional(value, "bindingMessageChoices")?,
        })
    }
}

impl FromJson for Problem {
    fn from_json(value: &JsValue) -> Option<Self> {
        Some(Self {
            problem_type: get_optional(value, "type")?.unwrap_or_else(|| "about:blank".to_owned()),
            title: get(value, "title")?,
            status: get(value, "status")?,
            detail: get_optional(value, "detail")?,
            outcome: get_optional(value, "outcome")?,
        })
    }
}

impl ToJson for CompleteRequest {
    fn to_json(&self) -> JsValue {
        object(&[
            ("internalId", Some(self.internal_id.to_json())),
            (
                "scopesValuesConsented",
                Some(self.scopes_values_consented.to_json()),
            ),
            ("description", Some(self.description.to_json())),
            // Left out unless picked, as serde leaves it out.
            (
                "bindingMessage",
                self.binding_message.as_ref().map(ToJson::to_json),
            ),
        ])
    }
}
