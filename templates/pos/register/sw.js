/* Vevurn POS till service worker {{ version }}: keeps the offline till's shell and the
 * catalogue snapshot, and opens the offline till when a page of the till cannot be reached. */
"use strict";
var CACHE = "vevurn-till-{{ version }}";
var ASSETS = {{ assets|safe }};
var OFFLINE_URL = {{ offline_url|safe }};
var SNAPSHOT_URL = {{ snapshot_url|safe }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (key) {
      return key.indexOf("vevurn-till-") === 0 && key !== CACHE;
    }).map(function (key) { return caches.delete(key); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, key) {
  return fetch(request).then(function (response) {
    if (response.ok && request.method === "GET") {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key).then(function (cached) { return cached || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    if (request.method === "GET" && url.pathname === OFFLINE_URL) {
      event.respondWith(networkFirst(request, OFFLINE_URL));
      return;
    }
    // Any page of the till that cannot be reached opens the offline till instead.
    event.respondWith(fetch(request).catch(function () {
      return caches.match(OFFLINE_URL).then(function (cached) { return cached || Response.error(); });
    }));
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname === SNAPSHOT_URL) {
    event.respondWith(networkFirst(request, SNAPSHOT_URL));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(request).then(function (cached) { return cached || fetch(request); }));
  }
});
