"""The dialer benchmark's figures per policy and cell, and the table that prints them.

Per policy, over the replications (days): utilisation U = (talk + wrap) / logged-in time,
talk minutes and connects per agent hour (mean and 95 % interval, Student's t); the abandon
rate by the US definition over all days together (the "30-day" figure) and by the UK
definition on the worst day; the share of days over the target (by the rule set's own
daily definition); the wait from the start of the grace to an agent (mean, 95th
percentile, over all connected calls); dials per connect; the peak of calls in flight; and
rule violations: silent calls, waits past the grace, and days over the limit (UK: the
day's rate; US: the rolling 30 days at each day's end).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ccgateway.sim.bench import CellRun, Day, Setup, daily_rate
from ccgateway.sim.optimum import erlang_b_open_loop, progressive_utilisation

# Student's t, 97.5 % quantile, by degrees of freedom (1-30); beyond, the normal law's.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Stat:
    mean: float
    half: float  # of the 95 % interval (0 with one value)

    @staticmethod
    def of(values: Sequence[float]) -> Stat:
        n = len(values)
        if n == 0:
            return Stat(math.nan, math.nan)
        mean = sum(values) / n
        if n == 1:
            return Stat(mean, 0.0)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        t = _T975[n - 2] if n - 1 <= len(_T975) else 1.96
        return Stat(mean, t * sd / math.sqrt(n))


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    u: Stat
    talk_min_per_agent_hour: Stat | None = None
    connects_per_agent_hour: Stat | None = None
    abandon_30day: float | None = None
    uk_worst_day: float | None = None
    days_over: float | None = None
    wait_mean: float | None = None
    wait_p95: float | None = None
    dials_per_connect: float | None = None
    peak_lines: int | None = None
    violations: int | None = None
    ms_per_decision: float | None = None
    stopped_share: float | None = None  # decisions with the ledger at its limit
    throttled_share: float | None = None  # decisions with the ledger easing the pacer off
    days: int = 0


@dataclass
class CellReport:
    run: CellRun
    rows: list[Row] = field(default_factory=list)
    fixed_ratio: float | None = None
    fixed_u: float | None = None
    optimum_u: float | None = None
    notes: list[str] = field(default_factory=list)

    def row(self, label: str) -> Row | None:
        return next((r for r in self.rows if r.label == label), None)

    def goals(self) -> list[tuple[str, bool]]:
        """The issue's goals for ccgateway's pacer in this cell: (what, met)."""
        pacer = self.row("pacer")
        if pacer is None:
            return []
        out: list[tuple[str, bool]] = []
        if self.fixed_u is not None:
            gain = 100 * (pacer.u.mean - self.fixed_u)
            out.append((f"U >= best fixed ratio + 3 pt ({gain:+.1f} pt)", gain >= 3.0))
        if self.optimum_u is not None:
            allowed = 2.0 if self.run.cell.agents <= 20 else 1.0
            gap = 100 * (self.optimum_u - pacer.u.mean)
            out.append(
                (f"within {allowed:.0f} pt of the optimum ({gap:.1f} pt below)", gap <= allowed)
            )
        out.append((f"0 rule violations ({pacer.violations})", pacer.violations == 0))
        if pacer.wait_p95 is not None:
            out.append((f"wait p95 <= 2 s ({pacer.wait_p95:.2f} s)", pacer.wait_p95 <= 2.0 + 1e-9))
        return out


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def violations(setup: Setup, days: Sequence[Day]) -> int:
    """Silent calls, waits past the grace, and days over the legal limit."""
    count = sum(d.result.silent + d.result.waits_over_grace for d in days)
    limit = setup.target
    if setup.rule_set.abandon_window.value == "calendar_day":
        return count + sum(1 for d in days if daily_rate(setup, d.result) > limit + 1e-12)
    for i in range(len(days)):  # the rolling 30 days at each day's end
        window = days[max(0, i - 29) : i + 1]
        abandoned = sum(d.result.abandoned for d in window)
        live = sum(d.result.abandoned + d.result.connected for d in window)
        count += live > 0 and abandoned / live > limit + 1e-12
    return count


def row_of(setup: Setup, label: str, days: Sequence[Day]) -> Row:
    results = [d.result for d in days]
    waits = [w for r in results for w in r.waits]
    abandoned = sum(r.abandoned for r in results)
    connected = sum(r.connected for r in results)
    decisions = sum(d.decisions for d in days)
    return Row(
        label,
        Stat.of([r.utilisation for r in results]),
        Stat.of([r.talk_minutes_per_agent_hour for r in results]),
        Stat.of([r.connects_per_agent_hour for r in results]),
        abandoned / (abandoned + connected) if abandoned + connected else 0.0,
        max(r.uk_abandon_rate for r in results),
        sum(1 for r in results if daily_rate(setup, r) > setup.target) / len(results),
        sum(waits) / len(waits) if waits else 0.0,
        _percentile(waits, 0.95),
        sum(r.dials for r in results) / connected if connected else math.inf,
        max(r.peak_lines for r in results),
        violations(setup, days),
        1000 * sum(d.decide_s for d in days) / decisions if decisions else None,
        sum(d.stopped for d in days) / decisions if decisions else None,
        sum(d.throttled for d in days) / decisions if decisions else None,
        len(days),
    )


ORDER = ("pacer", "progressive", "fixed", "vicidial", "erlang-b", "optimum top-up (DES)")


def _rank(label: str) -> int:
    return next((i for i, name in enumerate(ORDER) if label.startswith(name)), len(ORDER))


def report(setup: Setup, run: CellRun) -> CellReport:
    out = CellReport(run)
    for label in sorted(run.days, key=_rank):
        row = row_of(setup, label, run.days[label])
        if label == "fixed" and run.tuning is not None and run.tuning.best is not None:
            row = replace(row, label=f"fixed r={run.tuning.best:g}")
            out.fixed_ratio, out.fixed_u = run.tuning.best, row.u.mean
        out.rows.append(row)
    if run.tuning is not None and run.tuning.best is None:
        out.notes.append("fixed ratio: no ratio tried kept the mean abandon rate within the target")
    cell = run.cell
    if run.optimum is not None:
        opt = run.optimum
        out.optimum_u = opt.utilisation
        out.rows.append(
            Row(
                "optimum (exact)",
                Stat(opt.utilisation, 0.0),
                connects_per_agent_hour=Stat(opt.connects_per_agent_hour, 0.0),
                abandon_30day=opt.abandon_rate,
                dials_per_connect=opt.dials_per_agent_hour / opt.connects_per_agent_hour,
            )
        )
        out.notes.append(
            f"exact: optimum U {opt.utilisation:.4f} (bound {opt.utilisation_upper_bound:.4f},"
            f" solved in {opt.solve_seconds:.1f} s), progressive U "
            f"{progressive_utilisation(cell.agents, cell.p_live):.4f}, open-loop Erlang-B U "
            f"{erlang_b_open_loop(cell.agents, setup.target).utilisation:.4f}"
        )
    if run.exact_ratio is not None and run.optimum is not None:
        ratio = run.exact_ratio
        room = 100 * (run.optimum.utilisation - ratio.utilisation)
        out.notes.append(
            f"exact: best fixed ratio r={ratio.ratio:.3f}, U {ratio.utilisation:.4f} at "
            f"{100 * ratio.abandon_rate:.2f} % abandoned: the optimum beats it by {room:.2f} pt, "
            "so in the long run no policy beats the tuned ratio by more"
        )
    if run.tuning is not None and run.tuning.tried:
        clean = [
            r
            for r, days in run.tuning.tried.items()
            if all(daily_rate(setup, d.result) <= setup.target for d in days)
        ]
        if clean:
            best = max(clean, key=run.tuning.mean_u)
            out.notes.append(
                f"best fixed ratio with no day over the target: r={best:g}, "
                f"U {100 * run.tuning.mean_u(best):.1f} %"
            )
        tried = ", ".join(
            f"{r:g}:{100 * run.tuning.mean_rate(setup, r):.1f}%" for r in sorted(run.tuning.tried)
        )
        out.notes.append(f"fixed ratios tried (mean daily abandon rate): {tried}")
    return out


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}"


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def _int(value: int | None) -> str:
    return "" if value is None else str(value)


HEAD = (
    f"{'policy':<22} {'U %':>6} {'±':>4} {'dFix':>5} {'dOpt':>5} {'talk':>5} {'conn':>5}"
    f" {'ab30d%':>6} {'UKmax%':>6} {'days>':>5} {'wait':>5} {'p95':>5} {'d/c':>5}"
    f" {'peak':>5} {'viol':>4} {'ms/dec':>6} {'stop%':>5} {'thr%':>4}"
)


def format_row(row: Row, cell: CellReport) -> str:
    d_fix = "" if cell.fixed_u is None else f"{100 * (row.u.mean - cell.fixed_u):+.1f}"
    d_opt = "" if cell.optimum_u is None else f"{100 * (row.u.mean - cell.optimum_u):+.1f}"
    talk, conn = row.talk_min_per_agent_hour, row.connects_per_agent_hour
    return (
        f"{row.label:<22} {_pct(row.u.mean):>6} {_pct(row.u.half):>4} {d_fix:>5} {d_opt:>5}"
        f" {_num(talk.mean if talk else None):>5} {_num(conn.mean if conn else None):>5}"
        f" {_pct(row.abandon_30day, 2):>6} {_pct(row.uk_worst_day, 2):>6}"
        f" {_pct(row.days_over, 0):>5} {_num(row.wait_mean, 2):>5} {_num(row.wait_p95, 2):>5}"
        f" {_num(row.dials_per_connect, 2):>5} {_int(row.peak_lines):>5}"
        f" {_int(row.violations):>4}"
        f" {_num(row.ms_per_decision, 2) if row.ms_per_decision is not None else '':>6}"
        f" {_pct(row.stopped_share, 0) if row.stopped_share is not None else '':>5}"
        f" {_pct(row.throttled_share, 0) if row.throttled_share is not None else '':>4}"
    )


def format_table(setup: Setup, reports: Sequence[CellReport]) -> str:
    variants = ", ".join(setup.variants) or "none"
    lines = [
        f"Dialer benchmark: {setup.replications} days x {setup.hours:g} h per cell, rules "
        f"{setup.rules.upper()}, target {100 * setup.target:g} %, variants: {variants}, "
        f"seed {setup.seed}",
        "U: (talk+wrap)/logged-in, mean and 95 % half-interval; dFix/dOpt: U points against "
        "the best fixed ratio / the exact optimum; talk: talk min per agent hour; conn: "
        "connects per agent hour; ab30d: abandoned/live over all days (US); UKmax: worst "
        "day, UK definition; days>: share of days over the target; wait, p95: seconds from "
        "the grace's start to an agent; d/c: dials per connect; peak: calls in flight; viol: "
        "rule violations; ms/dec, stop%, thr%: the pacer's time per decision, its decisions "
        "with the ledger at the limit (agents kept) and easing it off.",
    ]
    for cell in reports:
        lines += ["", f"== {cell.run.cell.label} ==", HEAD, "-" * len(HEAD)]
        lines += [format_row(row, cell) for row in cell.rows]
        lines += [f"  {note}" for note in cell.notes]
        goals = cell.goals()
        if goals:
            met = all(ok for _, ok in goals)
            lines.append(
                f"  goals {'MET' if met else 'NOT met'}: "
                + "; ".join(f"{'ok' if ok else 'MISSED'} {what}" for what, ok in goals)
            )
    return "\n".join(lines)
