//! The list page: the signed-in person's pending sign-in requests, each with the client, the code
//! to compare, when it started and how long is left, so they can find the one in front of them. It
//! keeps itself current (polling with `If-None-Match`, paused while the tab is hidden), adds new
//! requests at the end so nothing moves under a finger, announces arrivals and expiries, and shows
//! what this tab decided lately below. On the page of its own it also installs the service worker
//! once the list has shown, and offers "Notify me on this device" ([`crate::push`]).

use std::time::Duration;

use ciba_contract::LoginRequest;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, closure::Closure};

use crate::{
    api::{ApiError, use_api},
    clock::{has_passed, has_passed_ms, instant_ms, use_clock},
    components::{
        ClientLogo, ErrorAlert, NotifyToggle, PageHeading, StartedAgo, TimeLeft, client_label,
    },
    decided::{self, Decided},
    i18n::td,
    intl,
    language::use_i18n,
    push,
    routing::consent_href,
    tr,
};

/// How often the list asks the server for changes while the page is visible.
const POLL_INTERVAL: Duration = Duration::from_secs(5);

/// Rows built in the frame the data arrives: more than a tall screen shows (a row is ~100 px), so
/// what the person sees is whole at once; a longer list gets the rest in batches, below.
const FIRST_ROWS: usize = 16;
const MORE_ROWS: usize = 60;

/// The last thing that changed the list by itself, announced to screen readers and shown.
#[derive(Clone, PartialEq)]
enum ListNotice {
    /// A request ran out of time while shown and left the list.
    Expired,
    /// A request arrived while the list was open (the client's name).
    Arrived(String),
}

/// Requests in the order they first appeared here: those already shown keep their places and new
/// ones join at the end, so nothing moves under a finger about to tap. The server lists newest
/// first; the first load is shown oldest (soonest to expire) first.
fn in_stable_order(shown: &[LoginRequest], fresh: Vec<LoginRequest>) -> Vec<LoginRequest> {
    let mut fresh: Vec<Option<LoginRequest>> = fresh.into_iter().rev().map(Some).collect();
    let mut ordered = Vec::with_capacity(fresh.len());
    for kept in shown {
        if let Some(slot) = fresh.iter_mut().find(|slot| {
            slot.as_ref()
                .is_some_and(|r| r.internal_id == kept.internal_id)
        }) {
            ordered.extend(slot.take());
        }
    }
    ordered.extend(fresh.into_iter().flatten());
    ordered
}

/// How many requests a listing holds (none while loading or after a failure).
fn listed(listing: &Option<Result<Vec<LoginRequest>, ApiError>>) -> usize {
    match listing {
        Some(Ok(list)) => list.len(),
        _ => 0,
    }
}

/// What the list shows; rows themselves are keyed by request, so a poll only touches what changed.
#[derive(Clone, PartialEq)]
enum ListState {
    Loading,
    Failed(ApiError),
    Empty,
    Shown,
}

/// The signed-in user's pending requests, newest first, kept current by polling with `If-None-Match`
/// (an unchanged list costs a bodiless 304). Polling pauses while the tab is hidden and catches up
/// as soon as it is visible again.
#[component]
pub fn RequestList() -> impl IntoView {
    let i18n = use_i18n();
    let api = StoredValue::new(use_api());
    let listing = RwSignal::new(None::<Result<Vec<LoginRequest>, ApiError>>);
    let etag = StoredValue::new(None::<String>);
    let refreshing = RwSignal::new(false);
    let installable = push::is_installable();
    // The worker (offline shell, notifications) is no part of the first load: it is registered
    // once the first list has been painted.
    let worker_pending = StoredValue::new(installable);
    let now = use_clock();
    let notice = RwSignal::new(None::<ListNotice>);

    // After the first list, once it has been painted: the worker. Not after an error: a 401 leaves
    // for sign-in, where a worker's install would compete with the sign-in page for bandwidth.
    let list_shown = move || {
        let shown = || listing.try_with_untracked(|list| matches!(list, Some(Ok(_)))) == Some(true);
        if worker_pending.try_get_value() == Some(true) && shown() {
            worker_pending.set_value(false);
            // A timeout set in the frame's callback runs after that frame's paint.
            request_animation_frame(|| {
                let _ = set_timeout_with_handle(push::register_worker, Duration::ZERO);
            });
        }
    };

    // Asked again while a refresh was under way: go once more when it ends, so no change is missed.
    let again = StoredValue::new(false);
    let refresh = move || {
        if refreshing.get_untracked() {
            again.set_value(true);
            return;
        }
        refreshing.set(true);
        // The page may be left while a request is out: from then on every `try_` finds nothing.
        leptos::task::spawn_local(async move {
            loop {
                again.set_value(false);
                let Some(pending) = api.try_with_value(|api| api.requests(etag.get_value())) else {
                    return;
                };
                match pending.await {
                    Ok(Some(fresh)) => {
                        etag.try_set_value(fresh.etag);
                        let shown = listing
                            .try_with_untracked(|list| match list {
                                Some(Ok(shown)) => Some(shown.clone()),
                                _ => None,
                            })
                            .flatten();
                        let ordered =
                            in_stable_order(shown.as_deref().unwrap_or(&[]), fresh.requests);
                        // Only arrivals after the first load are news.
                        if let Some(shown) = &shown
                            && let Some(newest) = ordered
                                .iter()
                                .rev()
                                .find(|r| !shown.iter().any(|s| s.internal_id == r.internal_id))
                        {
                            notice.try_set(Some(ListNotice::Arrived(client_label(newest))));
                        }
                        crate::perf::list_updated();
                        listing.try_set(Some(Ok(ordered)));
                    }
                    Ok(None) => {}
                    // A failed poll keeps what is on screen; with nothing on screen, say why.
                    Err(error) => {
                        let showing =
                            listing.try_with_untracked(|list| matches!(list, Some(Ok(_))));
                        if showing == Some(false) {
                            listing.try_set(Some(Err(error)));
                        }
                    }
                }
                if again.try_get_value() != Some(true) {
                    break;
                }
            }
            refreshing.try_set(false);
            list_shown();
        });
    };
    // The list index.html read while the wasm was on its way, if it is in: shown in this first
    // render (and laid out once with the page), not a task later; else asked for.
    match api.with_value(|api| api.preloaded_requests()) {
        Some(first) => {
            etag.set_value(first.etag);
            crate::perf::list_updated();
            listing.set(Some(Ok(in_stable_order(&[], first.requests))));
            list_shown();
        }
        None => refresh(),
    }
    let visible = || document().visibility_state() == web_sys::VisibilityState::Visible;
    if let Ok(poll) = set_interval_with_handle(
        move || {
            if visible() {
                refresh();
            }
        },
        POLL_INTERVAL,
    ) {
        on_cleanup(move || poll.clear());
    }
    // `visibilitychange` fires at the document.
    let on_visible = Closure::<dyn Fn()>::new(move || {
        if visible() {
            refresh();
        }
    });
    let _ = document()
        .add_event_listener_with_callback("visibilitychange", on_visible.as_ref().unchecked_ref());
    let on_visible = SendWrapper::new(on_visible);
    on_cleanup(move || {
        let _ = document().remove_event_listener_with_callback(
            "visibilitychange",
            on_visible.as_ref().unchecked_ref(),
        );
    });

    let state = Memo::new(move |_| match listing.read().as_ref() {
        None => ListState::Loading,
        Some(Err(error)) => ListState::Failed(error.clone()),
        Some(Ok(list)) if list.is_empty() => ListState::Empty,
        Some(Ok(_)) => ListState::Shown,
    });
    // One check for the whole list each second, instead of an effect per row: a request that runs
    // out of time while shown is announced once. (Keeping the parsed deadlines in a Memo of their
    // own cost 2 KB of wasm for ~500 `Date.parse` calls a second on a 500-request list.)
    let expired = Memo::new(move |_| {
        let now = now.get();
        listing.with(|list| match list {
            Some(Ok(list)) => list
                .iter()
                .filter(|r| has_passed(&r.expires_at, now))
                .map(|r| r.internal_id.clone())
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    });
    Effect::new(move |before: Option<Vec<String>>| {
        let now_expired = expired.get();
        if let Some(before) = before
            && now_expired.iter().any(|id| !before.contains(id))
        {
            notice.set(Some(ListNotice::Expired));
        }
        now_expired
    });
    // How many rows are built: the first screenful at once, the rest in batches (added below the
    // others, so nothing moves under a finger). Polls keep what is built.
    let built = RwSignal::new(FIRST_ROWS);
    let total = move || listing.with(listed);
    Effect::new(move |_| {
        if built.get() < total() {
            // A zero timeout: after this frame's rendering, before the next poll.
            let _ = set_timeout_with_handle(
                move || {
                    let Some(count) = built.try_get_untracked() else {
                        return;
                    };
                    built.try_set(count + MORE_ROWS);
                    let total = listing.try_with_untracked(listed);
                    if total.is_some_and(|total| count + MORE_ROWS >= total) {
                        let _ = set_timeout_with_handle(crate::perf::list_complete, Duration::ZERO);
                    }
                },
                Duration::ZERO,
            );
        }
    });
    let requests = move || {
        let built = built.get();
        listing
            .read()
            .as_ref()
            .and_then(|result| result.as_ref().ok())
            .map(|list| list.iter().take(built).cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };

    view! {
        <div class="page-title">
            <PageHeading>{tr!(app_title)}</PageHeading>
            <button
                type="button"
                id="refresh"
                class="button"
                disabled=move || refreshing.get()
                on:click=move |_| refresh()
            >
                {tr!(refresh)}
            </button>
        </div>
        <p class="notice" role="status">
            {move || {
                notice
                    .get()
                    .map(|notice| match notice {
                        ListNotice::Expired => tr!(expired_notice).into_any(),
                        ListNotice::Arrived(client) => {
                            let client = move || view! { <bdi>{client.clone()}</bdi> };
                            td!(i18n.get_locale(), new_request, client).into_any()
                        }
                    })
            }}
        </p>
        {move || match state.get() {
            ListState::Loading => {
                view! {
                    <p role="status" data-state="loading">
                        {tr!(loading_list)}
                    </p>
                }
                    .into_any()
            }
            ListState::Failed(error) => {
                let on_retry = (error != ApiError::Unauthorized)
                    .then(|| Callback::new(move |()| refresh()));
                view! {
                    <ErrorAlert
                        message=error.message()
                        on_retry
                        retry_disabled=Signal::derive(move || refreshing.get())
                    />
                }
                    .into_any()
            }
            ListState::Empty => {
                view! {
                    <div class="empty" data-state="empty">
                        <p>{tr!(empty_what)}</p>
                        <p>{tr!(empty_todo)}</p>
                    </div>
                }
                    .into_any()
            }
            ListState::Shown => {
                view! {
                    <ul class="request-list">
                        <For
                            each=requests
                            key=|request| request.internal_id.clone()
                            children=move |request| {
                                view! { <RequestItem request now /> }
                            }
                        />
                    </ul>
                }
                    .into_any()
            }
        }}
        {installable.then(|| view! { <NotifyToggle /> })}
        <RecentDecisions />
    }
}

/// One request; hidden once it has run out of time (the list announces that).
#[component]
fn RequestItem(request: LoginRequest, now: ReadSignal<f64>) -> impl IntoView {
    let expires_ms = instant_ms(&request.expires_at);
    let expired = move || has_passed_ms(expires_ms, now.get());
    let href = consent_href(&request.internal_id);
    let client_name = client_label(&request);
    let binding_message = match request.binding_message {
        Some(message) => view! {
            <span class="binding-message" dir="auto">
                {message}
            </span>
        }
        .into_any(),
        // The code check is on: the host sends no code, the person picks it on the next page.
        None if request.verify_binding_message => {
            view! { <span class="no-binding" data-state="pick-code">{tr!(pick_code_next)}</span> }
                .into_any()
        }
        None => view! { <span class="no-binding">{tr!(no_code)}</span> }.into_any(),
    };
    view! {
        <li hidden=expired>
            <a class="request" data-request-id=request.internal_id href=href>
                <ClientLogo name=client_name.clone() logo_uri=request.client.logo_uri />
                <span class="client-name">{client_name}</span>
                {binding_message}
                <span class="request-times">
                    <StartedAgo created_at=request.created_at now />
                    <TimeLeft expires_at=request.expires_at now />
                </span>
            </a>
        </li>
    }
}

/// What this browser decided lately, newest first, so the user can see what they just did.
#[component]
fn RecentDecisions() -> impl IntoView {
    let decisions = decided::recent();
    (!decisions.is_empty()).then(|| {
        view! {
            <section class="recent" aria-labelledby="recent-heading">
                <h2 id="recent-heading">{tr!(recent_heading)}</h2>
                <ul>
                    {decisions
                        .into_iter()
                        .map(|decision| view! { <RecentItem decision /> })
                        .collect_view()}
                </ul>
            </section>
        }
    })
}

#[component]
fn RecentItem(decision: Decided) -> impl IntoView {
    let i18n = use_i18n();
    let Decided {
        client_name,
        outcome,
        at,
        ..
    } = decision;
    let outcome_text = match outcome {
        ciba_contract::Outcome::Approved => tr!(recent_approved).into_any(),
        ciba_contract::Outcome::Denied => tr!(recent_denied).into_any(),
    };
    let at_iso = String::from(js_sys::Date::new(&at.into()).to_iso_string());
    view! {
        <li data-outcome=outcome.as_str()>
            <bdi class="client-name">{client_name}</bdi>
            <span class="outcome">{outcome_text}</span>
            <time datetime=at_iso>{move || intl::time_of_day(i18n.get_locale(), at)}</time>
        </li>
    }
}
