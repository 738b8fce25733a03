/* The service worker keeps the static shell and an offline page, and nothing else. Every other
   request goes to the network as if the worker were not there: case pages, answers from the API and
   form posts are never stored.

   A new worker (a new version, or the reader chose another language) waits until no page of the
   site is open before it takes over: taking over in the middle of a navigation (skipWaiting and
   clients.claim) can leave that page loading for ever in Chromium. */
"use strict";

var CACHE = {{ cache_name|tojson }};
var SHELL = {{ shell|tojson }};
var OFFLINE = {{ offline|tojson }};
var NEVER = {{ never|tojson }};

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      // Fetched without cookies: the shell is the same for everyone and carries no sign-in.
      .then(function (cache) {
        return cache.addAll(SHELL.map(function (path) {
          return new Request(path, { credentials: "omit", cache: "no-store" });
        }));
      })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) { return name !== CACHE; })
          .map(function (name) { return caches.delete(name); }));
      })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (NEVER.indexOf(url.pathname) !== -1) {
    return;
  }
  if (request.mode === "navigate") {
    // Pages always come from the network; only when there is none, the offline page.
    event.respondWith(fetch(request).catch(function () {
      return caches.open(CACHE).then(function (cache) { return cache.match(OFFLINE); });
    }));
    return;
  }
  if (SHELL.indexOf(url.pathname) !== -1 && url.search === "") {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request).then(function (kept) { return kept || fetch(request); });
    }));
  }
});
