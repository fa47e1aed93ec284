//! OpenID Provider metadata and the JWKS: what a standard client library reads before anything else.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::AppState;

pub const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";

pub async fn openid_configuration(State(state): State<AppState>) -> Json<Value> {
    let issuer = &state.issuer;
    let scopes: Vec<&str> = state.config.scope_names().collect();
    Json(json!({
        "issuer": issuer,
        "backchannel_authentication_endpoint": format!("{issuer}/connect/ciba"),
        "token_endpoint": format!("{issuer}/connect/token"),
        "userinfo_endpoint": format!("{issuer}/connect/userinfo"),
        "jwks_uri": format!("{issuer}/.well-known/jwks"),
        "grant_types_supported": [CIBA_GRANT, "refresh_token"],
        "backchannel_token_delivery_modes_supported": ["poll"],
        "backchannel_user_code_parameter_supported": false,
        "scopes_supported": scopes,
        "claims_supported": ["sub", "name", "email", "auth_time"],
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "backchannel_authentication_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

pub async fn jwks(State(state): State<AppState>) -> Json<Value> {
    Json(state.keys.jwks())
}
