//! Which claims about a user each scope releases (OpenID Connect Core §5.4): the same for the ID token
//! and for userinfo.

use serde_json::{Map, Value};

use crate::config::User;
use crate::scopes::Scopes;

/// The user's claims that `scopes` grant: `name` for `profile`, `email` (when known) for `email`.
pub fn for_scopes(user: &User, scopes: &Scopes) -> Map<String, Value> {
    let mut claims = Map::new();
    if scopes.contains("profile") {
        claims.insert("name".into(), Value::from(user.name.as_str()));
    }
    if scopes.contains("email")
        && let Some(email) = &user.email
    {
        claims.insert("email".into(), Value::from(email.as_str()));
    }
    claims
}
