// Non-voice tasks (chats, emails, cases) offered to me: accept or reject the offer, complete
// what I hold. task.state events keep the list live; the task's title and data come from
// GET /v1/tasks/{id}.

import { api } from "./api.js";
import { el, clear, setText } from "./dom.js";
import { $, ctx, announce, queueName, say, why } from "./agent-util.js";

const tasks = new Map(); // id -> TaskOut (or the event's fields until it is read)
const LIVE = new Set(["offered", "assigned"]);

/** All my open tasks from the API (page load, reconnect). */
export async function load() {
  try {
    const list = await api("GET", `/v1/tasks?agent_id=${encodeURIComponent(ctx.me)}`);
    tasks.clear();
    for (const task of list) if (LIVE.has(task.state) && task.agent_id === ctx.me) tasks.set(task.id, task);
    render();
  } catch (exc) {
    say($("tasks-message"), `Tasks could not be loaded: ${why(exc)}`);
  }
}

/** A task.state event. */
export async function update(data) {
  const id = data.task_id;
  if (!id) return;
  if (!LIVE.has(data.state) || (data.agent_id && data.agent_id !== ctx.me)) {
    tasks.delete(id);
    render();
    return;
  }
  const known = tasks.get(id);
  tasks.set(id, { ...(known || { id, title: "", data: {} }), ...data, id });
  if (data.state === "offered" && (!known || known.state !== "offered")) {
    announce(`A ${data.channel || "task"} is offered to you: accept or reject it in Tasks.`);
  }
  render();
  if (!known || !known.title) {
    try {
      const full = await api("GET", `/v1/tasks/${encodeURIComponent(id)}`);
      if (tasks.has(id)) {
        tasks.set(id, { ...full, state: tasks.get(id).state });
        render();
      }
    } catch (exc) {
      console.warn("task not readable", exc);
    }
  }
}

/** The ids of the tasks agent.state says I hold: drop any the list still shows. */
export function sync(ids) {
  if (!Array.isArray(ids)) return;
  const held = new Set(ids);
  let changed = false;
  for (const id of [...tasks.keys()]) {
    if (!held.has(id)) {
      tasks.delete(id);
      changed = true;
    }
  }
  if (changed) render();
  for (const id of held) if (!tasks.has(id)) update({ task_id: id, state: "assigned", agent_id: ctx.me });
}

async function answer(id, what, button) {
  say($("tasks-message"), "");
  button.disabled = true;
  try {
    const task = await api("POST", `/v1/tasks/${encodeURIComponent(id)}/answer`, { answer: what });
    if (what === "reject" || !LIVE.has(task.state) || task.agent_id !== ctx.me) tasks.delete(id);
    else tasks.set(id, task);
    render();
    if (what === "accept") document.querySelector(`[data-testid="task-complete-${CSS.escape(id)}"]`)?.focus();
  } catch (exc) {
    say($("tasks-message"), why(exc));
    button.disabled = false;
  }
}

function render() {
  const list = $("tasks");
  clear(list);
  for (const task of tasks.values()) {
    const fields = Object.entries(task.data || {}).map(([k, v]) =>
      el("div", { class: "small" }, el("span", { class: "k" }, k), " ", String(v)),
    );
    const buttons =
      task.state === "offered"
        ? [
            el("button", { type: "button", class: "primary", "data-testid": `task-accept-${task.id}`,
              onclick: (e) => answer(task.id, "accept", e.currentTarget) }, "Accept"),
            el("button", { type: "button", "data-testid": `task-reject-${task.id}`,
              onclick: (e) => answer(task.id, "reject", e.currentTarget) }, "Reject"),
          ]
        : [
            el("button", { type: "button", class: "primary", "data-testid": `task-complete-${task.id}`,
              onclick: (e) => answer(task.id, "complete", e.currentTarget) }, "Complete"),
          ];
    list.append(
      el("li", { class: ["task", `task-${task.state}`], "data-testid": `task-${task.id}` },
        el("div", { class: "task-head" },
          el("strong", {}, task.title || task.id),
          " ",
          el("span", { class: "muted small" }, `${task.channel || ""} · ${queueName(task.queue_id)} · ${task.state === "offered" ? "offered to me" : "mine"}`),
        ),
        fields,
        el("div", { class: "task-actions" }, buttons),
      ),
    );
  }
  $("tasks-empty").hidden = tasks.size > 0;
  setText($("tasks-heading"), tasks.size ? `Tasks (${tasks.size})` : "Tasks");
}
