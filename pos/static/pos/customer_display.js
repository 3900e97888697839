/* The customer display: asks the server for the till's cart every second (short polling) and
   shows it; a Mobile Money request counts down to its deadline between two answers. */
(function () {
  "use strict";
  var root = document.querySelector("[data-display]");
  if (!root) { return; }
  var url = root.dataset.stateUrl, every = parseInt(root.dataset.poll, 10) || 1000;
  var shown = -1, deadline = 0;
  function $(name) { return root.querySelector("[data-" + name + "]"); }
  function show(element, on) { element.hidden = !on; }
  function text(name, value) { $(name).textContent = value || ""; }
  function lines(items) {
    var body = $("lines");
    body.textContent = "";
    items.forEach(function (line) {
      var row = body.insertRow();
      row.insertCell().textContent = line.quantity + " \u00d7";
      row.insertCell().textContent = line.name;
      var total = row.insertCell();
      total.textContent = line.total;
      total.className = "num";
    });
  }
  function tick() {
    if (!deadline) { return; }
    var left = Math.max(Math.floor((deadline - Date.now()) / 1000), 0);
    text("momo-seconds", String(left));
  }
  function render(state) {
    root.dataset.mode = state.mode;
    var idle = state.mode === "idle";
    show($("idle"), idle);
    show($("cart"), !idle);
    if (!idle) {
      lines(state.lines || []);
      text("total", state.total);
      text("tax", state.tax);
      ["paid", "change"].forEach(function (name) {
        var on = Boolean(state[name]);
        show($(name), on);
        show($(name + "-row"), on);
        text(name, state[name]);
      });
      show($("thanks"), state.mode === "paid");
    }
    var momo = state.momo;
    show($("momo"), Boolean(momo));
    deadline = momo ? Date.now() + momo.seconds_left * 1000 : 0;
    $("momo").dataset.provider = momo ? momo.provider_code : "";
    if (momo) { text("momo-provider", momo.provider); text("momo-amount", momo.amount); tick(); }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && state.version !== shown) { shown = state.version; render(state); }
        else if (state && state.momo) { deadline = Date.now() + state.momo.seconds_left * 1000; }
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { window.setTimeout(poll, every); });
  }
  window.setInterval(tick, 250);
  poll();
})();
