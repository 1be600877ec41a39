// The console's queues table and the callers waiting: rows keyed by queue and by call,
// updated in place from the live calls (call.state / call.ended) and agent counts, with
// today's figures (service level, ASA, abandonment) from /v1/queues/{id}/figures.

import { el, fmtDuration, fmtPercent, setText } from "./dom.js";
import { clock } from "./model.js";
import { queueLevel, serviceLevelTarget } from "./thresholds.js";

function levelClass(base, level) {
  return level ? `${base} level-${level}` : base;
}

export class QueuesTable {
  /** @param ctx {model, calls: Map, thresholds, onCallerAction(action, callId, arg)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.body = document.getElementById("queue-rows");
    this.rows = new Map();
    this.callerBody = document.getElementById("caller-rows");
    this.callerRows = new Map(); // call_id -> {tr, cells}
    this.callerBody.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button || button.disabled) return;
      const callId = button.dataset.call;
      const row = this.callerRows.get(callId);
      const arg = button.dataset.action === "move" ? row?.cells.target.value : undefined;
      ctx.onCallerAction(button.dataset.action, callId, arg);
    });
  }

  rebuild() {
    this.rows.clear();
    const fragment = document.createDocumentFragment();
    for (const [queueId, queue] of this.ctx.model.queues) {
      const cells = {};
      for (const name of ["waiting", "longest", "sl", "asa", "abandon", "offered", "redirected", "cutoff", "available", "oncall", "wrapup", "paused"]) {
        cells[name] = el("td", { class: "num tabular" });
      }
      cells.waiting.setAttribute("data-testid", `queue-waiting-${queueId}`);
      cells.longest.setAttribute("data-testid", `queue-longest-${queueId}`);
      cells.sl.setAttribute("data-testid", `queue-sl-${queueId}`);
      cells.redirected.setAttribute("data-testid", `queue-redirected-${queueId}`);
      cells.cutoff.setAttribute("data-testid", `queue-cut-off-${queueId}`);
      const tr = el(
        "tr",
        { "data-testid": `queue-row-${queueId}` },
        el("th", { scope: "row" }, queue.config.name, " ", el("span", { class: "muted small" }, queue.config.extension)),
        ...Object.values(cells),
      );
      this.rows.set(queueId, { tr, cells });
      fragment.append(tr);
    }
    this.body.replaceChildren(fragment);
    for (const queueId of this.rows.keys()) this.update(queueId);
    this.updateCallers();
  }

  /** Waiting callers of a queue, in serving order (priority, then arrival). */
  waitingIn(queueId) {
    const waiting = [];
    for (const call of this.ctx.calls.values()) {
      if (call.queue_id === queueId && call.state === "waiting") waiting.push(call);
    }
    return waiting.sort((a, b) => (b.priority || 0) - (a.priority || 0) || a.since - b.since);
  }

  update(queueId) {
    const row = this.rows.get(queueId);
    const queue = this.ctx.model.queues.get(queueId);
    if (!row || !queue) return;
    const { cells } = row;
    const t = this.ctx.thresholds;
    const waiting = this.waitingIn(queueId);
    setText(cells.waiting, waiting.length);
    cells.waiting.className = levelClass("num tabular", queueLevel(t, queueId, "waiting", waiting.length));
    row.oldest = waiting.length ? Math.min(...waiting.map((c) => c.since)) : null;
    this._tick(queueId, row, clock.now());
    const f = queue.figures;
    const target = serviceLevelTarget(t, queueId);
    setText(cells.sl, f ? `${fmtPercent(f.service_level)} / ${fmtPercent(target)}` : "–");
    cells.sl.className = levelClass("num tabular", f ? queueLevel(t, queueId, "service_level", f.service_level) : "");
    setText(cells.asa, f ? fmtDuration(f.asa_s) : "–");
    setText(cells.abandon, f ? `${f.abandoned} (${fmtPercent(f.abandonment_rate)})` : "–");
    cells.abandon.className = levelClass("num tabular", f ? queueLevel(t, queueId, "abandonment", f.abandonment_rate) : "");
    setText(cells.offered, f ? f.offered : "–");
    // Out of the centre's hands (domain/figures.py): apart from offered, in no rate.
    setText(cells.redirected, f ? f.redirected : "–");
    setText(cells.cutoff, f ? f.cut_off : "–");
    if (this.ctx.model.countsKnown(queueId)) {
      const c = queue.counts;
      setText(cells.available, c.available);
      setText(cells.oncall, c.on_call + c.reserved);
      setText(cells.wrapup, c.wrap_up);
      setText(cells.paused, c.paused);
    } else {
      // A requirement this page cannot read: the server's count of available agents.
      setText(cells.available, queue.status ? queue.status.agents_available : "–");
      for (const name of ["oncall", "wrapup", "paused"]) setText(cells[name], "–");
    }
  }

  _tick(queueId, row, now) {
    const wait = row.oldest === null || row.oldest === undefined ? null : Math.max(0, now - row.oldest);
    setText(row.cells.longest, wait === null ? "–" : fmtDuration(wait));
    row.cells.longest.className = levelClass("num tabular", wait === null ? "" : queueLevel(this.ctx.thresholds, queueId, "longest_wait_s", wait));
  }

  /** Rebuild the order of the callers waiting, reusing rows by call id. */
  updateCallers() {
    const queueIds = [...this.ctx.model.queues.keys()];
    const ordered = [];
    for (const queueId of queueIds) {
      this.waitingIn(queueId).forEach((call, i) => ordered.push([call, i + 1]));
    }
    // Calls in queues this page does not know (deleted meanwhile) still show.
    for (const call of this.ctx.calls.values()) {
      if (call.state === "waiting" && !this.ctx.model.queues.has(call.queue_id)) ordered.push([call, 0]);
    }
    const keep = new Set(ordered.map(([call]) => call.call_id));
    for (const [callId, row] of this.callerRows) {
      if (!keep.has(callId)) {
        row.tr.remove();
        this.callerRows.delete(callId);
      }
    }
    let previous = null;
    for (const [call, position] of ordered) {
      let row = this.callerRows.get(call.call_id);
      if (!row) row = this._callerRow(call);
      setText(row.cells.position, position || "–");
      setText(row.cells.number, call.caller_number || "");
      setText(row.cells.name, call.caller_name || "");
      // Keep the DOM order without moving rows that are already in place.
      const expected = previous ? previous.nextSibling : this.callerBody.firstChild;
      if (expected !== row.tr) this.callerBody.insertBefore(row.tr, expected);
      previous = row.tr;
    }
    setText(document.getElementById("callers-count"), ordered.length);
    document.getElementById("callers-empty").hidden = ordered.length > 0;
    this.tickCallers(clock.now());
  }

  _callerRow(call) {
    const queueName = this.ctx.model.queues.get(call.queue_id)?.config.name || call.queue_id;
    const cells = {
      position: el("td", { class: "num tabular" }),
      number: el("span", { class: "caller-number", "data-testid": "caller-number" }),
      name: el("span", { class: "caller-name", "data-testid": "caller-name" }),
      wait: el("td", { class: "num tabular", "data-testid": "caller-wait" }),
      target: el(
        "select",
        { "aria-label": `Move caller ${call.caller_number || call.call_id} to queue`, "data-testid": `move-target-${call.call_id}` },
        [...this.ctx.model.queues.values()]
          .filter((q) => q.config.id !== call.queue_id)
          .map((q) => el("option", { value: q.config.id }, q.config.name)),
      ),
    };
    const button = (action, label) =>
      el("button", { type: "button", class: "small", "data-action": action, "data-call": call.call_id, "data-testid": `${action}-${call.call_id}` }, label);
    const tr = el(
      "tr",
      { "data-testid": `caller-row-${call.call_id}` },
      el("td", null, queueName),
      cells.position,
      el("td", { class: "caller" }, cells.number, cells.name),
      cells.wait,
      el(
        "td",
        { class: "actions" },
        el("div", null, cells.target, button("move", "Move")),
        el("div", null, button("up", "Priority +10"), button("callback", "Call back")),
      ),
    );
    const row = { tr, cells, call };
    this.callerRows.set(call.call_id, row);
    return row;
  }

  tickCallers(now) {
    for (const row of this.callerRows.values()) {
      const call = this.ctx.calls.get(row.call.call_id);
      if (call) setText(row.cells.wait, fmtDuration(Math.max(0, now - call.since)));
    }
  }

  tick() {
    const now = clock.now();
    for (const [queueId, row] of this.rows) this._tick(queueId, row, now);
    this.tickCallers(now);
  }

  rowsForCsv() {
    const out = [["queue_id", "name", "waiting", "longest_wait_s", "service_level", "target", "asa_s", "abandoned", "abandonment_rate", "offered", "answered", "available", "on_call", "wrap_up", "paused", "redirected", "cut_off"]];
    const now = clock.now();
    for (const [queueId, row] of this.rows) {
      const q = this.ctx.model.queues.get(queueId);
      const f = q.figures || {};
      const c = this.ctx.model.countsKnown(queueId) ? q.counts : {};
      out.push([
        queueId,
        q.config.name,
        this.waitingIn(queueId).length,
        row.oldest ? Math.round(now - row.oldest) : "",
        f.service_level ?? "",
        serviceLevelTarget(this.ctx.thresholds, queueId),
        f.asa_s ?? "",
        f.abandoned ?? "",
        f.abandonment_rate ?? "",
        f.offered ?? "",
        f.answered ?? "",
        c.available ?? q.status?.agents_available ?? "",
        c.on_call !== undefined ? c.on_call + c.reserved : "",
        c.wrap_up ?? "",
        c.paused ?? "",
        f.redirected ?? "",
        f.cut_off ?? "",
      ]);
    }
    return out;
  }

  callersForCsv() {
    const out = [["call_id", "queue_id", "position", "caller_number", "caller_name", "wait_s", "state"]];
    const now = clock.now();
    for (const row of this.callerRows.values()) {
      const call = this.ctx.calls.get(row.call.call_id);
      if (!call) continue;
      out.push([call.call_id, call.queue_id, row.cells.position.textContent, call.caller_number || "", call.caller_name || "", Math.round(now - call.since), call.state]);
    }
    return out;
  }
}
