// The recording of the call on my screen: whether it is being recorded (recording.state
// events; on a reload the stream replays its history, so the latest state of the call comes
// again), Pause / Resume (PCI DSS: pause before a customer reads out a card number), and
// Start where the queue records on demand. The API's refusals are shown as text.

import { api, ApiError } from "./api.js";
import { setText } from "./dom.js";
import { $, ctx, say, why } from "./agent-util.js";

const KEEP = 50; // calls whose last recording state is kept (a reload replays many)
const known = new Map(); // call id -> {recording_id, state} from the latest recording.state
let acting = false; // a request is out: the buttons wait for its answer
let heard = 0; // recording.state events so far (did one come while a request was out?)

const TEXT = {
  recording: "REC: this call is being recorded",
  paused: "Recording paused",
  ended: "Recording ended",
  refused: "Not recorded: the caller refused",
  failed: "Not recorded: the recording failed",
  none: "Not recorded",
};

/** A recording.state event `{recording_id, call_id, agent_id, state}` (mine only). */
export function event(data) {
  if (!data || !data.call_id) return;
  heard += 1;
  remember(data.call_id, data.recording_id, data.state);
  if (ctx.call && ctx.call.call_id === data.call_id) render();
}

/** A call read from the API: its `recording` {id, state} when the API gives it. */
export function fromCall(live) {
  const rec = live && live.recording;
  if (rec === undefined) return;
  if (rec === null) known.delete(live.call_id);
  else remember(live.call_id, rec.id, rec.state);
  render();
}

/** After a reload, where the stream's history no longer has it: the recordings list
 * (which an agent may read only where `recordings.agents_hear_own` allows). */
export async function lookUp(callId) {
  if (known.has(callId)) return;
  try {
    const found = await api("GET", `/v1/recordings?call_id=${encodeURIComponent(callId)}&limit=1`);
    const [rec] = found || [];
    if (rec && !known.has(callId)) {
      remember(callId, rec.id, stateOf(rec));
      render();
    }
  } catch (exc) {
    if (!(exc instanceof ApiError && exc.status === 403)) console.warn("recordings", exc);
  }
}

function remember(callId, recordingId, state) {
  known.delete(callId); // to the end: the oldest go first
  known.set(callId, { recording_id: recordingId || "", state: state || "none" });
  while (known.size > KEEP) known.delete(known.keys().next().value);
}

/** The state of a recording as GET /v1/recordings gives it (as the events name it). */
export function stateOf(rec) {
  if (rec.failure) return "failed"; // the event alone says whether the caller refused
  if (rec.ended_at) return "ended";
  const last = (rec.pauses || []).at(-1);
  return last && !last.resumed_at ? "paused" : "recording";
}

function current() {
  const call = ctx.call;
  if (!call || call.ended || call.state !== "connected") return null;
  return known.get(call.call_id) || { recording_id: "", state: "none" };
}

/** Show the call's recording state and the buttons that apply to it. */
export function render() {
  const row = $("recording-row");
  const rec = current();
  row.hidden = rec === null;
  if (rec === null) {
    say($("rec-message"), "");
    return;
  }
  const indicator = $("rec-indicator");
  const state = TEXT[rec.state] ? rec.state : "none";
  indicator.dataset.state = state;
  indicator.className = `rec rec-${state}`;
  setText(indicator, TEXT[state]);
  const toggle = $("rec-toggle");
  const live = state === "recording" || state === "paused";
  toggle.hidden = !live;
  toggle.disabled = acting;
  setText(toggle, state === "paused" ? "Resume recording" : "Pause recording");
  const start = $("rec-start");
  start.hidden = !(state === "none" || state === "failed");
  start.disabled = acting;
}

/** The call ended or another came: nothing of the last one's messages stays. */
export function reset() {
  say($("rec-message"), "");
  render();
}

async function act(action) {
  const call = ctx.call;
  if (!call || acting) return;
  acting = true;
  render();
  say($("rec-message"), "");
  const before = heard;
  try {
    const done = await api("POST", `/v1/calls/${encodeURIComponent(call.call_id)}/recording`, { action });
    // The controller has done it when it answers, and its event says so too, before or
    // after this answer: an event that came meanwhile is newer news (a PBX that refused
    // to start the recording at once), so the answer only stands in for one not yet here.
    if (heard === before) remember(call.call_id, done?.recording_id, action === "pause" ? "paused" : "recording");
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 404 && action !== "start") {
      remember(call.call_id, "", "none"); // "not being recorded": say so
    }
    say($("rec-message"), `Recording not ${action === "start" ? "started" : action === "pause" ? "paused" : "resumed"}: ${why(exc)}`, "error");
  } finally {
    acting = false;
    render();
  }
}

/** Pause a running recording, resume a paused one (Alt+R). Never starts one: an agent
 * reaching for "pause" before a card number must not start the tape instead. */
export function toggle() {
  const rec = current();
  if (!rec) return;
  if (rec.state === "recording") act("pause");
  else if (rec.state === "paused") act("resume");
  else say($("rec-message"), "This call is not being recorded: there is nothing to pause.", "info");
}

export function wire() {
  $("rec-toggle").addEventListener("click", () => toggle());
  $("rec-start").addEventListener("click", () => act("start"));
  render();
}
