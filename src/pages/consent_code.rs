//! The consent page's code (the page, its form, the outcomes) as a wasm module of its own: a person
//! who opens the list downloads it only when they open a request — the list's first load is 26 KB
//! (a fifth) smaller (README "Size and caching"). The `split` feature (Trunk's build) marks the split
//! point for `build/split-wasm.mjs`; without it (tests, clippy) the page is built in directly.

use std::cell::Cell;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use leptos::prelude::*;

use crate::{
    api::ApiError,
    call::Call,
    components::{ErrorAlert, PageHeading},
    pages::Consent,
    tr,
};

#[cfg(feature = "split")]
use leptos::wasm_split::SplitLoaderError;

/// Without splitting nothing can fail to load.
#[cfg(not(feature = "split"))]
#[derive(Clone, Copy, Debug)]
pub struct SplitLoaderError;

/// Builds the page; its body (and all it alone uses) goes to the split module.
#[cfg(feature = "split")]
#[leptos::wasm_split::wasm_split(
    consent,
    wasm_split_path = ::leptos::wasm_split,
    preload(fetch_code),
    fallible
)]
fn build(internal_id: String) -> Result<AnyView, SplitLoaderError> {
    Ok(view! { <Consent internal_id /> }.into_any())
}

#[cfg(not(feature = "split"))]
async fn build(internal_id: String) -> Result<AnyView, SplitLoaderError> {
    Ok(view! { <Consent internal_id /> }.into_any())
}

#[cfg(not(feature = "split"))]
async fn fetch_code() -> Result<(), SplitLoaderError> {
    Ok(())
}

/// The page once its code is there, built in the render (so it has the app's context); until then
/// the page's loading state, and if the code cannot be fetched, the network error with Retry.
#[component]
pub fn ConsentPage(internal_id: String) -> impl IntoView {
    if CODE_LOADED.get() {
        return built_now(internal_id);
    }
    let code = Call::<()>::default();
    let fetch = move || {
        code.value.set(None);
        code.run(Box::pin(async {
            fetch_code().await.map_err(|_| ApiError::Network)?;
            CODE_LOADED.set(true);
            Ok(())
        }));
    };
    fetch();
    (move || match code.value.get() {
        Some(Ok(())) => built_now(internal_id.clone()),
        // As the page's own loading state, which follows; only that heading takes focus, so a
        // screen reader hears it once.
        None => view! {
            <h1 tabindex="-1">{tr!(request_heading)}</h1>
            <p role="status" data-state="loading">
                {tr!(loading_request)}
            </p>
        }
        .into_any(),
        Some(Err(error)) => view! {
            <PageHeading>{tr!(request_heading)}</PageHeading>
            <ErrorAlert message=error.message() on_retry=Some(Callback::new(move |()| fetch())) />
        }
        .into_any(),
    })
    .into_any()
}

thread_local! {
    /// The code is there (in this page's life): later consent pages are built at once.
    static CODE_LOADED: Cell<bool> = const { Cell::new(false) };
}

/// `build` once the code is loaded: its future is ready at the first poll (the loader only
/// checks that the module is there), so it runs here, synchronously, inside this component.
fn built_now(internal_id: String) -> AnyView {
    let future = pin!(build(internal_id));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(page)) => page,
        _ => unreachable!("the consent code was loaded before the page was built"),
    }
}
