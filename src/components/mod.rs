//! Pieces the pages are built from, one component per file named as the component (the labels are
//! plain functions). Siblings use each other by file; the pages use them through the names below.

mod client_logo;
mod code_check;
mod consent_form;
mod decision_result;
mod error_alert;
mod labels;
mod language_picker;
mod notify_toggle;
mod page_heading;
mod session_header;
mod started_ago;
mod time_left;

pub use client_logo::ClientLogo;
pub use code_check::CodeCheck;
pub use consent_form::ConsentForm;
pub use decision_result::DecisionResult;
pub use error_alert::ErrorAlert;
pub use labels::{client_label, safe_client_uri, scope_label};
pub use language_picker::LanguagePicker;
pub use notify_toggle::NotifyToggle;
pub use page_heading::PageHeading;
pub use session_header::SessionHeader;
pub use started_ago::StartedAgo;
pub use time_left::TimeLeft;
