/* Newsroom Command: the wall's client-side clockwork (no server traffic per tick).
 *
 * - Deadline board (dashboards/wall_panels.deadline_board): every second, each
 *   `.nr-deadline[data-slots]` row shows its channel's next slot and a countdown. Slots are
 *   [start, end, name] in minutes of the day, China time (UTC+8); start == end is a moment (a
 *   bulletin), otherwise a window (open: counts down to its end). Same rule as
 *   dashboards/wall_schedule.next_slot.
 * - Rotation (dashboards/wall_options): `#wall-grid[data-rotate]` > 0 switches between the
 *   views in `data-views` every that many seconds, by moving and hiding panels (`.nr-off`);
 *   `data-view` names the view shown.
 */
(function () {
  "use strict";
  var DAY_MIN = 1440;
  var CHINA_MS = 8 * 3600 * 1000;
  var SOON_MS = 30 * 60000;
  var URGENT_MS = 10 * 60000;
  var rotation = { grid: null, since: 0, index: 0 };

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function hhmm(minutes) {
    return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  function countdown(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    return h ? h + ":" + pad(m) + ":" + pad(sec) : pad(m) + ":" + pad(sec);
  }

  function mod(a, n) {
    return ((a % n) + n) % n;
  }

  function nextSlot(slots, nowMs) {
    var now = mod(nowMs + CHINA_MS, DAY_MIN * 60000) / 60000;
    var best = null;
    slots.forEach(function (slot) {
      var start = slot[0];
      var end = slot[1];
      var isWindow = end !== start;
      var inside = isWindow && (start < end ? start <= now && now < end : now >= start || now < end);
      var c = inside
        ? { slot: slot, open: true, ms: Math.round(mod(end - now, DAY_MIN) * 60000) }
        : { slot: slot, open: false, ms: Math.round(mod(start - now, DAY_MIN) * 60000) };
      if (!best || (c.open && !best.open) || (c.open === best.open && c.ms < best.ms)) best = c;
    });
    return best;
  }

  function setText(row, selector, text) {
    var el = row.querySelector(selector);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function tickDeadlines() {
    var board = document.querySelector(".nr-deadlines");
    if (!board) return;
    var now = Date.now();
    board.querySelectorAll(".nr-deadline[data-slots]").forEach(function (row) {
      var raw = row.getAttribute("data-slots");
      if (row._nrRaw !== raw) {
        row._nrRaw = raw;
        try {
          row._nrSlots = JSON.parse(raw);
        } catch (e) {
          row._nrSlots = [];
        }
      }
      var next = nextSlot(row._nrSlots, now);
      if (!next) return;
      var slot = next.slot;
      var state = next.open ? "open" : next.ms <= URGENT_MS ? "urgent" : next.ms <= SOON_MS ? "soon" : "later";
      setText(row, ".nr-dl-at", slot[1] !== slot[0] ? hhmm(slot[0]) + "–" + hhmm(slot[1]) : hhmm(slot[0]));
      setText(row, ".nr-dl-name", slot[2] || "");
      setText(row, ".nr-dl-word", board.getAttribute(next.open ? "data-open" : "data-in") || "");
      setText(row, ".nr-dl-count", countdown(next.ms));
      ["open", "urgent", "soon", "later"].forEach(function (s) {
        row.classList.toggle("nr-dl-" + s, s === state);
      });
    });
  }

  function showView(grid, view, index) {
    grid.style.gridTemplateColumns = view.columns;
    grid.querySelectorAll("[data-panel]").forEach(function (el) {
      if (el.parentNode !== grid) return;
      var place = view.places[el.getAttribute("data-panel")];
      if (place) {
        el.style.gridColumn = String(place[0]);
        el.style.gridRow = place[1] + " / span " + place[2];
        el.classList.remove("nr-off");
      } else {
        el.classList.add("nr-off");
      }
    });
    grid.setAttribute("data-view", String(index));
    // Plotly graphs that were hidden size themselves to their panel again.
    window.dispatchEvent(new Event("resize"));
  }

  function tickRotation() {
    var grid = document.getElementById("wall-grid");
    if (!grid) return;
    var period = parseInt(grid.getAttribute("data-rotate") || "0", 10);
    if (grid !== rotation.grid) {
      rotation.grid = grid;
      rotation.since = Date.now();
      rotation.index = 0;
      try {
        rotation.views = JSON.parse(grid.getAttribute("data-views") || "[]");
      } catch (e) {
        rotation.views = [];
      }
    }
    if (!(period > 0) || rotation.views.length < 2) return;
    if (Date.now() - rotation.since >= period * 1000) {
      rotation.index = (rotation.index + 1) % rotation.views.length;
      rotation.since = Date.now();
      showView(grid, rotation.views[rotation.index], rotation.index);
    }
  }

  function tick() {
    tickDeadlines();
    tickRotation();
  }

  window.setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
})();
