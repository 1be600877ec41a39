"""The dialer benchmark's runner: every policy on the same seeds, per cell, in parallel.

A cell is (agents N, answer rate p, tier). Each replication is one shift on its own
calendar day (9:00 in the rule set's zone on 1 Dec 2026 plus the replication's index in
days), with its own seed, the same for every policy (and every dial ratio tried). Under the
UK's calendar-day ledger the days are independent and run in parallel; under the US's
rolling 30 days the replications are consecutive days of one campaign, so ccgateway's
pacing keeps one ledger across them (a new pacer each morning, from its priors) and they
run in sequence.

The fixed dial ratio is tuned in hindsight for each cell: dial ratios are tried on the same
seeds (a coarse grid, then two refinements of the bracket where the mean daily abandon
rate crosses the target) and the best one whose mean stays within the target is reported.
On the Markov tier the exact optimum (sim/optimum.py `solve`) is computed too, and its own
top-up policy is simulated as a check of the simulator against the exact figure; so is the
best fixed ratio by exact evaluation (`exact_fixed_ratio`), free of the simulation's noise.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace

from ccgateway.domain.outbound.book import AMD_DECISION_S
from ccgateway.domain.outbound.ledger import AbandonLedger
from ccgateway.domain.outbound.rules import PRESETS, RuleSet
from ccgateway.sim.baselines import (
    AdaptMethod,
    ErlangBOpenLoop,
    FixedRatio,
    Progressive,
    TopUp,
    VicidialAdaptive,
)
from ccgateway.sim.dialer import DialerSim, Policy, Result, Workload
from ccgateway.sim.optimum import OptimumResult, evaluate_top_up, solve
from ccgateway.sim.policies import PacerPolicy, shift_start

VARIANTS = ("amd", "drift", "churn", "cap")
KINDS = ("pacer", "progressive", "fixed", "vicidial", "erlang_b", "optimum")
COARSE_RATIOS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
REFINE_POINTS = (4, 3)  # interior ratios tried in each refinement of the bracket
MAX_RATIO = 20.0
ADAPT_METHODS: dict[str, AdaptMethod] = {"hard": "hard", "average": "average", "tapered": "tapered"}


@dataclass(frozen=True, slots=True)
class Setup:
    hours: float = 8.0
    replications: int = 10
    rules: str = "uk"
    target: float = 0.03
    seed: int = 1
    variants: tuple[str, ...] = ()
    amd_fp: float = 0.02  # AMD variant: the share of people taken for machines
    amd_delay_s: tuple[float, float] = (1.5, 3.0)
    lines_per_agent: float = 0.4  # cap variant: lines = ceil(this x N)
    vicidial_method: str = "hard"

    @property
    def rule_set(self) -> RuleSet:
        return PRESETS[self.rules]

    @property
    def exact_applies(self) -> bool:
        """The exact optimum is for the plain Markov tier (a line cap allowed)."""
        return set(self.variants) <= {"cap"}


@dataclass(frozen=True, slots=True)
class Cell:
    agents: int
    p_live: float
    markov: bool

    @property
    def label(self) -> str:
        tier = "Markov" if self.markov else "realistic"
        return f"N={self.agents} p={self.p_live:.2f} {tier}"


@dataclass(frozen=True, slots=True)
class Spec:
    kind: str
    param: float | None = None


@dataclass(slots=True)
class Day:
    rep: int
    result: Result
    decisions: int = 0
    decide_s: float = 0.0
    stopped: int = 0
    throttled: int = 0


@dataclass(frozen=True, slots=True)
class Job:
    setup: Setup
    cell: Cell
    spec: Spec
    reps: tuple[int, ...]
    optimum: OptimumResult | None = None


def workload(setup: Setup, cell: Cell) -> Workload:
    rules = setup.rule_set
    v = set(setup.variants)
    return Workload(
        cell.agents,
        cell.p_live,
        hours=setup.hours,
        markov=cell.markov,
        grace_s=rules.grace_s,
        grace_counts_amd=rules.grace_counts_amd,
        amd_false_positive=setup.amd_fp if "amd" in v else None,
        amd_delay_s=setup.amd_delay_s,
        drift_to=cell.p_live / 2 if "drift" in v else None,
        login_churn="churn" in v,
        max_lines=math.ceil(setup.lines_per_agent * cell.agents) if "cap" in v else None,
    )


def day_seed(setup: Setup, cell: Cell, rep: int) -> int:
    """The same for every policy of a cell (common random numbers)."""
    key = f"{setup.seed}:{cell.agents}:{cell.p_live}:{cell.markov}:{rep}"
    return random.Random(key).getrandbits(62)


def _policy(job: Job, rep: int, w: Workload, ledger: AbandonLedger | None) -> Policy:
    spec, setup, cell = job.spec, job.setup, job.cell
    if spec.kind == "pacer":
        return PacerPolicy(
            setup.rule_set,
            setup.target,
            w.amd_share,
            shift_start(setup.rule_set, rep),
            ledger,
            grace_s=_pacer_grace(w),
        )
    if spec.kind == "progressive":
        return Progressive()
    if spec.kind == "fixed":
        assert spec.param is not None
        return FixedRatio(spec.param)
    if spec.kind == "vicidial":
        method = ADAPT_METHODS[setup.vicidial_method]
        return VicidialAdaptive(setup.target, method, shift_s=setup.hours * 3600.0)
    if spec.kind == "erlang_b":
        return ErlangBOpenLoop(cell.agents, cell.p_live, day_seed(setup, cell, rep) ^ 0x5EED)
    if spec.kind == "optimum":
        assert job.optimum is not None
        return TopUp(job.optimum)
    raise ValueError(f"no policy {spec.kind!r}")


def _pacer_grace(w: Workload) -> float:
    """The grace a person the pacer counts as live still has, as the live dialer computes
    it (book.waits): none on the Markov tier (abandoned at once), the grace less
    AMD's listening when the law counts it."""
    if w.markov:
        return 0.0
    if w.amd_false_positive is not None and w.grace_counts_amd:
        return max(0.0, w.grace_s - AMD_DECISION_S)
    return w.grace_s


def run_job(job: Job) -> list[Day]:
    """The job's replications in order; the US rolling ledger runs on from day to day."""
    ledger = None
    if job.spec.kind == "pacer" and not _days_independent(job.setup):
        share = workload(job.setup, job.cell).amd_share
        ledger = AbandonLedger(job.setup.rule_set, share, job.setup.target)
    return run_days(job, ledger)


def run_days(job: Job, ledger: AbandonLedger | None) -> list[Day]:
    """The job's replications in order, ccgateway's pacer on `ledger` if one is given."""
    w = workload(job.setup, job.cell)
    days = []
    for rep in job.reps:
        policy = _policy(job, rep, w, ledger)
        result = DialerSim(w, day_seed(job.setup, job.cell, rep)).run(policy)
        day = Day(rep, result)
        if isinstance(policy, PacerPolicy):
            day.decisions, day.decide_s = policy.decisions, policy.decide_s
            day.stopped, day.throttled = policy.stopped, policy.throttled
        days.append(day)
    return days


def _days_independent(setup: Setup) -> bool:
    return setup.rule_set.abandon_window.value == "calendar_day"


def solve_cell(setup: Setup, cell: Cell) -> OptimumResult:
    cap = workload(setup, cell).max_lines
    return solve(cell.agents, cell.p_live, setup.target, max_ringing=cap)


@dataclass(frozen=True, slots=True)
class ExactRatio:
    """The best fixed dial ratio on the Markov tier, by exact evaluation (no noise)."""

    ratio: float
    utilisation: float
    abandon_rate: float


def exact_fixed_ratio(setup: Setup, cell: Cell) -> ExactRatio:
    """The largest ratio whose exact long-run abandon rate is within the target (bisection;
    the rate rises with the ratio, in steps as round(r x free) does)."""
    n, cap = cell.agents, workload(setup, cell).max_lines

    def exact(ratio: float) -> ExactRatio:
        levels = [round(ratio * (n - b)) for b in range(n + 1)]
        if cap is not None:
            levels = [min(level, cap) for level in levels]
        e = evaluate_top_up(n, cell.p_live, levels, max_ringing=max(1, max(levels)))
        return ExactRatio(ratio, e.utilisation, e.abandon_rate)

    lo, hi = 1.0, 2.0
    while exact(hi).abandon_rate <= setup.target:
        lo, hi = hi, hi * 1.5
        if hi > MAX_RATIO * 2:
            return exact(lo)
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if exact(mid).abandon_rate <= setup.target else (lo, mid)
    return exact(lo)


# --- tuning the fixed ratio in hindsight --------------------------------------------------


def daily_rate(setup: Setup, result: Result) -> float:
    """A day's abandon rate by the rule set's definition."""
    if setup.rule_set.count_amd_false_positives:
        return result.uk_abandon_rate
    return result.abandon_rate


@dataclass
class Tuning:
    tried: dict[float, list[Day]] = field(default_factory=dict)
    best: float | None = None  # the best ratio within the target; None if none was
    refined: int = 0  # refinements of the bracket done

    def mean_rate(self, setup: Setup, ratio: float) -> float:
        days = self.tried[ratio]
        return sum(daily_rate(setup, d.result) for d in days) / len(days)

    def mean_u(self, ratio: float) -> float:
        days = self.tried[ratio]
        return sum(d.result.utilisation for d in days) / len(days)

    def next_ratios(self, setup: Setup) -> list[float]:
        """Ratios to try next: beyond the grid while it never crossed the target (below it
        while even the smallest did), then points inside the bracket where it crosses, a
        finer set each time (`REFINE_POINTS`); [] when done."""
        ok = sorted(r for r in self.tried if self.mean_rate(setup, r) <= setup.target)
        bad = sorted(r for r in self.tried if self.mean_rate(setup, r) > setup.target)
        if not bad:
            top = max(self.tried)
            if top >= MAX_RATIO:
                return []
            return [min(MAX_RATIO, round(top * f, 2)) for f in (1.5, 2.0)]
        hi = bad[0]
        below = [r for r in ok if r < hi]
        if not below:
            return [] if hi <= 0.25 else [round(hi * f, 3) for f in (0.5, 0.75, 0.9)]
        if self.refined >= len(REFINE_POINTS):
            return []
        points = REFINE_POINTS[self.refined]
        self.refined += 1
        lo = below[-1]
        step = (hi - lo) / (points + 1)
        return [round(lo + step * (i + 1), 3) for i in range(points)] if step > 0.005 else []

    def choose(self, setup: Setup) -> None:
        ok = [r for r in self.tried if self.mean_rate(setup, r) <= setup.target]
        self.best = max(ok, key=self.mean_u) if ok else None


def _map_jobs(executor: Executor, jobs: Sequence[Job]) -> list[list[Day]]:
    return list(executor.map(run_job, jobs))


def tune_fixed(
    executor: Executor, setup: Setup, cells: Sequence[Cell], note: Callable[[str], None]
) -> dict[Cell, Tuning]:
    reps = tuple(range(setup.replications))
    tunings = {cell: Tuning() for cell in cells}
    wanted: dict[Cell, list[float]] = {cell: list(COARSE_RATIOS) for cell in cells}
    for rounds in range(1, 11):
        jobs = [
            Job(setup, cell, Spec("fixed", r), reps)
            for cell, ratios in wanted.items()
            for r in ratios
            if r not in tunings[cell].tried
        ]
        if not jobs:
            break
        for job, days in zip(jobs, _map_jobs(executor, jobs), strict=True):
            assert job.spec.param is not None
            tunings[job.cell].tried[job.spec.param] = days
        note(f"fixed ratio: round {rounds}, {len(jobs)} ratio x cell runs of {len(reps)} days")
        wanted = {cell: t.next_ratios(setup) for cell, t in tunings.items()}
    for t in tunings.values():
        t.choose(setup)
    return tunings


# --- the whole run ---------------------------------------------------------------------


@dataclass
class CellRun:
    cell: Cell
    days: dict[str, list[Day]]  # policy label -> days
    tuning: Tuning | None = None
    optimum: OptimumResult | None = None
    exact_ratio: ExactRatio | None = None


def _cost(job: Job) -> float:
    heavy = 30.0 if job.spec.kind == "pacer" else 1.0
    return heavy * job.cell.agents * len(job.reps)


def _spec_label(spec: Spec, setup: Setup) -> str:
    if spec.kind == "vicidial":
        return f"vicidial-{setup.vicidial_method}"
    if spec.kind == "optimum":
        return "optimum top-up (DES)"
    return spec.kind.replace("_", "-")


def run_benchmark(
    setup: Setup,
    cells: Sequence[Cell],
    kinds: Iterable[str] = KINDS,
    jobs: int = 2,
    note: Callable[[str], None] | None = None,
) -> list[CellRun]:
    """Every policy of `kinds` on every cell; `jobs` worker processes."""
    say = note or (lambda text: print(text, file=sys.stderr, flush=True))
    kinds = [k for k in kinds if k in KINDS]
    reps = tuple(range(setup.replications))
    pool: Executor = ProcessPoolExecutor(max_workers=jobs) if jobs > 1 else _Inline()
    with pool:
        solves: dict[Cell, Future[OptimumResult]] = {}
        ratios: dict[Cell, Future[ExactRatio]] = {}
        if "optimum" in kinds and setup.exact_applies:
            solves = {c: pool.submit(solve_cell, setup, c) for c in cells if c.markov}
            ratios = {c: pool.submit(exact_fixed_ratio, setup, c) for c in cells if c.markov}
        plain: list[Job] = []
        for cell in cells:
            for kind in kinds:
                if kind in ("fixed", "optimum"):
                    continue
                if kind == "pacer" and _days_independent(setup):
                    plain += [Job(setup, cell, Spec(kind), (rep,)) for rep in reps]
                else:
                    plain.append(Job(setup, cell, Spec(kind), reps))
        plain.sort(key=_cost, reverse=True)
        futures = [(job, pool.submit(run_job, job)) for job in plain]
        tunings = tune_fixed(pool, setup, cells, say) if "fixed" in kinds else {}
        optima = {cell: f.result() for cell, f in solves.items()}
        if optima:
            say("optimum: solved " + ", ".join(c.label for c in optima))
        futures += [
            (job, pool.submit(run_job, job))
            for job in (Job(setup, c, Spec("optimum"), reps, o) for c, o in optima.items())
        ]
        exact = {cell: f.result() for cell, f in ratios.items()}
        runs = {
            cell: CellRun(cell, {}, tunings.get(cell), optima.get(cell), exact.get(cell))
            for cell in cells
        }
        for job, future in futures:
            label = _spec_label(job.spec, setup)
            runs[job.cell].days.setdefault(label, []).extend(future.result())
    for run in runs.values():
        for days in run.days.values():
            days.sort(key=lambda d: d.rep)
        if run.tuning is not None and run.tuning.best is not None:
            run.days["fixed"] = run.tuning.tried[run.tuning.best]
    say("all runs done")
    return [runs[cell] for cell in cells]


class _Inline(Executor):
    """Runs submitted work at once, in this process (--jobs 1)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        future: Future[object] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def cells_of(agents: Sequence[int], p_lives: Sequence[float], tiers: Sequence[str]) -> list[Cell]:
    return [Cell(n, p, tier == "markov") for tier in tiers for p in p_lives for n in sorted(agents)]


def quick(setup: Setup) -> Setup:
    return replace(setup, hours=1.0, replications=2)
