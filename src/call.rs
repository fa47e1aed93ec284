//! One API call and its last answer, for a component to show: what Leptos's `LocalResource` +
//! `Suspense` and `Action` do for this app, without their async machinery in the wasm (~9 KB
//! brotli).

use leptos::prelude::*;

use crate::api::{ApiError, ApiFuture};

/// A call's state as two signals: whether one is out, and the last answer.
pub struct Call<T: Send + Sync + 'static> {
    /// A call is out.
    pub pending: RwSignal<bool>,
    /// The last answer; `None` before the first.
    pub value: RwSignal<Option<Result<T, ApiError>>>,
}

impl<T: Send + Sync + 'static> Clone for Call<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Call<T> {}

impl<T: Send + Sync + 'static> Default for Call<T> {
    fn default() -> Self {
        Self {
            pending: RwSignal::new(false),
            value: RwSignal::new(None),
        }
    }
}

impl<T: Send + Sync + 'static> Call<T> {
    /// Sends `call`; its answer replaces the last one (unless the component is gone by then).
    pub fn run(self, call: ApiFuture<T>) {
        self.pending.set(true);
        leptos::task::spawn_local(async move {
            let answer = call.await;
            self.value.try_set(Some(answer));
            self.pending.try_set(false);
        });
    }
}
