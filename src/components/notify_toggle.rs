//! "Notify me on this device": a switch on the list page that subscribes this phone or computer to
//! Web Push ([`crate::push`]), so a new sign-in request shows as a notification. It says what is
//! true: on, off, blocked in the browser's settings, or not possible in this browser (iOS Safari
//! only has push in a home-screen app); the browser's permission is asked only when it is tapped.
//! Only on the page of its own, never framed in a portal or mounted into a host page.

use leptos::prelude::*;

use crate::{
    api::use_api,
    i18n::td_string,
    language::use_i18n,
    push::{self, DeviceState, PushError},
    tr,
};

/// The switch, its state in words, and what went wrong last.
#[component]
pub fn NotifyToggle() -> impl IntoView {
    let api = StoredValue::new(use_api());
    let i18n = use_i18n();
    // `None` while the browser is asked what this device does now.
    let state = RwSignal::new(None::<DeviceState>);
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<PushError>);
    leptos::task::spawn_local(async move {
        let now = push::device_state().await;
        state.try_set(Some(now));
    });

    let toggle = move |_| {
        if busy.get_untracked() {
            return;
        }
        let turning_on = state.get_untracked() != Some(DeviceState::On);
        busy.set(true);
        failure.set(None);
        leptos::task::spawn_local(async move {
            let Some(api) = api.try_get_value() else {
                return;
            };
            let result = if turning_on {
                push::turn_on(&api).await
            } else {
                push::turn_off(&api).await
            };
            match result {
                Ok(now) => {
                    state.try_set(Some(now));
                }
                Err(error) => {
                    failure.try_set(Some(error));
                    // Whatever half-happened, show what the browser holds now.
                    let now = push::device_state().await;
                    state.try_set(Some(now));
                }
            }
            busy.try_set(false);
        });
    };

    let on = move || state.get() == Some(DeviceState::On);
    let usable = move || matches!(state.get(), Some(DeviceState::On | DeviceState::Off));
    view! {
        <section class="notify" aria-labelledby="notify-toggle">
            <button
                type="button"
                id="notify-toggle"
                class="switch"
                aria-pressed=move || if on() { "true" } else { "false" }
                aria-describedby="notify-state"
                disabled=move || busy.get() || !usable()
                on:click=toggle
            >
                <span class="switch-track" aria-hidden="true"></span>
                <span>{tr!(notify_toggle)}</span>
            </button>
            <p
                id="notify-state"
                class="notify-state"
                role="status"
                data-state=move || match state.get() {
                    None => "checking",
                    Some(DeviceState::On) => "on",
                    Some(DeviceState::Off) => "off",
                    Some(DeviceState::Blocked) => "blocked",
                    Some(DeviceState::Unsupported) => "unsupported",
                }
            >
                // One text closure and one alert shape, not a view type per state: every distinct
                // view type costs the wasm its own render code.
                {move || {
                    let locale = i18n.get_locale();
                    match state.get() {
                        None => "",
                        Some(DeviceState::On) => td_string!(locale, notify_on),
                        Some(DeviceState::Off) => td_string!(locale, notify_off),
                        Some(DeviceState::Blocked) => td_string!(locale, notify_blocked),
                        Some(DeviceState::Unsupported) => td_string!(locale, notify_unsupported),
                    }
                }}
            </p>
            {move || {
                failure
                    .get()
                    .map(|error| {
                        let locale = i18n.get_locale();
                        let message = match error {
                            PushError::NotAllowed => td_string!(locale, notify_not_allowed).to_owned(),
                            PushError::Browser => td_string!(locale, notify_browser_failed).to_owned(),
                            PushError::Api(error) => {
                                format!("{} {}", td_string!(locale, notify_failed), error.message())
                            }
                        };
                        view! {
                            <p class="alert" role="alert" data-state="error">
                                {message}
                            </p>
                        }
                    })
            }}
        </section>
    }
}
