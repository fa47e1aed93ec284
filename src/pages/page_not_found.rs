use leptos::prelude::*;

use crate::{components::PageHeading, list_href, tr};

/// Any address the app does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
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
