/* Every page's script: a file of its own, so that the Content-Security-Policy allows no inline
 * script. The language menu submits its form when a language is chosen (without script, the
 * <noscript> button does it). */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
