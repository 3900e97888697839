/* Vevurn POS: in-store scale labels read in the browser, by the rules of pos/scale_labels.py
 * (the offline till reads them from its snapshot's templates; tests/e2e/test_offline_till.py
 * checks both read the same label set alike). No build step, no dependencies.
 *
 * An EAN-13 code starting with 2, with a right GS1 check digit and the prefix of a template,
 * reads as: item code (item_digits after the prefix), then the value (value_digits) with
 * value_decimals places, a weight or a price. Values are decimal strings ("0.750"), never
 * floats, so a line's weight is exactly what the server reads. */
(function () {
  "use strict";

  function checkDigit(body) {  // weights 3,1,3,... from the right
    var total = 0;
    body.split("").reverse().forEach(function (d, i) { total += Number(d) * (i % 2 === 0 ? 3 : 1); });
    return (10 - total % 10) % 10;
  }

  function looksLikeLabel(code) { return /^2\d{12}$/.test(code); }

  // "00750" with 3 decimals -> "0.750" (Python's Decimal(750).scaleb(-3)); with 0 -> "750".
  function scaled(digits, places) {
    var n = String(Number(digits));
    if (!places) { return n; }
    while (n.length <= places) { n = "0" + n; }
    return n.slice(0, n.length - places) + "." + n.slice(n.length - places);
  }

  /* The label `code` read with the template of its prefix ({code, template, item_code, weight,
   * price}, weight or price a decimal string), or null when it is not one. */
  function parse(code, templates) {
    code = String(code || "").trim();
    if (!looksLikeLabel(code) || checkDigit(code.slice(0, 12)) !== Number(code[12])) { return null; }
    var template = (templates || []).find(function (t) {
      return t.prefix === code.slice(0, 2) && t.is_active !== false;
    });
    if (!template) { return null; }
    var start = template.prefix.length;
    var item = code.slice(start, start + template.item_digits);
    var digits = code.slice(start + template.item_digits, start + template.item_digits + template.value_digits);
    if (!item || !digits) { return null; }
    var value = scaled(digits, template.value_decimals);
    var isWeight = template.value_kind === "weight";
    return {
      code: code,
      template: template.prefix,
      item_code: Number(item),
      weight: isWeight ? value : null,
      price: isWeight ? null : value
    };
  }

  window.VevurnScaleLabels = { parse: parse, looksLikeLabel: looksLikeLabel, checkDigit: checkDigit };
})();
