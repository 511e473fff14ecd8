/* Start Redoc (templates/api/redoc.html) from a file, not an inline script: the schema URL and
 * Redoc's settings (SPECTACULAR_SETTINGS["REDOC_UI_SETTINGS"]) and the page's style nonce come
 * from data attributes. */
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  var settings = JSON.parse(container.getAttribute("data-settings") || "{}");
  // Redoc puts this nonce on the <style> elements it writes (style-src allows it on this page).
  settings.nonce = container.getAttribute("data-nonce");
  Redoc.init(container.getAttribute("data-schema-url"), settings, container);
})();
