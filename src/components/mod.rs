//! Pieces the pages are built from.

mod alert;
mod client_logo;
mod code_check;
mod consent_form;
mod decision_result;
mod heading;
mod session_header;
mod time_left;

pub use alert::ErrorAlert;
pub use client_logo::ClientLogo;
pub use code_check::CodeCheck;
pub use consent_form::{ConsentForm, client_label, safe_client_uri, scope_label};
pub use decision_result::DecisionResult;
pub use heading::PageHeading;
pub use session_header::{LanguagePicker, SessionHeader};
pub use time_left::{StartedAgo, TimeLeft, has_passed, use_clock};
