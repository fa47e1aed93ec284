//! ciba-conformance: proves that an identity provider keeps the ciba-approval contract.
//!
//! An integrator points the kit at their host (Duende IdentityServer with the approval API, or
//! `ciba-idp`). It plays both other parties of a CIBA sign-in: the relying party ([`client`]: discovery,
//! the backchannel authentication endpoint, token polling) and the person's browser ([`user`]: the
//! session cookie and the approval API the SPA speaks). [`checks`] walks through every promise of the
//! contract with them, and [`report`] prints the verdict.

pub mod checks;
pub mod client;
pub mod report;
pub mod user;

/// Why a step could not be taken: a transport failure or an answer of the wrong shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<reqwest::Error> for Error {
    fn from(error: reqwest::Error) -> Self {
        // reqwest's Display hides the cause (connection refused, certificate, ...).
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Self(text)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// A short excerpt of a body for a message: at most `max` characters on one line.
pub fn excerpt(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > max {
        format!("{}…", one_line.chars().take(max).collect::<String>())
    } else {
        one_line
    }
}
