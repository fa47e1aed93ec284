//! Errors of the approval API, each answered as one RFC 9457 problem document.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ciba_contract::{CompletionError, Outcome, PROBLEM_CONTENT_TYPE, Problem};

/// What the approval API refuses with: the server's side of the problem documents that the page reads
/// into its own `api::ApiError`.
#[derive(Debug, thiserror::Error)]
pub enum ApiProblem {
    #[error("Sign in to continue.")]
    Unauthorized,
    /// The same answer for unknown, someone else's, expired and decided: the caller learns nothing.
    #[error(
        "This request was not found. It may have expired, been decided already, or belong to someone else."
    )]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    BadRequest(String),
    /// A decision that does not fit its request; the code check's refusals carry their own `type`.
    #[error("{0}")]
    Completion(CompletionError),
    #[error("The body is larger than this endpoint accepts.")]
    PayloadTooLarge,
    #[error("This method is not allowed here.")]
    MethodNotAllowed,
    #[error("This request was already {}.", .0.as_str())]
    AlreadyDecided(Outcome),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiProblem {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl From<JsonRejection> for ApiProblem {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge
        } else {
            Self::BadRequest(rejection.body_text())
        }
    }
}

impl ApiProblem {
    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::BadRequest(_) | Self::Completion(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::AlreadyDecided(_) => StatusCode::CONFLICT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        if let Self::Internal(error) = &self {
            tracing::error!("approval API failed: {error:#}");
        }
        let status = self.status();
        let problem = Problem {
            problem_type: match &self {
                Self::Completion(error) => error.problem_type().to_owned(),
                _ => "about:blank".to_owned(),
            },
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: Some(self.to_string()),
            outcome: match self {
                Self::AlreadyDecided(outcome) => Some(outcome),
                _ => None,
            },
        };
        let mut response = (status, Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        response
    }
}
