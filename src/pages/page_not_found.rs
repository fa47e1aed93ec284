//! "Page not found", for any address under the app that is none of its places, with a way to the
//! list — so a mistyped or outdated link still leads somewhere useful.

use leptos::prelude::*;

use crate::{components::PageHeading, routing::list_href, tr};

/// Any address the app does not know.
#[component]
pub fn PageNotFound() -> impl IntoView {
    view! {
        <section data-state="page-not-found">
            <PageHeading>{tr!(page_not_found_heading)}</PageHeading>
            <p>{tr!(page_not_found_message)}</p>
            <p>
                <a href=list_href()>{tr!(go_to_list)}</a>
            </p>
        </section>
    }
}
