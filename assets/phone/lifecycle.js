// The moves a reporter may make from each task state: dispatch/lifecycle.py's TRANSITIONS
// restricted to BY_REPORTER (accepted, declined, en_route, on_scene, filed, done), in the
// order the buttons appear. tests/browser/test_phone_browser.py checks it against the Python.

export const NEXT = Object.freeze({
  created: [],
  offered: ["accepted", "declined"],
  delivered: ["accepted", "declined"],
  accepted: ["en_route", "on_scene", "filed"],
  en_route: ["on_scene"],
  on_scene: ["filed", "done"],
  filed: ["done"],
  declined: [],
  expired: [],
  done: [],
  cancelled: [],
});

// States in which the task no longer needs the reporter (the card is greyed and dismissable).
export const CLOSED = Object.freeze(["done", "cancelled", "declined", "expired"]);

export function nextMoves(state) {
  return NEXT[state] || [];
}

export function isClosed(state) {
  return CLOSED.includes(state);
}
