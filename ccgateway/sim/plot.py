"""The benchmark's chart, as hand-written SVG: U against N for each policy, one panel per
answer rate and tier, 95 % intervals as whiskers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from ccgateway.sim.report import CellReport

PANEL_W, PANEL_H = 430, 300
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 56, 16, 34, 44
COLOURS = {
    "pacer": "#d62728",
    "optimum (exact)": "#111111",
    "optimum top-up (DES)": "#7f7f7f",
    "fixed (tuned)": "#1f77b4",
    "vicidial": "#9467bd",
    "erlang-b": "#2ca02c",
    "progressive": "#ff7f0e",
}


def series_of(label: str) -> str:
    if label.startswith("fixed"):
        return "fixed (tuned)"
    if label.startswith("vicidial"):
        return "vicidial"
    return label


def render(reports: Sequence[CellReport], title: str = "") -> str:
    """The SVG document."""
    panels = sorted({(r.run.cell.markov, r.run.cell.p_live) for r in reports})
    tiers = sorted({m for m, _ in panels})
    ps = sorted({p for _, p in panels})
    width = PANEL_W * max(1, len(ps))
    names = [
        s for s in COLOURS if any(series_of(row.label) == s for r in reports for row in r.rows)
    ]
    per_row = max(1, (width - 8) // 150)
    legend_h = 22 + 14 * max(1, math.ceil(len(names) / per_row))
    height = legend_h + PANEL_H * max(1, len(tiers))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="8" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
    ]
    for i, name in enumerate(names):
        x, y = 8 + (i % per_row) * 150, 30 + (i // per_row) * 14
        colour = COLOURS[name]
        out.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 18}" y2="{y}" stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'<text x="{x + 22}" y="{y + 4}">{escape(name)}</text>')
    for row_i, markov in enumerate(tiers):
        for col_i, p in enumerate(ps):
            cells = [r for r in reports if (r.run.cell.markov, r.run.cell.p_live) == (markov, p)]
            label = f"p = {p:.2f}, {'Markov' if markov else 'realistic'} tier"
            out += _panel(cells, col_i * PANEL_W, legend_h + row_i * PANEL_H, label, names)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _panel(
    cells: list[CellReport], x0: float, y0: float, label: str, names: list[str]
) -> list[str]:
    ns = sorted({c.run.cell.agents for c in cells})
    points: dict[str, list[tuple[int, float, float]]] = {}
    for cell in cells:
        for row in cell.rows:
            points.setdefault(series_of(row.label), []).append(
                (cell.run.cell.agents, row.u.mean, row.u.half)
            )
    values = [u for pts in points.values() for _, u, _ in pts if not math.isnan(u)]
    low = min([0.4, *values]) if values else 0.4
    low = math.floor(low * 10) / 10
    left, top = x0 + MARGIN_L, y0 + MARGIN_T
    w, h = PANEL_W - MARGIN_L - MARGIN_R, PANEL_H - MARGIN_T - MARGIN_B
    lo_n, hi_n = math.log(min(ns, default=10)), math.log(max(ns, default=100))
    span_n = hi_n - lo_n or 1.0

    def sx(n: int) -> float:
        return left + w * ((math.log(n) - lo_n) / span_n if len(ns) > 1 else 0.5)

    def sy(u: float) -> float:
        return top + h * (1.0 - (u - low) / (1.0 - low))

    out = [
        f'<text x="{left}" y="{y0 + 20}" font-size="12" font-weight="bold">{escape(label)}</text>',
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
    ]
    tick = low
    while tick <= 1.0 + 1e-9:
        y = sy(tick)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + w}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:.1f}</text>')
        tick += 0.1
    for n in ns:
        x = sx(n)
        out.append(f'<text x="{x:.1f}" y="{top + h + 16}" text-anchor="middle">{n}</text>')
    out.append(f'<text x="{left + w / 2}" y="{top + h + 34}" text-anchor="middle">agents N</text>')
    out.append(
        f'<text x="{x0 + 14}" y="{top + h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 {x0 + 14} {top + h / 2})">utilisation U</text>'
    )
    for name in names:
        pts = sorted(p for p in points.get(name, []) if not math.isnan(p[1]))
        if not pts:
            continue
        colour = COLOURS[name]
        path = " ".join(f"{sx(n):.1f},{sy(u):.1f}" for n, u, _ in pts)
        dash = ' stroke-dasharray="4 3"' if name == "optimum top-up (DES)" else ""
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>'
        )
        for n, u, half in pts:
            x = sx(n)
            if half > 0:
                out.append(
                    f'<line x1="{x:.1f}" y1="{sy(min(1.0, u + half)):.1f}" x2="{x:.1f}" '
                    f'y2="{sy(max(low, u - half)):.1f}" stroke="{colour}"/>'
                )
            out.append(f'<circle cx="{x:.1f}" cy="{sy(u):.1f}" r="2.6" fill="{colour}"/>')
    return out


def write(path: str | Path, reports: Sequence[CellReport], title: str = "") -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(reports, title))
    return target
