//! One component per place (see `routing`).

mod consent;
mod not_found;
mod requests;

pub use consent::{Consent, RequestNotFound};
pub use not_found::NotFoundPage;
pub use requests::PendingRequests;
