/* Vevurn POS till: lock the till after the shop's idle time (the server locks it too, at the
   next request; this only keeps the cart from staying on screen). No dependencies. */
(function () {
  "use strict";
  var form = document.getElementById("till-lock");
  if (!form) return;
  var seconds = parseInt(form.dataset.idleSeconds, 10);
  if (!seconds) return;
  var timer = null;
  function restart() {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(function () { form.submit(); }, seconds * 1000);
  }
  ["pointerdown", "keydown", "input", "wheel", "touchstart"].forEach(function (name) {
    document.addEventListener(name, restart, { passive: true, capture: true });
  });
  restart();
})();
