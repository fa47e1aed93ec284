//! The consent page for one request: it loads the request and shows the consent form, then where
//! the decision ended up — approved, denied, already decided. A request the server no longer knows
//! is shown as done when this browser decided it (a host such as Duende forgets decisions), as sent
//! when the answer was lost, and otherwise as the one "not found", which never says why.

use ciba_contract::{CompleteRequest, LoginRequest, Outcome};
use leptos::prelude::*;

use crate::{
    api::{ApiError, Completed, use_api},
    call::Call,
    components::{ConsentForm, DecisionResult, ErrorAlert, PageHeading, client_label, scope_label},
    decided::{self, Decided},
    embed::{self, protocol::ToParent},
    routing::list_href,
    tr,
};

/// Loads one request and lets the user decide it.
#[component]
pub fn Consent(#[prop(into)] internal_id: String) -> impl IntoView {
    let api = StoredValue::new(use_api());
    let internal_id = StoredValue::new(internal_id);
    let request = Call::default();
    let load = move || {
        request.value.set(None);
        request.run(api.with_value(|api| internal_id.with_value(|id| api.request(id))));
    };
    load();

    move || match request.value.get() {
        None => view! {
            <PageHeading>{tr!(request_heading)}</PageHeading>
            <p role="status" data-state="loading">
                {tr!(loading_request)}
            </p>
        }
        .into_any(),
        Some(Ok(request)) => view! { <Decision request /> }.into_any(),
        Some(Err(ApiError::NotFound)) => {
            view! { <Forgotten internal_id=internal_id.get_value() /> }.into_any()
        }
        Some(Err(error)) => {
            let on_retry =
                (error != ApiError::Unauthorized).then(|| Callback::new(move |()| load()));
            view! {
                <PageHeading>{tr!(request_heading)}</PageHeading>
                <ErrorAlert message=error.message() on_retry />
            }
            .into_any()
        }
    }
}

/// The one answer for unknown, someone else's, expired and already decided requests.
#[component]
fn RequestNotFound() -> impl IntoView {
    view! {
        <section class="not-found" data-state="not-found">
            <PageHeading>{tr!(not_found_heading)}</PageHeading>
            <p>{tr!(not_found_message)}</p>
            <p>
                <a href=list_href()>{tr!(back_to_list)}</a>
            </p>
        </section>
    }
}

/// A request the server does not know (any more): done, if this browser decided it — a host such as
/// Duende forgets a decision once the client has polled — sent, if the answer to this browser's
/// decision was lost; otherwise the one "not found".
#[component]
fn Forgotten(internal_id: String) -> impl IntoView {
    match decided::find(&internal_id) {
        Some(Decided {
            confirmed: true,
            outcome,
            client_name,
            ..
        }) => view! { <DecisionResult outcome already=true client_name granted=Vec::new() /> }
            .into_any(),
        Some(Decided { outcome, .. }) => view! { <Unconfirmed outcome /> }.into_any(),
        None => view! { <RequestNotFound /> }.into_any(),
    }
}

/// A decision was sent, its answer was lost, and now the request is closed: say what is known.
#[component]
fn Unconfirmed(outcome: Outcome) -> impl IntoView {
    let message = match outcome {
        Outcome::Approved => tr!(unconfirmed_approved).into_any(),
        Outcome::Denied => tr!(unconfirmed_denied).into_any(),
    };
    view! {
        <section class="result" data-state="unconfirmed" data-outcome=outcome.as_str() role="status">
            <PageHeading>{tr!(unconfirmed_heading)}</PageHeading>
            <p>{message}</p>
        </section>
        <p>
            <a href=list_href()>{tr!(back_to_list)}</a>
        </p>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Deciding,
    Decided { outcome: Outcome, already: bool },
    Gone,
}

/// Sends the user's decision and shows where it ended up.
#[component]
fn Decision(request: LoginRequest) -> impl IntoView {
    let api = StoredValue::new(use_api());
    let send = Call::default();
    let dispatch =
        move |decision: CompleteRequest| send.run(api.with_value(|api| api.complete(decision)));
    // Kept for "Try again" and for naming the granted scopes afterwards.
    let last_decision = RwSignal::new(None::<CompleteRequest>);
    let decide = Callback::new(move |decision: CompleteRequest| {
        last_decision.set(Some(decision.clone()));
        dispatch(decision);
    });
    let retry = Callback::new(move |()| {
        if let Some(decision) = last_decision.get_untracked() {
            dispatch(decision);
        }
    });

    let sending = send.pending;
    let stage = Memo::new(move |_| {
        send.value.with(|result| match result {
            Some(Ok(Completed { outcome })) => Stage::Decided {
                outcome: *outcome,
                already: false,
            },
            Some(Err(ApiError::Conflict(outcome))) => Stage::Decided {
                outcome: *outcome,
                already: true,
            },
            Some(Err(ApiError::NotFound)) => Stage::Gone,
            _ => Stage::Deciding,
        })
    });
    let send_error = Signal::derive(move || {
        if sending.get() {
            return None;
        }
        send.value.with(|result| match result {
            Some(Err(error)) if !matches!(error, ApiError::Conflict(_) | ApiError::NotFound) => {
                Some(error.clone())
            }
            _ => None,
        })
    });

    let internal_id = request.internal_id.clone();
    let client_name = client_label(&request);
    let expires_at = decided::expiry_millis(&request.expires_at);
    let remember = {
        let (internal_id, client_name) = (internal_id.clone(), client_name.clone());
        move |outcome: Outcome, confirmed: bool| {
            decided::record(Decided {
                internal_id: internal_id.clone(),
                client_name: client_name.clone(),
                outcome,
                confirmed,
                expires_at,
                at: js_sys::Date::now(),
            });
        }
    };
    Effect::new(move |_| {
        // An answer that never came may still have been acted on: remember it was sent.
        let lost = send.value.with(|result| match result {
            Some(Err(ApiError::Network | ApiError::Server(_))) => last_decision
                .with_untracked(|decision| decision.as_ref().map(CompleteRequest::outcome)),
            _ => None,
        });
        if let Some(outcome) = lost {
            remember(outcome, false);
        }
        let stage = stage.get();
        if stage != Stage::Deciding {
            crate::draft::discard(&internal_id);
        }
        if let Stage::Decided { outcome, .. } = stage {
            remember(outcome, true);
            embed::tell_parent(ToParent::Decided {
                internal_id: internal_id.clone(),
                outcome,
            });
        }
    });
    let request = StoredValue::new(request);
    move || match stage.get() {
        Stage::Deciding => view! {
            <ConsentForm
                request=request.get_value()
                on_decide=decide
                on_retry=retry
                sending
                send_error
            />
        }
        .into_any(),
        Stage::Decided { outcome, already } => {
            let (client_name, granted) = request.with_value(|request| {
                (
                    client_label(request),
                    granted_names(request, last_decision.get_untracked()),
                )
            });
            view! { <DecisionResult outcome already client_name granted /> }.into_any()
        }
        Stage::Gone => {
            view! { <Forgotten internal_id=request.with_value(|r| r.internal_id.clone()) /> }
                .into_any()
        }
    }
}

/// Display names of the scopes a decision granted, in the order it listed them.
fn granted_names(request: &LoginRequest, decision: Option<CompleteRequest>) -> Vec<String> {
    let granted = decision
        .and_then(|decision| decision.scopes_values_consented)
        .unwrap_or_default();
    granted
        .iter()
        .map(|value| {
            request
                .scopes()
                .find(|scope| &scope.value == value)
                .map_or_else(|| value.clone(), scope_label)
        })
        .collect()
}
