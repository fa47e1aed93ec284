use leptos::prelude::*;

use crate::{components::PageHeading, list_href};

/// Any address the app does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section data-state="page-not-found">
            <PageHeading>"Page not found"</PageHeading>
            <p>"There is nothing at this address."</p>
            <p>
                <a href=list_href()>"Go to your sign-in requests"</a>
            </p>
        </section>
    }
}
