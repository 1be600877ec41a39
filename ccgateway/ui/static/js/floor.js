// The floor table of the console: one row per agent, kept in a map agent_id -> row and
// updated in place (never re-rendered whole). Rows change only in the animation frame the
// console batches events into; the seconds in state tick once a second for visible rows.
// Buttons use one delegated listener on the table body (1,000 rows, one listener).

import { el, fmtDuration, setText } from "./dom.js";
import { STATES, STATE_LABELS, clock } from "./model.js";
import { agentLevel } from "./thresholds.js";

const ACTIONS = [
  ["listen", "Listen"],
  ["whisper", "Whisper"],
  ["barge", "Barge"],
  ["pause", "Pause"],
  ["logout", "Log out"],
  ["why", "Why"],
];

export class FloorTable {
  /**
   * @param ctx {model, calls: Map, thresholds, me, onAction(action, agentId)}
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.body = document.getElementById("agent-rows");
    this.count = document.getElementById("floor-count");
    this.rows = new Map(); // agent_id -> {tr, cells..., buttons{}}
    this.filters = { queue: "", team: "", skill: "", state: "", text: "" };
    this.body.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button && !button.disabled) ctx.onAction(button.dataset.action, button.dataset.agent);
    });
  }

  /** Build every row again (after loading the agents from REST). */
  rebuild() {
    const agents = [...this.ctx.model.agents.values()].sort(
      (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
    );
    this.rows.clear();
    const fragment = document.createDocumentFragment();
    for (const agent of agents) fragment.append(this._row(agent));
    this.body.replaceChildren(fragment);
    for (const agent of agents) this.update(agent.id);
    this.applyFilters();
    this.fillFilterChoices();
  }

  _row(agent) {
    const cells = {
      state: el("span", { class: "state", "data-testid": "agent-state" }),
      reason: el("td", { role: "cell", "data-testid": "agent-reason" }),
      since: el("td", { role: "cell", class: "num tabular", "data-testid": "agent-since" }),
      caller: el("td", { role: "cell", class: "caller", "data-testid": "agent-caller" }),
      number: el("span", { "data-testid": "caller-number" }),
      name: el("span", { class: "caller-name", "data-testid": "caller-name" }),
      queue: el("td", { role: "cell", "data-testid": "agent-queue" }),
    };
    const buttons = {};
    const actions = el("td", { role: "cell", class: "actions" });
    for (const [action, label] of ACTIONS) {
      buttons[action] = el(
        "button",
        {
          type: "button",
          class: action === "logout" ? "small danger" : "small",
          "data-action": action,
          "data-agent": agent.id,
          "data-testid": `${action}-${agent.id}`,
          "aria-label": `${label}: ${agent.name}`,
        },
        label,
      );
      actions.append(buttons[action]);
    }
    const tr = el(
      "tr",
      { role: "row", "data-testid": `agent-row-${agent.id}`, "data-agent": agent.id },
      el(
        "th",
        { scope: "row", role: "rowheader" },
        el("span", { class: "agent-name", title: agent.name }, agent.name),
        el("br"),
        el("span", { class: "muted small" }, agent.attributes.team ? `${agent.id} · ${agent.attributes.team}` : agent.id),
      ),
      el("td", { role: "cell" }, cells.state),
      cells.reason,
      cells.since,
      cells.caller,
      cells.queue,
      actions,
    );
    cells.caller.append(cells.number, cells.name);
    this.rows.set(agent.id, { tr, cells, buttons, state: "", level: "" });
    return tr;
  }

  /** Bring one agent's row up to date (called once per frame per changed agent). */
  update(agentId) {
    const row = this.rows.get(agentId);
    const agent = this.ctx.model.agents.get(agentId);
    if (!row || !agent) return;
    const { cells, buttons } = row;
    if (row.state !== agent.state) {
      cells.state.className = `state state-${agent.state}`;
      cells.state.dataset.state = agent.state; // the API's value, for tests and styles
      setText(cells.state, STATE_LABELS[agent.state] || agent.state);
      row.state = agent.state;
    }
    setText(cells.reason, agent.reason || "");
    const call = agent.call_id ? this.ctx.calls.get(agent.call_id) : null;
    setText(cells.number, call ? call.caller_number : agent.call_id ? `call ${agent.call_id}` : "");
    setText(cells.name, call ? call.caller_name : "");
    const queue = call?.queue_id ? this.ctx.model.queues.get(call.queue_id)?.config.name || call.queue_id : "";
    setText(cells.queue, queue);
    const noDevice = !this.ctx.me.device;
    for (const mode of ["listen", "whisper", "barge"]) buttons[mode].disabled = !agent.call_id || noDevice;
    buttons.pause.disabled = agent.state === "paused" || agent.state === "logged_out";
    buttons.logout.disabled = agent.state === "logged_out";
    this._tickRow(row, agent, clock.now());
    if (this.filters.state || this.filters.queue) row.tr.hidden = !this._visible(agent);
  }

  _tickRow(row, agent, now) {
    const seconds = Math.max(0, now - agent.since);
    setText(row.cells.since, fmtDuration(seconds));
    const level = agentLevel(this.ctx.thresholds, agent.state, seconds);
    if (level !== row.level) {
      row.cells.since.className = `num tabular${level ? ` level-${level}` : ""}`;
      row.level = level;
    }
  }

  /** Once a second: the time in state of the visible rows. */
  tick() {
    const now = clock.now();
    for (const [agentId, row] of this.rows) {
      if (row.tr.hidden) continue;
      const agent = this.ctx.model.agents.get(agentId);
      if (agent) this._tickRow(row, agent, now);
    }
  }

  _visible(agent) {
    const f = this.filters;
    if (f.state && agent.state !== f.state) return false;
    if (f.queue && !agent.queues.has(f.queue)) return false;
    if (f.team && (agent.attributes.team || "") !== f.team) return false;
    if (f.skill && !(agent.skills[f.skill] > 0)) return false;
    if (f.text) {
      const text = f.text.toLowerCase();
      if (!agent.name.toLowerCase().includes(text) && !agent.id.toLowerCase().includes(text)) return false;
    }
    return true;
  }

  applyFilters() {
    let shown = 0;
    for (const [agentId, row] of this.rows) {
      const agent = this.ctx.model.agents.get(agentId);
      const visible = Boolean(agent) && this._visible(agent);
      row.tr.hidden = !visible;
      if (visible) shown += 1;
    }
    setText(this.count, `${shown} of ${this.rows.size}`);
  }

  /** The agents shown now, for the CSV export. */
  visibleRows() {
    const out = [["agent_id", "name", "team", "state", "reason", "seconds_in_state", "call_id", "caller_number", "caller_name", "queue_id"]];
    const now = clock.now();
    for (const [agentId, row] of this.rows) {
      if (row.tr.hidden) continue;
      const a = this.ctx.model.agents.get(agentId);
      if (!a) continue;
      const call = a.call_id ? this.ctx.calls.get(a.call_id) : null;
      out.push([a.id, a.name, a.attributes.team || "", a.state, a.reason || "", Math.round(Math.max(0, now - a.since)), a.call_id || "", call?.caller_number || "", call?.caller_name || "", call?.queue_id || ""]);
    }
    return out;
  }

  fillFilterChoices() {
    const agents = [...this.ctx.model.agents.values()];
    const teams = [...new Set(agents.map((a) => a.attributes.team).filter(Boolean))].sort();
    const skills = [...new Set(agents.flatMap((a) => Object.keys(a.skills)))].sort();
    const queues = [...this.ctx.model.queues.values()].map((q) => [q.config.id, q.config.name]);
    fill("filter-queue", queues);
    fill("filter-team", teams.map((t) => [t, t]));
    fill("filter-skill", skills.map((s) => [s, s]));
    fill("filter-state", STATES.map((s) => [s, STATE_LABELS[s]]));
  }

  bindFilters() {
    const read = () => {
      this.filters = {
        queue: value("filter-queue"),
        team: value("filter-team"),
        skill: value("filter-skill"),
        state: value("filter-state"),
        text: value("filter-text").trim(),
      };
      this.applyFilters();
      this.tick();
    };
    const form = document.getElementById("floor-filters");
    form.addEventListener("input", read);
    form.addEventListener("change", read);
    form.addEventListener("submit", (event) => event.preventDefault());
  }
}

function value(id) {
  return document.getElementById(id).value;
}

/** Replace a select's options after its first ("All"), keeping the choice if still there. */
export function fill(id, pairs) {
  const select = document.getElementById(id);
  const chosen = select.value;
  const first = select.options[0];
  select.replaceChildren(first, ...pairs.map(([v, label]) => el("option", { value: v }, label)));
  if (pairs.some(([v]) => v === chosen)) select.value = chosen;
}
