/* Newsroom Command: stop Plotly's map subplot from piling up MapLibre error listeners.
 *
 * Plotly (3.x, `scattermap`) calls `rejectOnError(reject)` on every map update, which adds five
 * one-time listeners (`error`, `style.error`, `source.error`, `tile.error`, `layer.error`) to
 * the MapLibre map; they are removed only if an error happens. The desk patches its map about
 * twice a second, so the map would hold ~10 more closures every second, for a whole shift
 * (found by the wall soak, when the wall still patched its map: `python -m bench.heapdiff
 * --panels map`; the wall now draws its markers on a canvas of its own, map_overlay.js).
 *
 * Here, once the first map subplot exists, its prototype's `rejectOnError` is wrapped: before
 * adding the new listeners it removes the ones the previous call added on the same map (that
 * update's promise has settled by then, so they could only reject a finished promise). Errors
 * are still reported for the update in flight. If a later Plotly changes these internals, the
 * wrapper steps aside (it only acts when the names it relies on exist).
 */
(function () {
  "use strict";
  var SCAN_MS = 1000;
  var patched = false;

  function wrap(proto) {
    var original = proto.rejectOnError;
    if (typeof original !== "function" || original.nrWrapped) {
      return;
    }
    var wrapped = function (reject) {
      var map = this.map;
      if (!map || typeof map.once !== "function" || typeof map.off !== "function") {
        return original.call(this, reject);
      }
      (this.nrErrorListeners || []).forEach(function (pair) {
        map.off(pair[0], pair[1]);
      });
      var added = [];
      var hadOwn = Object.prototype.hasOwnProperty.call(map, "once");
      var once = map.once;
      map.once = function (type, listener) {
        if (typeof listener === "function") {
          added.push([type, listener]);
        }
        return once.apply(this, arguments);
      };
      try {
        return original.call(this, reject);
      } finally {
        if (hadOwn) {
          map.once = once;
        } else {
          delete map.once;
        }
        this.nrErrorListeners = added;
      }
    };
    wrapped.nrWrapped = true;
    proto.rejectOnError = wrapped;
  }

  function scan() {
    var graphs = document.querySelectorAll(".js-plotly-plot");
    for (var i = 0; i < graphs.length; i++) {
      var layout = graphs[i]._fullLayout;
      var ids = (layout && layout._subplots && layout._subplots.map) || [];
      for (var j = 0; j < ids.length; j++) {
        var subplot = layout[ids[j]] && layout[ids[j]]._subplot;
        if (subplot && subplot.map) {
          wrap(Object.getPrototypeOf(subplot));
          patched = true;
          return;
        }
      }
    }
  }

  var timer = setInterval(function () {
    scan();
    if (patched) {
      clearInterval(timer);
    }
  }, SCAN_MS);
})();
