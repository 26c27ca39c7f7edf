// The reporter's phone page (/r): log in with a token, receive pushed tasks, answer them,
// share the location while on duty. Speaks protocol v1 of /ws/reporter (docs/protocol.md)
// like `newsroom reporter` does: hello with the resume cursor, store each push, then ack it;
// dedupe by task_id + version; status changes carry a client-made id, wait in a queue kept
// in localStorage until the server confirms them, and are re-sent with the same id after a
// reconnect (the server applies an id once).

import { announce, toast, unlockAudio } from "./alert.js";
import { createCard, fillCard } from "./cards.js";
import { Duty } from "./geo.js";
import { isClosed } from "./lifecycle.js";
import { Link } from "./link.js";
import * as store from "./store.js";
import { pickLang, t } from "./strings.js";

const $ = (id) => document.getElementById(id);
const state = store.load();
const params = new URLSearchParams(location.search);
let lang = pickLang(params.get("lang"), store.loadLang(), navigator.language);
let clockOffset = 0; // server time minus this phone's clock, from the welcome
let link = null;
let dutyStatus = { key: "" };
const cards = new Map(); // task_id -> <li>
const sentOn = new Map(); // queue id -> connection number it was last sent on
let connection = 0;

const now = () => Date.now() + clockOffset;
const save = () => store.save(state);

// --- language ------------------------------------------------------------------------------
function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `${t(lang, "app_title")} · Newsroom Command`;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(lang, el.dataset.i18n);
  const toggle = $("lang-toggle");
  toggle.textContent = t(lang, "lang_switch");
  toggle.setAttribute("aria-label", t(lang, "lang_switch_label"));
  showLink(link ? link.state : "offline");
  showDuty();
  render();
}

$("lang-toggle").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  store.saveLang(lang);
  applyLang();
});

// --- screens -------------------------------------------------------------------------------
function showScreen(name) {
  document.body.dataset.screen = name;
  $("login").hidden = name !== "login";
  $("app").hidden = name !== "app";
  $("logout").hidden = name !== "app";
  $("link").hidden = name !== "app";
}

function showLogin(errorText = "") {
  showScreen("login");
  $("login-status").textContent = "";
  const error = $("login-error");
  error.textContent = errorText;
  error.hidden = !errorText;
}

$("login-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  unlockAudio();
  const token = $("login-token").value.trim();
  if (!token) return showLogin(t(lang, "login_empty"));
  if (token !== state.token) store.reset(state, token); // another reporter: nothing carries over
  $("login-token").value = "";
  $("login-error").hidden = true;
  $("login-status").textContent = t(lang, "login_checking");
  connect();
});

$("logout").addEventListener("click", () => {
  if (state.queue.length && !window.confirm(t(lang, "logout_confirm", { n: state.queue.length }))) return;
  duty.stop();
  if (link) link.stop();
  link = null;
  store.reset(state);
  for (const card of cards.values()) card.remove();
  cards.clear();
  showLogin();
});

// --- the link ------------------------------------------------------------------------------
function connect() {
  if (link) link.stop();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  link = new Link({
    url: `${scheme}//${location.host}/ws/reporter`,
    hello: () => ({ type: "hello", v: 1, token: state.token, resume: state.cursor }),
    onWelcome: welcome,
    onMessage: receive,
    onState: (s) => {
      showLink(s);
      if (s === "offline" && !state.verified) $("login-status").textContent = t(lang, "login_unreachable");
    },
    onFatal: (reason) => {
      // 1008: wrong or revoked token (or a refused origin). Retrying will not help.
      duty.stop();
      link.stop();
      link = null;
      state.token = "";
      state.verified = false;
      save();
      showLogin(reason ? t(lang, "login_refused", { reason }) : t(lang, "login_refused_plain"));
    },
  });
  link.start();
}

function welcome(msg) {
  connection += 1;
  clockOffset = Number(msg.server_time) ? msg.server_time - Date.now() : 0;
  state.verified = true;
  state.reporter = msg.reporter || null;
  // Duty: a change made on this phone while offline wins; otherwise the server's state does
  // (set from another device, or the phone's storage was cleared).
  if (state.duty_pending) sendDuty();
  else if (state.reporter && typeof state.reporter.on_duty === "boolean") state.on_duty = state.reporter.on_duty;
  save();
  showScreen("app");
  $("me").textContent = state.reporter ? state.reporter.name : "";
  if (state.on_duty) duty.start();
  else duty.stop();
  showDuty();
  // Catch up: the tasks this reporter holds now, also those acknowledged on another device.
  for (const task of msg.tasks || []) push({ type: "task_update", change: "", task });
  flushQueue();
  duty.flush();
  render();
}

function receive(msg) {
  if (msg.type === "task" || msg.type === "task_update") push(msg);
  else if (msg.type === "error") serverError(msg);
  else if (msg.type === "duty" && msg.on_duty === state.on_duty) {
    state.duty_pending = false;
    save();
  }
  // pong: nothing to do; any message is proof of life for the link
}

/** Store a push, then acknowledge it (a crash in between means a redelivery, never a loss). */
function push(msg) {
  const task = msg.task;
  const rec = state.tasks[task.task_id];
  let alertFor = null;
  if (!rec || task.version > rec.task.version) {
    const offer = msg.type === "task";
    const fresh = !rec || (offer && rec.hidden); // new, or offered to us again: to the top
    const edited = msg.change === "edited" && rec ? editedFields(rec.task, task) : [];
    state.tasks[task.task_id] = {
      task,
      first_seen: fresh ? now() : rec.first_seen,
      hidden: msg.change === "reassigned" ? true : offer ? false : Boolean(rec && rec.hidden),
      change: offer ? "" : msg.change || "",
      error: rec && !offer ? rec.error : "",
      edited,
    };
    settleQueue(task, msg.change);
    if ((offer && ["offered", "delivered"].includes(task.state)) || edited.length) alertFor = task;
    if (msg.change === "reassigned") toast(t(lang, "reassigned") + ": " + task.title);
  }
  if (msg.cursor && store.cursorAfter(msg.cursor, state.cursor)) state.cursor = msg.cursor;
  save();
  if (msg.cursor) link.send({ type: "ack", v: 1, cursor: msg.cursor });
  render();
  if (alertFor) announce(alertFor, cards.get(alertFor.task_id));
}

/** What the desk changed in an edit (the push carries the task as it is now, not a diff). */
const EDITABLE = { title: ["title"], brief: ["brief"], place: ["lat", "lon"],
                   priority: ["priority"], deadline: ["deadline"] };
function editedFields(before, after) {
  return Object.entries(EDITABLE)
    .filter(([, names]) => names.some((name) => before[name] !== after[name]))
    .map(([field]) => field);
}

/** Drop queued changes the task has caught up with, or that can no longer apply to it. */
function settleQueue(task, change) {
  const gone = change === "reassigned" || ["done", "cancelled", "expired"].includes(task.state);
  state.queue = state.queue.filter((entry) =>
    entry.task_id !== task.task_id || (entry.status !== task.state && !gone));
}

function serverError(msg) {
  const text = msg.text || msg.code || "";
  const entry = state.queue.find((e) => e.id === msg.id);
  if (entry && (msg.code === "busy" || msg.code === "rate_limited")) {
    // Nothing was applied and the server asks for a retry: send the same id again later.
    const wait = Number((/retry in (\d+) s/.exec(text) || [])[1]) || 1;
    sentOn.delete(entry.id);
    setTimeout(flushQueue, Math.min(wait, 60) * 1000);
    return;
  }
  if (entry) {
    state.queue = state.queue.filter((e) => e !== entry);
    const rec = state.tasks[entry.task_id];
    if (rec) rec.error = text;
    save();
    render();
    return;
  }
  toast(t(lang, "server_error", { text }));
}

// --- status changes ------------------------------------------------------------------------
function act(taskId, status, reason) {
  unlockAudio();
  const rec = state.tasks[taskId];
  if (!rec) return;
  rec.error = "";
  state.queue.push({ id: store.uuid(), task_id: taskId, status, reason: reason || "" });
  save();
  flushQueue();
  render();
}

function flushQueue() {
  if (!link || !link.online) return;
  for (const entry of state.queue) {
    if (sentOn.get(entry.id) === connection) continue;
    const sent = link.send({ type: "task_status", v: 1, id: entry.id, task_id: entry.task_id,
                             status: entry.status, reason: entry.reason });
    if (sent) sentOn.set(entry.id, connection);
  }
}

// --- what the reporter sees and hears ------------------------------------------------------
function showLink(s) {
  document.body.dataset.link = s;
  $("link-dot").className = `dot dot-${s}`;
  $("link-text").textContent = t(lang, `link_${s}`);
  render();
}

function showBanner() {
  const s = link ? link.state : "offline";
  const banner = $("banner");
  banner.hidden = s === "online";
  const queued = state.queue.length ? ` · ${t(lang, "banner_queued", { n: state.queue.length })}` : "";
  banner.textContent = s === "online" ? ""
    : t(lang, s === "connecting" ? "banner_connecting" : "banner_offline") + queued;
}

function showDuty() {
  const on = Boolean(state.on_duty);
  $("duty-toggle").checked = on;
  $("duty-label").textContent = t(lang, on ? "duty_on" : "duty_off");
  document.body.classList.toggle("on-duty", on);
  $("duty-status").textContent = on && dutyStatus.key ? t(lang, dutyStatus.key, { acc: dutyStatus.acc }) : "";
}

const duty = new Duty((msg) => (link ? link.send(msg) : false), (status) => {
  dutyStatus = status;
  showDuty();
});

/** Tell the server (the desk's roster, who may be offered tasks); sent again on reconnect. */
function sendDuty() {
  state.duty_pending = true;
  if (link) link.send({ type: "duty", v: 1, on_duty: Boolean(state.on_duty) });
}

$("duty-toggle").addEventListener("change", (ev) => {
  state.on_duty = ev.currentTarget.checked;
  sendDuty();
  save();
  if (state.on_duty) duty.start();
  else duty.stop();
  showDuty();
});

function render() {
  if (document.body.dataset.screen !== "app") return;
  const list = $("tasks");
  const visible = Object.values(state.tasks).filter((rec) => !rec.hidden);
  // Open tasks first, breaking tasks still waiting for an answer at the very top, then newest.
  const open = (rec) => !isClosed(rec.task.state) && rec.change !== "cancelled";
  const urgent = (rec) => open(rec) && rec.task.priority === "breaking"
    && ["offered", "delivered"].includes(rec.task.state);
  visible.sort((a, b) => (open(b) - open(a)) || (urgent(b) - urgent(a)) || (b.first_seen - a.first_seen));
  const wanted = new Set(visible.map((rec) => rec.task.task_id));
  for (const [id, card] of cards) {
    if (!wanted.has(id)) {
      card.remove();
      cards.delete(id);
    }
  }
  const at = now();
  visible.forEach((rec, i) => {
    const id = rec.task.task_id;
    let card = cards.get(id);
    if (!card) {
      card = createCard(id, { act, copy, dismiss });
      cards.set(id, card);
    }
    const pending = state.queue.filter((e) => e.task_id === id);
    const sending = pending.length > 0 && link !== null && link.online;
    fillCard(card, rec, { lang, now: at, pending, sending });
    if (list.children[i] !== card) list.insertBefore(card, list.children[i] || null);
  });
  $("tasks-empty").hidden = visible.length > 0;
  showBanner();
}

function dismiss(taskId) {
  const rec = state.tasks[taskId];
  if (rec) rec.hidden = true;
  save();
  render();
}

function copy(text) {
  const done = () => toast(t(lang, "copied"));
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, () => {});
  else window.prompt("", text); // lets the reporter select and copy by hand
}

// --- start ---------------------------------------------------------------------------------
store.prune(state, Date.now(), isClosed);
// Ages move every 15 s; an offer's time to answer counts down every second.
let ticks = 0;
setInterval(() => {
  ticks += 1;
  const counting = Object.values(state.tasks).some((rec) => !rec.hidden && rec.task.offer_deadline
    && ["offered", "delivered"].includes(rec.task.state));
  if (counting || ticks % 15 === 0) render();
}, 1000);
if (state.token && state.verified) {
  showScreen("app");
  $("me").textContent = state.reporter ? state.reporter.name : "";
  applyLang();
  connect();
} else if (state.token) {
  showLogin();
  applyLang();
  $("login-status").textContent = t(lang, "login_checking");
  connect();
} else {
  showLogin();
  applyLang();
}
