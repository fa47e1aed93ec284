//! One component per place (see [`crate::routing::Place`]), in a file of the same name, and
//! [`Pages`], which shows the one for the current place.

mod consent;
mod consent_code;
mod page_not_found;
mod request_list;

use leptos::prelude::*;

pub use consent::Consent;
pub use consent_code::ConsentPage;
pub use page_not_found::PageNotFound;
pub use request_list::RequestList;

use crate::routing::{Place, use_navigation};

/// The page for the current place.
#[component]
pub fn Pages() -> impl IntoView {
    let navigation = use_navigation();
    let place = Memo::new(move |_| navigation.place());
    move || match place.get() {
        Place::RequestList => view! { <RequestList /> }.into_any(),
        Place::Consent(internal_id) => view! { <ConsentPage internal_id /> }.into_any(),
        Place::PageNotFound => view! { <PageNotFound /> }.into_any(),
    }
}
