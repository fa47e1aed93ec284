use leptos::prelude::*;

use crate::{
    components::PageHeading,
    i18n::{t, use_i18n},
    list_href,
};

/// Any address the app does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section data-state="page-not-found">
            <PageHeading>{t!(i18n, page_not_found_heading)}</PageHeading>
            <p>{t!(i18n, page_not_found_message)}</p>
            <p>
                <a href=list_href()>{t!(i18n, go_to_list)}</a>
            </p>
        </section>
    }
}
