/* Kiosk mode: scroll #kiosk-list by itself and start over at the end.
 * data-speed: pixels per second (?speed= in the address overrides it).
 * data-pause: milliseconds to rest at the end before starting over.
 * data-loops: incremented on every restart.
 * With prefers-reduced-motion the list turns one screen at a time instead of gliding.
 * Self-contained on purpose: the hall screen may have no internet. */
(function () {
  "use strict";
  var list = document.getElementById("kiosk-list");
  if (!list) { return; }

  function number(value, fallback) {
    var parsed = parseFloat(value);
    return isFinite(parsed) && parsed > 0 ? parsed : fallback;
  }
  var params = new URLSearchParams(window.location.search);
  var speed = number(params.get("speed"), number(list.dataset.speed, 40));
  var pause = number(params.get("pause"), number(list.dataset.pause, 2000));
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  list.dataset.speed = String(speed);
  list.dataset.mode = reduced ? "flip" : "scroll";

  function maxScroll() { return Math.max(0, list.scrollHeight - list.clientHeight); }

  function restart() {
    list.scrollTop = 0;
    list.dataset.loops = String((parseInt(list.dataset.loops, 10) || 0) + 1);
  }

  if (reduced) {
    // Page flip: one screen at a time, as long as scrolling a screen would take at SPEED.
    var interval = Math.min(15000, Math.max(500, (list.clientHeight / speed) * 1000));
    window.setInterval(function () {
      if (list.scrollTop >= maxScroll() - 1) { restart(); return; }
      list.scrollTop = Math.min(maxScroll(), list.scrollTop + list.clientHeight * 0.9);
    }, interval);
    return;
  }

  var position = 0;
  var last = null;
  var restingUntil = 0;
  function step(now) {
    if (last === null) { last = now; }
    var elapsed = Math.min(now - last, 250) / 1000;  // a hidden tab must not jump ahead
    last = now;
    if (now >= restingUntil) {
      if (restingUntil && position >= maxScroll()) {
        restart();
        position = 0;
        restingUntil = 0;
      } else {
        position = Math.min(maxScroll(), position + speed * elapsed);
        list.scrollTop = position;
        if (position >= maxScroll()) { restingUntil = now + pause; }
      }
    }
    window.requestAnimationFrame(step);
  }
  window.requestAnimationFrame(step);

  // A click or Enter puts the hall screen into full screen (browsers need a gesture).
  function fullscreen() {
    if (!document.fullscreenElement && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(function () {});
    }
  }
  document.addEventListener("click", fullscreen);
  document.addEventListener("keydown", function (event) { if (event.key === "Enter") { fullscreen(); } });
})();
