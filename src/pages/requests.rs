use ciba_contract::LoginRequest;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{ApiError, use_api},
    components::{ErrorAlert, PageHeading, TimeLeft, has_passed, use_clock},
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

/// The signed-in user's pending requests, newest first.
#[component]
pub fn PendingRequests() -> impl IntoView {
    let api = use_api();
    let requests = LocalResource::new(move || api.requests());
    let (refreshing, set_refreshing) = signal(false);
    let now = use_clock();
    let refresh = move || requests.refetch();
    // Requests that ran out of time while shown: they leave the list, and the user is told.
    let expired_while_open = RwSignal::new(0_usize);

    view! {
        <div class="page-title">
            <PageHeading>"Sign-in requests"</PageHeading>
            <button
                type="button"
                id="refresh"
                class="button"
                disabled=refreshing
                on:click=move |_| refresh()
            >
                "Refresh"
            </button>
        </div>
        <p class="notice" role="status">
            {move || (expired_while_open.get() > 0).then_some(EXPIRED_NOTICE)}
        </p>
        <Transition
            fallback=|| {
                view! {
                    <p role="status" data-state="loading">
                        "Loading sign-in requests…"
                    </p>
                }
            }
            set_pending=set_refreshing
        >
            {move || Suspend::new(async move {
                match requests.await {
                    Ok(list) if list.is_empty() => {
                        view! {
                            <p class="empty" data-state="empty">
                                {EMPTY_LIST_MESSAGE}
                            </p>
                        }
                            .into_any()
                    }
                    Ok(list) => {
                        view! {
                            <ul class="request-list">
                                {list
                                    .into_iter()
                                    .map(|request| {
                                        view! { <RequestItem request now expired_while_open /> }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }
                    Err(error) => {
                        let on_retry = (error != ApiError::Unauthorized)
                            .then(|| Callback::new(move |()| refresh()));
                        view! {
                            <ErrorAlert
                                message=error.message()
                                on_retry
                                retry_disabled=refreshing
                            />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
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
                <span class="client-name">{client_name}</span>
                {binding_message}
                <TimeLeft expires_at=request.expires_at now />
            </a>
        </li>
    }
}
