/* Print buttons on the receipt, the invoice and the Z-report (no inline script: the CSP forbids
   it); on a receipt, Enter (the "New sale" button has the focus) or N starts the next sale. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
  var next = document.querySelector("[data-new-sale]");
  if (!next) { return; }
  next.focus();
  document.addEventListener("keydown", function (event) {
    var typing = event.target.closest && event.target.closest("input, textarea, select");
    if (!typing && (event.key === "n" || event.key === "N")) {
      event.preventDefault();
      window.location.assign(next.href);
    }
  });
})();
