/* Vevurn POS offline till, storage and sync (issue 26). No build step, no dependencies.
 *
 * IndexedDB "vevurn-till": store "meta" (device, number blocks, shift, clock offset, snapshot,
 * csrf) and "outbox" (sales made offline, keyed by their idempotency key) and "refused" (sales
 * the server refused, with its reason). A sale takes its receipt number and enters the outbox
 * in ONE readwrite transaction over meta and outbox: IndexedDB runs such transactions one at a
 * time across tabs, so two tabs never take the same number. Sync runs under a Web Lock (one
 * tab pushes); the server stores each sale once by its key whatever happens (a retry answers
 * "already_stored").
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var urls = {};
  ["state", "device", "block", "heartbeat", "snapshot", "sync", "sw", "offline", "clear"].forEach(function (name) {
    urls[name] = script.getAttribute("data-" + name + "-url");
  });
  var DB_NAME = "vevurn-till";
  var LOW_WATER = 50;      // reserve another block when fewer numbers are left
  var BATCH = 100;         // sales per sync request
  var HEARTBEAT_MS = 20000;
  var SNAPSHOT_MS = 5 * 60000;
  var csrf = null;
  var online = navigator.onLine;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("meta");
        db.createObjectStore("outbox", { keyPath: "key" });
        db.createObjectStore("refused", { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  var dbPromise = openDb();

  function tx(stores, mode, work) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(stores, mode);
        var result;
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error || new Error("aborted")); };
        result = work(t);
        if (result && typeof result.then === "function") {
          result.then(function (value) { result = value; }, function (error) { t.abort(); reject(error); });
        }
      });
    });
  }
  function req(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function getMeta(key) {
    return tx(["meta"], "readonly", function (t) { return req(t.objectStore("meta").get(key)); });
  }
  function setMeta(key, value) {
    return tx(["meta"], "readwrite", function (t) { t.objectStore("meta").put(value, key); });
  }
  function deleteMeta(key) {
    return tx(["meta"], "readwrite", function (t) { t.objectStore("meta").delete(key); });
  }
  function all(store) {
    return tx([store], "readonly", function (t) { return req(t.objectStore(store).getAll()); });
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("vevurn:" + name, { detail: detail || {} }));
  }
  function setOnline(value) {
    var was = online;
    online = value;
    var banner = document.querySelector("[data-offline-banner]");  // the online till's
    if (banner) { banner.hidden = value; }
    if (!value) { carryCart(); } else if (!was) { forgetCarriedCart(); }
    emit(value ? "online" : "offline");
  }

  /* The sale in progress on the online till, carried over to the offline till when the link
   * drops: the online till's page copies its cart lines (as it shows them) under "carried_cart"
   * whenever it finds the server gone, and forgets them when the server is back before the
   * offline till took them. The offline till takes them once and, back online, the server's
   * copy of that cart is cleared, so the sale is made once. */
  function onlineCartLines() {
    var body = document.getElementById("register-body");
    if (!body) { return null; }
    return Array.prototype.map.call(body.querySelectorAll("[data-cart-line]"), function (li) {
      var unit = li.getAttribute("data-unit");
      return {
        product: Number(li.getAttribute("data-product")),
        unit: unit ? Number(unit) : null,
        quantity: li.getAttribute("data-quantity"),
        label: li.getAttribute("data-label") || ""
      };
    });
  }
  function carryCart() {
    var lines = onlineCartLines();
    if (lines === null) { return Promise.resolve(null); }
    var kept = lines.length ? setMeta("carried_cart", { lines: lines, at: new Date().toISOString() })
      : deleteMeta("carried_cart");
    return kept.catch(function () { return null; });
  }
  // "Sell offline" on the online till's banner: the cart is kept before the page is left (a
  // write still running when the page goes could be lost).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-offline-banner] a[href]");
    if (!link) { return; }
    event.preventDefault();
    carryCart().then(function () { window.location.assign(link.href); });
  });
  function forgetCarriedCart() {
    if (onlineCartLines() === null) { return null; }
    return deleteMeta("carried_cart").catch(function () { return null; });
  }
  function takeCarriedCart() {
    return tx(["meta"], "readwrite", function (t) {
      var meta = t.objectStore("meta");
      return req(meta.get("carried_cart")).then(function (carried) {
        if (!carried || !carried.lines.length) { return []; }
        meta.delete("carried_cart");
        meta.put(true, "clear_online_cart");
        return carried.lines;
      });
    }).then(function (lines) { return lines || []; });
  }
  function clearOnlineCart() {
    return getMeta("clear_online_cart").then(function (pending) {
      if (!pending || !urls.clear) { return null; }
      return fetch(urls.clear, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf || "", "X-Register-Partial": "1" }
      }).then(function (response) {
        return response.ok ? deleteMeta("clear_online_cart") : null;
      });
    });
  }

  function request(url, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRFToken"] = csrf || "";
    }
    return fetch(url, {
      method: options.body !== undefined ? "POST" : "GET",
      credentials: "same-origin",
      cache: "no-store",
      headers: headers,
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined
    }).then(function (response) {
      setOnline(true);
      if (response.status === 403 && options.body !== undefined && !options.retried) {
        return refreshState().then(function () {
          options.retried = true;
          return request(url, options);
        });
      }
      if (!response.ok) {
        var error = new Error("HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      return response.json();
    }, function (error) {
      setOnline(false);
      throw error;
    });
  }

  function refreshState() {
    return request(urls.state).then(function (state) {
      csrf = state.csrf;
      return Promise.all([setMeta("csrf", csrf), state.shift ? setMeta("shift", state.shift) : null])
        .then(function () { return state; });
    });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function ensureDevice() {
    return getMeta("device").then(function (device) {
      var key = device ? device.device : uuid();
      return request(urls.device, { body: { device: key } }).catch(function (error) {
        if (error.status === 400 && device) {  // set up for another till: a new device
          return request(urls.device, { body: { device: uuid() } });
        }
        throw error;
      }).then(function (answer) {
        var changed = !device || device.device !== answer.device;
        return setMeta("device", answer).then(function () {
          return changed ? setMeta("blocks", { ranges: [], next: 1 }) : null;
        }).then(function () { return answer; });
      });
    });
  }

  function numbersLeft(blocks) {
    var left = 0;
    (blocks.ranges || []).forEach(function (r) {
      if (r[1] >= blocks.next) { left += r[1] - Math.max(r[0], blocks.next) + 1; }
    });
    return left;
  }

  function ensureBlocks(device) {
    return getMeta("blocks").then(function (blocks) {
      blocks = blocks || { ranges: [], next: 1 };
      if (numbersLeft(blocks) >= LOW_WATER) { return blocks; }
      return request(urls.block, { body: { device: device.device } }).then(function (block) {
        // Another tab may have added a range meanwhile: merge under a transaction.
        return tx(["meta"], "readwrite", function (t) {
          var store = t.objectStore("meta");
          return req(store.get("blocks")).then(function (current) {
            current = current || { ranges: [], next: 1 };
            var known = current.ranges.some(function (r) { return r[0] === block.first; });
            if (!known) { current.ranges.push([block.first, block.last]); }
            store.put(current, "blocks");
            return current;
          });
        });
      });
    });
  }

  function refreshSnapshot() {
    return request(urls.snapshot).then(function (snapshot) {
      return setMeta("snapshot", snapshot).then(function () {
        emit("snapshot", snapshot);
        return snapshot;
      });
    });
  }

  /* The till's mode (training or not) is the snapshot's; the heartbeat says it too, and a
   * change (a manager switched the till) re-reads the snapshot at once. */
  function followMode(mode) {
    return getMeta("snapshot").then(function (snapshot) {
      if (!snapshot || (snapshot.mode || null) === (mode || null)) { return null; }
      return refreshSnapshot().catch(function () { return null; });
    });
  }

  function pendingSummary() {
    return all("outbox").then(function (sales) {
      var oldest = null;
      sales.forEach(function (s) { if (!oldest || s.sold_at < oldest) { oldest = s.sold_at; } });
      return { pending: sales.length, oldest_pending_at: oldest };
    });
  }

  function heartbeat() {
    return Promise.all([getMeta("device"), getMeta("offset"), pendingSummary()]).then(function (got) {
      var device = got[0];
      if (!device) { return null; }
      var sent = Date.now();
      var body = {
        device: device.device,
        pending: got[2].pending,
        oldest_pending_at: got[2].oldest_pending_at,
        clock_offset_ms: got[1] ? got[1].ms : 0
      };
      return request(urls.heartbeat, { body: body }).then(function (answer) {
        var received = Date.now();
        var offset = Date.parse(answer.server_time) - (sent + received) / 2;
        var writes = [setMeta("offset", { ms: Math.round(offset), at: new Date(received).toISOString() })];
        if (answer.shift) {
          writes.push(setMeta("shift", answer.shift));
          writes.push(followMode(answer.shift.mode));
        }
        return Promise.all(writes).then(function () { emit("heartbeat", answer); return answer; });
      });
    });
  }

  /* Record a sale made offline: take the device's next number and put the sale in the outbox,
   * in one transaction. `sale` holds lines, tenders, prices_as_of and training (rung up while
   * the snapshot said the till is in training); returns the stored sale. A training sale is
   * never kept: the till refuses it first, and this refuses it again ("training"). */
  function recordSale(sale) {
    if (sale.training) { return Promise.reject(new Error("training")); }
    return Promise.all([getMeta("device"), getMeta("shift"), getMeta("offset")]).then(function (got) {
      var device = got[0], shift = got[1], offset = got[2];
      if (!device || !shift) { throw new Error("not-prepared"); }
      return tx(["meta", "outbox"], "readwrite", function (t) {
        var meta = t.objectStore("meta");
        return req(meta.get("blocks")).then(function (blocks) {
          blocks = blocks || { ranges: [], next: 1 };
          var n = null;
          blocks.ranges.sort(function (a, b) { return a[0] - b[0]; });
          for (var i = 0; i < blocks.ranges.length; i += 1) {
            var r = blocks.ranges[i];
            if (blocks.next <= r[1]) { n = Math.max(blocks.next, r[0]); break; }
          }
          if (n === null) { throw new Error("no-numbers"); }
          blocks.next = n + 1;
          meta.put(blocks, "blocks");
          var deviceNow = new Date();
          var record = Object.assign({}, sale, {
            key: uuid(),
            number: n,
            receipt: device.prefix + ("00000" + n).slice(-6),
            shift: shift.id,
            device_time: deviceNow.toISOString(),
            clock_offset_ms: offset ? offset.ms : 0,
            sold_at: new Date(deviceNow.getTime() + (offset ? offset.ms : 0)).toISOString()
          });
          t.objectStore("outbox").put(record);
          return record;
        });
      });
    }).then(function (record) { emit("outbox"); return record; });
  }

  function pushOnce() {
    return Promise.all([getMeta("device"), all("outbox")]).then(function (got) {
      var device = got[0], sales = got[1];
      if (!device || !sales.length) { return 0; }
      sales.sort(function (a, b) { return a.number - b.number; });
      var batch = sales.slice(0, BATCH);
      return request(urls.sync, { body: { device: device.device, sales: batch } }).then(function (answer) {
        return tx(["outbox", "refused"], "readwrite", function (t) {
          answer.results.forEach(function (result) {
            var sale = batch.find(function (s) { return s.key === result.key; });
            if (!sale) { return; }
            t.objectStore("outbox").delete(result.key);
            if (result.status === "refused") {
              t.objectStore("refused").put(Object.assign({}, sale, { reason: result.reason }));
            }
          });
          return answer.results.length;
        });
      });
    });
  }

  function pushAll() {
    return pushOnce().then(function (count) { return count ? pushAll().then(function (more) { return count + more; }) : 0; });
  }

  /* Push the outbox; only one tab at a time (Web Locks), any other returns at once. */
  function sync() {
    var run = function () {
      return pushAll().then(function (count) {
        return clearOnlineCart().then(function () { return count; }, function () { return count; });
      }).then(function (count) {
        emit("outbox");
        return heartbeat().then(function () { return count; }, function () { return count; });
      });
    };
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request("vevurn-till-sync", { ifAvailable: true }, function (lock) {
        return lock ? run() : null;
      });
    }
    return run();  // no Web Locks: still safe, the server stores each key once
  }

  function prepare() {
    return refreshState().then(function (state) {
      if (!state.shift) { return null; }
      return ensureDevice().then(ensureBlocks).then(function () {
        return Promise.all([refreshSnapshot(), heartbeat()]);
      }).then(function () { emit("prepared"); return state; });
    });
  }

  function keep() {
    var quiet = function () {};
    var tick = function () {
      heartbeat().then(function () { return sync(); }).then(function () {
        return getMeta("device").then(function (device) { return device ? ensureBlocks(device) : null; });
      }).catch(quiet);
    };
    window.addEventListener("online", tick);
    window.addEventListener("offline", function () { setOnline(false); });
    window.addEventListener("focus", function () { tick(); refreshSnapshot().catch(quiet); });
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { tick(); } });
    window.setInterval(tick, HEARTBEAT_MS);
    window.setInterval(function () { refreshSnapshot().catch(quiet); }, SNAPSHOT_MS);
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator) || !urls.sw) { return Promise.resolve(null); }
    return navigator.serviceWorker.register(urls.sw).catch(function () { return null; });
  }

  window.VevurnOffline = {
    urls: urls,
    getMeta: getMeta,
    all: all,
    recordSale: recordSale,
    carryCart: carryCart,
    takeCarriedCart: takeCarriedCart,
    sync: sync,
    prepare: prepare,
    heartbeat: heartbeat,
    refreshSnapshot: refreshSnapshot,
    isOnline: function () { return online; },
    ready: null
  };

  getMeta("csrf").then(function (value) { csrf = csrf || value; });
  registerWorker();
  window.VevurnOffline.ready = prepare().then(function () { return sync(); }).catch(function () { setOnline(false); return null; });
  keep();
})();
