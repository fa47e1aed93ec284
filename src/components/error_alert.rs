//! What went wrong, said as an alert (announced to screen readers), with a Try again button when
//! sending the same thing again may help — so a dropped connection never leaves the person stuck.

use leptos::prelude::*;

use crate::tr;

/// Says what went wrong, with a {tr!(try_again)} button when retrying can help.
#[component]
pub fn ErrorAlert(
    message: String,
    #[prop(optional_no_strip)] on_retry: Option<Callback<()>>,
    #[prop(optional, into)] retry_disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="alert" role="alert" data-state="error">
            <p>{message}</p>
            {on_retry
                .map(|retry| {
                    view! {
                        <button
                            type="button"
                            class="button"
                            data-action="retry"
                            disabled=retry_disabled
                            on:click=move |_| retry.run(())
                        >
                            {tr!(try_again)}
                        </button>
                    }
                })}
        </div>
    }
}
