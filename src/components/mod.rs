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
pub use code_check::{CodeCheck, WRONG_CODE, code_choices};
pub use consent_form::{
    ConsentForm, EXPIRED_MESSAGE, NOTHING_TICKED, client_label, safe_client_uri, scope_label,
};
pub use decision_result::DecisionResult;
pub use heading::PageHeading;
pub use session_header::SessionHeader;
pub use time_left::{TimeLeft, describe_time_left, has_passed, use_clock};
