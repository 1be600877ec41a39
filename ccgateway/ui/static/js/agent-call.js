// The call on my screen: the screen pop (caller, queue, wait), the contact history of the
// number, notes, and the transfer controls (blind, attended: complete, cancel, conference).

import { api, ApiError } from "./api.js";
import { el, clear, fmtDuration, fmtTime, setText } from "./dom.js";
import { $, ctx, agentName, announce, busy, epochOf, now, queueName, say, why } from "./agent-util.js";
import * as recording from "./agent-recording.js";

const CALL_STATES = { waiting: "waiting", offering: "ringing my phone", connected: "connected" };
let historyKey = ""; // what the history on screen is for ("number:+49..." / "contact:c:1")
let historySeq = 0; // the latest history request (older answers are dropped)
let blockedReason = ""; // why the API refused the last transfer (409): shown, button off
let consulting = false; // an attended transfer is under way: finish it first

// --- the screen pop ----------------------------------------------------------------------

/** A call.state event (or GET /v1/calls/{id}) for a call with me: pop the screen at once. */
export function pop(data, at = null) {
  const fresh = !ctx.call || ctx.call.call_id !== data.call_id;
  if (fresh) {
    $("monitor-notice").hidden = true;
    ctx.call = { call_id: data.call_id, ended: false, connected_at: null };
    resetTransfer();
    $("transfer-form").reset();
    say($("note-message"), "");
    recording.reset();
  }
  const call = ctx.call;
  for (const key of ["queue_id", "caller_number", "caller_name", "kind", "state"]) {
    if (data[key] !== undefined && data[key] !== null) call[key] = data[key];
  }
  const arrived = epochOf(data.arrived_at);
  if (arrived !== null) call.arrived_at = arrived;
  if (call.arrived_at === undefined && fresh) call.arrived_at = at ?? now();
  if (call.state === "connected" && call.connected_at === null) {
    // GET /v1/calls/{id} has answered_at (or the wait); an event is the moment itself.
    const waited = Number(data.wait_s);
    const byWait =
      Number.isFinite(waited) && call.arrived_at !== undefined ? call.arrived_at + waited : null;
    call.connected_at = epochOf(data.answered_at) ?? byWait ?? at ?? now();
  }
  call.ended = false;
  render();
  if (fresh) {
    const who = [call.caller_number, call.caller_name].filter(Boolean).join(", ");
    announce(`Call ${call.state === "offering" ? "ringing" : call.state || ""}: ${who || "unknown caller"}, ${queueName(call.queue_id)}`);
  }
  if (fresh && !call.caller_number) fillFromApi(call.call_id);
  // A new call reads the history again (the last call with this number is in it now).
  if (call.caller_number) loadHistory({ number: call.caller_number }, fresh);
  enableNotes();
}

async function fillFromApi(callId) {
  // A call.state without the caller (an older controller): the call itself has it.
  try {
    const live = await api("GET", `/v1/calls/${encodeURIComponent(callId)}`);
    if (ctx.call && ctx.call.call_id === callId) pop(live);
  } catch (exc) {
    console.warn("call not readable", exc);
  }
}

const MONITOR_TEXT = {
  listen: "A supervisor is listening to this call.",
  whisper: "A supervisor is whispering to you: the caller does not hear them.",
  barge: "A supervisor has joined this call: the caller hears them too.",
};

/** A call.monitor event: a supervisor listens, whispers or barges into my call. */
export function monitorEvent(data) {
  if (!ctx.call || ctx.call.call_id !== data.call_id) return;
  const text = MONITOR_TEXT[data.mode] || "A supervisor is monitoring this call.";
  const notice = $("monitor-notice");
  setText(notice, text);
  notice.hidden = false;
  announce(text);
}

/** The call left me (agent.state without it, call.ended): keep the pop for notes. */
export function ended() {
  $("monitor-notice").hidden = true;
  if (!ctx.call || ctx.call.ended) return;
  ctx.call.ended = true;
  ctx.call.ended_at = now();
  resetTransfer();
  render();
}

/** An outbound dial takes the screen: put away a call that is over. */
export function clearIfEnded() {
  if (!ctx.call || !ctx.call.ended) return;
  ctx.call = null;
  render();
  enableNotes();
}

function render() {
  const call = ctx.call;
  $("screen-pop").hidden = !call;
  $("no-call").hidden = Boolean(call);
  if (!call) return;
  setText($("caller-number"), call.caller_number || "unknown number");
  setText($("caller-name"), call.caller_name || "—");
  setText($("call-queue"), queueName(call.queue_id) || "—");
  let state = CALL_STATES[call.state] || call.state || "";
  if (call.kind === "outbound") state = `${state} (outbound)`;
  if (call.ended) state = call.connected_at === null ? "ended (not answered by me)" : "ended";
  setText($("call-state"), state);
  $("screen-pop").classList.toggle("ended", Boolean(call.ended));
  tickCall();
  // Transfers only while connected; a refused one (409) keeps its button off, with why.
  const live = !call.ended && call.state === "connected";
  $("transfer-form").hidden = !live;
  $("transfer-go").disabled = !live || blockedReason !== "" || consulting;
  recording.render();
}

/** The wait (and the talk once connected), ticking. */
export function tickCall() {
  const call = ctx.call;
  if (!call || call.arrived_at === undefined) return;
  const waited = (call.connected_at ?? (call.ended ? call.ended_at : now())) - call.arrived_at;
  let text = fmtDuration(waited);
  if (call.connected_at !== null) {
    const talkEnd = call.ended ? call.ended_at : now();
    text += ` · talking ${fmtDuration(talkEnd - call.connected_at)}`;
  }
  setText($("call-wait"), text);
}

// --- the contact history -------------------------------------------------------------------

/** Load the history of a number (`{number}`) or a campaign contact (`{contactId}`). */
export async function loadHistory({ number, contactId }, force = false) {
  const key = number ? `number:${number}` : `contact:${contactId}`;
  if (!number && !contactId) return;
  if (key === historyKey && !force) return;
  historyKey = key;
  const seq = ++historySeq;
  setText($("history-number"), number ? `for ${number}` : "");
  const query = number
    ? `number=${encodeURIComponent(number)}`
    : `contact_id=${encodeURIComponent(contactId)}`;
  try {
    const history = await api("GET", `/v1/history?${query}`);
    if (seq !== historySeq) return;
    if (!number && history.number) setText($("history-number"), `for ${history.number}`);
    renderHistory(history);
  } catch (exc) {
    if (seq !== historySeq) return;
    clear($("history"));
    const empty = $("history-empty");
    empty.hidden = false;
    setText(
      empty,
      exc instanceof ApiError && exc.status === 403
        ? "You may not see this contact's history."
        : `The history could not be loaded: ${why(exc)}`,
    );
  }
}

/** Load the history again (after a note, a disposition). */
export function reloadHistory() {
  const key = historyKey;
  if (!key) return;
  const [kind, ...rest] = key.split(":");
  const value = rest.join(":");
  loadHistory(kind === "number" ? { number: value } : { contactId: value }, true);
}

function item(at, title, lines, kind) {
  const details = lines.filter(Boolean).map((line) =>
    Array.isArray(line) ? el("div", {}, el("span", { class: "k" }, line[0]), " ", line[1]) : el("div", {}, line),
  );
  return {
    at: at ?? 0,
    node: el(
      "li",
      { class: ["history-item", `history-${kind}`], "data-testid": "history-item", dataset: { kind } },
      el("div", { class: "history-head" },
        el("time", { class: "tabular" }, at ? fmtTime(at, { date: true }) : "–"),
        " ",
        el("strong", {}, title),
      ),
      details,
    ),
  };
}

function dispositionLabel(campaignId, code) {
  const list = ctx.directory.dispositions?.[campaignId] || [];
  const found = list.find((d) => (typeof d === "string" ? d === code : d.code === code));
  return found && typeof found === "object" && found.label ? `${found.label} (${code})` : code;
}

function answersText(answers) {
  return Object.entries(answers || {})
    .map(([question, answer]) => `${question}: ${typeof answer === "boolean" ? (answer ? "yes" : "no") : answer}`)
    .join("; ");
}

function renderHistory(history) {
  const items = [];
  for (const i of history.interactions || []) {
    const at = epochOf(i.arrived_epoch ?? i.arrived_at);
    const kind = i.kind && i.kind !== "inbound" ? i.kind : "call";
    items.push(
      item(at, `${kind === "call" ? "Call" : kind} in ${queueName(i.queue_id) || "—"}`, [
        ["Agent", agentName(i.agent_id) || "none"],
        ["Outcome", i.outcome],
        ["Waited", `${fmtDuration(i.wait_s)}, talked ${fmtDuration(i.talk_s)}`],
        i.detail ? ["Detail", i.detail] : null,
      ], "interaction"),
    );
  }
  for (const d of history.dials || []) {
    const at = epochOf(d.dialled_at ?? d.at);
    const disposition = d.disposition;
    items.push(
      item(at, `Campaign call (${d.campaign_id})`, [
        ["Agent", agentName(d.agent_id) || "none"],
        ["Outcome", d.outcome],
        disposition ? ["Disposition", dispositionLabel(d.campaign_id, disposition.code)] : null,
        disposition && Object.keys(disposition.answers || {}).length
          ? ["Answers", answersText(disposition.answers)]
          : null,
        disposition && disposition.note ? ["Note", disposition.note] : null,
        disposition && disposition.callback_at
          ? ["Callback", `${fmtTime(epochOf(disposition.callback_at), { date: true })} by ${
              disposition.callback_agent_id ? agentName(disposition.callback_agent_id) : "anyone"
            }`]
          : null,
      ], "dial"),
    );
  }
  for (const c of history.callbacks || []) {
    const at = epochOf(c.created_at ?? c.placed_at);
    const when = epochOf(c.not_before ?? c.callback_at);
    items.push(
      item(at, `Callback in ${queueName(c.queue_id) || c.campaign_id || "—"}`, [
        ["State", c.state],
        when ? ["Not before", fmtTime(when, { date: true })] : null,
        ["For", c.agent_id ? agentName(c.agent_id) : "anyone"],
        c.result ? ["Result", c.result] : null,
      ], "callback"),
    );
  }
  for (const n of history.notes || []) {
    const by = n.agent_id ? agentName(n.agent_id) : n.author || "a supervisor";
    items.push(item(epochOf(n.at_epoch ?? n.at), `Note by ${by}`, [n.text], "note"));
  }
  items.sort((a, b) => b.at - a.at);
  const list = $("history");
  clear(list);
  for (const entry of items) list.append(entry.node);
  const empty = $("history-empty");
  empty.hidden = items.length > 0;
  if (!items.length) setText(empty, "No earlier contact with this number.");
}

// --- notes ---------------------------------------------------------------------------------

function noteTarget() {
  if (ctx.dial && ctx.dial.dial_id && ctx.dial.connected) return { dial_id: ctx.dial.dial_id };
  if (ctx.call) return { call_id: ctx.call.call_id };
  if (ctx.dial && ctx.dial.dial_id) return { dial_id: ctx.dial.dial_id };
  return null;
}

export function enableNotes() {
  const on = noteTarget() !== null;
  $("note-text").disabled = !on;
  $("note-save").disabled = !on;
}

async function saveNote(event) {
  event.preventDefault();
  const text = $("note-text").value.trim();
  const target = noteTarget();
  if (!target) return;
  if (!text) {
    say($("note-message"), "Write the note first.", "error");
    $("note-text").focus();
    return;
  }
  const saved = await busy(
    $("note-save"),
    () => api("POST", "/v1/notes", { text, ...target }),
    $("note-message"),
  );
  if (saved) {
    $("note-text").value = "";
    say($("note-message"), "Note saved.", "ok");
    reloadHistory();
  }
}

// --- transfers -----------------------------------------------------------------------------

function resetTransfer() {
  blockedReason = "";
  consulting = false;
  $("consult-row").hidden = true;
  say($("transfer-message"), "");
  $("transfer-go").removeAttribute("aria-describedby");
}

function fillTargets() {
  const list = $("transfer-targets");
  clear(list);
  const kind = $("transfer-kind").value;
  const entries =
    kind === "queue"
      ? ctx.directory.queues.map((q) => [q.id, q.name])
      : kind === "agent"
        ? ctx.directory.agents.filter((a) => a.id !== ctx.me).map((a) => [a.id, a.name])
        : [];
  for (const [id, name] of entries) list.append(el("option", { value: id, label: name || id }));
  $("transfer-to").placeholder = kind === "number" ? "+44 20 7946 0000" : `${kind} id`;
  $("transfer-to").inputMode = kind === "number" ? "tel" : "text";
}

function unblock() {
  if (!blockedReason) return;
  blockedReason = "";
  $("transfer-go").removeAttribute("aria-describedby");
  say($("transfer-message"), "");
  render();
}

function refused(exc) {
  // A 409: the PBX or the call's state does not allow it now; say why, keep the button off
  // until something changes (another target, a new call event).
  if (exc instanceof ApiError && exc.status === 409) {
    blockedReason = exc.message || "not possible now";
    say($("transfer-message"), `Not possible now: ${blockedReason}`, "error");
    $("transfer-go").setAttribute("aria-describedby", "transfer-message");
    render();
  } else {
    say($("transfer-message"), why(exc), "error");
  }
}

async function transfer(event) {
  event.preventDefault();
  const call = ctx.call;
  const to = $("transfer-to").value.trim();
  if (!call || call.ended) return;
  if (!to) {
    say($("transfer-message"), "Give the queue, agent or number to transfer to.", "error");
    $("transfer-to").focus();
    return;
  }
  const attended = $("transfer-attended").checked;
  const body = { target: $("transfer-kind").value, to, attended };
  say($("transfer-message"), "");
  $("transfer-go").disabled = true;
  try {
    const result = await api("POST", `/v1/calls/${encodeURIComponent(call.call_id)}/transfer`, body);
    if (attended) {
      showConsult({ target: to, state: "calling" });
      say($("transfer-message"), `Consulting ${to}: complete, conference or cancel.`, "info");
    } else {
      say($("transfer-message"), result ? `Transferred to ${to}.` : `Transferred to ${to}; the call left.`, "ok");
    }
  } catch (exc) {
    refused(exc);
  } finally {
    render();
  }
}

function showConsult(consult, conference = []) {
  const row = $("consult-row");
  consulting = Boolean(consult);
  if (ctx.call) render();
  if (!consult && !conference.length) {
    row.hidden = true;
    return;
  }
  row.hidden = false;
  const parts = [];
  if (consult) parts.push(`Consulting ${consult.target}: ${consult.state}`);
  if (conference.length) parts.push(`Conference with ${conference.join(", ")}`);
  setText($("consult-state"), parts.join(" · "));
  $("transfer-complete").disabled = !consult;
  $("transfer-conference").disabled = !consult;
  $("transfer-cancel").disabled = !consult;
}

/** A call.transfer event: the consultation's state, the conference. */
export function transferEvent(data) {
  if (!ctx.call || data.call_id !== ctx.call.call_id) return;
  unblock();
  showConsult(data.consult, data.conference || []);
}

async function finish(how, button) {
  const call = ctx.call;
  if (!call) return;
  try {
    button.disabled = true;
    await api("POST", `/v1/calls/${encodeURIComponent(call.call_id)}/transfer/${how}`);
    const done = { complete: "Transfer completed.", cancel: "Back with the caller.", conference: "All three are talking." };
    say($("transfer-message"), done[how], "ok");
    if (how !== "conference") showConsult(null);
  } catch (exc) {
    refused(exc);
  } finally {
    button.disabled = false;
  }
}

export function wire() {
  $("note-form").addEventListener("submit", saveNote);
  $("transfer-form").addEventListener("submit", transfer);
  $("transfer-kind").addEventListener("change", () => {
    fillTargets();
    unblock();
  });
  $("transfer-to").addEventListener("input", unblock);
  for (const how of ["complete", "cancel", "conference"]) {
    const button = $(`transfer-${how}`);
    button.addEventListener("click", () => finish(how, button));
  }
  fillTargets();
  render();
  setInterval(tickCall, 1000);
}

/** The directory arrived (or changed): transfer targets, queue names. */
export function directoryChanged() {
  fillTargets();
  render();
}

/** Focus the transfer's first control (Alt+T). */
export function focusTransfer() {
  const kind = $("transfer-kind");
  if (!kind.disabled) kind.focus();
}

/** Focus the note box (Alt+N). */
export function focusNote() {
  const box = $("note-text");
  if (!box.disabled) box.focus();
}
