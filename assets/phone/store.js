// What the phone keeps in localStorage, so the task list, the cursor and unsent changes
// survive reloads, lost connections and a phone that kills the tab.
//
// One JSON document under KEY, written whole after each change (one setItem is atomic):
//   token     the reporter token (sent only in the websocket hello)
//   verified  the server has accepted this token once (later starts go straight to the list)
//   reporter  the profile from the last welcome
//   cursor    the last push processed and acknowledged (the hello's `resume`)
//   tasks     task_id -> {task, first_seen, hidden, change, error}: the latest version only
//   queue     status changes not yet confirmed, oldest first: {id, task_id, status, reason}
//   on_duty   the duty toggle; duty_pending: a change the server has not confirmed yet
// The language choice is kept apart (LANG_KEY): it outlives a logout.

const KEY = "nr.phone.v1";
const LANG_KEY = "nr.phone.lang";
const KEEP_CLOSED_MS = 24 * 3600 * 1000;

function blank() {
  return { token: "", verified: false, reporter: null, cursor: null, tasks: {}, queue: [],
           on_duty: false, duty_pending: false };
}

export function load() {
  try {
    const raw = localStorage.getItem(KEY);
    if (raw) return { ...blank(), ...JSON.parse(raw) };
  } catch (err) {
    console.warn("phone: the saved state is unreadable; starting afresh", err);
  }
  return blank();
}

export function save(state) {
  try {
    localStorage.setItem(KEY, JSON.stringify(state));
  } catch (err) {
    console.warn("phone: could not save the state", err);
  }
}

/** Forget everything about the reporter (logout, or a different token). */
export function reset(state, token = "") {
  Object.assign(state, blank(), { token });
  if (token) save(state);
  else localStorage.removeItem(KEY);
}

export function loadLang() {
  return localStorage.getItem(LANG_KEY);
}

export function saveLang(lang) {
  localStorage.setItem(LANG_KEY, lang);
}

/** Stream ids ("<ms>-<seq>") compared as numbers; null is before everything. */
export function cursorAfter(a, b) {
  if (!a) return false;
  if (!b) return true;
  const [am, as] = a.split("-").map(Number);
  const [bm, bs] = b.split("-").map(Number);
  return am > bm || (am === bm && as > bs);
}

/** Drop closed or hidden tasks not touched for a day. */
export function prune(state, now, isClosed) {
  for (const [id, rec] of Object.entries(state.tasks)) {
    const old = now - (rec.task.updated_at || rec.first_seen || 0) > KEEP_CLOSED_MS;
    if (old && (rec.hidden || isClosed(rec.task.state))) delete state.tasks[id];
  }
}

/** A random RFC 4122 v4 id; crypto.randomUUID exists only on HTTPS pages. */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
