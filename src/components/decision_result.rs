//! What the person sees once a request is decided, here or earlier: approved or denied, for which
//! client, the scopes granted, or "you already approved/denied this" when the server says it was
//! decided before — so they know the other device has its answer — and a way back to the list.

use ciba_contract::Outcome;
use leptos::prelude::*;

use super::page_heading::PageHeading;
use crate::{i18n::td, language::use_i18n, routing::list_href, tr};

/// What happened to the request once it is decided, here or earlier.
#[component]
pub fn DecisionResult(
    outcome: Outcome,
    /// Decided before this attempt (the server answered 409).
    already: bool,
    client_name: String,
    /// Display names of the scopes granted; empty when unknown or denied.
    granted: Vec<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading = match outcome {
        Outcome::Approved => tr!(approved_heading).into_any(),
        Outcome::Denied => tr!(denied_heading).into_any(),
    };
    let client_name = StoredValue::new(client_name);
    let client = move || view! { <bdi>{client_name.get_value()}</bdi> };
    let summary = match (outcome, already) {
        (Outcome::Approved, true) => view! { <p>{tr!(already_approved)}</p> }.into_any(),
        (Outcome::Denied, true) => view! { <p>{tr!(already_denied)}</p> }.into_any(),
        (Outcome::Approved, false) => view! {
            <p>{move || td!(i18n.get_locale(), approved_summary, client)}</p>
            <ul class="granted">
                {granted.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}
            </ul>
        }
        .into_any(),
        (Outcome::Denied, false) => {
            view! { <p>{move || td!(i18n.get_locale(), denied_summary, client)}</p> }.into_any()
        }
    };
    view! {
        <section class="result" data-outcome=outcome.as_str() role="status">
            <PageHeading>{heading}</PageHeading>
            {summary}
        </section>
        <p>
            <a href=list_href()>{tr!(back_to_list)}</a>
        </p>
    }
}
