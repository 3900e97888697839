/* Vevurn POS till: a few lines that make the register feel instant. Everything works without it. */
(function () {
  "use strict";
  var body = document.getElementById("register-body");

  function focusScan() {
    var scan = document.querySelector("[data-scan]");
    if (scan) { scan.focus(); }
  }

  // Register actions: post with fetch and swap the register's body (one round trip).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!body || !form.hasAttribute("data-partial")) { return; }
    var submitter = event.submitter;
    if (submitter && submitter.dataset.confirm && !window.confirm(submitter.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    event.preventDefault();
    var action = (submitter && submitter.getAttribute("formaction")) || form.action;
    fetch(action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Register-Partial": "1" },
      credentials: "same-origin"
    }).then(function (response) {
      if (response.redirected) {  // e.g. a receipt's code scanned: its return opens
        window.location.assign(response.url);
        return null;
      }
      if (!(response.headers.get("Content-Type") || "").startsWith("text/html")) {
        window.location.reload();
        return null;
      }
      return response.text();
    }).then(function (html) {
      if (html === null) { return; }
      body.innerHTML = html;
      var match = body.querySelector(".match");
      if (match) { match.focus(); } else { focusScan(); }
    }).catch(function () {
      // The server cannot be reached: the offline till (offline_store.js) takes the cart in
      // progress with it, then the plain post opens it through the service worker.
      var offline = window.VevurnOffline;
      var carried = offline ? offline.carryCart() : Promise.resolve();
      carried.then(function () { form.submit(); }, function () { form.submit(); });
    });
  });

  // Keyboard: F2 scan, F4 pay, F8 hold; arrows move between matching products.
  document.addEventListener("keydown", function (event) {
    if (event.key === "F2") { event.preventDefault(); focusScan(); }
    if (event.key === "F4") {
      var pay = document.querySelector("[data-shortcut=F4]");
      if (pay) { event.preventDefault(); pay.click(); }
    }
    if (event.key === "F8") {
      var hold = document.querySelector("form[data-hold]");
      if (hold) { event.preventDefault(); hold.requestSubmit(); }
    }
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && document.activeElement) {
      var matches = Array.prototype.slice.call(document.querySelectorAll(".match"));
      var at = matches.indexOf(document.activeElement);
      if (matches.length && (at >= 0 || document.activeElement.hasAttribute("data-scan"))) {
        event.preventDefault();
        var next = at + (event.key === "ArrowDown" ? 1 : -1);
        matches[Math.max(0, Math.min(matches.length - 1, next))].focus();
      }
    }
  });

  // Amounts as the page's language writes them (12,500 or 12 500): <html data-thousands>.
  var grouped = function (whole) {
    var separator = document.documentElement.dataset.thousands || ",";
    return String(whole).replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  };

  // Payment: quick cash buttons, live change due, one submit only.
  var payment = document.getElementById("payment-form");
  if (payment) {
    var total = Number(payment.dataset.total);
    var cash = document.getElementById("id_cash");
    var format = function (amount) {
      var due = document.querySelector("[data-due]").textContent.trim().split(" ");
      return grouped(Math.round(amount)) + " " + due[due.length - 1];
    };
    var update = function () {
      var paid = 0;
      payment.querySelectorAll("[data-tender]").forEach(function (input) { paid += Number(input.value) || 0; });
      document.querySelector("[data-change]").textContent = format(Math.max(paid - total, 0));
      document.querySelector("[data-still]").textContent = format(Math.max(total - paid, 0));
    };
    payment.addEventListener("input", update);
    // A round amount adds to the cash received (each note the customer hands over), starting
    // from nothing while the cash is still the amount due the page filled in.
    var prefill = document.getElementById("id_cash_prefill");
    var typedCash = function () {
      if (prefill && prefill.value !== "" && Number(cash.value) === Number(prefill.value)) { return 0; }
      return Number(cash.value) || 0;
    };
    cash.addEventListener("input", function () { if (prefill) { prefill.value = ""; } });
    payment.querySelectorAll("[data-quick]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        cash.value = typedCash() + Number(button.dataset.quick);
        if (prefill) { prefill.value = ""; }
        update();
        cash.focus();
      });
    });
    var exact = payment.querySelector("[data-exact]");
    exact.addEventListener("click", function (event) {
      event.preventDefault();
      var others = 0;
      payment.querySelectorAll("[data-tender]").forEach(function (input) {
        if (input !== cash) { others += Number(input.value) || 0; }
      });
      cash.value = Math.max(total - others, 0);
      if (prefill) { prefill.value = ""; }
      update();
    });
    payment.addEventListener("submit", function (event) {
      var name = event.submitter && event.submitter.name;
      if (name !== "complete") { return; }
      if (payment.dataset.sent) { event.preventDefault(); return; }
      payment.dataset.sent = "1";
    });
    pollMomo(payment);
  }

  // Mobile Money request-to-pay: the "Send request" and "Check again" posts work without this;
  // with it, the screen asks the server every 2 s until the customer approves or declines.
  function pollMomo(form) {
    var status = form.querySelector("[data-momo-status]");
    if (!status || !status.dataset.momoId || status.dataset.momoState !== "pending") { return; }
    var check = form.querySelector("[data-momo-check]");
    if (check) { check.hidden = true; }
    var url = "/pos/momo/requests/" + status.dataset.momoId + "/";
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          status.textContent = data.message || status.textContent;
          status.dataset.momoState = data.status;
          if (data.status === "pending") { window.setTimeout(tick, 2000); }
        })
        .catch(function () { if (check) { check.hidden = false; } });
    };
    window.setTimeout(tick, 2000);
  }

  // The matches for `text`. Matches that arrive while the cashier is already moving through
  // the earlier ones (a slow link answers "usb" after "usb-c" was typed) keep the focus on the
  // same product, or the first one, so that Enter adds what is highlighted.
  var showMatches = function (box, html, text) {
    var active = document.activeElement;
    var picked = box.contains(active) && active.form ? active.form.getAttribute("action") : null;
    box.innerHTML = html;
    box.dataset.searched = text;
    if (picked === null) { return; }
    var forms = Array.prototype.slice.call(box.querySelectorAll("form"));
    var same = forms.filter(function (form) { return form.getAttribute("action") === picked; })[0];
    var match = same ? same.querySelector(".match") : box.querySelector(".match");
    if (match) { match.focus(); }
  };

  // Typing a name (not a scanner's digits) lists the matching products as you type.
  var searchTimer = null;
  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.hasAttribute || !field.hasAttribute("data-scan")) { return; }
    window.clearTimeout(searchTimer);
    var text = field.value.trim();
    var box = document.getElementById("matches");
    if (!box) { return; }
    if (text.length < 2 || !/[a-z]/i.test(text)) { box.innerHTML = ""; return; }
    searchTimer = window.setTimeout(function () {
      fetch(field.form.dataset.search + "?code=" + encodeURIComponent(text), {
        credentials: "same-origin", headers: { "X-Register-Partial": "1" }
      })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (field.value.trim() === text) { showMatches(box, html, text); } });
    }, 250);
  });

  // "Show more" matching products: the longer list in place.
  document.addEventListener("click", function (event) {
    var more = event.target.closest && event.target.closest("[data-more-matches]");
    var box = document.getElementById("matches");
    if (!more || !box) { return; }
    event.preventDefault();
    fetch(more.href, { credentials: "same-origin", headers: { "X-Register-Partial": "1" } })
      .then(function (r) { return r.ok ? r.text() : ""; })
      .then(function (html) { if (html) { box.innerHTML = html; } });
  });

  // What was typed into the scan field before this script ran (a fast typist, a slow phone) is
  // searched now, as if typed after.
  var typed = document.querySelector("[data-scan]");
  if (typed && typed.value.trim()) { typed.dispatchEvent(new Event("input", { bubbles: true })); }

  focusScan();
})();
