use std::time::Duration;

use ciba_contract::LoginRequest;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use send_wrapper::SendWrapper;
use wasm_bindgen::{JsCast, closure::Closure};

use crate::{
    api::{ApiError, use_api},
    components::{ClientLogo, ErrorAlert, PageHeading, TimeLeft, has_passed, use_clock},
    pages::Consent,
    request_href,
};

/// Announced when requests run out of time while the list is open.
pub const EXPIRED_NOTICE: &str = "A request expired and was removed from the list.";

pub const EMPTY_LIST_MESSAGE: &str =
    "When an app on another device asks to sign you in, the request appears here.";

/// `/ciba/`: the pending list, or one request's consent page when the link carries `?id=`
/// (the form Duende's notification template uses).
#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let requested_id = Memo::new(move |_| query.read().get("id").filter(|id| !id.is_empty()));
    move || match requested_id.get() {
        Some(internal_id) => view! { <Consent internal_id /> }.into_any(),
        None => view! { <PendingRequests /> }.into_any(),
    }
}

/// How often the list asks the server for changes while the page is visible.
const POLL_INTERVAL: Duration = Duration::from_secs(5);

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
pub fn PendingRequests() -> impl IntoView {
    let api = StoredValue::new(use_api());
    let listing = RwSignal::new(None::<Result<Vec<LoginRequest>, ApiError>>);
    let etag = StoredValue::new(None::<String>);
    let refreshing = RwSignal::new(false);
    let now = use_clock();
    // Requests that ran out of time while shown: they leave the list, and the user is told.
    let expired_while_open = RwSignal::new(0_usize);

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
                        listing.try_set(Some(Ok(fresh.requests)));
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
        });
    };
    refresh();
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
    let requests = move || {
        listing
            .read()
            .as_ref()
            .and_then(|result| result.as_ref().ok())
            .cloned()
            .unwrap_or_default()
    };

    view! {
        <div class="page-title">
            <PageHeading>"Sign-in requests"</PageHeading>
            <button
                type="button"
                id="refresh"
                class="button"
                disabled=move || refreshing.get()
                on:click=move |_| refresh()
            >
                "Refresh"
            </button>
        </div>
        <p class="notice" role="status">
            {move || (expired_while_open.get() > 0).then_some(EXPIRED_NOTICE)}
        </p>
        {move || match state.get() {
            ListState::Loading => {
                view! {
                    <p role="status" data-state="loading">
                        "Loading sign-in requests…"
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
                    <p class="empty" data-state="empty">
                        {EMPTY_LIST_MESSAGE}
                    </p>
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
                                view! { <RequestItem request now expired_while_open /> }
                            }
                        />
                    </ul>
                }
                    .into_any()
            }
        }}
    }
}

#[component]
fn RequestItem(
    request: LoginRequest,
    now: ReadSignal<f64>,
    /// Counts this request when it expires while on screen.
    expired_while_open: RwSignal<usize>,
) -> impl IntoView {
    let expires_at = request.expires_at.clone();
    let expired = Memo::new(move |_| has_passed(&expires_at, now.get()));
    Effect::new(move |was_expired: Option<bool>| {
        let expired = expired.get();
        if expired && was_expired == Some(false) {
            expired_while_open.update(|count| *count += 1);
        }
        expired
    });
    let href = request_href(&request.internal_id);
    let client_name = crate::components::client_label(&request);
    let binding_message = match request.binding_message {
        Some(message) => view! {
            <span class="binding-message" dir="auto">
                {message}
            </span>
        }
        .into_any(),
        None => view! { <span class="no-binding">"No code to compare"</span> }.into_any(),
    };
    view! {
        <li hidden=move || expired.get()>
            <a class="request" data-request-id=request.internal_id href=href>
                <ClientLogo name=client_name.clone() logo_uri=request.client.logo_uri />
                <span class="client-name">{client_name}</span>
                {binding_message}
                <TimeLeft expires_at=request.expires_at now />
            </a>
        </li>
    }
}
