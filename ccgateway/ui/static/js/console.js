// The supervisor console. State comes from REST once, then from the event stream: events
// are queued and applied once per animation frame (rows updated in place, keyed by id), so
// 1,000 agents changing state 50 times a second cost one small DOM pass per frame.
//
// Refreshed without an event (slow, periodic; nothing on the stream carries them): queue
// figures (service level, ASA, abandonment) every 30 s and a few seconds after calls end;
// campaign figures every 10 s; the day charts every 60 s and after calls end. Callbacks and
// the decision log are re-read when their events say something changed, and the
// recordings' first page when a recording.state event comes (recordings.js).

import { api, logout, pageFor, session, watchIdle } from "./api.js";
import { barChart, shareBars } from "./charts.js";
import { CampaignsTable, fetchAll } from "./campaigns.js";
import { downloadCsv, el, fmtTime, perFrame, setText } from "./dom.js";
import { FloorTable, fill } from "./floor.js";
import { FloorModel, clock, epoch } from "./model.js";
import { CallbacksPanel, DecisionLog } from "./panels.js";
import { QueuesTable } from "./queues.js";
import { RecordingsPanel } from "./recordings.js";
import { openStream } from "./stream.js";
import { loadThresholds, queueLevel, serviceLevelTarget } from "./thresholds.js";

const INTERVAL_S = 15 * 60;
const DEFAULT_PAUSE_CODES = ["supervisor", "break", "meeting", "training", "lunch"];

const me = await session();
if (me.role !== "supervisor" && me.role !== "admin") {
  location.replace(pageFor(me.role));
  await new Promise(() => {}); // this page is not theirs: stop here
}
watchIdle(me);

const model = new FloorModel();
const calls = new Map(); // call_id -> {call_id, queue_id, state, agent_id, caller_number, caller_name, since, priority}
const thresholds = loadThresholds();
const results = document.getElementById("action-result");

function report(text, ok) {
  const line = el("p", { class: `message ${ok ? "ok" : "error"}` }, `${fmtTime(Date.now() / 1000)} ${text}`);
  results.prepend(line);
  while (results.childElementCount > 4) results.lastElementChild.remove();
}

const ctx = { model, calls, thresholds, me, report, onAction, onCallerAction, dayStart, intervalLabels };
const floor = new FloorTable(ctx);
const queues = new QueuesTable(ctx);
const campaigns = new CampaignsTable(ctx);
const callbacks = new CallbacksPanel(ctx);
const decisions = new DecisionLog();
const recordings = new RecordingsPanel(ctx);

// --- loading -------------------------------------------------------------------------

function callFromApi(c) {
  return {
    call_id: c.call_id,
    queue_id: c.queue_id,
    state: c.state,
    agent_id: c.agent_id,
    caller_number: c.caller_number,
    caller_name: c.caller_name,
    since: epoch(c.arrived_at) ?? clock.now() - (c.wait_s || 0),
    priority: c.priority || 0,
  };
}

async function loadFloor() {
  const [queueList, agentList, callList] = await Promise.all([api("GET", "/v1/queues"), api("GET", "/v1/agents"), api("GET", "/v1/calls")]);
  model.load(queueList, agentList);
  calls.clear();
  for (const c of callList) calls.set(c.call_id, callFromApi(c));
  await refreshFigures();
  floor.rebuild();
  queues.rebuild();
  fill("chart-queue", queueList.map((q) => [q.id, q.name]));
}

async function refreshFigures(only) {
  const ids = only ? [...only] : [...model.queues.keys()];
  await Promise.all(
    ids.map(async (id) => {
      const queue = model.queues.get(id);
      if (!queue) return;
      const path = `/v1/queues/${encodeURIComponent(id)}`;
      try {
        const [figures, status] = await Promise.all([api("GET", `${path}/figures`), model.countsKnown(id) ? null : api("GET", `${path}/status`)]);
        queue.figures = figures;
        if (status) queue.status = status;
      } catch {
        // Kept as they were; the next refresh tries again.
      }
    }),
  );
  if (only) for (const id of ids) queues.update(id);
}

async function loadPauseCodes() {
  let codes = DEFAULT_PAUSE_CODES;
  try {
    const directory = await api("GET", "/v1/directory");
    if (Array.isArray(directory.pause_codes) && directory.pause_codes.length) {
      codes = directory.pause_codes.map((c) => (typeof c === "string" ? c : c.code || c.id || c.name)).filter(Boolean);
    }
  } catch {
    // No directory yet: the defaults.
  }
  const select = document.getElementById("pause-reason");
  select.replaceChildren(...codes.map((c) => el("option", { value: c }, c)));
}

async function loadAll() {
  await loadFloor();
  await Promise.all([campaigns.load().catch(() => {}), callbacks.load().catch(() => {}), decisions.load(), recordings.load(), drawDayCharts().catch(() => {})]);
  campaigns.drawAbandonChart().catch(() => {});
}

// --- the event stream, applied once per frame ------------------------------------------

const later = { figures: new Set(), callbacks: false, reload: false, campaigns: false };

const onEvent = perFrame(flush);

function flush(items) {
  const agentsDirty = new Set();
  const queuesDirty = new Set();
  let callersDirty = false;
  for (const { topic, data, at } of items) {
    clock.observe(at);
    if (topic === "agent.state") {
      const { agent, stateChanged } = model.applyAgentState(data, at);
      if (!agent) {
        later.reload = true;
        continue;
      }
      agentsDirty.add(agent.id);
      if (stateChanged) for (const q of agent.queues) queuesDirty.add(q);
    } else if (topic === "call.state") {
      const old = calls.get(data.call_id);
      const call = {
        call_id: data.call_id,
        queue_id: data.queue_id,
        state: data.state,
        agent_id: data.agent_id,
        caller_number: data.caller_number ?? old?.caller_number ?? "",
        caller_name: data.caller_name ?? old?.caller_name ?? "",
        since: epoch(data.arrived_at) ?? old?.since ?? at,
        priority: old?.priority ?? 0,
      };
      calls.set(call.call_id, call);
      queuesDirty.add(call.queue_id);
      if (old && old.queue_id !== call.queue_id) queuesDirty.add(old.queue_id);
      if (call.agent_id) agentsDirty.add(call.agent_id);
      callersDirty = true;
    } else if (topic === "call.ended") {
      const old = calls.get(data.call_id);
      calls.delete(data.call_id);
      if (old) {
        queuesDirty.add(old.queue_id);
        later.figures.add(old.queue_id);
        if (old.agent_id) agentsDirty.add(old.agent_id);
      }
      if (data.agent_id) agentsDirty.add(data.agent_id);
      callersDirty = true;
    } else if (topic === "callback.state") {
      later.callbacks = true;
    } else if (topic === "campaign.state") {
      if (!campaigns.applyEvent(data)) later.campaigns = true;
    } else if (topic === "recording.state") {
      recordings.soon();
    }
  }
  for (const id of agentsDirty) floor.update(id);
  for (const id of queuesDirty) queues.update(id);
  if (callersDirty) queues.updateCallers();
  if (agentsDirty.size && (floor.filters.state || floor.filters.queue)) floor.applyFilters();
  scheduleLater();
}

let laterTimer = 0;
function scheduleLater() {
  if (laterTimer || !(later.figures.size || later.callbacks || later.reload || later.campaigns)) return;
  // Figures settle a moment after a call ends (the record is written first): wait 3 s,
  // and batch whatever else came meanwhile into the same requests.
  laterTimer = setTimeout(async () => {
    laterTimer = 0;
    const { figures, callbacks: cb, reload, campaigns: camp } = later;
    later.figures = new Set();
    later.callbacks = later.reload = later.campaigns = false;
    if (reload) await loadFloor().catch(() => {});
    else if (figures.size) {
      await refreshFigures(figures);
      dayChartsSoon();
    }
    if (cb) await callbacks.load().catch(() => {});
    if (camp) await campaigns.load().catch(() => {});
  }, 3000);
}

let dayChartsDue = 0;
function dayChartsSoon() {
  if (!dayChartsDue) dayChartsDue = setTimeout(() => drawDayCharts().finally(() => (dayChartsDue = 0)), 10000);
}

const conn = document.getElementById("conn");
function onStatus(status, info) {
  conn.className = `conn conn-${status}`;
  conn.textContent = status === "live" ? "Live" : "Reconnecting…";
  // After a reconnect events may have been missed (a controller restart): read it all again.
  if (status === "live" && info?.reconnected) loadAll().catch((exc) => report(`Reload failed: ${exc.message}`, false));
}

// --- actions -------------------------------------------------------------------------

async function onAction(action, agentId) {
  const agent = model.agents.get(agentId);
  const name = agent?.name || agentId;
  try {
    if (action === "listen" || action === "whisper" || action === "barge") {
      if (!agent?.call_id) throw new Error("the agent has no call now");
      await api("POST", `/v1/calls/${encodeURIComponent(agent.call_id)}/monitor`, { supervisor_device: me.device, mode: action });
      report(`${action[0].toUpperCase()}${action.slice(1)} on ${name}'s call: your phone ${me.device} is ringing.`, true);
    } else if (action === "pause") {
      const reason = document.getElementById("pause-reason").value || "supervisor";
      await api("POST", `/v1/agents/${encodeURIComponent(agentId)}/state`, { state: "paused", reason });
      report(`${name} paused (${reason}).`, true);
    } else if (action === "logout") {
      await api("POST", `/v1/agents/${encodeURIComponent(agentId)}/state`, { state: "logged_out" });
      report(`${name} logged out.`, true);
    } else if (action === "why") {
      decisions.forAgent(agentId);
    }
  } catch (exc) {
    report(`${action} for ${name} failed: ${exc.message}`, false);
  }
}

async function onCallerAction(action, callId, arg) {
  const call = calls.get(callId);
  const who = call?.caller_number || callId;
  try {
    if (action === "move") {
      if (!arg) throw new Error("choose a queue");
      await api("PATCH", `/v1/calls/${encodeURIComponent(callId)}`, { queue_id: arg });
      report(`Caller ${who} moved to ${model.queues.get(arg)?.config.name || arg}.`, true);
    } else if (action === "up") {
      const result = await api("PATCH", `/v1/calls/${encodeURIComponent(callId)}`, { priority: Math.min(100, (call?.priority || 0) + 10) });
      if (call) call.priority = result.priority;
      queues.updateCallers();
      report(`Caller ${who}: priority now ${result.priority}.`, true);
    } else if (action === "callback") {
      await api("POST", `/v1/calls/${encodeURIComponent(callId)}/callback`, {});
      report(`Caller ${who} will be called back.`, true);
    }
  } catch (exc) {
    report(`${action} for caller ${who} failed: ${exc.message}`, false);
  }
}

// --- the day's charts ----------------------------------------------------------------

function dayStart(day) {
  const d = day ? new Date(`${day}T00:00:00`) : new Date();
  d.setHours(0, 0, 0, 0);
  return d.getTime() / 1000;
}

function intervalLabels() {
  return Array.from({ length: 96 }, (_, i) => `${String(Math.floor(i / 4)).padStart(2, "0")}:${String((i % 4) * 15).padStart(2, "0")}`);
}

const ANSWERED = new Set(["answered", "transferred"]);
// Not offered: sent on at arrival, left for a callback, or taken out of the centre's hands
// while waiting (redirected by another tool, cut off by the PBX).
const NOT_OFFERED = new Set(["rejected", "closed", "refused", "callback", "redirected", "cut_off"]);

async function drawDayCharts() {
  const start = dayStart();
  const queueId = document.getElementById("chart-queue").value;
  const params = { since: new Date(start * 1000).toISOString() };
  if (queueId) params.queue_id = queueId;
  const records = await fetchAll("/v1/interactions", params);
  const labels = intervalLabels();
  const answered = new Array(96).fill(0);
  const abandoned = new Array(96).fill(0);
  const other = new Array(96).fill(0);
  const inTime = new Array(96).fill(0);
  const offered = new Array(96).fill(0);
  // The API's definitions (domain/figures.py): short abandons (< 5 s) and NOT_OFFERED's
  // callers are not offered; service level = answered within 20 s over offered.
  for (const r of records) {
    if (r.kind !== "inbound" || NOT_OFFERED.has(r.outcome)) continue;
    const i = Math.floor((r.arrived_epoch - start) / INTERVAL_S);
    if (i < 0 || i >= 96) continue;
    if (r.outcome === "abandoned" && r.wait_s < 5) continue;
    offered[i] += 1;
    if (ANSWERED.has(r.outcome)) {
      answered[i] += 1;
      if (r.wait_s <= 20) inTime[i] += 1;
    } else if (r.outcome === "abandoned") abandoned[i] += 1;
    else other[i] += 1;
  }
  const last = Math.max(0, ...offered.map((v, i) => (v ? i : 0)), Math.floor((Date.now() / 1000 - start) / INTERVAL_S));
  const first = Math.min(32, ...offered.map((v, i) => (v ? i : 96))); // from 08:00 or the first call
  const span = (list) => list.slice(first, last + 1);
  document.getElementById("chart-calls").replaceChildren(
    barChart({
      title: "Calls per 15 minutes today",
      labels: span(labels),
      series: [
        { name: "answered", cls: "chart-answered", values: span(answered) },
        { name: "abandoned", cls: "chart-abandoned", values: span(abandoned) },
        { name: "other", cls: "chart-other", values: span(other) },
      ],
    }),
  );
  const target = queueId ? serviceLevelTarget(thresholds, queueId) : thresholds.default.service_level_target;
  document.getElementById("chart-sl").replaceChildren(
    shareBars({
      title: "Service level per 15 minutes today",
      labels: span(labels),
      values: span(offered.map((n, i) => (n ? inTime[i] / n : null))),
      target,
      levelOf: (v) => queueLevel(thresholds, queueId || "", "service_level", v),
    }),
  );
}

// --- exports -------------------------------------------------------------------------

function stamp() {
  return new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-");
}

async function exportDay(event) {
  event.preventDefault();
  const day = document.getElementById("export-date").value;
  if (!day) return;
  const start = dayStart(day);
  const end = start + 86400 + 3600; // until the next local midnight, DST-safe below
  const next = new Date(end * 1000);
  next.setHours(0, 0, 0, 0);
  try {
    const records = await fetchAll("/v1/interactions", { since: new Date(start * 1000).toISOString(), until: next.toISOString() });
    const columns = ["call_id", "kind", "channel", "queue_id", "agent_id", "caller_number", "outcome", "arrived_at", "answered_at", "ended_at", "wait_s", "talk_s", "offers", "detail"];
    downloadCsv(`interactions-${day}.csv`, [columns, ...records.map((r) => columns.map((c) => r[c]))]);
    report(`Exported ${records.length} interactions of ${day}.`, true);
  } catch (exc) {
    report(`Export of ${day} failed: ${exc.message}`, false);
  }
}

// --- start ---------------------------------------------------------------------------

setText(document.getElementById("me"), `${me.display_name || me.username} (${me.role})`);
document.getElementById("logout").addEventListener("click", () => logout());
document.getElementById("admin-link").hidden = me.role !== "admin";
document.getElementById("no-device").hidden = Boolean(me.device);
document.getElementById("export-floor").addEventListener("click", () => downloadCsv(`floor-${stamp()}.csv`, floor.visibleRows()));
document.getElementById("export-queues").addEventListener("click", () => downloadCsv(`queues-${stamp()}.csv`, queues.rowsForCsv()));
document.getElementById("export-callers").addEventListener("click", () => downloadCsv(`callers-${stamp()}.csv`, queues.callersForCsv()));
document.getElementById("export-day").addEventListener("submit", exportDay);
document.getElementById("export-date").value = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);
document.getElementById("chart-queue").addEventListener("change", () => drawDayCharts().catch(() => {}));
floor.bindFilters();

await loadPauseCodes();
await loadAll().catch((exc) => report(`Loading failed: ${exc.message}`, false));
openStream(onEvent, onStatus);

setInterval(() => {
  floor.tick();
  queues.tick();
}, 1000);
setInterval(() => refreshFigures().then(() => model.queues.forEach((_, id) => queues.update(id))), 30000);
setInterval(() => campaigns.refreshFigures(), 10000);
setInterval(() => {
  drawDayCharts().catch(() => {});
  campaigns.drawAbandonChart().catch(() => {});
}, 60000);
