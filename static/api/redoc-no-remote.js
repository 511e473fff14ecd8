/* Loaded before Redoc's bundle: Redoc shows Redocly's logo from Redocly's CDN, which the site's
 * policy blocks (the docs fetch nothing from elsewhere). Drop any image source on another origin
 * before the browser tries it, so no request is made and no violation is reported; the link
 * text stays. */
(function () {
  "use strict";
  function remote(value) {
    return new URL(String(value), document.baseURI).origin !== window.location.origin;
  }
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && remote(value)) {
      return;
    }
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) { if (!remote(value)) { src.set.call(this, value); } }
  });
})();
