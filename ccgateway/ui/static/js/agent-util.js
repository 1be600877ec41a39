// The agent desktop's shared bits: the page's state (who I am, the directory, my call),
// element lookup, messages, times.

import { setText } from "./dom.js";

/** What the desktop knows; the modules read and write it (one page, one agent). */
export const ctx = {
  me: "", // my agent id
  session: null,
  directory: { queues: [], agents: [], pause_codes: [], dispositions: {}, scripts: {} },
  agent: null, // {state, reason, since, call_id, pending_state, pending_reason, tasks}
  call: null, // the call on screen: {call_id, queue_id, caller_number, caller_name, arrived_at, state, kind, ended}
  dial: null, // the outbound dial on screen: {dial_id, campaign_id, contact_id, contact, event}
  clockSkew: 0, // server time - local time (s), from event stamps
};

/** The element with this id (the page's own markup: always there). */
export function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} missing from agent.html`);
  return node;
}

/** Show `text` in a message paragraph (kind: error | ok | info); empty text hides it. */
export function say(node, text, kind = "error") {
  if (!text) {
    node.hidden = true;
    setText(node, "");
    return;
  }
  node.classList.remove("error", "ok", "info");
  node.classList.add("message", kind);
  setText(node, text);
  node.hidden = false;
}

/** A readable line for a failed request: the API's own message, with its error id. */
export function why(exc) {
  if (exc && typeof exc === "object" && "status" in exc) {
    if (exc.status === 0) return "The controller cannot be reached.";
    return exc.message || exc.errorId || `HTTP ${exc.status}`;
  }
  return String(exc);
}

/** An epoch (s) from an epoch number or an ISO 8601 string; null for nothing. */
export function epochOf(value) {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "number") return value;
  const ms = Date.parse(String(value));
  return Number.isFinite(ms) ? ms / 1000 : null;
}

/** Now, on the controller's clock as far as we know it (s). */
export function now() {
  return Date.now() / 1000 + ctx.clockSkew;
}

/** A queue's name from the directory (its id when unknown). */
export function queueName(id) {
  if (!id) return "";
  const queue = ctx.directory.queues.find((q) => q.id === id);
  return queue && queue.name ? `${queue.name} (${id})` : String(id);
}

/** An agent's name from the directory (its id when unknown). */
export function agentName(id) {
  if (!id) return "";
  if (id === ctx.me) return "me";
  const agent = ctx.directory.agents.find((a) => a.id === id);
  return agent && agent.name ? agent.name : String(id);
}

/** Run an async action from a button: disabled while it runs, errors to `messageNode`. */
export async function busy(button, action, messageNode) {
  if (button) button.disabled = true;
  try {
    if (messageNode) say(messageNode, "");
    return await action();
  } catch (exc) {
    if (messageNode) say(messageNode, why(exc), "error");
    else console.error(exc);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** Tell a screen reader user what just arrived (a call, a preview, a task). */
export function announce(text) {
  const node = $("announce");
  setText(node, "");
  // A fresh text node after a tick: the same message twice is still read.
  setTimeout(() => setText(node, text), 50);
}
