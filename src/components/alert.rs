use leptos::prelude::*;

use crate::i18n::{t, use_i18n};

/// Says what went wrong, with a {t!(i18n, try_again)} button when retrying can help.
#[component]
pub fn ErrorAlert(
    message: String,
    #[prop(optional_no_strip)] on_retry: Option<Callback<()>>,
    #[prop(optional, into)] retry_disabled: Signal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
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
                            {t!(i18n, try_again)}
                        </button>
                    }
                })}
        </div>
    }
}
