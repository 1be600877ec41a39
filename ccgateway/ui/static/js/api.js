// The REST API for the pages: same origin, the session cookie authenticates, every
// state-changing request carries the session's CSRF token. Errors are thrown as ApiError
// with the API's stable error_id.

export class ApiError extends Error {
  constructor(status, errorId, message, details) {
    super(message || errorId || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.errorId = errorId || "";
    this.details = details ?? null;
  }
}

const LOGIN_PAGE = "/ui/";
let current = null; // the session body of GET/POST /v1/session
let clockOffset = null; // the server's clock minus ours, in seconds, from the Date header

/** The server's clock minus the browser's (seconds; null until a response came). */
export function serverClockOffset() {
  return clockOffset;
}

/** The page for a role once signed in. */
export function pageFor(role) {
  if (role === "agent") return "/ui/agent";
  if (role === "wallboard") return "/ui/wallboard";
  return "/ui/console";
}

/** Go to the login page, coming back here afterwards. */
export function toLogin() {
  const here = location.pathname + location.search;
  const next = here.startsWith("/ui/") && here !== LOGIN_PAGE ? `?next=${encodeURIComponent(here)}` : "";
  location.assign(LOGIN_PAGE + next);
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  const init = { method, credentials: "same-origin", headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (!["GET", "HEAD", "OPTIONS"].includes(method) && current?.csrf_token) {
    headers["X-CSRF-Token"] = current.csrf_token;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (exc) {
    throw new ApiError(0, "network", "The controller cannot be reached.", String(exc));
  }
  const date = Date.parse(response.headers.get("Date") || "");
  // The header has whole seconds: the middle of that second is the best guess.
  if (!Number.isNaN(date)) clockOffset = date / 1000 + 0.5 - Date.now() / 1000;
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const err = data && typeof data === "object" ? data : {};
    const error = new ApiError(
      response.status,
      err.error_id || "",
      err.message || (typeof data === "string" ? data : `HTTP ${response.status}`),
      err.details,
    );
    const retry = response.headers.get("Retry-After");
    if (retry) error.retryAfter = Number(retry);
    throw error;
  }
  return data;
}

/**
 * Call the API: `await api("POST", "/v1/agents/a1/state", {state: "available"})`.
 * Returns the JSON body (null for 204). Throws ApiError{status, errorId, message}.
 * A 401 outside /v1/session (the session ended: idle, logged out elsewhere) goes to the
 * login page, and still throws.
 */
export async function api(method, path, body) {
  method = method.toUpperCase();
  if (!["GET", "HEAD", "OPTIONS"].includes(method) && !current && !path.startsWith("/v1/session")) {
    try {
      current = await request("GET", "/v1/session");
    } catch {
      // No session: the request goes without a token and gets the API's own answer.
    }
  }
  try {
    return await request(method, path, body);
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401 && !path.startsWith("/v1/session")) {
      current = null;
      toLogin();
    }
    throw exc;
  }
}

/**
 * The signed-in session `{username, role, agent_id, device, display_name, csrf_token,
 * idle_timeout_s}`; without one, goes to the login page (and the promise never settles).
 * With `{redirect: false}`, returns null instead.
 */
export async function session({ redirect = true } = {}) {
  try {
    current = await request("GET", "/v1/session");
    return current;
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) {
      current = null;
      if (!redirect) return null;
      toLogin();
      return new Promise(() => {});
    }
    throw exc;
  }
}

/** Sign in; returns the session body. Throws ApiError (401 wrong name or password, 429). */
export async function login(username, password) {
  current = await request("POST", "/v1/session", { username, password });
  return current;
}

/** End the session and go to the login page. */
export async function logout() {
  try {
    await request("DELETE", "/v1/session");
  } catch {
    // Already ended: the login page is where we go anyway.
  }
  current = null;
  location.assign(LOGIN_PAGE);
}

/** The session last read (or null), without asking the server. */
export function currentSession() {
  return current;
}

/**
 * Sign out after `idle_timeout_s` of no keyboard, pointer or touch input here. The pages
 * refresh figures in the background, which keeps the server's idle timer going; this keeps
 * the idle timeout meaning what it says: nobody at the screen. No-op without a timeout
 * (a wallboard's session).
 */
export function watchIdle(me) {
  const limit = Number(me?.idle_timeout_s);
  if (!Number.isFinite(limit) || limit <= 0) return;
  let last = Date.now();
  const seen = () => {
    last = Date.now();
  };
  for (const name of ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"]) {
    window.addEventListener(name, seen, { passive: true, capture: true });
  }
  setInterval(() => {
    if (Date.now() - last > limit * 1000) logout();
  }, 5000);
}
