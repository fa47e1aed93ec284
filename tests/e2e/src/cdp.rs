//! The DevTools protocol with events, for what WebDriver's `execute_cdp` (commands only) cannot
//! see: which service worker registration a push goes to (`ServiceWorker.workerRegistrationUpdated`)
//! and where each response of a page load came from (`Network.responseReceived`); and performance
//! traces (`Tracing`), which come back as a stream. thirtyfour's
//! `cdp-events` opens Chromium's own DevTools websocket (the session's
//! `goog:chromeOptions.debuggerAddress` → `/json/version`) and attaches to the page flat.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};
use thirtyfour::cdp::{CdpSession, RawEvent};
use thirtyfour::prelude::*;
use tokio::sync::broadcast::{Receiver, error::RecvError};

/// A DevTools connection to the page the WebDriver session shows, and the events it has heard.
pub struct DevTools {
    session: CdpSession,
    events: Receiver<RawEvent>,
}

impl DevTools {
    /// Connects to the page of `driver`'s session (events are heard from here on).
    pub async fn connect(driver: &WebDriver) -> Self {
        let session = driver
            .cdp()
            .connect()
            .await
            .expect("Chromium's DevTools websocket");
        let events = session.subscribe_connection();
        Self { session, events }
    }

    /// Sends a command to the page's session and gives back its result.
    pub async fn send(&self, method: &str, params: Value) -> Value {
        self.session
            .send_raw(method, params)
            .await
            .unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    /// The next event `method` of this page's session for which `wanted` holds (its params),
    /// waiting up to `within`.
    pub async fn next_event(
        &mut self,
        method: &str,
        within: Duration,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        let own = self.session.session_id().cloned();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no {method} event within {within:?}"));
            match event {
                Ok(event)
                    if event.method == method
                        && event.session_id == own
                        && wanted(&event.params) =>
                {
                    return event.params;
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => panic!("the DevTools connection closed"),
            }
        }
    }

    /// Every event `method` heard so far (already queued), as their params.
    pub fn heard(&mut self, method: &str) -> Vec<Value> {
        let own = self.session.session_id().cloned();
        let mut found = Vec::new();
        while let Ok(event) = self.events.try_recv() {
            if event.method == method && event.session_id == own {
                found.push(event.params);
            }
        }
        found
    }

    /// The id of the service worker registration for `scope_url` (e.g. `http://…/ciba/`), once it
    /// has one: `ServiceWorker.enable` reports every registration as `workerRegistrationUpdated`.
    pub async fn worker_registration_id(&mut self, scope_url: &str) -> String {
        self.send("ServiceWorker.enable", json!({})).await;
        let updated = self
            .next_event(
                "ServiceWorker.workerRegistrationUpdated",
                Duration::from_secs(10),
                |params| {
                    params["registrations"]
                        .as_array()
                        .is_some_and(|list| list.iter().any(|r| r["scopeURL"] == scope_url))
                },
            )
            .await;
        updated["registrations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["scopeURL"] == scope_url)
            .unwrap()["registrationId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Fires the worker's `push` event with `message` as its data, as a push service would.
    pub async fn deliver_push(&self, origin: &str, registration_id: &str, message: &Value) {
        self.send(
            "ServiceWorker.deliverPushMessage",
            json!({ "origin": origin, "registrationId": registration_id, "data": message.to_string() }),
        )
        .await;
    }

    /// Starts recording a performance trace of `categories` (e.g. `v8.wasm`) in this page's session.
    /// The trace comes back as a stream at the end, so no `Tracing.dataCollected` event can be lost
    /// to the event buffer however large the trace grows.
    pub async fn start_trace(&self, categories: &[&str]) {
        self.send(
            "Tracing.start",
            json!({ "transferMode": "ReturnAsStream",
                    "traceConfig": { "includedCategories": categories } }),
        )
        .await;
    }

    /// Ends the trace [`DevTools::start_trace`] began and gives back its events.
    pub async fn end_trace(&mut self) -> Vec<Value> {
        self.send("Tracing.end", json!({})).await;
        let complete = self
            .next_event("Tracing.tracingComplete", Duration::from_secs(60), |_| true)
            .await;
        let handle = complete["stream"]
            .as_str()
            .expect("a trace stream")
            .to_owned();
        let mut text = Vec::new();
        loop {
            let chunk = self.send("IO.read", json!({ "handle": handle })).await;
            let data = chunk["data"].as_str().unwrap_or_default();
            if chunk["base64Encoded"] == json!(true) {
                text.extend(
                    base64::engine::general_purpose::STANDARD
                        .decode(data)
                        .expect("base64 trace data"),
                );
            } else {
                text.extend_from_slice(data.as_bytes());
            }
            if chunk["eof"] == json!(true) {
                break;
            }
        }
        self.send("IO.close", json!({ "handle": handle })).await;
        let trace: Value = serde_json::from_slice(&text).expect("a JSON trace");
        // Chromium writes either `{"traceEvents": [...]}` or a bare array.
        match trace {
            Value::Array(events) => events,
            mut object => object["traceEvents"]
                .take()
                .as_array()
                .cloned()
                .unwrap_or_default(),
        }
    }
}
