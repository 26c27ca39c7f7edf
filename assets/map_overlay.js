/* Newsroom Command: the wall map's markers, drawn on a 2D canvas over the base map.
 *
 * The wall's map (a Plotly `scattermap`, i.e. MapLibre in WebGL) holds only the ground and the
 * county's layers; reporters and task pins are drawn here. Plotly redraws the whole WebGL map
 * on every figure update (it resizes the map, jumps to its centre and re-adds its layers), and
 * in a headless or software-composited browser each WebGL frame is read back on the page's
 * main thread: at two map updates a second under load that held the rest of the wall back
 * (docs/performance.md, §4). A few hundred circles on a 2D canvas cost about a millisecond.
 *
 * Input: the canvas's data-markers attribute (dashboards/maps.py: overlay_attribute, set by
 * the wall's stream; an attribute rather than a dcc.Store with a callback, because Dash keeps
 * every server-set value of a callback input in its undo history): {traces: [{lat, lon, size,
 * color, opacity}]}, in drawing order; size, colour and opacity are one value or one per
 * point, as in Plotly. The projection is MapLibre's (Web Mercator, 512-pixel world at zoom 0,
 * no bearing or pitch), from the figure's own map centre and zoom; the map fills its graph
 * (no margins). The canvas keeps what it drew (`canvas.nrMarkers`) and the count of markers
 * on screen (`data-drawn`), for tests.
 */
(function () {
  "use strict";
  var WORLD = 512;
  var pending = new Set();

  function mercX(lon) {
    return (lon + 180) / 360;
  }

  function mercY(lat) {
    var s = Math.sin((lat * Math.PI) / 180);
    s = Math.max(-0.9999, Math.min(0.9999, s));
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }

  function at(value, i) {
    return Array.isArray(value) ? value[i] : value;
  }

  /* Where (lat, lon) is on the canvas, for the figure's map view; null until there is one. */
  function projector(canvas, width, height) {
    var graph = canvas.parentNode && canvas.parentNode.querySelector(".js-plotly-plot");
    var view = graph && graph.layout && graph.layout.map;
    if (!view || !view.center || typeof view.zoom !== "number") {
      return null;
    }
    var world = WORLD * Math.pow(2, view.zoom);
    var x0 = mercX(view.center.lon) * world - width / 2;
    var y0 = mercY(view.center.lat) * world - height / 2;
    return function (lat, lon) {
      return [mercX(lon) * world - x0, mercY(lat) * world - y0];
    };
  }

  function paint(canvas) {
    var data = canvas.nrMarkers;
    var width = canvas.clientWidth;
    var height = canvas.clientHeight;
    var ratio = window.devicePixelRatio || 1;
    var w = Math.round(width * ratio);
    var h = Math.round(height * ratio);
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    var project = width && height && data ? projector(canvas, width, height) : null;
    var drawn = 0;
    if (project) {
      (data.traces || []).forEach(function (trace) {
        var lat = trace.lat || [];
        var lon = trace.lon || [];
        for (var i = 0; i < lat.length; i++) {
          var radius = at(trace.size, i) / 2;
          var xy = project(lat[i], lon[i]);
          if (
            !(radius > 0) ||
            xy[0] < -radius ||
            xy[1] < -radius ||
            xy[0] > width + radius ||
            xy[1] > height + radius
          ) {
            continue;
          }
          ctx.globalAlpha = at(trace.opacity, i);
          ctx.fillStyle = at(trace.color, i);
          ctx.beginPath();
          ctx.arc(xy[0], xy[1], radius, 0, 2 * Math.PI);
          ctx.fill();
          drawn++;
        }
      });
      ctx.globalAlpha = 1;
    }
    canvas.setAttribute("data-drawn", String(drawn));
    return project !== null;
  }

  /* Paint on the next frame (several updates in one frame paint once); if the map's figure
   * is not there yet, try again on the frame after. */
  function schedule(canvas) {
    if (pending.has(canvas)) {
      return;
    }
    pending.add(canvas);
    requestAnimationFrame(function () {
      pending.delete(canvas);
      if (!canvas.isConnected) {
        return;
      }
      if (!paint(canvas) && canvas.nrMarkers) {
        setTimeout(function () {
          schedule(canvas);
        }, 100);
      }
    });
  }

  function read(canvas) {
    try {
      canvas.nrMarkers = JSON.parse(canvas.getAttribute("data-markers") || "null");
    } catch (err) {
      canvas.nrMarkers = null; // not ours to fix here: draw nothing rather than stale dots
    }
    schedule(canvas);
  }

  var changes = new MutationObserver(function (records) {
    records.forEach(function (record) {
      read(record.target);
    });
  });

  /* A canvas appears with the wall (and again after a whole-page render): watch each once. */
  function scan() {
    var canvases = document.querySelectorAll("canvas.nr-map-overlay");
    for (var i = 0; i < canvases.length; i++) {
      var canvas = canvases[i];
      if (!canvas.nrWatched) {
        canvas.nrWatched = true;
        changes.observe(canvas, { attributes: true, attributeFilter: ["data-markers"] });
        if (typeof ResizeObserver !== "undefined") {
          new ResizeObserver(schedule.bind(null, canvas)).observe(canvas);
        }
        read(canvas);
      }
    }
  }

  new MutationObserver(function (records) {
    for (var i = 0; i < records.length; i++) {
      if (records[i].addedNodes.length) {
        scan();
        return;
      }
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
  scan();
})();
