// Building the DOM without ever parsing HTML: every string goes in as text. Data from the
// API (a caller's name is whatever a stranger's phone sent) must never reach innerHTML.

const SVG_NS = "http://www.w3.org/2000/svg";
const PROPERTIES = new Set(["value", "checked", "selected", "disabled", "hidden", "readOnly"]);

function apply(node, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") {
      node.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    } else if (key === "dataset") {
      for (const [name, v] of Object.entries(value)) node.dataset[name] = String(v);
    } else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (PROPERTIES.has(key) && !(node instanceof SVGElement)) {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.append(child);
    else node.append(document.createTextNode(String(child)));
  }
}

/**
 * `el("button", {class: "primary", "data-testid": "go", onclick: fn}, "Go")`.
 * Attributes: `class` (string or list), `dataset` {name: value}, `on<event>` functions
 * (addEventListener), value/checked/selected/disabled/hidden/readOnly as properties,
 * anything else with setAttribute (true -> present, false/null/undefined -> left out).
 * Children: nodes, or anything else as text; arrays are flattened, null/false skipped.
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  apply(node, attrs);
  append(node, children);
  return node;
}

/** Like `el`, in the SVG namespace (charts): `svg("rect", {x: 0, y: 0, width: 4})`. */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  apply(node, attrs);
  append(node, children);
  return node;
}

/** Remove every child of `node`; returns it. */
export function clear(node) {
  node.replaceChildren();
  return node;
}

/** Set a node's text only when it changed (cheap to call on every frame). */
export function setText(node, text) {
  const value = text === undefined || text === null ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** Seconds as "0:07", "12:34" or "1:02:03"; "–" for nothing. */
export function fmtDuration(s) {
  if (s === undefined || s === null || !Number.isFinite(Number(s))) return "–";
  let total = Math.max(0, Math.floor(Number(s)));
  const h = Math.floor(total / 3600);
  total -= h * 3600;
  const m = Math.floor(total / 60);
  const sec = String(total - m * 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** An epoch (seconds) as the local wall clock "14:05:09"; with `{date: true}` the date too. */
export function fmtTime(epoch, { date = false } = {}) {
  if (epoch === undefined || epoch === null || !Number.isFinite(Number(epoch))) return "–";
  const d = new Date(Number(epoch) * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (!date) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** A fraction 0..1 as "87%" (or "87.5%" with digits=1); "–" for nothing. */
export function fmtPercent(fraction, digits = 0) {
  if (fraction === undefined || fraction === null || !Number.isFinite(Number(fraction))) return "–";
  return `${(Number(fraction) * 100).toFixed(digits)}%`;
}

/** Rows (arrays of values) as CSV text, RFC 4180 quoting; formula-like cells are defused. */
export function toCsv(rows) {
  const cell = (value) => {
    let text = value === undefined || value === null ? "" : String(value);
    // A spreadsheet would run "=...", "+...", "-...", "@..." from a stranger's caller name;
    // numbers and phone numbers ("+49 30 1234", "-5") stay as they are.
    if (/^[=+\-@\t\r]/.test(text) && !/^[+-]?[\d\s().\/-]+$/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
}

/** Offer `rows` as a CSV file download, built here in the browser. */
export function downloadCsv(filename, rows) {
  const blob = new Blob([toCsv(rows)], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * Collects items and hands them over once per animation frame: a storm of events costs one
 * DOM update per frame, not one per event.
 */
export function perFrame(handle) {
  let pending = [];
  let asked = false;
  return (item) => {
    pending.push(item);
    if (asked) return;
    asked = true;
    requestAnimationFrame(() => {
      asked = false;
      const items = pending;
      pending = [];
      handle(items);
    });
  };
}
