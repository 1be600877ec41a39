// My state at a glance and the one-click changes: available, pause with a code, after this
// call, log out. The phone's feature codes change the state too: agent.state events show
// every change at once, whoever made it.

import { api } from "./api.js";
import { el, clear, fmtDuration, setText } from "./dom.js";
import { $, ctx, busy, epochOf, now, say } from "./agent-util.js";

const LABELS = {
  available: "available",
  paused: "paused",
  wrap_up: "wrap-up",
  on_call: "on call",
  reserved: "reserved",
  logged_out: "logged out",
};
// States with a call in hand: a pause or log-out then waits for the call to end.
const BUSY = new Set(["on_call", "reserved"]);

let afterCallChosen = false; // the "after this call" toggle, for wrap-up
let wrapSeconds = null; // the wrap-up's length when known (directory queues' wrapup_s)

/** The pause codes into the menu (free text when the centre has none). */
export function setPauseCodes(codes) {
  const select = $("pause-code");
  clear(select);
  const list = codes && codes.length ? codes : ["break"];
  for (const code of list) select.append(el("option", { value: code }, code));
}

/**
 * A new view of my agent: from GET/POST /v1/agents/{me} (AgentOut, with `since`) or an
 * agent.state event (`at`: the event's time, the start of a new state).
 */
export function update(data, at = null) {
  const previous = ctx.agent || {};
  const changed = previous.state !== data.state;
  let since = epochOf(data.since);
  if (since === null) since = changed ? (at ?? now()) : (previous.since ?? at ?? now());
  ctx.agent = { ...previous, ...data, since };
  if ("wrapup_until" in data) ctx.agent.wrapup_until = data.wrapup_until;
  else if (changed) ctx.agent.wrapup_until = null;
  if (changed && data.state === "wrap_up" && !ctx.agent.wrapup_until && ctx.call) {
    const queue = ctx.directory.queues.find((q) => q.id === ctx.call.queue_id);
    wrapSeconds = queue && Number.isFinite(queue.wrapup_s) ? queue.wrapup_s : null;
  }
  if (changed && !BUSY.has(data.state) && data.state !== "wrap_up") afterCallChosen = false;
  if (!BUSY.has(data.state) && data.state !== "wrap_up") {
    ctx.agent.pending_state = data.pending_state ?? null;
    ctx.agent.pending_reason = data.pending_reason ?? null;
  }
  render();
}

function render() {
  const agent = ctx.agent || { state: "logged_out" };
  const badge = $("agent-state");
  const state = agent.state || "logged_out";
  badge.className = `state state-${state} big`;
  badge.dataset.state = state;
  let text = LABELS[state] || state;
  if (state === "paused" && agent.reason) text += ` (${agent.reason})`;
  setText(badge, text);
  tick();

  const pending = $("pending-state");
  if (agent.pending_state) {
    const reason = agent.pending_reason ? ` (${agent.pending_reason})` : "";
    setText(pending, `After this call: ${LABELS[agent.pending_state] || agent.pending_state}${reason}`);
    pending.hidden = false;
  } else {
    pending.hidden = true;
  }

  // On a call a change can only wait for its end; in wrap-up the toggle chooses.
  const later = deferred();
  const toggle = $("go-after-call");
  toggle.disabled = !(BUSY.has(state) || state === "wrap_up");
  toggle.setAttribute("aria-pressed", String(later));
  $("go-available").disabled = state === "available" || (later && agent.pending_state === "available");
  const suffix = later ? " after this call" : "";
  setText($("go-available"), later ? "Available after this call" : state === "wrap_up" ? "Wrap-up done: available" : "Available");
  setText($("go-pause"), `Pause${suffix}`);
  setText($("go-logout"), later ? "Log out after this call" : "Log out (stop taking calls)");
  $("go-logout").disabled = state === "logged_out";
}

/** The clock in the state line: the wrap-up countdown, or the time in this state. */
export function tick() {
  const agent = ctx.agent;
  const extra = $("state-extra");
  if (!agent) return setText(extra, "");
  const since = epochOf(agent.since) ?? now();
  const inState = now() - since;
  if (agent.state === "wrap_up") {
    const until = epochOf(agent.wrapup_until) ?? (wrapSeconds !== null ? since + wrapSeconds : null);
    if (until !== null) {
      setText(extra, `${fmtDuration(Math.max(0, until - now()))} left`);
      extra.dataset.countdown = "1";
      return;
    }
  }
  delete extra.dataset.countdown;
  setText(extra, `for ${fmtDuration(inState)}`);
}

/** Whether a change now waits for the call (and its wrap-up) to end. */
function deferred() {
  const state = ctx.agent?.state;
  return BUSY.has(state) || (state === "wrap_up" && afterCallChosen);
}

async function change(state, reason, afterCall, button) {
  const body = { state, after_call: Boolean(afterCall) };
  if (reason) body.reason = reason;
  const view = await busy(
    button,
    () => api("POST", `/v1/agents/${encodeURIComponent(ctx.me)}/state`, body),
    $("state-message"),
  );
  if (view) update(view);
}

/** Available (ends a wrap-up early); on a call, once it is over. */
export function goAvailable() {
  if (ctx.agent?.state === "available") return undefined;
  return change("available", null, deferred(), $("go-available"));
}

/** Pause with the chosen code; on a call (or with "after this call"), once it is over. */
export function goPause(afterCall = false) {
  return change("paused", $("pause-code").value, afterCall || deferred(), $("go-pause"));
}

/** Log out; on a call (or with "after this call"), once it is over. */
export function goLogout() {
  return change("logged_out", null, deferred(), $("go-logout"));
}

/** Alt+W: wrap-up done (available) in wrap-up; pause after this call while on one. */
export function wrapOrAfterCall() {
  const state = ctx.agent?.state;
  if (state === "wrap_up") return change("available", null, false, $("go-available"));
  if (BUSY.has(state)) return goPause(true);
  return undefined;
}

function toggleAfterCall() {
  afterCallChosen = !afterCallChosen;
  render();
}

export function wire() {
  $("go-available").addEventListener("click", goAvailable);
  $("go-pause").addEventListener("click", () => goPause(false));
  $("go-after-call").addEventListener("click", toggleAfterCall);
  $("go-logout").addEventListener("click", goLogout);
  setInterval(tick, 1000);
}
