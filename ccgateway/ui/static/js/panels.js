// The console's smaller panels: queued callbacks (list, edit, cancel) and the decision log.

import { api } from "./api.js";
import { el, fmtTime, setText } from "./dom.js";
import { epoch } from "./model.js";

/** A datetime-local input's value from an epoch (local time), and back to ISO 8601 UTC. */
function toLocalInput(seconds) {
  if (!seconds) return "";
  const d = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export class CallbacksPanel {
  /** @param ctx {model, report(text, ok)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.body = document.getElementById("callback-rows");
    this.dialog = document.getElementById("callback-dialog");
    this.form = document.getElementById("callback-form");
    this.error = document.getElementById("cb-error");
    this.callbacks = new Map();
    this.editing = null;
    this.body.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      if (button.dataset.action === "edit") this.edit(button.dataset.callback, button);
      else if (button.dataset.action === "cancel-callback") this.cancel(button.dataset.callback);
    });
    // Back to the button that opened it, however the dialog closed (Save, Cancel, Escape).
    this.dialog.addEventListener("close", () => this.editing?.opener?.focus());
    this.form.addEventListener("submit", (event) => {
      if (event.submitter?.value === "save") {
        event.preventDefault();
        this.save();
      }
    });
  }

  async load() {
    const list = await api("GET", "/v1/callbacks");
    this.callbacks = new Map(list.map((c) => [c.id, c]));
    const rows = list.map((c) => {
      const queue = this.ctx.model.queues.get(c.queue_id)?.config.name || c.queue_id;
      return el(
        "tr",
        { "data-testid": `callback-row-${c.id}` },
        el("td", null, queue),
        el(
          "td",
          { class: "caller" },
          el("span", { "data-testid": "callback-number" }, c.number),
          el("span", { class: "caller-name", "data-testid": "callback-name" }, c.name),
        ),
        el("td", { class: "num" }, c.priority),
        el(
          "td",
          null,
          c.state,
          c.attempts ? ` (${c.attempts} tried)` : "",
          c.not_before ? el("span", { class: "muted small nowrap" }, ` from ${fmtTime(epoch(c.not_before), { date: true })}`) : "",
        ),
        el(
          "td",
          { class: "actions" },
          el("button", { type: "button", class: "small", "data-action": "edit", "data-callback": c.id, "data-testid": `callback-edit-${c.id}`, "aria-label": `Edit callback to ${c.number}` }, "Edit"),
          el("button", { type: "button", class: "small danger", "data-action": "cancel-callback", "data-callback": c.id, "data-testid": `callback-cancel-${c.id}`, "aria-label": `Cancel callback to ${c.number}` }, "Cancel"),
        ),
      );
    });
    this.body.replaceChildren(...rows);
    setText(document.getElementById("callbacks-count"), list.length || "");
    document.getElementById("callbacks-empty").hidden = list.length > 0;
  }

  edit(id, opener) {
    const c = this.callbacks.get(id);
    if (!c) return;
    this.editing = { id, opener };
    this.form.number.value = c.number;
    this.form.name.value = c.name;
    this.form.priority.value = c.priority;
    this.form.not_before.value = toLocalInput(epoch(c.not_before));
    this.error.hidden = true;
    this.dialog.showModal();
    this.form.number.focus();
  }

  async save() {
    const { id } = this.editing || {};
    const c = this.callbacks.get(id);
    if (!c) return;
    const changes = {};
    if (this.form.number.value !== c.number) changes.number = this.form.number.value.trim();
    if (this.form.name.value !== c.name) changes.name = this.form.name.value;
    if (Number(this.form.priority.value) !== c.priority) changes.priority = Number(this.form.priority.value);
    const when = this.form.not_before.value;
    if (when !== toLocalInput(epoch(c.not_before))) changes.not_before = when ? new Date(when).toISOString() : null;
    try {
      if (Object.keys(changes).length) await api("PATCH", `/v1/callbacks/${encodeURIComponent(id)}`, changes);
      this.dialog.close();
      this.ctx.report(`Callback to ${changes.number || c.number} saved.`, true);
      await this.load();
      // The rows were drawn anew: keep the keyboard where it was.
      this.body.querySelector(`[data-testid="callback-edit-${CSS.escape(id)}"]`)?.focus();
    } catch (exc) {
      this.error.textContent = exc.message;
      this.error.hidden = false;
    }
  }

  async cancel(id) {
    const c = this.callbacks.get(id);
    try {
      await api("DELETE", `/v1/callbacks/${encodeURIComponent(id)}`);
      this.ctx.report(`Callback to ${c?.number ?? id} cancelled.`, true);
    } catch (exc) {
      this.ctx.report(`Callback to ${c?.number ?? id} not cancelled: ${exc.message}`, false);
    }
    await this.load();
  }
}

export class DecisionLog {
  constructor() {
    this.body = document.getElementById("decision-rows");
    this.form = document.getElementById("decision-filters");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
  }

  /** Show the decisions for an agent ("why this agent"). */
  forAgent(agentId) {
    document.getElementById("decision-agent").value = agentId;
    document.getElementById("decision-queue").value = "";
    document.getElementById("decision-call").value = "";
    this.load();
    document.getElementById("decisions-h").scrollIntoView({ block: "start" });
  }

  async load() {
    const query = new URLSearchParams({ limit: "100" });
    for (const [name, id] of [["agent_id", "decision-agent"], ["queue_id", "decision-queue"], ["call_id", "decision-call"]]) {
      const value = document.getElementById(id).value.trim();
      if (value) query.set(name, value);
    }
    let list;
    try {
      list = await api("GET", `/v1/decisions?${query}`);
    } catch (exc) {
      this.body.replaceChildren(el("tr", null, el("td", { colspan: 3, class: "message error" }, exc.message)));
      return;
    }
    const newest = [...list].sort((a, b) => epoch(b.at) - epoch(a.at));
    this.body.replaceChildren(
      ...newest.map((d) =>
        el(
          "tr",
          { "data-testid": "decision-row" },
          el("td", { class: "nowrap tabular" }, fmtTime(epoch(d.at)), el("br"), el("span", { class: "muted small" }, d.kind)),
          el(
            "td",
            { class: "small" },
            el("span", { class: "nowrap" }, d.call_id),
            el("br"),
            `${d.queue_id} → ${d.agent_id || "–"}`,
            el("br"),
            el("span", { class: "muted" }, d.rule),
          ),
          el("td", { class: "small" }, d.explanation),
        ),
      ),
    );
    if (!newest.length) this.body.append(el("tr", null, el("td", { colspan: 3, class: "muted" }, "No decisions recorded for this filter.")));
  }
}
