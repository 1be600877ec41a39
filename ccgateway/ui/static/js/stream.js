// The live event stream: a WebSocket to /v1/events on this origin (the session cookie
// authenticates), resumed with ?after=<last seq>, reconnected with back-off forever.

import { toLogin } from "./api.js";

const CLOSE_UNAUTHENTICATED = 4401;
const MAX_DELAY_MS = 5000;
// A network cut without a FIN leaves a socket "open" for minutes: when nothing has come for
// QUIET_MS, knock on /v1/health without the cookie (any answer, a 401 included, shows the
// controller is reachable; without the cookie it does not keep an idle session alive) and
// give the socket up if nothing answers.
const QUIET_MS = 30000;
const PROBE_TIMEOUT_MS = 5000;

/**
 * Open the stream. `onEvent({seq, at, topic, data})` for every message;
 * `onStatus("live" | "stale", {reconnected})`: "live" once connected (`reconnected` true
 * after the first time: reload what the page shows from REST, events may have been lost
 * across a controller restart), "stale" while it is not. Returns `{close()}`.
 */
export function openStream(onEvent, onStatus = () => {}) {
  let lastSeq = 0;
  let socket = null;
  let attempt = 0;
  let everOpen = false;
  let closed = false;
  let retryTimer = 0;
  let lastHeard = Date.now();
  let status = "";

  function report(next, info) {
    if (next === status && next === "stale") return;
    status = next;
    onStatus(next, info);
  }

  function connect() {
    if (closed) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const after = lastSeq ? `?after=${lastSeq}` : "";
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/v1/events${after}`);
    } catch {
      schedule();
      return;
    }
    socket = ws;
    ws.addEventListener("open", () => {
      lastHeard = Date.now();
      const reconnected = everOpen;
      everOpen = true;
      report("live", { reconnected });
    });
    ws.addEventListener("message", (message) => {
      lastHeard = Date.now();
      attempt = 0;
      let item;
      try {
        item = JSON.parse(message.data);
      } catch {
        return;
      }
      // Seqs start again at 1 after a controller restart; the server then replays from 1.
      if (typeof item.seq === "number") lastSeq = item.seq;
      try {
        onEvent(item);
      } catch (exc) {
        console.error("event handler failed", exc);
      }
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      if (closed) return;
      report("stale", { code: event.code });
      if (event.code === CLOSE_UNAUTHENTICATED) {
        toLogin();
        return;
      }
      schedule();
    });
    // "error" is always followed by "close": nothing to do here.
  }

  function schedule() {
    if (closed) return;
    clearTimeout(retryTimer);
    const base = Math.min(MAX_DELAY_MS, 500 * 2 ** attempt);
    attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    retryTimer = setTimeout(connect, delay);
  }

  async function probe() {
    if (closed || !socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard < QUIET_MS) return;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), PROBE_TIMEOUT_MS);
    try {
      const response = await fetch("/v1/health", {
        credentials: "omit",
        cache: "no-store",
        signal: abort.signal,
      });
      // Any answer means the controller is there; a quiet stream is just a quiet floor.
      if (response.status >= 500) throw new Error(`health ${response.status}`);
      lastHeard = Date.now();
    } catch {
      const ws = socket;
      if (ws) {
        socket = null;
        ws.close();
        report("stale", { code: 0 });
        schedule();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  const prober = setInterval(probe, QUIET_MS / 3);
  window.addEventListener("online", () => {
    if (!socket && !closed) {
      attempt = 0;
      clearTimeout(retryTimer);
      connect();
    }
  });
  connect();

  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(prober);
      if (socket) socket.close(1000);
      socket = null;
    },
  };
}
