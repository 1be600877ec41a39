// The floor as the console and the wallboard hold it: agents with their live state, queues
// with who serves them, and per-queue counts of agents by state, kept by increments as
// agent.state events come in (no request per event).

import { serverClockOffset } from "./api.js";
import { compileRequirement } from "./requirement.js";

/**
 * The server's clock (the browser's may be off): the REST responses' Date header, nudged
 * forward by any event stamped later than that estimate. Events replayed from the stream's
 * history are in the past and say nothing about the clock, so they never pull it back.
 */
export const clock = {
  events: null,
  observe(at) {
    if (!Number.isFinite(at)) return;
    const seen = at - Date.now() / 1000;
    if (this.events === null || seen > this.events) this.events = seen;
  },
  offset() {
    const fromDate = serverClockOffset();
    if (fromDate === null) return this.events ?? 0;
    // An event can only be ahead of the Date estimate by its half-second of rounding.
    return this.events !== null && this.events > fromDate && this.events < fromDate + 0.6 ? this.events : fromDate;
  },
  now() {
    return Date.now() / 1000 + this.offset();
  },
};

/** An API time (ISO 8601 string or epoch seconds) as epoch seconds, or null. */
export function epoch(value) {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value === "number") return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms / 1000;
}

export const STATES = ["available", "reserved", "on_call", "wrap_up", "paused", "logged_out"];
export const STATE_LABELS = {
  available: "Available",
  reserved: "Ringing",
  on_call: "On call",
  wrap_up: "Wrap-up",
  paused: "Paused",
  logged_out: "Logged out",
};

function zeroCounts() {
  return Object.fromEntries(STATES.map((s) => [s, 0]));
}

export class FloorModel {
  constructor() {
    this.agents = new Map(); // id -> {id, name, skills, attributes, state, reason, since, call_id, tasks, queues: Set}
    this.queues = new Map(); // id -> {config, matches(skills, attrs) | null, counts, status, figures}
    this.totals = zeroCounts();
  }

  /** Load the queues (GET /v1/queues) and agents (GET /v1/agents); recount everything. */
  load(queues, agents) {
    this.queues = new Map(
      queues.map((q) => [
        q.id,
        {
          config: q,
          matches: compileRequirement(q.effective_requirement ?? q.requirement ?? ""),
          counts: zeroCounts(),
          status: this.queues.get(q.id)?.status ?? null,
          figures: this.queues.get(q.id)?.figures ?? null,
        },
      ]),
    );
    this.agents = new Map();
    this.totals = zeroCounts();
    for (const a of agents) {
      const agent = {
        id: a.id,
        name: a.name,
        skills: a.skills || {},
        attributes: a.attributes || {},
        state: a.state,
        reason: a.reason,
        since: Number(a.since),
        call_id: a.call_id,
        tasks: a.tasks || [],
        queues: new Set(),
      };
      for (const [queueId, queue] of this.queues) {
        if (queue.matches && queue.matches(agent.skills, agent.attributes)) agent.queues.add(queueId);
      }
      this.agents.set(a.id, agent);
      this._count(agent, 1);
    }
  }

  _count(agent, delta) {
    if (this.totals[agent.state] !== undefined) this.totals[agent.state] += delta;
    for (const queueId of agent.queues) {
      const counts = this.queues.get(queueId)?.counts;
      if (counts && counts[agent.state] !== undefined) counts[agent.state] += delta;
    }
  }

  /**
   * Apply an agent.state event. Returns the agent (or null for one not loaded: the caller
   * should reload the agents) and whether the state itself changed.
   */
  applyAgentState(data, at) {
    const agent = this.agents.get(data.agent_id);
    if (!agent) return { agent: null, stateChanged: false };
    const stateChanged = agent.state !== data.state;
    if (stateChanged) {
      this._count(agent, -1);
      agent.state = data.state;
      agent.since = Number.isFinite(at) ? at : clock.now();
      this._count(agent, 1);
    } else if (agent.reason !== data.reason) {
      agent.since = Number.isFinite(at) ? at : agent.since; // a new pause reason starts anew
    }
    agent.reason = data.reason ?? null;
    agent.call_id = data.call_id ?? null;
    agent.tasks = data.tasks || [];
    return { agent, stateChanged };
  }

  /** Whether queue counts for agents are known (its requirement could be read here). */
  countsKnown(queueId) {
    return Boolean(this.queues.get(queueId)?.matches);
  }
}
