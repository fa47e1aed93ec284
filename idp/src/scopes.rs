//! OAuth scopes: parsed once from the space-separated `scope` text (RFC 6749 §3.3), stored and shown
//! as that text again; and shown to the person in the approval page's language: [`Languages`] reads
//! the page's `Accept-Language` and picks each configured scope's name and description from it.

use std::collections::BTreeMap;
use std::fmt;

use axum::http::{HeaderMap, header};

use crate::config::{Scope, ScopeText};

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

/// The languages a client prefers, best first, as its `Accept-Language` says (RFC 9110 §12.5.4):
/// lowercase tags ordered by q-value (ties in the order given), `q=0` and `*` left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Languages(Vec<String>);

impl Languages {
    /// Every `Accept-Language` header of a request, read as one list.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let values: Vec<&str> = headers
            .get_all(header::ACCEPT_LANGUAGE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        Self::parse(&values.join(","))
    }

    /// `de-AT, en;q=0.5` → `de-at`, `en`. Items that are not language ranges are skipped.
    pub fn parse(text: &str) -> Self {
        let mut ranked: Vec<(u16, String)> = text
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let tag = parts.next()?.trim().to_ascii_lowercase();
                let is_range = !tag.is_empty()
                    && tag.len() <= 35
                    && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
                let quality = parts
                    .find_map(|param| {
                        let (name, value) = param.split_once('=')?;
                        name.trim().eq_ignore_ascii_case("q").then(|| value.trim())
                    })
                    .map_or(Some(1000), quality)?;
                (is_range && quality > 0).then_some((quality, tag))
            })
            .collect();
        // Stable: equal q-values keep the client's order.
        ranked.sort_by_key(|(quality, _)| std::cmp::Reverse(*quality));
        Self(ranked.into_iter().map(|(_, tag)| tag).collect())
    }

    /// The first preferred language `texts` has, by exact tag or else by main language
    /// (`de-at` → `de`).
    pub fn pick<'a, T>(&self, texts: &'a BTreeMap<String, T>) -> Option<&'a T> {
        self.0.iter().find_map(|tag| {
            texts.get(tag).or_else(|| {
                let primary = tag.split('-').next()?;
                texts.get(primary)
            })
        })
    }

    /// A scope's name and description in the best language it has, else its default text.
    pub fn scope_text<'a>(&self, scope: &'a Scope) -> (&'a str, Option<&'a str>) {
        match self.pick(&scope.translations) {
            Some(ScopeText {
                display_name,
                description,
            }) => (display_name, description.as_deref()),
            None => (&scope.display_name, scope.description.as_deref()),
        }
    }

    /// The preference as one line, for what varies by it (the request list's `ETag`).
    pub fn key(&self) -> String {
        self.0.join(",")
    }
}

/// A q-value (`0`, `0.5`, `1.000`) in thousandths; `None` when it is not one.
fn quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = format!("{fraction:0<3}").parse::<u16>().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
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
    use std::collections::BTreeMap;

    use super::{Languages, Scopes};

    #[test]
    fn languages_by_preference() {
        let languages = Languages::parse("en;q=0.5, de-AT, fr;q=0, *;q=0.1, x y, it;q=0.8");
        assert_eq!(languages.key(), "de-at,it,en");
        assert_eq!(
            Languages::parse("de;q=1.5, en").key(),
            "en",
            "q above 1 is no q-value"
        );
        assert_eq!(Languages::parse("").key(), "");

        let texts: BTreeMap<String, &str> = [("de".to_owned(), "Deutsch")].into_iter().collect();
        assert_eq!(Languages::parse("de-AT").pick(&texts), Some(&"Deutsch"));
        assert_eq!(
            Languages::parse("fr, de;q=0.3").pick(&texts),
            Some(&"Deutsch")
        );
        assert_eq!(
            Languages::parse("en, de;q=0.3").pick(&texts),
            Some(&"Deutsch")
        );
        assert_eq!(Languages::parse("en").pick(&texts), None);
        assert_eq!(Languages::parse("de;q=0").pick(&texts), None);
    }

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
