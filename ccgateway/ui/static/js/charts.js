// Small inline SVG charts built with DOM APIs (no library, no innerHTML): bars per
// interval, lines over the day, a horizontal gauge against a limit.

import { svg } from "./dom.js";

const W = 600;
const H = 200;
const PAD = { left: 40, right: 10, top: 10, bottom: 26 };

function frame(title, description) {
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    class: "chart",
    preserveAspectRatio: "xMidYMid meet",
  });
  root.append(svg("title", null, title), svg("desc", null, description));
  return root;
}

function axes(root, maxY, labels, formatY) {
  const plotH = H - PAD.top - PAD.bottom;
  for (const f of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - f);
    root.append(
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "chart-grid" }),
      svg("text", { x: PAD.left - 4, y: y + 4, class: "chart-label", "text-anchor": "end" }, formatY(maxY * f)),
    );
  }
  const plotW = W - PAD.left - PAD.right;
  const every = Math.max(1, Math.ceil(labels.length / 12));
  labels.forEach((label, i) => {
    if (i % every) return;
    const x = PAD.left + (plotW * (i + 0.5)) / labels.length;
    root.append(svg("text", { x, y: H - 8, class: "chart-label", "text-anchor": "middle" }, label));
  });
}

/**
 * Stacked bars: `series` [{name, cls, values[]}], one bar per label.
 * Returns the <svg>.
 */
export function barChart({ title, labels, series, formatY = (v) => String(Math.round(v)) }) {
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] || 0), 0));
  // Whole numbers on the axis: an even top so that the middle line is whole too.
  const peak = Math.max(2, ...totals);
  const maxY = peak % 2 ? peak + 1 : peak;
  const description = `${labels.length} intervals; ${series.map((s) => `${s.name} ${s.values.reduce((a, b) => a + (b || 0), 0)}`).join(", ")}`;
  const root = frame(title, description);
  axes(root, maxY, labels, formatY);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, labels.length);
  const barW = Math.max(1, slot * 0.75);
  labels.forEach((label, i) => {
    let base = 0;
    for (const s of series) {
      const v = s.values[i] || 0;
      if (!v) continue;
      const h = (plotH * v) / maxY;
      const y = PAD.top + plotH - ((base + v) * plotH) / maxY;
      const rect = svg("rect", {
        x: PAD.left + slot * i + (slot - barW) / 2,
        y,
        width: barW,
        height: Math.max(0.5, h),
        class: s.cls,
      });
      rect.append(svg("title", null, `${label} ${s.name}: ${v}`));
      root.append(rect);
      base += v;
    }
  });
  return root;
}

/**
 * Bars of a share (0..1) per label, each coloured by `levelOf(value)` ("ok"/"warn"/"bad"),
 * with a dashed target line.
 */
export function shareBars({ title, labels, values, target, levelOf }) {
  const root = frame(title, `${labels.length} intervals against a target of ${Math.round(target * 100)}%`);
  axes(root, 1, labels, (v) => `${Math.round(v * 100)}%`);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, labels.length);
  const barW = Math.max(1, slot * 0.75);
  values.forEach((v, i) => {
    if (v === null || v === undefined) return;
    const h = plotH * Math.min(1, Math.max(0, v));
    const rect = svg("rect", {
      x: PAD.left + slot * i + (slot - barW) / 2,
      y: PAD.top + plotH - h,
      width: barW,
      height: Math.max(0.5, h),
      class: `chart-${levelOf(v) || "ok"}`,
    });
    rect.append(svg("title", null, `${labels[i]}: ${Math.round(v * 100)}%`));
    root.append(rect);
  });
  if (Number.isFinite(target)) {
    const y = PAD.top + plotH * (1 - target);
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "chart-target" }));
  }
  return root;
}

/**
 * Lines of shares over labels: `series` [{name, values[] (null: no point)}], each with a
 * colour class chart-line-<n>; `limit` drawn as a red dashed line.
 */
export function lineChart({ title, labels, series, limit }) {
  const peak = Math.max(limit || 0, ...series.flatMap((s) => s.values.filter((v) => v !== null)), 0.01);
  const maxY = Math.min(1, peak * 1.25);
  const root = frame(title, `${series.length} campaigns${Number.isFinite(limit) ? `; limit ${(limit * 100).toFixed(1)}%` : ""}`);
  axes(root, maxY, labels, (v) => `${(v * 100).toFixed(1)}%`);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i) => PAD.left + (plotW * (i + 0.5)) / labels.length;
  const y = (v) => PAD.top + plotH * (1 - Math.min(1, v / maxY));
  series.forEach((s, n) => {
    const points = s.values.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
    if (!points.length) return;
    const line = svg("polyline", { points: points.join(" "), class: `chart-line chart-line-${n % 6}` });
    line.append(svg("title", null, s.name));
    root.append(line);
  });
  if (Number.isFinite(limit)) {
    root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(limit), y2: y(limit), class: "chart-limit" }));
  }
  return root;
}

/** A horizontal gauge of `value` (0..1) against `limit`, for a table cell. */
export function gauge({ value, limit, label }) {
  const width = 120;
  const scale = Math.max(limit ? limit * 1.5 : 0.05, value || 0, 0.0001);
  const root = svg("svg", { viewBox: `0 0 ${width} 14`, width, height: 14, role: "img", class: "gauge" });
  root.append(svg("title", null, label));
  root.append(svg("rect", { x: 0, y: 2, width, height: 10, class: "gauge-track" }));
  const level = limit && value >= limit ? "bad" : limit && value >= limit * 0.8 ? "warn" : "ok";
  if (value) root.append(svg("rect", { x: 0, y: 2, width: (width * value) / scale, height: 10, class: `chart-${level}` }));
  if (limit) {
    const lx = (width * limit) / scale;
    root.append(svg("line", { x1: lx, x2: lx, y1: 0, y2: 14, class: "gauge-limit" }));
  }
  return root;
}
