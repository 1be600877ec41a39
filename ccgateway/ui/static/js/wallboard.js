// The wallboard: a TV for the floor (1920x1080, no scrolling). Read-only; works with a
// wallboard login (which may read queues, their status and figures, agents and campaigns).
//
// Live: agent counts from agent.state events, and each queue's waiting callers from
// call.state and call.ended events on top of the calls listed at load (a wallboard sees them
// without numbers or names), batched per animation frame; the longest wait ticks here from
// the earliest arrival. /status (agents qualified and logged in) is re-read when a queue's
// calls change, throttled per queue, and every 30 s. Refreshed without an event
// (nothing on the stream carries them): today's figures (service level, abandonment) a few
// seconds after calls end and every 30 s; campaign figures every 15 s.
// Thresholds: see thresholds.js (defaults; `?thresholds=<JSON>` or localStorage).

import { api, logout, pageFor, session, watchIdle } from "./api.js";
import { el, fmtDuration, fmtPercent, perFrame, setText } from "./dom.js";
import { FloorModel, STATE_LABELS, clock } from "./model.js";
import { openStream } from "./stream.js";
import { loadThresholds, queueLevel, serviceLevelTarget } from "./thresholds.js";

const TILE_STATES = ["available", "on_call", "reserved", "wrap_up", "paused", "logged_out"];
const STATUS_THROTTLE_MS = 250;
const FIGURES_DELAY_MS = 3000;

/** The session; while the controller cannot be reached (a TV switched on first), retry. */
async function signedIn() {
  for (;;) {
    try {
      return await session();
    } catch {
      document.getElementById("wb-stale").hidden = false;
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

const me = await signedIn();
if (me.role === "agent") {
  location.replace(pageFor(me.role));
  await new Promise(() => {}); // this page is not theirs: stop here
}
watchIdle(me); // a wallboard login has no idle timeout; a supervisor's screen does

const model = new FloorModel();
const thresholds = loadThresholds();
const cards = new Map(); // queue_id -> {card, fields}
const tiles = new Map(); // state -> value element
const callQueues = new Map(); // call_id -> queue_id, as events told us
const waiting = new Map(); // queue_id -> Map(call_id -> arrived_at): who is waiting now
let callsKnown = false; // the waiting callers came from /v1/calls (else /status's count)

function waitingIn(id) {
  let calls = waiting.get(id);
  if (!calls) waiting.set(id, (calls = new Map()));
  return calls;
}

/** A call changed (or ended: state null); the queues whose waiting callers changed. */
function callChanged(callId, queueId, state, arrivedAt) {
  const touched = [];
  for (const [id, calls] of waiting) if (calls.delete(callId)) touched.push(id);
  if (state === "waiting" && queueId) {
    // Events carry epoch seconds, /v1/calls an ISO time.
    const at = typeof arrivedAt === "number" ? arrivedAt : Date.parse(arrivedAt) / 1000;
    waitingIn(queueId).set(callId, Number.isFinite(at) ? at : clock.now());
    touched.push(queueId);
  }
  return touched;
}
const campaignRows = new Map();
let campaigns = [];

// --- building --------------------------------------------------------------------------

function buildTiles() {
  const list = document.getElementById("wb-agent-tiles");
  tiles.clear();
  list.replaceChildren(
    ...TILE_STATES.map((state) => {
      const value = el("span", { class: "wb-tile-value tabular", "data-testid": `agents-${state}` }, "0");
      tiles.set(state, value);
      return el("li", { class: `wb-tile state-${state}` }, value, el("span", { class: "wb-tile-label" }, STATE_LABELS[state]));
    }),
  );
}

function figure(label, testid) {
  const value = el("span", { class: "wb-value tabular", "data-testid": testid }, "–");
  const box = el("div", { class: "wb-figure" }, el("span", { class: "wb-label" }, label), value);
  return { box, value };
}

function buildQueues() {
  const holder = document.getElementById("wb-queues");
  cards.clear();
  const list = [...model.queues.values()];
  // As many columns as keep the cards wide rather than tall on a 16:9 screen.
  const columns = Math.max(1, Math.min(list.length, Math.ceil(Math.sqrt(list.length * 1.6))));
  holder.style.setProperty("--columns", String(columns));
  holder.style.setProperty("--rows", String(Math.max(1, Math.ceil(list.length / columns))));
  holder.replaceChildren(
    ...list.map((queue) => {
      const id = queue.config.id;
      const fields = {
        waiting: figure("Waiting", `queue-waiting-${id}`),
        longest: figure("Longest wait", `queue-longest-${id}`),
        sl: figure("Service level", `queue-sl-${id}`),
        abandon: figure("Abandoned", `queue-abandon-${id}`),
      };
      const agents = el("p", { class: "wb-queue-agents tabular", "data-testid": `queue-agents-${id}` });
      const answered = el("p", { class: "wb-queue-answered tabular" });
      const card = el(
        "article",
        { class: "wb-card", "data-testid": `queue-card-${id}`, "aria-labelledby": `wb-q-${id}` },
        el("h3", { id: `wb-q-${id}`, class: "wb-queue-name" }, queue.config.name),
        el("div", { class: "wb-figures" }, ...Object.values(fields).map((f) => f.box)),
        el("div", { class: "wb-queue-foot" }, agents, answered),
      );
      cards.set(id, { card, fields, agents, answered, fetchedAt: 0 });
      return card;
    }),
  );
}

// --- drawing -------------------------------------------------------------------------

function setLevel(node, level) {
  const cls = level ? `level-${level}` : "";
  if (node.dataset.level !== cls) {
    node.classList.remove("level-ok", "level-warn", "level-bad");
    if (cls) node.classList.add(cls);
    node.dataset.level = cls;
  }
}

function drawQueue(id) {
  const entry = cards.get(id);
  const queue = model.queues.get(id);
  if (!entry || !queue) return;
  const { fields } = entry;
  const s = queue.status;
  const count = callsKnown ? waitingIn(id).size : s ? s.waiting : null;
  setText(fields.waiting.value, count === null ? "–" : count);
  setLevel(fields.waiting.box, count === null ? "" : queueLevel(thresholds, id, "waiting", count));
  tickQueue(id);
  const f = queue.figures;
  setText(fields.sl.value, f ? fmtPercent(f.service_level) : "–");
  setLevel(fields.sl.box, f ? queueLevel(thresholds, id, "service_level", f.service_level) : "");
  fields.sl.box.title = `target ${fmtPercent(serviceLevelTarget(thresholds, id))}`;
  setText(fields.abandon.value, f ? fmtPercent(f.abandonment_rate) : "–");
  setLevel(fields.abandon.box, f ? queueLevel(thresholds, id, "abandonment", f.abandonment_rate) : "");
  const c = queue.counts;
  const agents = model.countsKnown(id)
    ? `${c.available} available · ${c.on_call + c.reserved} on call · ${c.wrap_up} wrap-up · ${c.paused} paused`
    : `${s ? s.agents_available : "–"} available · ${s ? s.agents_logged_in : "–"} logged in`;
  setText(entry.agents, agents);
  setText(entry.answered, f ? `${f.answered} answered of ${f.offered} · target ${fmtPercent(serviceLevelTarget(thresholds, id))}` : "");
}

function tickQueue(id) {
  const entry = cards.get(id);
  const s = model.queues.get(id)?.status;
  if (!entry) return;
  let wait = null;
  if (callsKnown) {
    const first = Math.min(...waitingIn(id).values());
    if (Number.isFinite(first)) wait = Math.max(0, clock.now() - first);
  } else if (s && s.waiting > 0) {
    wait = s.longest_wait_s + Math.max(0, clock.now() - entry.fetchedAt);
  }
  setText(entry.fields.longest.value, wait === null ? "0:00" : fmtDuration(wait));
  setLevel(entry.fields.longest.box, s ? queueLevel(thresholds, id, "longest_wait_s", wait ?? 0) : "");
}

function drawTiles() {
  for (const [state, node] of tiles) setText(node, model.totals[state] ?? 0);
}

function drawCampaigns() {
  const section = document.getElementById("wb-campaigns-section");
  const active = campaigns.filter((c) => c.config.state !== "stopped");
  section.hidden = active.length === 0;
  const list = document.getElementById("wb-campaigns");
  list.replaceChildren(
    ...active.map((c) => {
      const f = c.figures;
      const rate = f?.ledger.rate;
      const limit = f?.ledger.limit;
      const level = limit && rate >= limit ? "bad" : limit && rate >= limit * 0.8 ? "warn" : "ok";
      return el(
        "li",
        { class: "wb-campaign", "data-testid": `campaign-${c.config.id}` },
        el("span", { class: "wb-campaign-name" }, c.config.name || c.config.id),
        el("span", null, c.config.state),
        el("span", { class: "tabular" }, `${f ? f.lines_now : c.config.lines} lines`),
        el("span", { class: `tabular wb-pill level-${f ? level : "ok"}` }, `abandon ${f ? fmtPercent(rate, 1) : "–"} / ${limit ? fmtPercent(limit, 1) : "no limit"}`),
      );
    }),
  );
  campaignRows.clear();
}

// --- loading -------------------------------------------------------------------------

async function loadQueueStatus(id) {
  const queue = model.queues.get(id);
  if (!queue) return;
  try {
    queue.status = await api("GET", `/v1/queues/${encodeURIComponent(id)}/status`);
    const entry = cards.get(id);
    if (entry) entry.fetchedAt = clock.now();
  } catch {
    // Kept; the next event or refresh tries again.
  }
  drawQueue(id);
}

async function loadFigures(ids) {
  await Promise.all(
    ids.map(async (id) => {
      const queue = model.queues.get(id);
      if (!queue) return;
      try {
        queue.figures = await api("GET", `/v1/queues/${encodeURIComponent(id)}/figures`);
      } catch {
        // Kept as they were.
      }
      drawQueue(id);
    }),
  );
}

async function loadCampaigns() {
  try {
    const list = await api("GET", "/v1/campaigns");
    campaigns = await Promise.all(
      list.map(async (config) => ({
        config,
        figures: config.state === "stopped" ? null : await api("GET", `/v1/campaigns/${encodeURIComponent(config.id)}/figures`).catch(() => null),
      })),
    );
  } catch {
    // Kept as they were.
  }
  drawCampaigns();
}

async function loadCalls() {
  try {
    const calls = await api("GET", "/v1/calls");
    waiting.clear();
    callQueues.clear();
    for (const call of calls) {
      callQueues.set(call.call_id, call.queue_id);
      callChanged(call.call_id, call.queue_id, call.state, call.arrived_at);
    }
    callsKnown = true;
  } catch {
    callsKnown = false; // an older controller: the waiting counts come from /status
  }
}

async function loadAll() {
  const [queueList, agentList] = await Promise.all([
    api("GET", "/v1/queues"),
    api("GET", "/v1/agents"),
    loadCalls(),
  ]);
  model.load(queueList, agentList);
  buildQueues();
  drawTiles();
  const ids = [...model.queues.keys()];
  await Promise.all([...ids.map(loadQueueStatus), loadFigures(ids), loadCampaigns()]);
}

// --- events --------------------------------------------------------------------------

const statusDue = new Map(); // queue_id -> timer
const figuresDue = new Set();
let figuresTimer = 0;
let reloadTimer = 0;

function statusSoon(id) {
  if (statusDue.has(id)) return;
  statusDue.set(
    id,
    setTimeout(() => {
      statusDue.delete(id);
      loadQueueStatus(id);
    }, STATUS_THROTTLE_MS),
  );
}

function figuresSoon(ids) {
  for (const id of ids) figuresDue.add(id);
  if (figuresTimer) return;
  figuresTimer = setTimeout(() => {
    figuresTimer = 0;
    const due = [...figuresDue];
    figuresDue.clear();
    loadFigures(due);
  }, FIGURES_DELAY_MS);
}

const onEvent = perFrame(flush);

function flush(items) {
  const queuesDirty = new Set();
  let tilesDirty = false;
  for (const { topic, data, at } of items) {
    clock.observe(at);
    if (topic === "agent.state") {
      const { agent, stateChanged } = model.applyAgentState(data, at);
      if (!agent) {
        if (!reloadTimer) reloadTimer = setTimeout(() => ((reloadTimer = 0), loadAll().catch(() => {})), 1000);
        continue;
      }
      if (stateChanged) {
        tilesDirty = true;
        for (const q of agent.queues) queuesDirty.add(q);
      }
    } else if (topic === "call.state") {
      const before = callQueues.get(data.call_id);
      callQueues.set(data.call_id, data.queue_id);
      for (const id of callChanged(data.call_id, data.queue_id, data.state, data.arrived_at)) queuesDirty.add(id);
      statusSoon(data.queue_id);
      if (before && before !== data.queue_id) statusSoon(before);
    } else if (topic === "call.ended") {
      const queueId = callQueues.get(data.call_id);
      callQueues.delete(data.call_id);
      for (const id of callChanged(data.call_id, null, null)) queuesDirty.add(id);
      const ids = queueId ? [queueId] : [...model.queues.keys()];
      ids.forEach(statusSoon);
      figuresSoon(ids);
    } else if (topic === "campaign.state") {
      const c = campaigns.find((x) => x.config.id === data.campaign_id);
      if (c) {
        c.config.state = data.state;
        drawCampaigns();
      } else loadCampaigns();
    }
  }
  if (tilesDirty) drawTiles();
  for (const id of queuesDirty) drawQueue(id);
}

const stale = document.getElementById("wb-stale");
let loaded = false;
function onStatus(status, info) {
  stale.hidden = status === "live";
  document.body.classList.toggle("is-stale", status !== "live");
  // Events may have been missed while away (a controller restart): read it all again.
  if (status === "live" && (info?.reconnected || !loaded)) {
    loadAll()
      .then(() => (loaded = true))
      .catch(() => {});
  }
}

// --- start ---------------------------------------------------------------------------

const clockNode = document.getElementById("wb-clock");
function tick() {
  const now = new Date();
  setText(clockNode, now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
  clockNode.dateTime = now.toISOString();
  for (const id of cards.keys()) tickQueue(id);
}

document.getElementById("wb-logout").addEventListener("click", () => logout());
buildTiles();
tick();
try {
  await loadAll();
  loaded = true;
} catch {
  stale.hidden = false;
}
openStream(onEvent, onStatus);
setInterval(tick, 1000);
setInterval(() => {
  const ids = [...model.queues.keys()];
  loadFigures(ids);
  ids.forEach(statusSoon); // a guard against drift; events keep it live in between
}, 30000);
setInterval(loadCampaigns, 15000);
