// Task cards: built once per task, then filled in place on every change, so a half-typed
// decline reason survives a push or a language switch. Text goes in with textContent only:
// titles and briefs come from outside and are never parsed as HTML.

import { isClosed, nextMoves } from "./lifecycle.js";
import { age, countdown, t } from "./strings.js";

/** h("div", {class: "x", "data-a": 1}, child, "text") */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/**
 * The card skeleton for one task. `on` has the handlers: act(taskId, status, reason),
 * copy(text), dismiss(taskId).
 */
export function createCard(taskId, on) {
  const reason = h("textarea", { class: "decline-reason", maxlength: 200, rows: 2,
                                 required: true });
  const hint = h("p", { class: "decline-error", role: "alert", hidden: true });
  const label = h("label", { class: "decline-label" });
  const confirm = h("button", { type: "submit", class: "btn btn-danger decline-confirm" });
  const back = h("button", { type: "button", class: "btn decline-back" });
  const form = h("form", { class: "decline-form", hidden: true, novalidate: true }, label, reason,
                 h("div", { class: "decline-buttons" }, confirm, back), hint);
  const card = h("li", { class: "task", "data-task-id": taskId },
    h("div", { class: "task-head" },
      h("span", { class: "prio" }), h("h2", { class: "task-title" }), h("span", { class: "task-age" })),
    h("p", { class: "task-brief" }),
    h("div", { class: "task-meta" },
      h("span", { class: "task-state" }), h("span", { class: "task-answer" }),
      h("span", { class: "task-deadline" }), h("span", { class: "task-pending" })),
    h("div", { class: "task-nav" },
      h("a", { class: "btn nav-geo" }), h("button", { type: "button", class: "nav-coords" })),
    h("div", { class: "task-actions" }),
    form,
    h("p", { class: "task-error", role: "alert", hidden: true }),
    h("p", { class: "task-note" }),
    h("button", { type: "button", class: "task-dismiss", hidden: true }));

  back.addEventListener("click", () => {
    form.hidden = true;
    hint.hidden = true;
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = reason.value.trim();
    if (!text) {
      hint.hidden = false;
      reason.focus();
      return;
    }
    form.hidden = true;
    hint.hidden = true;
    reason.value = "";
    on.act(taskId, "declined", text);
  });
  card.querySelector(".nav-coords").addEventListener("click", (ev) => on.copy(ev.currentTarget.textContent));
  card.querySelector(".task-dismiss").addEventListener("click", () => on.dismiss(taskId));
  card.querySelector(".task-actions").addEventListener("click", (ev) => {
    const button = ev.target.closest("button[data-action]");
    if (!button) return;
    if (button.dataset.action === "declined") {
      form.hidden = false;
      reason.focus();
      return;
    }
    on.act(taskId, button.dataset.action, "");
  });
  return card;
}

/**
 * Fill `card` from the stored record. `view` = {lang, now, pending: [queue entries for this
 * task], sending: bool}.
 */
export function fillCard(card, rec, view) {
  const { lang, now, pending } = view;
  const task = rec.task;
  const last = pending.length ? pending[pending.length - 1] : null;
  const effective = last ? last.status : task.state; // what the reporter has done, sent or not
  const closed = isClosed(task.state) || rec.change === "cancelled";
  const q = (sel) => card.querySelector(sel);

  card.dataset.state = task.state;
  card.dataset.version = task.version;
  card.dataset.priority = task.priority;
  card.dataset.pending = last ? last.status : "";
  card.classList.toggle("task-breaking", task.priority === "breaking");
  card.classList.toggle("task-high", task.priority === "high");
  card.classList.toggle("task-closed", closed);
  card.classList.toggle("task-new", ["offered", "delivered"].includes(task.state) && !last);

  const prio = q(".prio");
  prio.className = `prio prio-${task.priority}`;
  prio.textContent = t(lang, `prio_${task.priority}`);
  q(".task-title").textContent = task.title;
  q(".task-age").textContent = t(lang, "ago", { age: age(lang, now - task.created_at) });
  q(".task-brief").textContent = task.brief || "";
  q(".task-brief").hidden = !task.brief;

  const state = q(".task-state");
  state.className = `task-state state-${task.state}`;
  state.textContent = t(lang, `state_${task.state}`);
  q(".task-deadline").textContent = task.deadline ? t(lang, "deadline", { time: clock(task.deadline) }) : "";
  // An offer not answered by offer_deadline expires and may go to the next reporter.
  const answer = q(".task-answer");
  const waiting = ["offered", "delivered"].includes(task.state) && !last && task.offer_deadline;
  const left = waiting ? task.offer_deadline - now : 0;
  answer.textContent = !waiting ? "" : left > 0 ? t(lang, "answer_within", { left: countdown(left) }) : t(lang, "answer_late");
  answer.classList.toggle("task-answer-soon", waiting && left < 60000);
  const pend = q(".task-pending");
  pend.textContent = last
    ? t(lang, view.sending ? "sending" : "pending", { state: t(lang, `state_${last.status}`) })
    : "";
  pend.hidden = !last;

  const lat = Number(task.lat).toFixed(5);
  const lon = Number(task.lon).toFixed(5);
  const geo = q(".nav-geo");
  geo.href = `geo:${lat},${lon}?q=${lat},${lon}`;
  geo.textContent = t(lang, "navigate");
  const coords = q(".nav-coords");
  coords.textContent = `${lat}, ${lon}`;
  coords.title = t(lang, "coords_title");
  q(".task-nav").hidden = closed;

  const actions = q(".task-actions");
  const moves = closed ? [] : nextMoves(effective);
  if (actions.dataset.moves !== `${lang}:${moves.join(",")}`) {
    actions.dataset.moves = `${lang}:${moves.join(",")}`;
    actions.replaceChildren(...moves.map((m) => h("button", {
      type: "button", "data-action": m,
      class: `btn act act-${m}${m === "accepted" ? " btn-primary" : ""}${m === "declined" ? " btn-outline" : ""}`,
    }, t(lang, `act_${m}`))));
  }
  actions.hidden = moves.length === 0;
  const form = q(".decline-form");
  if (!moves.includes("declined")) form.hidden = true;
  q(".decline-label").textContent = t(lang, "decline_reason");
  q(".decline-reason").setAttribute("aria-label", t(lang, "decline_reason"));
  q(".decline-confirm").textContent = t(lang, "decline_confirm");
  q(".decline-back").textContent = t(lang, "decline_back");
  q(".decline-error").textContent = t(lang, "decline_need_reason");

  const error = q(".task-error");
  error.textContent = rec.error ? `${t(lang, "error_prefix")}: ${rec.error}` : "";
  error.hidden = !rec.error;
  const note = q(".task-note");
  const edited = rec.change === "edited" && rec.edited && rec.edited.length
    ? t(lang, "edited_note", { fields: rec.edited.map((f) => t(lang, `field_${f}`)).join(", ") }) : "";
  note.textContent = task.state === "cancelled" ? t(lang, "cancelled_note")
    : task.state === "expired" ? t(lang, "expired_note") : edited;
  note.classList.toggle("task-note-edited", Boolean(edited) && !closed);
  note.hidden = !note.textContent;
  const dismiss = q(".task-dismiss");
  dismiss.hidden = !closed;
  dismiss.textContent = t(lang, "dismiss");
}
