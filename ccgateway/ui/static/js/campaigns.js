// The console's campaigns: state (campaign.state events), live figures and the abandon
// rate against the rule set's limit (GET /v1/campaigns/{id}/figures: no event carries
// figures, so they refresh every 10 s while the page is open, and at once on a state
// change), start / pause / stop, and the abandon rate over the day drawn from the dial
// records (an approximation of the ledger: abandoned over live answered; the table shows
// the ledger's own figure).

import { api } from "./api.js";
import { gauge, lineChart } from "./charts.js";
import { clear, el, fmtPercent, setText } from "./dom.js";

const INTERVAL_S = 15 * 60;
const LIVE = new Set(["connected", "abandoned", "hung_up"]);

export class CampaignsTable {
  /** @param ctx {report(text, ok), intervalLabels(), dayStart()} */
  constructor(ctx) {
    this.ctx = ctx;
    this.body = document.getElementById("campaign-rows");
    this.rows = new Map();
    this.campaigns = new Map();
    this.body.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button && !button.disabled) this.act(button.dataset.action, button.dataset.campaign);
    });
  }

  async load() {
    const list = await api("GET", "/v1/campaigns");
    this.campaigns = new Map(list.map((c) => [c.id, { config: c, figures: null }]));
    this.rows.clear();
    const fragment = document.createDocumentFragment();
    for (const [id, c] of this.campaigns) fragment.append(this._row(id, c.config));
    this.body.replaceChildren(fragment);
    document.getElementById("campaigns-empty").hidden = this.campaigns.size > 0;
    await this.refreshFigures();
  }

  _row(id, config) {
    const cells = {
      state: el("span", { class: "campaign-state", "data-testid": `campaign-state-${id}` }),
      figures: el("td", { class: "tabular", "data-testid": `campaign-figures-${id}` }),
      abandon: el("td", { "data-testid": `campaign-abandon-${id}` }),
    };
    const button = (action, label) =>
      el("button", { type: "button", class: "small", "data-action": action, "data-campaign": id, "data-testid": `campaign-${action}-${id}` }, label);
    const buttons = { start: button("start", "Start"), pause: button("pause", "Pause"), stop: button("stop", "Stop") };
    const tr = el(
      "tr",
      { "data-testid": `campaign-row-${id}` },
      el(
        "th",
        { scope: "row" },
        config.name || id,
        " ",
        el("span", { class: "muted small" }, config.mode),
        el("br"),
        cells.state,
        el("div", { class: "actions" }, buttons.start, buttons.pause, buttons.stop),
      ),
      cells.figures,
      cells.abandon,
    );
    this.rows.set(id, { tr, cells, buttons });
    return tr;
  }

  update(id) {
    const row = this.rows.get(id);
    const c = this.campaigns.get(id);
    if (!row || !c) return;
    const { config, figures: f } = c;
    setText(row.cells.state, config.why_idle && config.state === "running" ? `${config.state} (${config.why_idle})` : config.state);
    row.buttons.start.disabled = config.state === "running";
    row.buttons.pause.disabled = config.state !== "running";
    row.buttons.stop.disabled = config.state === "stopped";
    const lines = `${f ? f.lines_now : config.lines} lines`;
    setText(row.cells.figures, f ? `${lines} · ${f.dials} dials · ${fmtPercent(f.connect_rate)} connected · ${f.hopper} ready` : lines);
    clear(row.cells.abandon);
    if (f) {
      const { rate, limit } = f.ledger;
      const text = `${fmtPercent(rate, 1)} / ${limit === null ? "no limit" : fmtPercent(limit, 1)}`;
      row.cells.abandon.append(
        gauge({ value: rate || 0, limit, label: `abandon rate ${text}` }),
        el("br"),
        el(
          "span",
          { class: `tabular ${limit !== null && rate !== null && rate >= limit ? "level-bad" : f.ledger.stopped ? "level-warn" : ""}` },
          text,
        ),
        // The ledger's "stopped": one more abandon would break the limit, so agents are kept.
        f.ledger.stopped ? el("span", { class: "muted small" }, " · at the edge: no predictive dialling") : "",
      );
    }
  }

  async refreshFigures() {
    await Promise.all(
      [...this.campaigns.keys()].map(async (id) => {
        try {
          this.campaigns.get(id).figures = await api("GET", `/v1/campaigns/${encodeURIComponent(id)}/figures`);
        } catch {
          // Shown as "–"; the next refresh tries again.
        }
        this.update(id);
      }),
    );
  }

  /** campaign.state {campaign_id, state, idle}. */
  applyEvent(data) {
    const c = this.campaigns.get(data.campaign_id);
    if (!c) return false; // a new campaign: the caller reloads
    c.config.state = data.state;
    c.config.why_idle = data.idle || "";
    this.update(data.campaign_id);
    return true;
  }

  async act(action, id) {
    const name = this.campaigns.get(id)?.config.name || id;
    try {
      const result = await api("POST", `/v1/campaigns/${encodeURIComponent(id)}/${action}`);
      const c = this.campaigns.get(id);
      if (c && result && typeof result === "object" && result.state) Object.assign(c.config, result);
      this.update(id);
      this.ctx.report(`Campaign ${name}: ${action} done (now ${c?.config.state ?? "?"}).`, true);
    } catch (exc) {
      this.ctx.report(`Campaign ${name}: ${action} refused: ${exc.message}`, false);
    }
  }

  /** The abandon rate per 15-minute interval today, cumulative, from the dial records. */
  async drawAbandonChart() {
    const holder = document.getElementById("chart-abandon");
    const start = this.ctx.dayStart();
    const labels = this.ctx.intervalLabels();
    const series = [];
    let limit = null;
    for (const [id, c] of this.campaigns) {
      const dials = await fetchAll(`/v1/campaigns/${encodeURIComponent(id)}/dials`, { since: new Date(start * 1000).toISOString() });
      if (!dials.length) continue;
      const live = new Array(labels.length).fill(0);
      const abandoned = new Array(labels.length).fill(0);
      for (const d of dials) {
        const i = Math.floor((Date.parse(d.ended_at) / 1000 - start) / INTERVAL_S);
        if (i < 0 || i >= labels.length) continue;
        if (LIVE.has(d.outcome) || d.live_at) live[i] += 1;
        if (d.outcome === "abandoned") abandoned[i] += 1;
      }
      const now = Math.floor((Date.now() / 1000 - start) / INTERVAL_S);
      let sumLive = 0;
      let sumAbandoned = 0;
      const values = labels.map((_, i) => {
        sumLive += live[i];
        sumAbandoned += abandoned[i];
        return i > now || !sumLive ? null : sumAbandoned / sumLive;
      });
      series.push({ name: c.config.name || id, values });
      const own = c.figures?.ledger.limit;
      if (own !== null && own !== undefined) limit = limit === null ? own : Math.min(limit, own);
    }
    if (!series.length) {
      holder.replaceChildren(el("p", { class: "muted" }, "No dials today."));
      return;
    }
    const legend = el(
      "p",
      { class: "legend" },
      series.map((s, n) => [el("span", { class: `key chart-line-key-${n % 6}` }), s.name, " "]),
    );
    holder.replaceChildren(lineChart({ title: "Abandon rate over the day", labels, series, limit: limit ?? undefined }), legend);
  }
}

/** Every record of a paged list endpoint (limit 1000 per page), up to 20,000. */
export async function fetchAll(path, params) {
  const out = [];
  for (let offset = 0; offset < 20000; offset += 1000) {
    const query = new URLSearchParams({ ...params, limit: "1000", offset: String(offset) });
    const page = await api("GET", `${path}?${query}`);
    out.push(...page);
    if (page.length < 1000) break;
  }
  return out;
}
