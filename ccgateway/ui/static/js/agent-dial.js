// Outbound: the preview card (dial or skip with a reason), the contact's card once the call
// is up, the campaign's script with its questions, and the disposition with an optional
// callback (for me or anyone). Refusals (the rules said no) are shown with the API's reason.

import { api, ApiError } from "./api.js";
import { el, clear, fmtDuration, setText } from "./dom.js";
import { $, ctx, announce, busy, now, say, why } from "./agent-util.js";
import { enableNotes, loadHistory, reloadHistory } from "./agent-call.js";

let formDial = null; // the dial the disposition form is for (a new dial may be on screen)
const campaigns = new Map(); // campaign id -> CampaignOut, or null when not readable (agents)
const EVENTS = {
  dialing: "dialling the customer",
  agent_ringing: "ringing my phone",
  live: "the customer answered",
  connected: "connected",
  machine: "an answering machine",
  abandoned: "abandoned",
  ended: "ended",
  skipped: "skipped",
  withdrawn: "withdrawn",
  refused: "refused",
};

async function campaign(id) {
  if (campaigns.has(id)) return campaigns.get(id);
  // Agents may not read campaigns: the directory has their dispositions and scripts.
  if (ctx.session?.role === "agent") return null;
  let found = null;
  try {
    found = await api("GET", `/v1/campaigns/${encodeURIComponent(id)}`);
  } catch (exc) {
    if (!(exc instanceof ApiError) || ![403, 404].includes(exc.status)) console.warn(exc);
  }
  campaigns.set(id, found);
  return found;
}

/** A campaign the directory read at load did not know (started since): read it again. */
async function ensureDirectory(id) {
  if (ctx.directory.dispositions?.[id]) return;
  try {
    const directory = await api("GET", "/v1/directory");
    ctx.directory.dispositions = directory.dispositions || {};
    ctx.directory.scripts = directory.scripts || {};
  } catch (exc) {
    console.warn("directory", exc);
  }
}

function dispositionsOf(id, full) {
  const raw = (full && full.dispositions) || ctx.directory.dispositions?.[id] || [];
  return raw.map((d) => (typeof d === "string" ? { code: d, label: d, callback: /callback/i.test(d) } : d));
}

function scriptOf(id, full) {
  return (full && full.script) || ctx.directory.scripts?.[id] || null;
}

// --- cards ---------------------------------------------------------------------------------

function fillContact(list, contact) {
  clear(list);
  if (!contact) return;
  const rows = [
    ["Name", contact.name],
    ["Number", contact.number],
    ...Object.entries(contact.fields || {}),
    ["Attempts", contact.attempts],
    ["Last outcome", contact.last_outcome],
  ];
  for (const [key, value] of rows) {
    if (value === undefined || value === null || value === "") continue;
    list.append(el("div", {}, el("dt", {}, key), el("dd", {}, String(value))));
  }
}

function showPanel() {
  $("outbound-panel").hidden = false;
}

/** A dial.preview event: the contact offered to me, to dial or skip. */
export function preview(data, at = null) {
  ctx.dial = {
    dial_id: data.dial_id,
    campaign_id: data.campaign_id,
    contact_id: data.contact?.id,
    contact: data.contact,
    stage: "preview",
    expires_at: (at ?? now()) + Number(data.expires_in_s || 0),
    connected: false,
  };
  showPanel();
  say($("dial-message"), "");
  $("dial-card").hidden = true;
  if (!formDial || formDial.disposed) $("disposition-form").hidden = true;
  setText($("preview-campaign"), data.campaign_id);
  fillContact($("preview-fields"), data.contact);
  $("preview-card").hidden = false;
  $("preview-dial").disabled = false;
  $("preview-skip").disabled = false;
  $("skip-reason").value = "";
  tick();
  enableNotes();
  announce(`Preview: ${data.contact?.name || data.contact?.number || "a contact"}. Dial or skip.`);
  if (data.contact?.number) loadHistory({ number: data.contact.number }, true);
  else if (data.contact?.id) loadHistory({ contactId: `${data.campaign_id}:${data.contact.id}` }, true);
}

/** The preview's time left. */
export function tick() {
  const dial = ctx.dial;
  if (!dial || dial.stage !== "preview" || !dial.expires_at) return;
  setText($("preview-left"), fmtDuration(Math.max(0, dial.expires_at - now())));
}

async function answerPreview(action) {
  const dial = ctx.dial;
  if (!dial || dial.stage !== "preview") return;
  const reason = $("skip-reason").value.trim();
  const button = $(action === "dial" ? "preview-dial" : "preview-skip");
  const done = await busy(
    button,
    async () => {
      await api("POST", `/v1/agents/${encodeURIComponent(ctx.me)}/preview`, {
        dial_id: dial.dial_id,
        action,
      });
      return true;
    },
    $("dial-message"),
  );
  if (!done) return; // the API's reason (a refusal, an expired preview) is in dial-message
  if (action === "skip") {
    $("preview-card").hidden = true;
    dial.stage = "skipped";
    say($("dial-message"), reason ? `Skipped: ${reason}` : "Skipped.", "info");
    if (reason) {
      // The preview answer has no reason field: keep it as a note on the dial.
      try {
        await api("POST", "/v1/notes", { dial_id: dial.dial_id, text: `Skipped: ${reason}` });
      } catch (exc) {
        say($("dial-message"), `Skipped (the reason was not saved: ${why(exc)})`, "info");
      }
    }
  } else {
    dial.stage = "dialling";
    dial.requested = true;
    $("preview-dial").disabled = true;
    $("preview-skip").disabled = true;
    say($("dial-message"), "Dialling: your phone rings first.", "info");
  }
}

/** A dial.state event for one of my dials. */
export async function dialState(data) {
  let dial = ctx.dial;
  if (!dial || dial.dial_id !== data.dial_id) {
    if (["skipped", "withdrawn", "ended", "refused"].includes(data.event) && !data.contact) return;
    dial = ctx.dial = {
      dial_id: data.dial_id,
      campaign_id: data.campaign_id,
      contact_id: data.contact_id,
      contact: data.contact || null,
      stage: "dialling",
      connected: false,
    };
  }
  if (data.contact) dial.contact = data.contact;
  dial.event = data.event;
  showPanel();
  switch (data.event) {
    case "skipped":
      $("preview-card").hidden = true;
      return;
    case "withdrawn":
      $("preview-card").hidden = true;
      say(
        $("dial-message"),
        dial.requested
          ? "Not dialled: the controller's rules refused this call now (calling hours, consent, do-not-call) or it was withdrawn."
          : "The preview was withdrawn (not answered in time).",
        "error",
      );
      dial.stage = "gone";
      return;
    case "refused": {
      $("preview-card").hidden = true;
      const rule = data.rule ? ` (${data.rule})` : "";
      say($("dial-message"), `Refused by the rules${rule}: ${data.detail || data.reason || "not allowed now"}`, "error");
      dial.stage = "gone";
      return;
    }
    default:
      break;
  }
  $("preview-card").hidden = true;
  $("dial-card").hidden = false;
  setText($("dial-campaign"), dial.campaign_id);
  setText($("dial-event"), `(${EVENTS[data.event] || data.event}${data.outcome ? `: ${data.outcome}` : ""})`);
  fillContact($("dial-fields"), dial.contact);
  if (data.event === "connected" || data.event === "live") {
    say($("dial-message"), "");
  }
  if (data.event === "connected" && !dial.connected) {
    dial.connected = true;
    enableNotes();
    if (dial.contact_id) loadHistory({ contactId: `${dial.campaign_id}:${dial.contact_id}` }, true);
    await openDisposition(dial);
  }
  if (data.event === "machine" || data.event === "abandoned") {
    say($("dial-message"), `The call ended: ${EVENTS[data.event]}.`, "info");
  }
}

// --- script and disposition ---------------------------------------------------------------

async function openDisposition(dial) {
  const [full] = await Promise.all([campaign(dial.campaign_id), ensureDirectory(dial.campaign_id)]);
  if (ctx.dial !== dial) return;
  formDial = dial;
  const form = $("disposition-form");
  const codes = dispositionsOf(dial.campaign_id, full);
  const select = $("disposition-code");
  clear(select);
  select.append(el("option", { value: "" }, "— choose —"));
  for (const d of codes) {
    select.append(el("option", { value: d.code, dataset: { callback: d.callback ? "1" : "" } }, d.label || d.code));
  }
  renderScript(scriptOf(dial.campaign_id, full), dial.contact);
  $("callback-row").hidden = true;
  $("callback-at").value = "";
  $("callback-at").min = localInput(new Date());
  $("callback-who").value = "me";
  $("disposition-note").value = "";
  say($("disposition-message"), "");
  $("disposition-save").disabled = false;
  form.hidden = false;
}

/** A Date as a datetime-local input's value (the browser's own zone). */
function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function fillFields(text, contact) {
  const fields = { name: contact?.name, number: contact?.number, ...(contact?.fields || {}) };
  return String(text || "").replace(/\{([A-Za-z0-9_]+)\}/g, (whole, key) =>
    fields[key] !== undefined && fields[key] !== null ? String(fields[key]) : whole,
  );
}

function questionControl(q) {
  const id = `answer-${q.id}`;
  const common = { id, name: q.id, "data-testid": id, required: q.required || undefined };
  switch (q.kind) {
    case "choice":
      return el("select", common, el("option", { value: "" }, "—"), (q.options || []).map((o) => el("option", { value: o }, o)));
    case "yes_no":
      return el("select", { ...common, dataset: { kind: "yes_no" } },
        el("option", { value: "" }, "—"), el("option", { value: "yes" }, "yes"), el("option", { value: "no" }, "no"));
    case "scale": {
      const min = Number.isFinite(q.minimum) ? q.minimum : 1;
      const max = Number.isFinite(q.maximum) ? q.maximum : 5;
      if (max - min <= 20) {
        const options = [];
        for (let v = min; v <= max; v += 1) options.push(el("option", { value: String(v) }, String(v)));
        return el("select", { ...common, dataset: { kind: "number" } }, el("option", { value: "" }, "—"), options);
      }
      return el("input", { ...common, type: "number", step: "1", min, max, dataset: { kind: "number" } });
    }
    case "number":
      return el("input", {
        ...common, type: "number", step: "any", dataset: { kind: "number" },
        min: Number.isFinite(q.minimum) ? q.minimum : undefined,
        max: Number.isFinite(q.maximum) ? q.maximum : undefined,
      });
    default:
      return el("textarea", { ...common, rows: 2, maxlength: 2000 });
  }
}

function renderScript(script, contact) {
  const box = $("questions");
  clear(box);
  const text = $("script-text");
  const questions = (script && script.questions) || [];
  if (!script || (!script.text && !questions.length)) {
    setText(text, "No script for this campaign is available to you.");
    text.classList.add("muted");
    return;
  }
  text.classList.remove("muted");
  setText(text, fillFields(script.text, contact));
  for (const q of questions) {
    const label = el("label", { for: `answer-${q.id}` }, q.text, q.required ? " (required)" : "");
    box.append(el("div", { class: "question", dataset: { question: q.id } }, label, questionControl(q)));
  }
  box.dataset.questions = JSON.stringify(questions.map((q) => q.id));
}

function collectAnswers() {
  const answers = {};
  for (const node of $("questions").querySelectorAll("[name]")) {
    const value = node.value.trim();
    if (value === "") continue;
    const kind = node.dataset.kind;
    if (kind === "yes_no") answers[node.name] = value === "yes";
    else if (kind === "number") answers[node.name] = Number(value);
    else answers[node.name] = value;
  }
  return answers;
}

function codeChanged() {
  const option = $("disposition-code").selectedOptions[0];
  const callback = Boolean(option && option.dataset.callback);
  $("callback-row").hidden = !callback;
  $("callback-at").required = callback;
}

async function dispose(event) {
  event.preventDefault();
  const dial = formDial;
  if (!dial || !dial.dial_id || dial.disposed) return;
  const code = $("disposition-code").value;
  const message = $("disposition-message");
  if (!code) {
    say(message, "Choose the outcome.", "error");
    $("disposition-code").focus();
    return;
  }
  const missing = [...$("questions").querySelectorAll("[required]")].find((n) => !n.value.trim());
  if (missing) {
    say(message, "Answer the required questions.", "error");
    missing.focus();
    return;
  }
  const body = { code, answers: collectAnswers(), note: $("disposition-note").value.trim() };
  if (!$("callback-row").hidden) {
    const local = $("callback-at").value;
    if (!local) {
      say(message, "Give the time to call back.", "error");
      $("callback-at").focus();
      return;
    }
    body.callback_at = new Date(local).toISOString();
    body.callback_agent_id = $("callback-who").value === "me" ? ctx.me : null;
  }
  const saved = await busy(
    $("disposition-save"),
    () => api("POST", `/v1/dials/${encodeURIComponent(dial.dial_id)}/disposition`, body),
    message,
  );
  if (!saved) return;
  say(message, "Disposition saved.", "ok");
  $("disposition-save").disabled = true;
  dial.disposed = true;
  reloadHistory();
}

/** A new inbound call: put away a dial that is over (disposed, skipped, withdrawn). */
export function clearIfDone() {
  const dial = ctx.dial;
  if (dial && !dial.disposed && !["gone", "skipped"].includes(dial.stage)) return;
  ctx.dial = null;
  $("outbound-panel").hidden = true;
}

/** Alt+G: dial the previewed contact. */
export function dialPreview() {
  if (!$("preview-card").hidden && !$("preview-dial").disabled) answerPreview("dial");
}

/** Alt+S: save the disposition. */
export function saveDisposition() {
  if (!$("disposition-form").hidden && !$("disposition-save").disabled) {
    $("disposition-form").requestSubmit();
  }
}

export function wire() {
  $("preview-dial").addEventListener("click", () => answerPreview("dial"));
  $("preview-skip").addEventListener("click", () => answerPreview("skip"));
  $("disposition-code").addEventListener("change", codeChanged);
  $("disposition-form").addEventListener("submit", dispose);
  setInterval(tick, 1000);
}
