/* Refund form: the total to give back, as the quantities are typed (the server shows the same
   figure on "Show the total" and computes the refund itself on confirm). */
(function () {
  "use strict";
  var form = document.getElementById("refund-form");
  var shown = document.querySelector("[data-refund-total]");
  if (!form || !shown) { return; }
  var currency = shown.textContent.trim().split(" ").pop();
  var update = function () {
    var total = 0;
    form.querySelectorAll("[data-refund-line]").forEach(function (input) {
      var quantity = Math.max(0, Math.min(Number(input.value) || 0, Number(input.dataset.sold)));
      total += Math.round(Number(input.dataset.lineTotal) * quantity / Number(input.dataset.sold));
    });
    // Grouped as the page's language writes amounts (<html data-thousands>: 12,500 or 12 500).
    var separator = document.documentElement.dataset.thousands || ",";
    shown.textContent = String(total).replace(/\B(?=(\d{3})+(?!\d))/g, separator) + " " + currency;
  };
  form.addEventListener("input", update);
  update();  // what was typed before this script ran
})();
