// Thresholds for the colours of the console and the wallboard (green / amber / red).
//
// The API has no threshold settings, so they live in the browser: defaults below, changed
// per screen with a JSON object either in `?thresholds=<JSON>` (kept in localStorage for the
// next load, so a TV can be set up once from its URL) or in localStorage["ccgw.thresholds"]:
//
//   {"default": {"waiting": [3, 6], "longest_wait_s": [30, 60],
//                "service_level": [0.8, 0.6], "abandonment": [0.05, 0.1],
//                "service_level_target": 0.8},
//    "queues": {"sales": {"waiting": [5, 10]}},
//    "agents": {"on_call_s": [600, 1200], "paused_s": [600, 1200], "wrap_up_s": [60, 180]}}
//
// Each pair is [amber, red]: at or past the first amber, at or past the second red. For the
// service level lower is worse: below the first amber, below the second red.

const KEY = "ccgw.thresholds";

export const DEFAULTS = Object.freeze({
  default: {
    waiting: [3, 6],
    longest_wait_s: [30, 60],
    service_level: [0.8, 0.6],
    abandonment: [0.05, 0.1],
    service_level_target: 0.8,
  },
  queues: {},
  agents: { on_call_s: [600, 1200], paused_s: [600, 1200], wrap_up_s: [60, 180] },
});

const LOWER_IS_WORSE = new Set(["service_level"]);

function pair(value) {
  return Array.isArray(value) && value.length === 2 && value.every((v) => Number.isFinite(Number(v)))
    ? value.map(Number)
    : null;
}

function clean(raw) {
  const out = { default: { ...DEFAULTS.default }, queues: {}, agents: { ...DEFAULTS.agents } };
  if (!raw || typeof raw !== "object") return out;
  const merge = (into, from) => {
    if (!from || typeof from !== "object") return;
    for (const [name, value] of Object.entries(from)) {
      if (name === "service_level_target") {
        if (Number.isFinite(Number(value))) into[name] = Number(value);
      } else if (pair(value)) {
        into[name] = pair(value);
      }
    }
  };
  merge(out.default, raw.default);
  merge(out.agents, raw.agents);
  if (raw.queues && typeof raw.queues === "object") {
    for (const [queueId, settings] of Object.entries(raw.queues)) {
      const own = {};
      merge(own, settings);
      out.queues[queueId] = own;
    }
  }
  return out;
}

/** The thresholds in force for this screen: the URL's, else localStorage's, else defaults. */
export function loadThresholds() {
  const fromUrl = new URLSearchParams(location.search).get("thresholds");
  if (fromUrl) {
    try {
      const parsed = JSON.parse(fromUrl);
      try {
        localStorage.setItem(KEY, JSON.stringify(parsed));
      } catch {
        // Storage may be off (private mode): the URL still applies.
      }
      return clean(parsed);
    } catch {
      console.warn("ignoring ?thresholds=: not JSON");
    }
  }
  try {
    const stored = localStorage.getItem(KEY);
    if (stored) return clean(JSON.parse(stored));
  } catch {
    // Unreadable: the defaults.
  }
  return clean(null);
}

/** "ok" | "warn" | "bad" for a queue's figure, or "" when there is nothing to judge. */
export function queueLevel(thresholds, queueId, figure, value) {
  if (value === undefined || value === null || !Number.isFinite(Number(value))) return "";
  const limits = thresholds.queues[queueId]?.[figure] || thresholds.default[figure];
  if (!limits) return "";
  const [amber, red] = limits;
  const v = Number(value);
  if (LOWER_IS_WORSE.has(figure)) return v < red ? "bad" : v < amber ? "warn" : "ok";
  return v >= red ? "bad" : v >= amber ? "warn" : "ok";
}

/** The service level target of a queue (a share, 0.8 = 80 %). */
export function serviceLevelTarget(thresholds, queueId) {
  return thresholds.queues[queueId]?.service_level_target ?? thresholds.default.service_level_target;
}

/** "warn" | "bad" | "" for an agent who has been in `state` for `seconds`. */
export function agentLevel(thresholds, state, seconds) {
  const limits = thresholds.agents[`${state}_s`];
  if (!limits || !Number.isFinite(seconds)) return "";
  return seconds >= limits[1] ? "bad" : seconds >= limits[0] ? "warn" : "";
}
