//! The consent form, what the person sees to decide one request. The first screen of a phone holds
//! the decision: who asks (name, logo, address, time left), the code to compare with the other
//! device (or, with the code check on, three to pick from), one line saying what the app may access,
//! and Approve and Deny. That line opens in place (a `<details>`, so keyboard and screen readers
//! get a native disclosure) to the scopes as checkboxes (required ones locked, with the reason;
//! `offline_access` an opt-in in plain words) and a name for the device. Approve is refused here,
//! before anything is sent, when nothing is ticked or the name is too long; an approval is kept as
//! a draft so a sign-in in between does not lose it.

use ciba_contract::{
    CompleteRequest, CompletionError, DESCRIPTION_MAX_CHARS, LoginRequest, ScopeInfo,
};
use leptos::prelude::*;

use super::{
    client_logo::ClientLogo,
    code_check::CodeCheck,
    error_alert::ErrorAlert,
    labels::{OFFLINE_ACCESS, client_label, safe_client_uri, scope_description, scope_label},
    page_heading::PageHeading,
    time_left::TimeLeft,
};
use crate::{
    api::ApiError,
    clock::{has_passed, use_clock},
    i18n::{td, td_string},
    language::use_i18n,
    routing::list_href,
    tr,
};

/// Scopes the user opts in to rather than out of: `offline_access` asks for a refresh token, which
/// outlives this sign-in.
const OPT_IN_SCOPES: &[&str] = &[OFFLINE_ACCESS];

/// One checkbox on the consent form.
#[derive(Clone)]
struct ScopeChoice {
    scope: ScopeInfo,
    checked: RwSignal<bool>,
}

impl ScopeChoice {
    fn new(scope: &ScopeInfo) -> Self {
        let checked = scope.required || !OPT_IN_SCOPES.contains(&scope.value.as_str());
        Self {
            scope: scope.clone(),
            checked: RwSignal::new(checked),
        }
    }
}

/// The consent form for one request: what to check, what to share, and the decision.
#[component]
pub fn ConsentForm(
    request: LoginRequest,
    /// Called with a decision that passed the contract's checks.
    on_decide: Callback<CompleteRequest>,
    /// Sends the last decision again.
    on_retry: Callback<()>,
    #[prop(into)] sending: Signal<bool>,
    #[prop(into)] send_error: Signal<Option<ApiError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let now = use_clock();
    let choices: Vec<ScopeChoice> = request.scopes().map(ScopeChoice::new).collect();
    let api_choices = StoredValue::new(choices[request.identity_scopes.len()..].to_vec());
    let identity_choices = StoredValue::new(choices[..request.identity_scopes.len()].to_vec());
    let description = RwSignal::new(String::new());
    // Back from signing in again: the choices as the user left them, shown open.
    let restored = crate::draft::take(&request.internal_id);
    let scopes_open = restored.is_some();
    if let Some(draft) = restored {
        for choice in &choices {
            let ticked = draft.scopes.contains(&choice.scope.value);
            choice.checked.set(choice.scope.required || ticked);
        }
        description.set(draft.description.unwrap_or_default());
    }
    let choices = StoredValue::new(choices);
    // The closed disclosure still says what Approve grants: how many and which.
    let access_summary = move || {
        choices.with_value(|choices| {
            let ticked: Vec<String> = choices
                .iter()
                .filter(|choice| choice.checked.get())
                .map(|choice| scope_label(&choice.scope))
                .collect();
            // Plain keys and `format!`: an interpolated message costs its own formatting code.
            let locale = i18n.get_locale();
            let count = format!(
                "{}\u{a0}·\u{a0}{}\u{a0}{}\u{a0}{}",
                td_string!(locale, may_access),
                ticked.len(),
                td_string!(locale, count_of),
                choices.len()
            );
            (count, ticked.join(", "))
        })
    };
    // Why the last Approve was refused before anything was sent.
    let refusal = RwSignal::new(None::<String>);

    let client_name = client_label(&request);
    let logo_uri = request.client.logo_uri.clone();
    let client_link = request
        .client
        .client_uri
        .as_deref()
        .and_then(safe_client_uri)
        .map(|uri| {
            let href = uri.to_owned();
            let uri = uri.to_owned();
            view! {
                <p class="client-uri">
                    <a href=href rel="noopener noreferrer" target="_blank">
                        {uri}
                    </a>
                </p>
            }
        });
    // With the code check on, the host sends three choices and never the message itself: the person
    // picks what the other device shows, Approve sends the pick, and the host checks it.
    let code_choices = request
        .verify_binding_message
        .then(|| request.binding_message_choices.clone())
        .flatten();
    let checking = code_choices.is_some();
    let picked = RwSignal::new(None::<String>);
    // A wrong pick, as the host answered it: only Deny is left.
    let locked = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(send_error.get(), Some(ApiError::WrongCode)) {
            locked.set(true);
        }
    });
    let can_approve = move || !checking || (picked.with(Option::is_some) && !locked.get());
    let binding_message = match code_choices {
        Some(choices) => view! { <CodeCheck choices picked locked /> }.into_any(),
        None => request
            .binding_message
            .clone()
            .map(|message| {
                view! {
                    <p class="binding-message" dir="auto">
                        {message}
                    </p>
                }
            })
            .into_any(),
    };
    let expires_at = request.expires_at.clone();
    let expired = Memo::new({
        let expires_at = expires_at.clone();
        move |_| has_passed(&expires_at, now.get())
    });
    let request = StoredValue::new(request);

    let approve = move |_| {
        if !can_approve() {
            return;
        }
        let scopes: Vec<String> = choices.with_value(|choices| {
            choices
                .iter()
                .filter(|choice| choice.checked.get_untracked())
                .map(|choice| choice.scope.value.clone())
                .collect()
        });
        if scopes.is_empty() {
            refusal.set(Some(
                td_string!(i18n.get_locale(), nothing_ticked).to_string(),
            ));
            return;
        }
        let description = description.with_untracked(|text| {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_owned())
        });
        let decision = request.with_value(|request| {
            let mut decision = CompleteRequest::approve(&request.internal_id, scopes, description);
            decision.binding_message = picked.get_untracked().filter(|_| checking);
            request.check_completion(&decision).map(|()| decision)
        });
        match decision {
            Ok(decision) => {
                refusal.set(None);
                crate::draft::save(&decision);
                on_decide.run(decision);
            }
            Err(CompletionError::DescriptionTooLong) => refusal.set(Some(
                td_string!(
                    i18n.get_locale(),
                    error_description_too_long,
                    max = DESCRIPTION_MAX_CHARS
                )
                .to_string(),
            )),
            // The form only offers requested scopes, locks required ones and asks for the code first:
            // a bug if reached. Said in the page's language; the contract's English Display (and its
            // formatting code) stays out of the wasm.
            Err(_) => refusal.set(Some(
                td_string!(i18n.get_locale(), error_refused).to_string(),
            )),
        }
    };
    let deny = move |_| {
        refusal.set(None);
        on_decide.run(request.with_value(|request| CompleteRequest::deny(&request.internal_id)));
    };

    view! {
        <article class="consent">
            <div class="who">
                <ClientLogo name=client_name.clone() logo_uri=logo_uri />
                <PageHeading>
                    {move || {
                        let client_name = client_name.clone();
                        td!(i18n.get_locale(), wants_to_sign_in, client = move || view! { <bdi>{client_name.clone()}</bdi> })
                    }}
                </PageHeading>
            </div>
            <div class="who-details">
                {client_link}
                <p class="expiry">
                    <TimeLeft expires_at now />
                </p>
            </div>
            <section class="binding" aria-labelledby="binding-heading">
                <h2 id="binding-heading">{tr!(check_code_heading)}</h2>
                {binding_message}
                <p class="binding-advice">
                    {(!checking).then(|| view! { {tr!(check_matches)} " " })}
                    <strong class="warning">{tr!(did_not_start)}</strong>
                </p>
            </section>
            <Show
                when=move || !expired.get()
                fallback=move || {
                    view! {
                        <section class="expired-notice" role="status" data-state="expired">
                            <p>{tr!(expired_message)}</p>
                            <p>
                                <a href=list_href()>{tr!(back_to_list)}</a>
                            </p>
                        </section>
                    }
                }
            >
                <form class="decision" novalidate on:submit=|event| event.prevent_default()>
                    <details class="access" open=scopes_open>
                        <summary id="scopes-toggle">
                            <span class="access-count">{move || access_summary().0}</span>
                            <span class="access-names">{move || access_summary().1}</span>
                        </summary>
                        <div class="access-panel">
                            <ScopeGroup
                                legend=move || tr!(personal_information)
                                choices=identity_choices.get_value()
                            />
                            <ScopeGroup
                                legend=move || tr!(application_access)
                                choices=api_choices.get_value()
                            />
                            <div class="field">
                                <label for="description">{tr!(name_device)}</label>
                                <input
                                    id="description"
                                    name="description"
                                    type="text"
                                    autocomplete="off"
                                    maxlength=DESCRIPTION_MAX_CHARS.to_string()
                                    aria-describedby="description-hint"
                                    bind:value=description
                                />
                                <p id="description-hint" class="hint">
                                    {tr!(name_device_hint)}
                                </p>
                            </div>
                        </div>
                    </details>
                    {move || {
                        refusal
                            .get()
                            .map(|message| view! { <ErrorAlert message /> })
                    }}
                    {move || {
                        send_error
                            .get()
                            // A wrong code is told by the code check itself.
                            .filter(|error| *error != ApiError::WrongCode)
                            .map(|error| {
                                let on_retry = error.is_retryable().then_some(on_retry);
                                view! { <ErrorAlert message=error.message() on_retry retry_disabled=sending /> }
                            })
                    }}
                    <div class="actions">
                        <button
                            id="approve"
                            type="button"
                            class="button"
                            disabled=move || sending.get() || !can_approve()
                            aria-describedby=move || (!can_approve()).then_some("approve-hint")
                            on:click=approve
                        >
                            {tr!(approve)}
                        </button>
                        <button id="deny" type="button" class="button" disabled=sending on:click=deny>
                            {tr!(deny)}
                        </button>
                    </div>
                    // Below the buttons, so the decision itself stays in the first screen; Approve
                    // points to the hint with aria-describedby.
                    {move || {
                        (!can_approve())
                            .then(|| {
                                view! {
                                    <p id="approve-hint" class="hint">
                                        {tr!(pick_code_hint)}
                                    </p>
                                }
                            })
                    }}
                    <p class="sending" role="status">
                        {move || sending.get().then_some(tr!(sending))}
                    </p>
                </form>
            </Show>
        </article>
    }
}

/// A titled group of scope checkboxes; nothing when the group is empty.
#[component]
fn ScopeGroup(legend: impl IntoView + 'static, choices: Vec<ScopeChoice>) -> impl IntoView {
    (!choices.is_empty()).then(|| {
        view! {
            <fieldset class="scopes">
                <legend>{legend}</legend>
                <ul>
                    {choices
                        .into_iter()
                        .map(|choice| view! { <ScopeCheckbox choice /> })
                        .collect_view()}
                </ul>
            </fieldset>
        }
    })
}

/// One scope: its name, what it gives, which APIs use it, and, when it cannot be unticked, why.
#[component]
fn ScopeCheckbox(choice: ScopeChoice) -> impl IntoView {
    let i18n = use_i18n();
    let ScopeChoice { scope, checked } = choice;
    // Both read the language, so the page's own texts for standard scopes follow a switch.
    let label = {
        let scope = scope.clone();
        move || scope_label(&scope)
    };
    let description = scope_description(&scope).is_some().then(|| {
        let scope = scope.clone();
        move || scope_description(&scope)
    });
    let resources = (!scope.resources.is_empty()).then(|| {
        let resources = scope.resources.join(", ");
        view! {
            <span class="scope-resources">
                {move || {
                    let resources = resources.clone();
                    td!(i18n.get_locale(), resources, resources = move || resources.clone())
                }}
            </span>
        }
    });
    let required = scope.required;
    view! {
        <li class="scope" class:emphasize=scope.emphasize>
            <label>
                <input
                    type="checkbox"
                    name="scope"
                    value=scope.value
                    disabled=required
                    bind:checked=checked
                />
                <span class="scope-text">
                    <span class="scope-name">
                        {label}
                        {required
                            .then(|| view! { " " <span class="scope-required">{tr!(required)}</span> })}
                    </span>
                    {description.map(|text| view! { <span class="scope-description">{text}</span> })}
                    {resources}
                    {required
                        .then(|| {
                            view! { <span class="scope-reason">{tr!(required_reason)}</span> }
                        })}
                </span>
            </label>
        </li>
    }
}
