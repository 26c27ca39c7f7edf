/* Newsroom Command: the wall's and desk's watchdog, and the wall clock.
 *
 * The live stream sets the text of the hidden `.nr-heartbeat` element every 2 s ("live N",
 * or "degraded N" while the data source is down). Dash's websocket gives up after 10
 * reconnection tries, so the page watches for itself:
 *   - no heartbeat for 6 s, or a degraded one: the page is marked stale (body.nr-is-stale
 *     shows the "数据延迟 / Data stale" banner);
 *   - no heartbeat for 20 s: reload once /healthz answers (the server is back).
 * A page that could not be rendered (`.nr-retry`) is reloaded the same way after 10 s.
 * This is a local timer in the browser: it asks the server nothing until the link is dead.
 */
(function () {
  "use strict";
  var STALE_MS = 6000;
  var DEAD_MS = 20000;
  var RETRY_MS = 10000;
  var beatEl = null;
  var beatText = null;
  var beatAt = Date.now();
  var retrySince = 0;
  var reloading = false;

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function tickClock() {
    var el = document.getElementById("wall-clock");
    if (el) {
      var d = new Date();
      var text = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
      if (el.textContent !== text) el.textContent = text;
    }
  }

  function reloadWhenServerAnswers() {
    if (reloading) return;
    reloading = true;
    fetch("/healthz", { cache: "no-store" })
      .then(function (r) {
        if (r.ok) window.location.reload();
        else reloading = false;
      })
      .catch(function () {
        reloading = false;
      });
  }

  function setStale(stale) {
    if (document.body) document.body.classList.toggle("nr-is-stale", stale);
  }

  function check() {
    tickClock();
    var now = Date.now();
    var beat = document.querySelector(".nr-heartbeat");
    if (!beat) {
      beatEl = null;
      setStale(false);
      if (document.querySelector(".nr-retry")) {
        if (!retrySince) retrySince = now;
        if (now - retrySince > RETRY_MS) reloadWhenServerAnswers();
      } else {
        retrySince = 0;
      }
      return;
    }
    retrySince = 0;
    if (beat !== beatEl || beat.textContent !== beatText) {
      beatEl = beat;
      beatText = beat.textContent;
      beatAt = now;
    }
    var silent = now - beatAt;
    var degraded = beatText.indexOf("degraded") === 0;
    setStale(silent > STALE_MS || degraded);
    // Without SharedWorker Dash has no websocket at all: reloading would not help.
    if (silent > DEAD_MS && typeof SharedWorker !== "undefined") reloadWhenServerAnswers();
  }

  window.setInterval(check, 1000);
})();
