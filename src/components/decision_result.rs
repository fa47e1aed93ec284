use ciba_contract::Outcome;
use leptos::prelude::*;

use crate::{components::PageHeading, list_href};

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
    let heading = match outcome {
        Outcome::Approved => "Sign-in approved",
        Outcome::Denied => "Sign-in denied",
    };
    let summary = match (outcome, already) {
        (Outcome::Approved, true) => view! { <p>"You already approved this."</p> }.into_any(),
        (Outcome::Denied, true) => view! { <p>"You already denied this."</p> }.into_any(),
        (Outcome::Approved, false) => view! {
            <p>"You approved the sign-in. " <bdi>{client_name}</bdi> " can now use:"</p>
            <ul class="granted">
                {granted.into_iter().map(|name| view! { <li>{name}</li> }).collect_view()}
            </ul>
        }
        .into_any(),
        (Outcome::Denied, false) => view! {
            <p>"You denied the sign-in. " <bdi>{client_name}</bdi> " was not given access."</p>
        }
        .into_any(),
    };
    view! {
        <section class="result" data-outcome=outcome.as_str() role="status">
            <PageHeading>{heading}</PageHeading>
            {summary}
        </section>
        <p>
            <a href=list_href()>"Back to sign-in requests"</a>
        </p>
    }
}
