// The approval page's service worker, served at /ciba/sw.js (scope /ciba/). build/service-worker.mjs
// writes it into dist/ with this build's VERSION and ASSETS; edit this file, not dist/sw.js.
//
// - Install: precache the hashed assets (JS glue, wasm, CSS), the icons, the manifest and the shell
//   (index.html). Activate: drop every older build's cache.
// - Fetch: only GETs of this origin under /ciba/. Assets and the shell cache-first (the assets'
//   names change with their content, and a new build comes with a new worker that caches its own
//   shell), so a repeat visit fetches nothing static and the page opens offline, where it says that
//   nothing can be decided. /api/ (personal data, no-store) and the
//   host's /Account/ and /connect/ pages are never answered or stored here.
// - Push (Web Push, RFC 8291, the JSON of ciba_contract::PushMessage): `request` shows a
//   notification for the request, `closed` closes it, and every push drops notifications whose
//   request has expired. A click opens the consent page, in a window already showing the app if any.
// No eval, no importScripts: the worker runs under the page's strict CSP.
"use strict";

const VERSION = "dev";
const ASSETS = [];
const CACHE = `ciba-approval-${VERSION}`;
const SCOPE = new URL("./", self.location).pathname; // "/ciba/"
const SHELL = `${SCOPE}index.html`;
const ICON = `${SCOPE}icons/icon-192.png`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll([...ASSETS, SHELL]);
      // Hashed names cannot clash with the running page's files: the new worker may take over now.
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("ciba-approval-") && name !== CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Everything else (the API, the host's account and protocol pages, other origins) goes to the
  // network untouched and is never stored.
  if (request.method !== "GET" || url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(shell(request));
  } else if (ASSETS.includes(url.pathname)) {
    event.respondWith(asset(request));
  }
  // mount.js and anything unknown: the network, as without a worker.
});

/** A hashed asset: from the cache, else the network (and then cached for next time). */
async function asset(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

/**
 * Every route of the app is index.html: the one this worker's build cached, so a repeat visit fetches
 * nothing static from the network. A new build is found by the browser's own update check of sw.js
 * (its VERSION changes with every hashed file); the new worker caches the new shell and takes over.
 * Without a cached shell (storage cleared), the network's, kept for next time.
 */
async function shell(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(SHELL);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && !response.redirected && response.type === "basic") {
    await cache.put(SHELL, response.clone());
  }
  return response;
}

const GERMAN = (self.navigator.language || "").toLowerCase().startsWith("de");
const COMPARE_TEXT = GERMAN
  ? "Vergleichen Sie den Code auf dem anderen Gerät."
  : "Compare the code on the other device.";

self.addEventListener("push", (event) => {
  event.waitUntil(onPush(event.data));
});

async function onPush(data) {
  let message = null;
  try {
    message = data ? data.json() : null;
  } catch {
    // Not JSON: nothing to show, but expired notifications still go below.
  }
  if (message && message.kind === "request" && typeof message.internalId === "string") {
    await self.registration.showNotification(String(message.clientName || ""), {
      body: message.bindingMessage || COMPARE_TEXT,
      tag: message.internalId,
      icon: ICON,
      data: { url: message.url, expiresAt: message.expiresAt },
    });
  } else if (message && message.kind === "closed" && typeof message.internalId === "string") {
    for (const notification of await self.registration.getNotifications({ tag: message.internalId })) {
      notification.close();
    }
  }
  // A request that ran out of time can no longer be decided: its notification would only mislead.
  const now = Date.now();
  for (const notification of await self.registration.getNotifications()) {
    const expiresAt = Date.parse(notification.data && notification.data.expiresAt);
    if (expiresAt <= now) notification.close();
  }
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(open(event.notification.data && event.notification.data.url));
});

/** Focuses a window already on `url`, else moves a window of the app there, else opens one. */
async function open(url) {
  // Only the app's own pages: a push is the host's, but the address is checked all the same.
  const target = new URL(url || SCOPE, self.location.origin);
  if (target.origin !== self.location.origin || !target.pathname.startsWith(SCOPE)) return;
  const windows = (await self.clients.matchAll({ type: "window", includeUncontrolled: true }))
    // Never a portal's frame: the app in a top-level window only.
    .filter((client) => client.frameType === "top-level");
  const same = windows.find((client) => client.url === target.href);
  if (same) return same.focus();
  const app = windows.find((client) => new URL(client.url).pathname.startsWith(SCOPE));
  if (app) {
    try {
      // navigate() works only on a window this worker controls; otherwise a new one opens.
      const moved = await app.navigate(target.href);
      if (moved) return moved.focus();
    } catch {
      // fall through
    }
  }
  return self.clients.openWindow(target.href);
}
