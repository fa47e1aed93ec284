use leptos::prelude::*;

use crate::{api::use_api, list_href};

/// The banner: who is signed in, and a way to sign out.
#[component]
pub fn SessionHeader() -> impl IntoView {
    let api = use_api();
    let session = LocalResource::new({
        let api = api.clone();
        move || api.session()
    });
    let sign_out = Action::new_local(move |_: &()| api.sign_out());
    let sign_out_error = move || {
        if sign_out.pending().get() {
            return None;
        }
        sign_out.value().with(|result| match result {
            Some(Err(error)) => Some(error.message()),
            _ => None,
        })
    };

    view! {
        <header class="app-header">
            <a class="app-title" href=list_href()>
                "Sign-in requests"
            </a>
            <div class="account">
                <Suspense>
                    {move || Suspend::new(async move {
                        session
                            .await
                            .ok()
                            .map(|session| {
                                let name = if session.name.is_empty() {
                                    session.subject
                                } else {
                                    session.name
                                };
                                view! {
                                    <span class="signed-in-as">
                                        "Signed in as " <span id="user-name">{name}</span>
                                    </span>
                                }
                            })
                    })}
                </Suspense>
                <button
                    type="button"
                    id="sign-out"
                    class="button button--quiet"
                    disabled=move || sign_out.pending().get()
                    on:click=move |_| {
                        sign_out.dispatch_local(());
                    }
                >
                    "Sign out"
                </button>
            </div>
            {move || sign_out_error().map(|message| view! { <p class="alert" role="alert">{message}</p> })}
        </header>
    }
}
