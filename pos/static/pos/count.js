/* Counting by denomination: the total of the pieces typed, as they are typed. The server
   computes the total again; this only helps the one counting. */
(function () {
  "use strict";
  function update(box) {
    var total = 0, any = false;
    box.querySelectorAll("[data-denomination]").forEach(function (input) {
      var pieces = parseInt(input.value, 10);
      if (pieces > 0) { total += pieces * parseFloat(input.dataset.denomination); any = true; }
    });
    box.querySelector("[data-count-total]").textContent = any ? total.toLocaleString() : "—";
  }
  document.querySelectorAll("[data-count]").forEach(function (box) {
    box.addEventListener("input", function () { update(box); });
    update(box);
  });
})();
