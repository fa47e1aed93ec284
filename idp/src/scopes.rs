//! OAuth scopes: parsed once from the space-separated `scope` text (RFC 6749 §3.3), stored and shown
//! as that text again.

use std::fmt;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{Sqlite, SqliteTypeInfo, SqliteValueRef};

/// Scope values in the order they were given (duplicates kept, empty ones dropped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// `"openid  profile"` → `openid`, `profile`: split on spaces, empty values dropped.
    pub fn parse(text: &str) -> Self {
        text.split(' ').filter(|s| !s.is_empty()).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.iter().any(|s| s == scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for Scopes {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self(iter.into_iter().map(Into::into).collect())
    }
}

/// The space-separated text, as the token response's `scope` and the database have it.
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (at, scope) in self.0.iter().enumerate() {
            if at > 0 {
                f.write_str(" ")?;
            }
            f.write_str(scope)?;
        }
        Ok(())
    }
}

/// Stored as the space-separated text.
impl sqlx::Type<Sqlite> for Scopes {
    fn type_info() -> SqliteTypeInfo {
        <String as sqlx::Type<Sqlite>>::type_info()
    }
}

impl sqlx::Encode<'_, Sqlite> for Scopes {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as sqlx::Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <String as sqlx::Encode<Sqlite>>::encode(self.to_string(), buf)
    }
}

impl<'r> sqlx::Decode<'r, Sqlite> for Scopes {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        <&str as sqlx::Decode<Sqlite>>::decode(value).map(Self::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::Scopes;

    #[test]
    fn parses_once_and_joins_back() {
        let scopes = Scopes::parse(" openid  profile offline_access");
        assert_eq!(
            scopes.iter().collect::<Vec<_>>(),
            ["openid", "profile", "offline_access"]
        );
        assert!(scopes.contains("profile") && !scopes.contains("email"));
        assert_eq!(scopes.to_string(), "openid profile offline_access");
        assert!(Scopes::parse("").is_empty());
        assert_eq!(Scopes::parse("").to_string(), "");
        assert_eq!(
            ["openid", "email"].into_iter().collect::<Scopes>(),
            Scopes::parse("openid email")
        );
    }
}
