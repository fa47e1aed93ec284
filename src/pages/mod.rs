//! One component per route.

mod consent;
mod not_found;
mod requests;

pub use consent::{Consent, RequestNotFound, RequestPage};
pub use not_found::NotFoundPage;
pub use requests::{HomePage, PendingRequests};
