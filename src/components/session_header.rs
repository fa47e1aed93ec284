//! The banner at the top of the page: the app's name (a link back to the list), who is signed in,
//! so the person knows whose sign-ins they are deciding, and Sign out, which goes to the host's own
//! sign-out page so the session really ends wherever the page is hosted. Before leaving it makes
//! this device stop getting the person's notifications ([`crate::push`]).

use leptos::prelude::*;

use crate::{api::use_api, call::Call, push, routing::list_href, sign_in, tr};

/// The banner: who is signed in, and a way to sign out.
#[component]
pub fn SessionHeader() -> impl IntoView {
    let api = StoredValue::new(use_api());
    let session = Call::default();
    session.run(api.with_value(|api| api.session()));
    let logout_url = api.with_value(|api| api.logout_url());
    // Framed, sign-out opens a window, which only the tap itself may do: no waiting first (and a
    // frame never subscribed this device).
    let installable = push::is_installable();
    let sign_out = move |_| {
        if !installable {
            sign_in::sign_out(&logout_url);
            return;
        }
        let logout_url = logout_url.clone();
        leptos::task::spawn_local(async move {
            // A signed-out device must not keep showing this person's requests; bounded, so a
            // slow host never keeps anyone from signing out.
            if let Some(api) = api.try_get_value() {
                push::forget_this_device(api).await;
            }
            sign_in::sign_out(&logout_url);
        });
    };

    view! {
        <header class="app-header">
            <a class="app-title" href=list_href()>
                {tr!(app_title)}
            </a>
            // Shown once the session is known, so the name does not push Sign out aside.
            <div class="account" aria-busy=move || session.value.with(Option::is_none).then_some("true")>
                {move || {
                    session
                        .value
                        .get()
                        .and_then(Result::ok)
                        .map(|session| {
                            let name = if session.name.is_empty() {
                                session.subject
                            } else {
                                session.name
                            };
                            view! {
                                <span class="signed-in-as">
                                    <span class="signed-in-label">{tr!(signed_in_as)} " "</span>
                                    <bdi id="user-name">{name}</bdi>
                                </span>
                            }
                        })
                }}
                // The host's own sign-out page (Duende's asks first and checks its anti-forgery
                // token), so the session really ends wherever the page is hosted.
                <button
                    type="button"
                    id="sign-out"
                    class="button button--quiet"
                    on:click=sign_out
                >
                    {tr!(sign_out)}
                </button>
            </div>
        </header>
    }
}
