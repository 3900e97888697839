/* Vevurn POS offline till: sells from the catalogue snapshot into the outbox (offline_store.js).
 * Cash, and Mobile Money by typed reference; every other action waits for the connection. */
(function () {
  "use strict";
  var root = document.getElementById("offline-till");
  var store = window.VevurnOffline;
  if (!root || !store) { return; }
  var $ = function (sel) { return root.querySelector(sel); };
  var text = function (name, values) {
    var s = root.getAttribute("data-text-" + name) || "";
    Object.keys(values || {}).forEach(function (k) { s = s.replace("{" + k + "}", values[k]); });
    return s;
  };
  var snapshot = null;
  var cart = [];

  function places() { return snapshot ? snapshot.shop.places : 0; }
  function round(amount) {
    var f = Math.pow(10, places());
    return Math.round(amount * f + (amount >= 0 ? 1e-9 : -1e-9)) / f;
  }
  var html = document.documentElement;
  var decimalMark = html.getAttribute("data-decimal") || ".";
  function money(amount) {
    var sep = html.getAttribute("data-thousands") || ",";
    var parts = round(amount).toFixed(places()).split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, sep);
    return parts.join(decimalMark) + " " + (snapshot ? snapshot.shop.currency : "");
  }
  // A quantity as the page's language writes it (0,75 in French), with the product's unit.
  function quantityText(quantity, unit) {
    var text = String(quantity).replace(".", decimalMark);
    return unit ? text + " " + unit : text;
  }
  function time(iso) {
    var d = new Date(iso);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  // The price that applies without a customer: the lowest of the shelf price and the rules of
  // no price list for this product and unit that the quantity reaches today.
  function priceOf(item, quantity) {
    var today = new Date().toISOString().slice(0, 10);
    var price = Number(item.price);
    snapshot.price_rules.forEach(function (rule) {
      if (rule.list !== null || rule.product !== item.product.id) { return; }
      if ((rule.unit || null) !== (item.unit ? item.unit.id : null)) { return; }
      if (rule.min_quantity !== null && quantity < Number(rule.min_quantity)) { return; }
      if ((rule.starts_on && today < rule.starts_on) || (rule.ends_on && today > rule.ends_on)) { return; }
      price = Math.min(price, Number(rule.price));
    });
    return price;
  }

  function productsById() {
    var byId = {};
    snapshot.products.forEach(function (p) { byId[p.id] = p; });
    return byId;
  }

  // A scale label's line, as the server makes it (pos/services/selling_lines.py): a weight
  // label sells that weight at the snapshot's price; a price label costs its printed price and
  // weighs that price over the price per stock unit, to the product's places.
  function labelItem(code) {
    var label = window.VevurnScaleLabels && window.VevurnScaleLabels.parse(code, snapshot.scale_labels);
    if (!label) { return null; }
    var product = snapshot.products.find(function (p) { return p.scale_code === label.item_code; });
    if (!product) { return null; }
    var item = { product: product, unit: null, price: product.price, label: code };
    if (label.weight !== null) {
      item.quantity = Number(label.weight);
    } else {
      var amount = round(Number(label.price));
      var f = Math.pow(10, product.places);
      item.amount = amount;
      item.quantity = Math.max(Math.round(amount / Number(product.price) * f + 1e-9) / f, 1 / f);
    }
    return item;
  }

  function find(code) {
    code = code.trim();
    var lower = code.toLowerCase();
    var products = snapshot.products;
    var byId = productsById();
    var unit = snapshot.units.find(function (u) { return u.barcode && u.barcode === code; });
    if (unit && byId[unit.product]) {
      return [{ product: byId[unit.product], unit: unit, price: unit.price }];
    }
    var exact = products.find(function (p) { return p.barcode === code || p.sku.toLowerCase() === lower; });
    if (exact) { return [{ product: exact, unit: null, price: exact.price }]; }
    var labelled = labelItem(code);
    if (labelled) { return [labelled]; }
    if (lower.length < 2) { return []; }
    return products.filter(function (p) { return p.name.toLowerCase().indexOf(lower) >= 0; })
      .slice(0, 8).map(function (p) { return { product: p, unit: null, price: p.price }; });
  }

  function add(item, quantity) {
    if (item.label) {  // a label is its own line, its weight fixed
      cart.push({ product: item.product, unit: null, price: item.price, quantity: item.quantity,
                  label: item.label, amount: item.amount === undefined ? null : item.amount });
      render();
      return;
    }
    var same = cart.find(function (l) {
      return !l.label && l.product.id === item.product.id && (l.unit ? l.unit.id : null) === (item.unit ? item.unit.id : null);
    });
    if (same) { same.quantity += quantity || 1; } else { cart.push({ product: item.product, unit: item.unit, price: item.price, quantity: quantity || 1 }); }
    render();
  }

  function lineTotal(line) {
    if (line.amount !== null && line.amount !== undefined) { return line.amount; }  // a price label's
    return round(priceOf(line, line.quantity) * line.quantity);
  }
  function unitOf(line) { return line.unit ? "" : line.product.unit; }
  function total() { return cart.reduce(function (sum, line) { return sum + lineTotal(line); }, 0); }
  function vat(amount) {
    var rate = Number(snapshot.shop.vat_rate);
    return snapshot.shop.prices_include_vat ? round(amount * rate / (100 + rate)) : round(amount * rate / 100);
  }
  function cashDue(amount) {
    var step = Number(snapshot.shop.cash_rounding);
    return step ? Math.floor(amount / step + 0.5) * step : amount;
  }

  function render() {
    var list = $("[data-lines]");
    list.innerHTML = "";
    cart.forEach(function (line, i) {
      var li = document.createElement("li");
      li.className = "cart-line";
      var name = document.createElement("div");
      name.className = "line-name";
      var strong = document.createElement("strong");
      strong.textContent = line.product.name + (line.unit ? " · " + line.unit.label : "");
      name.appendChild(strong);
      var qty = document.createElement("div");
      qty.className = "line-qty";
      [["−", -1], ["+", 1]].forEach(function (step) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "step"; b.textContent = step[0];
        b.disabled = !!line.label && step[1] > 0;  // a label's weight is fixed: only removable
        b.setAttribute("aria-label", step[0] + " " + line.product.name);
        b.addEventListener("click", function () {
          line.quantity = line.label ? 0 : line.quantity + step[1];
          if (line.quantity <= 0) { cart.splice(i, 1); }
          render();
        });
        qty.appendChild(b);
      });
      var count = document.createElement("span");
      count.className = "qty"; count.textContent = quantityText(line.quantity, unitOf(line)); count.setAttribute("data-qty", "");
      qty.insertBefore(count, qty.lastChild);
      var amount = document.createElement("div");
      amount.className = "line-total num";
      amount.textContent = money(lineTotal(line));
      li.appendChild(name); li.appendChild(qty); li.appendChild(amount);
      list.appendChild(li);
    });
    $("[data-empty]").hidden = cart.length > 0;
    var sum = total();
    $("[data-total]").textContent = money(sum);
    $("[data-vat]").textContent = money(vat(sum));
  }

  function showError(sel, message) {
    var el = $(sel);
    el.textContent = message || "";
    el.hidden = !message;
  }

  function inTraining() { return Boolean(snapshot && snapshot.mode === "training"); }

  /* A till in training rings up nothing offline: a training receipt is numbered by the fiscal
   * device's training counter and printed with its SDC block, both on the server, and a
   * practice sale has no customer waiting for it, so the cashier practises again when the
   * connection is back. Keeping practice sales in the outbox would have the sync tell them from
   * real ones after the till may have left training; refusing them here cannot go wrong. The
   * sale still says `training` (false here) and the server refuses any that says true. */
  function pay(tender, amount, reference) {
    var sum = total();
    if (!cart.length) { return; }
    if (inTraining()) { showError("[data-pay-error]", text("training")); return; }
    var tenders = [{ tender: tender, amount: String(amount) }];
    if (reference) { tenders[0].reference = reference; }
    var sale = {
      training: inTraining(),
      prices_as_of: snapshot.taken_at,
      snapshot_version: snapshot.version,
      lines: cart.map(function (line) {
        return {
          product: line.product.id,
          selling_unit: line.unit ? line.unit.id : null,
          quantity: String(line.quantity),
          price: String(priceOf(line, line.quantity)),
          scale_label: line.label || "",
          unit_name: unitOf(line),
          name: line.product.name + (line.unit ? " · " + line.unit.label : ""),
          total: lineTotal(line)
        };
      }),
      tenders: tenders,
      total: sum,
      change: tender === "cash" ? round(amount - cashDue(sum)) : 0
    };
    return store.recordSale(sale).then(function (record) {
      cart = [];
      render();
      slip(record);
      store.sync().catch(function () {});
    }, function (error) {
      var known = { "no-numbers": "no-numbers", training: "training" };
      showError("[data-pay-error]", text(known[error.message] || "not-prepared"));
    });
  }

  function slip(record) {
    var box = $("[data-slip]");
    $("[data-slip-shop]").textContent = snapshot.shop.name;
    $("[data-slip-number]").textContent = record.receipt;
    $("[data-slip-time]").textContent = new Date(record.sold_at).toLocaleString(html.lang || undefined);
    var body = $("[data-slip-lines]");
    body.innerHTML = "";
    record.lines.forEach(function (line) {
      var tr = document.createElement("tr");
      [quantityText(line.quantity, line.unit_name) + " × " + line.name, money(line.total)].forEach(function (value, i) {
        var td = document.createElement("td");
        td.textContent = value;
        if (i) { td.className = "num"; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    $("[data-slip-total]").textContent = money(record.total);
    $("[data-slip-paid]").textContent = money(Number(record.tenders[0].amount));
    $("[data-slip-change]").textContent = money(record.change);
    $("[data-slip-as-of]").textContent = time(record.prices_as_of);
    box.hidden = false;
    box.scrollIntoView();
  }

  function showMatches(items) {
    var box = $("[data-matches]");
    box.innerHTML = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button"; b.className = "match";
      b.textContent = item.product.name + " · " + money(Number(item.price));
      b.addEventListener("click", function () { add(item); box.innerHTML = ""; $("[data-code]").value = ""; $("[data-code]").focus(); });
      li.appendChild(b);
      box.appendChild(li);
    });
  }

  $("[data-offline-scan]").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!snapshot) { showError("[data-scan-error]", text("no-snapshot")); return; }
    var field = $("[data-code]");
    var found = find(field.value);
    showError("[data-scan-error]", "");
    if (found.length === 1) { add(found[0]); field.value = ""; $("[data-matches]").innerHTML = ""; }
    else if (!found.length) { showError("[data-scan-error]", text("not-found", { code: field.value })); }
    else { showMatches(found); }
  });
  $("[data-pay-cash]").addEventListener("submit", function (event) {
    event.preventDefault();
    var sum = total();
    var cash = Number($("[data-cash]").value || cashDue(sum));
    if (cash < cashDue(sum)) { showError("[data-pay-error]", text("short")); return; }
    showError("[data-pay-error]", "");
    $("[data-cash]").value = "";
    pay("cash", cash);
  });
  $("[data-pay-momo]").addEventListener("submit", function (event) {
    event.preventDefault();
    var reference = $("[data-momo]").value.trim();
    if (!reference) { showError("[data-pay-error]", text("reference")); return; }
    showError("[data-pay-error]", "");
    $("[data-momo]").value = "";
    pay("mobile_money", total(), reference);
  });
  $("[data-print]").addEventListener("click", function () { window.print(); });
  $("[data-new-sale]").addEventListener("click", function () { $("[data-slip]").hidden = true; $("[data-code]").focus(); });

  function showSnapshot(value) {
    snapshot = value || snapshot;
    if (snapshot) { $("[data-prices-as-of]").textContent = text("prices-as-of", { time: time(snapshot.taken_at) }); }
    var flag = $("[data-training-banner]");  // absent from a page cached before this script
    if (flag) { flag.hidden = !inTraining(); }
    root.setAttribute("data-mode", inTraining() ? "training" : "");
    if (!inTraining() && $("[data-pay-error]").textContent === text("training")) { showError("[data-pay-error]", ""); }
  }
  function showOutbox() {
    Promise.all([store.all("outbox"), store.all("refused")]).then(function (got) {
      $("[data-pending]").textContent = got[0].length ? text("pending", { count: got[0].length }) : "";
      var list = $("[data-refused]");
      list.innerHTML = "";
      got[1].forEach(function (sale) {
        var li = document.createElement("li");
        li.textContent = sale.receipt + ": " + sale.reason;
        list.appendChild(li);
      });
      $("[data-refused-box]").hidden = !got[1].length;
    });
  }
  function showState(isOnline) {
    $("[data-state]").textContent = text(isOnline ? "state-online" : "state-offline");
    $("[data-state-text]").textContent = text(isOnline ? "online" : "offline");
    $("[data-back]").hidden = !isOnline;
    root.setAttribute("data-online", isOnline ? "1" : "0");
  }

  // The sale in progress on the online till when the link dropped (offline_store.js carried
  // it): its lines join this cart, once.
  function carryOver() {
    if (!snapshot) { return null; }
    return store.takeCarriedCart().then(function (lines) {
      if (!lines.length) { return; }
      var byId = productsById();
      var missing = 0;
      lines.forEach(function (l) {
        var labelled = l.label ? labelItem(l.label) : null;
        var product = byId[l.product];
        var unit = l.unit ? snapshot.units.find(function (u) { return u.id === l.unit; }) : null;
        if (labelled) { add(labelled); }
        else if (!product || (l.unit && !unit) || l.label) { missing += 1; }
        else { add({ product: product, unit: unit, price: unit ? unit.price : product.price }, Number(l.quantity)); }
      });
      showError("[data-carried]", text(missing ? "carried-missing" : "carried"));
    });
  }

  document.addEventListener("vevurn:snapshot", function (event) { showSnapshot(event.detail); });
  document.addEventListener("vevurn:outbox", showOutbox);
  document.addEventListener("vevurn:online", function () { showState(true); });
  document.addEventListener("vevurn:offline", function () { showState(false); });
  store.getMeta("snapshot").then(function (value) { showSnapshot(value); return carryOver(); });
  showOutbox();
  showState(false);
  render();
})();
