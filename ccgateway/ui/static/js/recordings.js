// The console's recordings: the recent ones a page at a time (GET /v1/recordings, newest
// first, limit/offset, by agent), read again when a recording.state event says one started,
// paused, resumed or ended, and a player: an <audio> element whose src is
// /v1/recordings/{id}/audio (same origin: the session cookie authenticates it, and the CSP's
// default-src 'self' allows it). The server writes every playback to the audit log before
// it sends the file. Every value goes in as text.

import { api } from "./api.js";
import { el, fmtDuration, fmtTime, setText } from "./dom.js";
import { fill } from "./floor.js";
import { epoch } from "./model.js";

const PAGE = 25;
// A file is measured (size, checksum) a moment after its call ends, with no event for it:
// a page showing an ended recording without a size reads again, a few times.
const REMEASURE_MS = 3000;
const REMEASURE_TRIES = 5;
const LABELS = { recording: "recording", paused: "paused", ended: "ended" };

/** recording, paused, ended, or failed (nothing recorded: `failure` says why). */
export function stateOf(r) {
  if (r.failure) return "failed";
  if (r.ended_at) return "ended";
  const last = (r.pauses || []).at(-1);
  return last && !last.resumed_at ? "paused" : "recording";
}

/** Bytes as "812 B", "48 KB", "3.2 MB"; "–" before the file is measured. */
export function fmtSize(bytes) {
  if (bytes === undefined || bytes === null || !Number.isFinite(Number(bytes))) return "–";
  const n = Number(bytes);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function pausedFor(r) {
  let total = 0;
  for (const p of r.pauses || []) {
    const from = epoch(p.paused_at);
    const to = epoch(p.resumed_at) ?? epoch(r.ended_at);
    if (from !== null && to !== null) total += Math.max(0, to - from);
  }
  return total;
}

export class RecordingsPanel {
  /** @param ctx {model, calls (call_id -> the live call, with caller_name), report(text, ok)} */
  constructor(ctx) {
    this.ctx = ctx;
    this.offset = 0;
    this.byId = new Map();
    this.names = new Map(); // call id -> the caller's name, seen while the call was live
    this.timer = 0;
    this.seq = 0;
    this.unmeasured = new Map(); // recording id -> re-reads spent waiting for its size
    this.body = document.getElementById("recording-rows");
    this.player = document.getElementById("recording-player");
    this.message = document.getElementById("recording-message");
    this.body.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action='play']");
      if (button && !button.disabled) this.play(button.dataset.recording);
    });
    document.getElementById("recording-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      this.offset = 0;
      this.load();
    });
    document.getElementById("recordings-newer").addEventListener("click", () => this.page(-1));
    document.getElementById("recordings-older").addEventListener("click", () => this.page(1));
    this.player.addEventListener("error", () => {
      if (!this.player.getAttribute("src")) return;
      const detail = this.player.error?.message || "";
      this.say(`The recording could not be played: no file in the recordings folder yet, or not allowed${detail ? ` (${detail})` : ""}.`);
    });
  }

  say(text) {
    this.message.hidden = !text;
    setText(this.message, text);
  }

  page(step) {
    this.offset = Math.max(0, this.offset + step * PAGE);
    this.load();
  }

  /** A recording.state event: read the first page again, a moment later (events come in
   * bursts: a pause and its resume, the end of several calls). Other pages stay put. */
  soon() {
    if (this.offset !== 0 || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.load();
    }, 700);
  }

  async load() {
    const agents = [...this.ctx.model.agents.values()].map((a) => [a.id, a.name || a.id]);
    fill("recording-agent", agents.sort((a, b) => a[1].localeCompare(b[1])));
    const query = new URLSearchParams({ limit: String(PAGE + 1), offset: String(this.offset) });
    const agent = document.getElementById("recording-agent").value;
    if (agent) query.set("agent_id", agent);
    const seq = ++this.seq;
    let list;
    try {
      list = await api("GET", `/v1/recordings?${query}`);
    } catch (exc) {
      if (seq === this.seq) this.say(`The recordings could not be read: ${exc.message}`);
      return;
    }
    if (seq !== this.seq) return; // a later request is under way: its answer counts
    this.say("");
    const shown = list.slice(0, PAGE);
    this.byId = new Map(shown.map((r) => [r.id, r]));
    this.body.replaceChildren(...shown.map((r) => this.row(r)));
    document.getElementById("recordings-empty").hidden = shown.length > 0;
    document.getElementById("recordings-newer").disabled = this.offset === 0;
    document.getElementById("recordings-older").disabled = list.length <= PAGE;
    const first = shown.length ? this.offset + 1 : 0;
    setText(document.getElementById("recordings-page"), shown.length ? `${first}–${this.offset + shown.length}` : "");
    this.awaitSizes(shown);
  }

  awaitSizes(shown) {
    const waiting = shown.filter((r) => stateOf(r) === "ended" && (r.size === null || r.size === undefined));
    const due = waiting.filter((r) => (this.unmeasured.get(r.id) || 0) < REMEASURE_TRIES);
    for (const r of due) this.unmeasured.set(r.id, (this.unmeasured.get(r.id) || 0) + 1);
    if (this.unmeasured.size > 500) this.unmeasured.delete(this.unmeasured.keys().next().value);
    if (!due.length || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.load();
    }, REMEASURE_MS);
  }

  callerName(r) {
    // The API's record has the number; the name is the live call's while it lasts.
    const live = this.ctx.calls.get(r.call_id)?.caller_name;
    if (live) this.names.set(r.call_id, live);
    if (this.names.size > 500) this.names.delete(this.names.keys().next().value);
    return r.caller_name || live || this.names.get(r.call_id) || "";
  }

  row(r) {
    const { model } = this.ctx;
    const state = stateOf(r);
    const started = epoch(r.started_at);
    const ended = epoch(r.ended_at);
    const when = fmtTime(started, { date: true });
    const number = r.caller_number || "unknown number";
    const paused = pausedFor(r);
    const playable = state === "ended";
    const why = state === "failed" ? "nothing was recorded" : "the call is still going on";
    return el(
      "tr",
      { "data-testid": `recording-row-${r.id}`, dataset: { recording: r.id, state } },
      el("td", { class: "nowrap tabular" }, when),
      el(
        "td",
        { class: "caller" },
        el("span", { "data-testid": "recording-number" }, number),
        el("span", { class: "caller-name", "data-testid": "recording-caller-name" }, this.callerName(r)),
      ),
      el("td", null, model.queues.get(r.queue_id)?.config.name || r.queue_id || "–"),
      el("td", { "data-testid": "recording-agent-name" }, model.agents.get(r.agent_id)?.name || r.agent_id || "–"),
      el(
        "td",
        { "data-testid": "recording-state" },
        el("span", { class: `rec-state-${state}` }, LABELS[state] || "not recorded"),
        state === "failed" ? el("span", { class: "muted small" }, `: ${r.failure}`) : "",
      ),
      el("td", { class: "num" }, ended !== null && started !== null ? fmtDuration(ended - started) : "live"),
      el(
        "td",
        { class: "num", "data-testid": "recording-pauses", title: paused ? `paused ${fmtDuration(paused)} in all` : undefined },
        (r.pauses || []).length,
      ),
      el("td", { class: "num", "data-testid": "recording-size" }, fmtSize(r.size)),
      el(
        "td",
        { class: "actions" },
        el(
          "button",
          {
            type: "button",
            class: "small",
            "data-action": "play",
            "data-recording": r.id,
            "data-testid": `recording-play-${r.id}`,
            "aria-label": `Play the recording of ${number} at ${when}`,
            title: playable ? undefined : `Not playable: ${why}`,
            disabled: !playable,
          },
          "Play",
        ),
      ),
    );
  }

  /** Play a recording in the panel's player (the request for its file is audited). */
  play(id) {
    const r = this.byId.get(id);
    if (!r) return;
    this.say("");
    document.getElementById("recording-player-row").hidden = false;
    this.player.src = `/v1/recordings/${encodeURIComponent(id)}/audio`;
    setText(
      document.getElementById("recording-playing"),
      `Recording of ${r.caller_number || "unknown number"}, ${fmtTime(epoch(r.started_at), { date: true })}`,
    );
    this.player.play().catch((exc) => {
      // A refused autoplay leaves the controls there to press; a failed load says so itself.
      if (exc && exc.name === "NotAllowedError") this.say("Press play on the player to listen.");
    });
    this.ctx.report(`Playing the recording of ${r.caller_number || id} (the controller notes each playback in the audit log).`, true);
  }
}
