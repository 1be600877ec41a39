// The agent desktop: who I am, my state, the call on my screen, outbound previews and
// dispositions, tasks and my figures, live from the event stream (which carries only my own
// items). Everything goes through the public API; every string from it goes in as text.

import { api, logout, serverClockOffset, session, watchIdle } from "./api.js";
import { openStream } from "./stream.js";
import { fmtDuration, fmtPercent, setText } from "./dom.js";
import { $, ctx, epochOf, say, why } from "./agent-util.js";
import * as agentState from "./agent-state.js";
import * as call from "./agent-call.js";
import * as recording from "./agent-recording.js";
import * as dial from "./agent-dial.js";
import * as tasks from "./agent-tasks.js";

const FREE = new Set(["available", "paused", "wrap_up", "logged_out"]);
const me = (data) => data && data.agent_id === ctx.me;

// --- figures -------------------------------------------------------------------------------

let figuresTimer = 0;
let skewKnown = false;

async function loadFigures() {
  try {
    const f = await api("GET", `/v1/agents/${encodeURIComponent(ctx.me)}/figures`);
    setText($("fig-calls"), f.calls_answered);
    setText($("fig-talk"), fmtDuration(f.talk_s));
    setText($("fig-aht"), f.aht_s === null || f.aht_s === undefined ? "–" : fmtDuration(f.aht_s));
    setText($("fig-occupancy"), fmtPercent(f.occupancy));
  } catch (exc) {
    console.warn("figures", exc);
  }
}

function figuresSoon() {
  // The interaction is written just after the call ends: ask a moment later.
  clearTimeout(figuresTimer);
  figuresTimer = setTimeout(() => {
    loadFigures();
    call.reloadHistory(); // the call just ended is in the history now
  }, 800);
}

// --- the stream ----------------------------------------------------------------------------

function onAgentState(data, at) {
  const before = ctx.agent?.call_id ?? null;
  agentState.update(data, at);
  tasks.sync(data.tasks);
  const after = data.call_id ?? null;
  const withCall = data.state === "on_call" || data.state === "reserved";
  if (withCall && after && (!ctx.call || ctx.call.call_id !== after)) {
    // Its call.state event normally follows at once; read the call only if it did not (a
    // campaign call is the dial on screen, not a call of /v1/calls).
    setTimeout(() => {
      const shown = (ctx.call && ctx.call.call_id === after) || (ctx.dial && ctx.dial.dial_id === after);
      if (!shown && ctx.agent?.call_id === after) loadCall(after);
    }, 400);
  }
  // The call is over once I am free of it: a state without it, or wrap-up (which still
  // names the call just ended). Events around an offer may come in any order.
  const onScreen = ctx.call && !ctx.call.ended ? ctx.call.call_id : null;
  if (onScreen && FREE.has(data.state) && (after !== onScreen || data.state === "wrap_up")) {
    call.ended();
    figuresSoon();
  } else if (before && !after) {
    figuresSoon();
  }
}

function onEvent(item) {
  const { topic, data } = item;
  const at = typeof item.at === "number" ? item.at : epochOf(item.at);
  // The controller's clock against ours (its times: since, arrived_at), from the stamps:
  // delivery delays and replayed items only make a sample smaller, so the largest recent
  // one is the best guess (it may drift down slowly when the clocks do).
  if (at !== null) {
    const skew = at - Date.now() / 1000;
    ctx.clockSkew = skewKnown ? Math.max(skew, ctx.clockSkew - 0.05) : skew;
    skewKnown = true;
  }
  if (!me(data)) return;
  handle(topic, data, at);
  retitle();
}

/** The tab's title: my state and the caller, for an agent working in another window. */
function retitle() {
  const state = ctx.agent?.state?.replace("_", " ") || "";
  const c = ctx.call && !ctx.call.ended ? ` · ${ctx.call.caller_number || "call"}` : "";
  setText(document.querySelector("title"), `${state}${c} · Agent desktop`);
  const campaignCall = ctx.dial && ctx.dial.connected && !ctx.dial.disposed;
  setText($("no-call"), campaignCall ? "A campaign call: see Outbound." : "No call right now.");
}

function handle(topic, data, at) {
  switch (topic) {
    case "agent.state":
      onAgentState(data, at);
      break;
    case "call.state":
      if (data.state === "offering" || data.state === "connected") {
        if (data.kind !== "outbound" && (!ctx.call || ctx.call.call_id !== data.call_id)) dial.clearIfDone();
        call.pop(data, at);
      }
      break;
    case "call.ended":
      if (ctx.call && ctx.call.call_id === data.call_id) call.ended();
      figuresSoon();
      break;
    case "call.transfer":
      call.transferEvent(data);
      break;
    case "call.monitor":
      call.monitorEvent(data);
      break;
    case "recording.state":
      recording.event(data);
      break;
    case "dial.preview":
      call.clearIfEnded();
      dial.preview(data, at);
      break;
    case "dial.state":
      if (data.contact) call.clearIfEnded();
      dial.dialState(data);
      break;
    case "task.state":
      tasks.update(data);
      break;
    default:
      break;
  }
}

function onStatus(status, info = {}) {
  const live = status === "live";
  const badge = $("conn-status");
  badge.className = `conn ${live ? "conn-live" : "conn-stale"}`;
  setText(badge, live ? "live" : "not connected");
  $("stale-banner").hidden = live;
  if (live && info.reconnected) reload();
}

// --- loading -------------------------------------------------------------------------------

async function loadCall(callId) {
  try {
    const live = await api("GET", `/v1/calls/${encodeURIComponent(callId)}`);
    if (live && live.agent_id === ctx.me) {
      call.pop(live);
      recording.fromCall(live);
      if (live.state === "connected") recording.lookUp(callId);
    }
  } catch (exc) {
    console.warn("call", exc);
  }
}

async function loadAgent() {
  const agent = await api("GET", `/v1/agents/${encodeURIComponent(ctx.me)}`);
  setText($("who"), `${agent.name || ctx.me} · ${ctx.me}`);
  agentState.update(agent);
  retitle();
  if (agent.call_id && (agent.state === "on_call" || agent.state === "reserved")) {
    await loadCall(agent.call_id);
  } else {
    call.ended();
  }
}

async function loadDirectory() {
  try {
    const directory = await api("GET", "/v1/directory");
    ctx.directory = {
      queues: directory.queues || [],
      agents: directory.agents || [],
      pause_codes: directory.pause_codes || [],
      dispositions: directory.dispositions || {},
      scripts: directory.scripts || {},
    };
  } catch (exc) {
    console.warn("directory", exc);
  }
  agentState.setPauseCodes(ctx.directory.pause_codes);
  call.directoryChanged();
}

async function reload() {
  try {
    await Promise.all([loadDirectory(), loadAgent(), tasks.load(), loadFigures()]);
    // Until an event stamps the controller's clock, its Date header is the best guess.
    if (!skewKnown && serverClockOffset() !== null) ctx.clockSkew = serverClockOffset();
    say($("state-message"), "");
  } catch (exc) {
    say($("state-message"), `Could not load my agent: ${why(exc)}`);
  }
}

// --- keyboard ------------------------------------------------------------------------------

const SHORTCUTS = {
  a: () => agentState.goAvailable(),
  p: () => agentState.goPause(false),
  w: () => agentState.wrapOrAfterCall(),
  l: () => agentState.goLogout(),
  n: () => call.focusNote(),
  t: () => call.focusTransfer(),
  r: () => recording.toggle(),
  g: () => dial.dialPreview(),
  s: () => dial.saveDisposition(),
};

function onKey(event) {
  if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  // event.code: Alt+letter types other characters on some layouts (macOS).
  const key = event.code && event.code.startsWith("Key") ? event.code.slice(3).toLowerCase() : event.key.toLowerCase();
  const action = SHORTCUTS[key];
  if (!action) return;
  event.preventDefault();
  action();
}

// --- start ---------------------------------------------------------------------------------

async function start() {
  const current = await session();
  ctx.session = current;
  $("sign-out").addEventListener("click", () => logout());
  watchIdle(current); // the session's idle timeout, counted from the person's last input
  if (!current.agent_id) {
    say($("state-message"), `${current.username} is not an agent (role ${current.role}): this desktop is for agents.`);
    for (const node of document.querySelectorAll("button, select, input, textarea")) {
      if (node.id !== "sign-out") node.disabled = true;
    }
    return;
  }
  ctx.me = current.agent_id;
  setText($("who"), `${current.display_name || current.username} · ${ctx.me}`);
  agentState.wire();
  call.wire();
  recording.wire();
  dial.wire();
  document.addEventListener("keydown", onKey);
  // Open the stream first: a call ringing while the page loads still pops the screen.
  openStream(onEvent, onStatus);
  await reload();
}

start();
