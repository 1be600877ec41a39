"""The best possible outbound pacing on the Markov tier, computed exactly (a bound for dialers).

The Markov tier of the dialer benchmark (`sim/dialer.py`, `benchmarks/README.md`): `N` agents; every
dialled call rings for an exponential time (mean `mean_ring_s`, 15 s), then turns live (a
person) with probability `p`, otherwise it just leaves (no answer, busy, machine). A live call
is connected at once if an agent is free (the agent is then busy for an exponential talk+wrap
time, mean `mean_busy_s`, 135 s) and abandoned at once if none is. The dialer sees the state
`(b, r)` = (busy agents, calls ringing) and may add any number of calls at any time.
Abandon rate = abandoned / live calls (the US/UK definition); utilisation U = E[b] / N.

What this module computes
-------------------------
`solve` finds the dialing policy that maximises connects (equivalently U: in steady state the
connect rate is `E[b] / mean_busy_s`) subject to a long-run abandon rate <= target, among all
non-clairvoyant policies. On this tier `(b, r)` is a sufficient statistic: ring ages and
elapsed talk times carry no information (memoryless), so no policy that sees more of the past
does better; a clairvoyant dialer (one that knows which call will be live) is not bounded here.

Formulation: a continuous-time MDP with impulse control. After observing `(b, r)` the
controller moves at once to a post-decision state `(b, r')`, `r' >= r`; then the next event
happens: an agent frees (rate `b mu`) or a ringing call resolves (rate `r nu`), live with
probability `p` (to `(b + 1, r - 1)` and a connect if `b < N`, else `(N, r - 1)` and an
abandon), not live otherwise (to `(b, r - 1)`). The state is constant between events and the
future is memoryless, so deciding at event epochs loses nothing (stationary Markov policies
are optimal for finite CTMDPs; delayed or randomised adds are covered by the occupation-measure
LP that the Lagrangian argument below rests on).

The ratio constraint `A <= alpha (C + A)` (A, C = abandon and connect rates) is linear in the
occupation measure; its Lagrangian `C - lambda ((1 - alpha) A - alpha C)` is a positive multiple
of `C - theta A` with `theta = lambda (1 - alpha) / (1 + lambda alpha)`: a price `theta` (in
connects) per abandon, `0 <= theta < (1 - alpha) / alpha`. For a fixed price the uniformised MDP
(rate `Lambda = N mu + R nu`, `R` the ringing cap) is solved by relative value iteration on the
post-decision values `h(b, r)`, reward = connects - theta abandons per step; the pre-decision
value is the suffix maximum `V(b, r) = max_{r' >= r} h(b, r')`, one vectorised
`maximum.accumulate` per sweep. Odoni's bounds `Lambda min(Th - h) <= g*(theta) <= Lambda
max(Th - h)` give the stopping rule (span <= `tolerance` x N mu x (1 + theta)) and, by weak
duality, a certificate: every policy meeting the target has connect rate
`C <= g*(theta) / (1 - theta alpha / (1 - alpha))` (`utilisation_upper_bound`).

The optimal policy is NOT assumed to be of top-up (threshold) form: the suffix maximum gives the
exact best `r'` for every `(b, r)`. The result reports the top-up level `r*(b)` (the best
ringing level from `r = 0`) and whether the computed action table equals `max(r, r*(b))`
everywhere (`top_up_form`); it did in every case we ran (the values `h(b, .)` came out unimodal
in `r`, and `r*(b)` decreasing in `b`), but nothing depends on it.

Price search: the abandon rate of the greedy policy is a non-increasing step function of the
price (finitely many deterministic policies), so generically no deterministic policy hits the
target. The price is found by a safeguarded bisection: after bracketing (price 1, then factors
of 4) it keeps one policy below and one above the target and alternates two interior points
instead of the midpoint: (1) where the bracket's excess `A - alpha (A + C)`, interpolated
linearly in the price, is zero, and (2) where the two bracket policies' Lagrangian values are
equal (the secant of the piecewise-linear dual; the midpoint if a point is not strictly inside
the bracket). It stops when the greedy policy at a (2) price gains nothing over the two, i.e.
both are optimal at one price. Their time-share with the weight that meets the target exactly
is then optimal for the constrained problem (Lagrangian sufficiency; a stationary randomised
policy with the same occupation measure exists, Altman 1999). `randomised` says whether this
was needed (practically always; the two policies differ by one call in a few top-up levels,
most of them at states the chain almost never visits).

Long-run averages of a policy are exact, never simulated: the stationary distribution of the
induced chain on the post-decision states reachable from "all agents busy, nothing ringing",
by power iteration of the chain uniformised state by state (`x P = x` with `P = I + D Q`,
`D = diag(1 / (1.1 q_s))`, `pi ~ x D`) until a step moves less than 1e-13 in L1. The flow
balance `C = mu E[b]`, which only holds at stationarity, is checked (`balance_error`, ~1e-12).

The ringing cap `R`: with `max_ringing=None` it starts at `ceil(1.25 N / p) + 10` and is raised
(x1.5, the whole solve redone) while a final policy's top-up level comes within 2 % of it (and
while the target is not binding at price 0); the largest level is `r*(0)`, the all-free state,
which the chain almost never visits. A larger cap changed nothing, bit for bit, where we
checked (N = 20, 50, 100; tests for small N). A given `max_ringing` is a hard limit on calls
ringing (not on lines in use) and `cap_binding` says whether it binds. Calls are never
withdrawn once dialled (the rules' minimum ring time), so the only control is adding calls.

Solve times at the 3 % target (this machine: 2 cores, one used, numpy 2.4, Python 3.11;
`python -m ccgateway.sim.optimum`, defaults): N = 10: 0.2-0.4 s; N = 20: 0.2-0.8 s;
N = 50: 3 s (p = 0.3), 7 s (p = 0.2); N = 100: 17 s (p = 0.3), 49 s (p = 0.2); the table of the
eight cells 78 s (`--jobs 2` solves two cells at a time). The cost is ~8-12 prices x a few
thousand sweeps over (N + 1)(R + 1) states (64 000 for N = 100, p = 0.2, about 1 ms a sweep);
the optimality gap `utilisation_upper_bound - utilisation` is below 1e-7 in every cell.

Also here: `erlang_b_open_loop` (the note's open-loop benchmark: Poisson dialing, live calls a
Poisson stream, no queue, so the abandon rate is Erlang B's blocking; U depends on N and the
target only, not on p or the ring time), `progressive_utilisation` / `evaluate_progressive`
(one ringing call per free agent, zero abandons; on this tier U = 1 / (1 + mu / (p nu)) for
every N, each agent being an independent two-state chain), and `evaluate_top_up` (exact
averages of any top-up policy, e.g. a fixed dial ratio). Run `python -m ccgateway.sim.optimum`
for the table of the note's cells.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

__all__ = [
    "OpenLoopResult",
    "OptimumResult",
    "Policy",
    "PolicyEvaluation",
    "erlang_b",
    "erlang_b_open_loop",
    "evaluate_progressive",
    "evaluate_top_up",
    "main",
    "progressive_utilisation",
    "solve",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_HOUR = 3600.0
_STEP_TOL = 1e-13  # power iteration stops when one step moves less than this (L1)
_CHECK_EVERY = 10  # sweeps between convergence checks
_SELF_LOOP = 1.1  # power iteration: per-state rate = 1.1 x the state's total rate
_MAX_SWEEPS = 2_000_000
_CAP_HEADROOM = 0.02  # auto cap: a top-up level within 2 % of the cap raises it
_CAP_GROWTH = 1.5
_CAP_LIMIT_FACTOR = 16  # auto cap: give up beyond 16 x the starting cap


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Policy:
    """A deterministic stationary dialing policy on `(b, r)`.

    `levels[b]` is the top-up level r*(b): from `(b, 0)` the policy rings up to that many calls.
    `target(b, r)` is the number of calls that should be ringing after the decision in state
    `(b, r)` (>= r); when `top_up_form` it is `max(r, levels[b])`. States with `r` above the
    cap the policy was computed with are left as they are.
    """

    levels: tuple[int, ...]
    top_up_form: bool
    max_ringing: int
    actions: IntArray = field(repr=False, compare=False)

    def target(self, busy: int, ringing: int) -> int:
        if not 0 <= busy < len(self.levels) or ringing < 0:
            raise ValueError(f"no state ({busy}, {ringing}) for {len(self.levels) - 1} agents")
        if ringing > self.max_ringing:
            return ringing
        return int(self.actions[busy, ringing])

    def calls_to_add(self, busy: int, ringing: int) -> int:
        return self.target(busy, ringing) - ringing


@dataclass(frozen=True, slots=True)
class PolicyEvaluation:
    """Exact long-run averages of one policy (stationary distribution of its chain)."""

    policy: Policy
    utilisation: float
    abandon_rate: float  # abandoned / live calls
    connects_per_agent_hour: float
    abandons_per_agent_hour: float
    dials_per_agent_hour: float
    mean_ringing: float
    states: int  # post-decision states reachable from (N, 0)
    power_iterations: int
    balance_error: float  # |connect rate - mu E[b]| / connect rate: 0 up to round-off
    # internals: rates per second and the stationary distribution on the full grid
    connect_rate: float = field(repr=False)
    abandon_rate_per_s: float = field(repr=False)
    _pi: FloatArray = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class OptimumResult:
    """The constrained optimum. When `randomised`, the optimum time-shares `policy` (abandon
    rate below the target) with weight `mix_weight` and `policy_alt` (above it) with
    `1 - mix_weight`; the averages here are of that mixture and meet the target exactly."""

    n_agents: int
    p_live: float
    abandon_target: float
    mean_ring_s: float
    mean_busy_s: float
    utilisation: float
    abandon_rate: float
    connects_per_agent_hour: float
    dials_per_agent_hour: float
    mean_ringing: float
    utilisation_upper_bound: float  # duality bound from the value iteration: no policy beats it
    price: float  # Lagrange price of an abandon, in connects, at which both components are optimal
    prices: tuple[float, float]  # prices at which `policy` and `policy_alt` were computed
    price_path: tuple[float, ...]  # every price solved, in order (last cap only)
    randomised: bool
    mix_weight: float
    policy: Policy
    policy_alt: Policy | None
    components: tuple[PolicyEvaluation, ...]  # (policy,) or (policy, policy_alt)
    top_up_form: bool
    iterations: int  # value-iteration sweeps, all prices and caps
    price_iterations: int
    power_iterations: int
    max_ringing: int  # the cap in the final solve
    cap_binding: bool  # only with a given max_ringing: a top-up level reaches it
    solve_seconds: float


@dataclass(frozen=True, slots=True)
class OpenLoopResult:
    """Open-loop (Erlang B) dialing at the rate that gives the target abandon rate."""

    n_agents: int
    abandon_target: float
    offered_erlangs: float  # live-call rate x mean busy time
    utilisation: float  # offered (1 - B) / N
    abandon_rate: float  # = B(N, offered) = the target
    connects_per_agent_hour: float
    dials_per_agent_hour: float | None  # live rate / p, when p_live is given


# --------------------------------------------------------------------------------------------
# The model on a capped grid


@dataclass(frozen=True, slots=True)
class _Tier:
    n: int
    p: float
    mu: float
    nu: float

    @staticmethod
    def of(n_agents: int, p_live: float, mean_ring_s: float, mean_busy_s: float) -> _Tier:
        if not isinstance(n_agents, int) or n_agents < 1:
            raise ValueError(f"n_agents must be a positive integer, not {n_agents!r}")
        if not 0.0 < p_live <= 1.0:
            raise ValueError(f"p_live must be in (0, 1], not {p_live!r}")
        if not (mean_ring_s > 0.0 and mean_busy_s > 0.0):
            raise ValueError("mean_ring_s and mean_busy_s must be positive")
        return _Tier(n_agents, float(p_live), 1.0 / mean_busy_s, 1.0 / mean_ring_s)

    def default_cap(self) -> int:
        return math.ceil(1.25 * self.n / self.p) + 10


class _Grid:
    """Uniformised transition coefficients on {0..N} x {0..R} (post-decision states)."""

    def __init__(self, tier: _Tier, cap: int) -> None:
        if cap < 1:
            raise ValueError(f"max_ringing must be at least 1, not {cap}")
        n = tier.n
        self.tier = tier
        self.n = n
        self.cap = cap
        self.shape = (n + 1, cap + 1)
        self.lam = (n * tier.mu + cap * tier.nu) * (1.0 + 1e-3)  # a little slack: aperiodic
        busy = np.arange(n + 1, dtype=np.float64)[:, None] * np.ones((1, cap + 1))
        ring = np.ones((n + 1, 1)) * np.arange(cap + 1, dtype=np.float64)[None, :]
        self.busy = busy
        self.ring = ring
        self.rate_free = busy * tier.mu
        self.rate_live = ring * (tier.nu * tier.p)
        self.rate_dead = ring * (tier.nu * (1.0 - tier.p))
        self.f_free = self.rate_free / self.lam
        # to (b, r - 1): not live; at b = N also live (abandoned)
        self.f_down = self.rate_dead / self.lam
        self.f_down[n, :] += self.rate_live[n, :] / self.lam
        self.f_up = self.rate_live / self.lam  # to (b + 1, r - 1), used for b < N only
        self.f_stay = 1.0 - self.f_free - self.f_down
        self.f_stay[:n, :] -= self.f_up[:n, :]
        # rewards per uniformised step: connects (+1 each) and abandons (per unit price)
        self.connect_step = self.f_up.copy()
        self.connect_step[n, :] = 0.0
        self.abandon_step = np.zeros(self.shape)
        self.abandon_step[n, :] = self.f_up[n, :]


@dataclass(slots=True)
class _Rvi:
    h: FloatArray
    gain_lo: float  # per second
    gain_hi: float
    sweeps: int


def _suffix_max(h: FloatArray, out: FloatArray) -> None:
    np.maximum.accumulate(h[:, ::-1], axis=1, out=out[:, ::-1])


def _rvi(grid: _Grid, price: float, h0: FloatArray | None, tol: float) -> _Rvi:
    """Relative value iteration at a price; stops when Lambda * span(Th - h) <= tol."""
    n = grid.n
    h = np.zeros(grid.shape) if h0 is None else h0.copy()
    reward = grid.connect_step - price * grid.abandon_step
    v = np.empty(grid.shape)
    t = np.empty(grid.shape)
    tmp = np.empty(grid.shape)
    f_free, f_down, f_up, f_stay = grid.f_free, grid.f_down, grid.f_up, grid.f_stay
    lo = hi = 0.0
    for sweep in range(1, _MAX_SWEEPS + 1):
        _suffix_max(h, v)
        np.multiply(f_stay, v, out=t)
        t += reward
        np.multiply(f_free[1:], v[:-1], out=tmp[1:])
        t[1:] += tmp[1:]
        np.multiply(f_down[:, 1:], v[:, :-1], out=tmp[:, 1:])
        t[:, 1:] += tmp[:, 1:]
        np.multiply(f_up[:n, 1:], v[1:, :-1], out=tmp[:n, 1:])
        t[:n, 1:] += tmp[:n, 1:]
        if sweep % _CHECK_EVERY == 0:
            np.subtract(t, h, out=tmp)
            lo, hi = float(tmp.min()), float(tmp.max())
            if (hi - lo) * grid.lam <= tol:
                np.subtract(t, t[n, 0], out=h)
                return _Rvi(h, lo * grid.lam, hi * grid.lam, sweep)
        np.subtract(t, t[n, 0], out=h)
    raise RuntimeError(f"value iteration did not converge in {_MAX_SWEEPS} sweeps")


def _greedy(h: FloatArray) -> IntArray:
    """actions[b, r] = the smallest argmax of h[b, r'] over r' >= r (fewest calls on ties)."""
    rows, cols = h.shape
    actions = np.empty((rows, cols), dtype=np.int64)
    best = h[:, -1].copy()
    actions[:, -1] = cols - 1
    for r in range(cols - 2, -1, -1):
        take = h[:, r] >= best
        np.maximum(best, h[:, r], out=best)
        actions[:, r] = np.where(take, r, actions[:, r + 1])
    return actions


def _policy(actions: IntArray, cap: int) -> Policy:
    levels = actions[:, 0]
    ring = np.arange(actions.shape[1], dtype=np.int64)[None, :]
    top_up = bool(np.array_equal(actions, np.maximum(ring, levels[:, None])))
    return Policy(tuple(int(x) for x in levels), top_up, cap, actions)


def _top_up_actions(levels: Sequence[int], n: int, cap: int) -> IntArray:
    if len(levels) != n + 1:
        raise ValueError(f"need {n + 1} top-up levels (b = 0..{n}), got {len(levels)}")
    lv = np.asarray(levels, dtype=np.int64)
    if lv.min() < 0 or lv.max() > cap:
        raise ValueError(f"top-up levels must be in 0..{cap}")
    ring = np.arange(cap + 1, dtype=np.int64)[None, :]
    return np.maximum(ring, lv[:, None])


def _scatter(index: IntArray, weights: FloatArray, size: int) -> FloatArray:
    """out[k] = sum of weights[i] over index[i] == k."""
    out: FloatArray = np.bincount(index, weights=weights, minlength=size).astype(
        np.float64, copy=False
    )
    return out


def _evaluate(grid: _Grid, actions: IntArray, pi0: FloatArray | None = None) -> PolicyEvaluation:
    """Exact long-run averages of the policy `actions`: the stationary distribution of its
    chain on the post-decision states reachable from (N, 0), by power iteration (warm-started
    from `pi0`, a distribution on the grid, if given)."""
    tier, n, cap = grid.tier, grid.n, grid.cap
    cols = cap + 1
    size = (n + 1) * cols
    b_of: IntArray = np.repeat(np.arange(n + 1, dtype=np.int64), cols)
    r_of: IntArray = np.tile(np.arange(cols, dtype=np.int64), n + 1)
    flat_act: IntArray = actions.reshape(-1)

    def post(b: IntArray, r: IntArray) -> IntArray:
        """Flat index of the post-decision state from pre-decision (b, r)."""
        out: IntArray = b * cols + flat_act[b * cols + r]
        return out

    # destinations of the three events from every grid state (-1: the event has rate 0)
    d_free: IntArray = np.full(size, -1, dtype=np.int64)
    d_down: IntArray = np.full(size, -1, dtype=np.int64)
    has_free = b_of > 0
    has_ring = r_of > 0
    d_free[has_free] = post(b_of[has_free] - 1, r_of[has_free])
    d_down[has_ring] = post(b_of[has_ring], r_of[has_ring] - 1)
    d_up = d_down.copy()  # at b = N a live call is abandoned: the same state as a dead one
    up = has_ring & (b_of < n)
    d_up[up] = post(b_of[up] + 1, r_of[up] - 1)

    start = int(post(np.array([n], dtype=np.int64), np.array([0], dtype=np.int64))[0])
    reach = np.zeros(size, dtype=np.bool_)
    reach[start] = True
    frontier: IntArray = np.array([start], dtype=np.int64)
    while frontier.size:
        nxt = np.concatenate([d_free[frontier], d_down[frontier], d_up[frontier]])
        nxt = nxt[nxt >= 0]
        nxt = np.unique(nxt[~reach[nxt]])
        reach[nxt] = True
        frontier = nxt
    states: IntArray = np.flatnonzero(reach).astype(np.int64)
    m = int(states.size)
    pos: IntArray = np.full(size, -1, dtype=np.int64)
    pos[states] = np.arange(m, dtype=np.int64)

    b_s = b_of[states].astype(np.float64)
    r_s = r_of[states].astype(np.float64)
    q_free = b_s * tier.mu
    q_live = r_s * (tier.nu * tier.p)
    q_dead = r_s * (tier.nu * (1.0 - tier.p))
    q_total = q_free + q_live + q_dead
    # Per-state uniformisation: x P = x with P = I + D Q, D = diag(1 / lam_s), gives pi = x D
    # (normalised). lam_s a little above q_s keeps self-loops (aperiodic) and makes a step
    # about one jump of the chain: far fewer steps than with one global rate.
    lam = np.where(q_total > 0.0, _SELF_LOOP * q_total, 1.0)
    dest = np.concatenate(
        [pos[np.maximum(d, 0)] * (d >= 0) for d in (d_free[states], d_down[states], d_up[states])]
    )  # a zero-rate event points at state 0 with weight 0
    w_out = np.concatenate([q_free / lam, q_dead / lam, q_live / lam])
    stay = 1.0 - q_total / lam

    x: FloatArray = np.zeros(m)  # the stationary vector of P, i.e. pi * lam up to a factor
    if pi0 is not None:
        moved = _scatter(post(b_of, r_of), pi0.reshape(-1), size)
        x = moved[states] * lam
    if float(x.sum()) > 0.0:
        x /= x.sum()
    else:
        x[pos[start]] = 1.0
    iterations = 0
    while True:
        iterations += 1
        new = _scatter(dest, np.tile(x, 3) * w_out, m)
        new += x * stay
        if iterations % _CHECK_EVERY == 0:
            step = float(np.abs(new - x).sum())
            x = new / new.sum()
            if step < _STEP_TOL:
                break
            if iterations > _MAX_SWEEPS:
                raise RuntimeError("power iteration did not converge")
        else:
            x = new
    pi = x / lam
    pi /= pi.sum()

    mean_busy = float(pi @ b_s)
    mean_ring = float(pi @ r_s)
    at_full = b_s == n
    connect = float(pi[~at_full] @ q_live[~at_full])
    abandon = float(pi[at_full] @ q_live[at_full])
    live = connect + abandon
    full_pi = np.zeros(size)
    full_pi[states] = pi
    return PolicyEvaluation(
        policy=_policy(actions, cap),
        utilisation=mean_busy / n,
        abandon_rate=abandon / live if live > 0.0 else 0.0,
        connects_per_agent_hour=connect * _HOUR / n,
        abandons_per_agent_hour=abandon * _HOUR / n,
        dials_per_agent_hour=mean_ring * tier.nu * _HOUR / n,
        mean_ringing=mean_ring,
        states=m,
        power_iterations=iterations,
        balance_error=abs(connect - tier.mu * mean_busy) / connect if connect > 0.0 else 0.0,
        connect_rate=connect,
        abandon_rate_per_s=abandon,
        _pi=full_pi.reshape(grid.shape),
    )


# --------------------------------------------------------------------------------------------
# The constrained optimum


@dataclass(slots=True)
class _Point:
    price: float
    ev: PolicyEvaluation
    h: FloatArray
    gain_hi: float  # Odoni upper bound on max (C - price A) per second at this price

    def excess(self, alpha: float) -> float:
        """A - alpha L: <= 0 when the abandon target is met."""
        a = self.ev.abandon_rate_per_s
        return a - alpha * (a + self.ev.connect_rate)

    def value(self, price: float) -> float:
        return self.ev.connect_rate - price * self.ev.abandon_rate_per_s


@dataclass(slots=True)
class _Counters:
    sweeps: int = 0
    power: int = 0


class _Search:
    """Solves the priced problem at prices; warm-starts each from the prices solved before."""

    def __init__(self, grid: _Grid, alpha: float, tolerance: float, counters: _Counters) -> None:
        self.grid = grid
        self.alpha = alpha
        self.tolerance = tolerance
        self.counters = counters
        self.scale = grid.n * grid.tier.mu  # connect rate at U = 1
        self.points: list[_Point] = []

    @property
    def prices(self) -> list[float]:
        return [p.price for p in self.points]

    def tol(self, price: float) -> float:
        return self.tolerance * self.scale * (1.0 + price)

    def _start(self, price: float) -> tuple[FloatArray | None, FloatArray | None]:
        """For a fixed policy h is affine in the price: interpolate between the nearest
        solved prices on either side (else take the nearest one)."""
        if not self.points:
            return None, None
        lower = [p for p in self.points if p.price <= price]
        upper = [p for p in self.points if p.price > price]
        nearest = min(self.points, key=lambda p: abs(p.price - price))
        if lower and upper:
            a = max(lower, key=lambda p: p.price)
            b = min(upper, key=lambda p: p.price)
            t = (price - a.price) / (b.price - a.price)
            return (1.0 - t) * a.h + t * b.h, nearest.ev._pi
        return nearest.h, nearest.ev._pi

    def at(self, price: float) -> _Point:
        h0, pi0 = self._start(price)
        rvi = _rvi(self.grid, price, h0, self.tol(price))
        self.counters.sweeps += rvi.sweeps
        ev = _evaluate(self.grid, _greedy(rvi.h), pi0)
        self.counters.power += ev.power_iterations
        point = _Point(price, ev, rvi.h, rvi.gain_hi)
        self.points.append(point)
        return point


@dataclass(slots=True)
class _Outcome:
    below: _Point  # abandon rate <= target
    above: _Point | None  # abandon rate > target (None: `below` meets it exactly, or slack)
    price: float
    gain_hi: float  # upper bound on max (C - price A) per second
    price_iterations: int
    slack: bool = False  # unpriced dialing up to the cap meets the target


def _search(s: _Search, max_price_iterations: int) -> _Outcome:
    """Bracket the target between a policy below and one above it, then alternate two steps:
    (1) the price where the bracket's excess (A - alpha L), interpolated linearly, is zero
    (aims at the target); (2) the price where the two bracket policies have equal Lagrangian
    value (the secant of the dual). A (2) step whose greedy policy gains nothing over the two
    proves both optimal at that price: done."""
    alpha = s.alpha
    theta_max = (1.0 - alpha) / alpha  # at this price every optimal policy meets the target

    def exact(p: _Point) -> bool:
        return abs(p.excess(alpha)) <= 1e-12 * max(p.ev.connect_rate, 1e-300)

    # bracket: start at price 1 and move by factors of 4
    first = s.at(min(1.0, theta_max))
    below: _Point | None = None
    above: _Point | None = None
    price = first.price
    if first.excess(alpha) <= 0.0:
        below = first
        while above is None:
            price = price / 4.0 if price > 1e-9 else 0.0
            p = s.at(price)
            if p.excess(alpha) > 0.0:
                above = p
            elif price == 0.0:
                # even unpriced dialing up to the cap meets the target: the constraint is slack
                return _Outcome(p, None, 0.0, p.gain_hi, len(s.points), slack=True)
            else:
                below = p
    else:
        above = first
        while below is None:
            price = min(price * 4.0, theta_max)
            p = s.at(price)
            if p.excess(alpha) <= 0.0:
                below = p
            elif price >= theta_max:
                raise RuntimeError("no policy meets the target even at the maximal price")
            else:
                above = p
    for p in (below, above):
        if exact(p):
            return _Outcome(p, None, p.price, p.gain_hi, len(s.points))

    aim = True
    for _ in range(max_price_iterations):
        lo, hi = above.price, below.price  # infeasible policies come from lower prices
        e_above, e_below = above.excess(alpha), below.excess(alpha)
        if aim:
            price = lo + (hi - lo) * e_above / (e_above - e_below)
        else:
            d_abandon = above.ev.abandon_rate_per_s - below.ev.abandon_rate_per_s
            d_connect = above.ev.connect_rate - below.ev.connect_rate
            price = d_connect / d_abandon if d_abandon > 0.0 else math.nan
        secant = not aim
        if not (math.isfinite(price) and lo < price < hi):
            price, secant = 0.5 * (lo + hi), False
        aim = not aim
        p = s.at(price)
        if exact(p):
            return _Outcome(p, None, price, p.gain_hi, len(s.points))
        if secant:
            line = max(above.value(price), below.value(price))
            if p.value(price) <= line + 10.0 * s.tol(price):
                return _Outcome(below, above, price, p.gain_hi, len(s.points))
        if p.excess(alpha) > 0.0:
            above = p
        else:
            below = p
        if hi - lo <= 1e-13 * hi:
            return _Outcome(below, above, price, p.gain_hi, len(s.points))
    raise RuntimeError(f"price search did not settle in {max_price_iterations} iterations")


def solve(
    n_agents: int,
    p_live: float,
    abandon_target: float = 0.03,
    mean_ring_s: float = 15.0,
    mean_busy_s: float = 135.0,
    max_ringing: int | None = None,
    *,
    tolerance: float = 1e-9,
    max_price_iterations: int = 60,
) -> OptimumResult:
    """The best non-clairvoyant pacing on the Markov tier at a long-run abandon rate (abandoned /
    live) equal to `abandon_target`. `tolerance` is the value-iteration stopping rule relative
    to the connect rate at U = 1 (times 1 + price). See the module docstring for the method."""
    started = time.perf_counter()
    tier = _Tier.of(n_agents, p_live, mean_ring_s, mean_busy_s)
    if not 0.0 < abandon_target < 1.0:
        raise ValueError(f"abandon_target must be in (0, 1), not {abandon_target!r}")
    auto = max_ringing is None
    cap = tier.default_cap() if max_ringing is None else int(max_ringing)
    limit = _CAP_LIMIT_FACTOR * tier.default_cap()
    counters = _Counters()
    while True:
        grid = _Grid(tier, cap)
        search = _Search(grid, abandon_target, tolerance, counters)
        out = _search(search, max_price_iterations)
        top = max(max(p.ev.policy.levels) for p in (out.below, out.above) if p is not None)
        near_cap = out.slack or top >= cap - max(1, math.ceil(_CAP_HEADROOM * cap))
        if not auto or not near_cap:
            break
        if cap >= limit:
            raise ValueError(
                f"abandon target {abandon_target} is not binding below {cap} ringing calls: "
                "utilisation approaches 1 as more calls ring; give max_ringing to cap it"
            )
        cap = min(limit, math.ceil(cap * _CAP_GROWTH))

    alpha = abandon_target
    below, above = out.below, out.above
    if above is None:
        weight = 1.0
        parts: tuple[PolicyEvaluation, ...] = (below.ev,)
    else:
        e_below, e_above = below.excess(alpha), above.excess(alpha)
        weight = e_above / (e_above - e_below)
        parts = (below.ev, above.ev)
    shares = (weight, 1.0 - weight)

    def mix(values: Sequence[float]) -> float:
        return float(sum(w * v for w, v in zip(shares, values, strict=False)))

    connect = mix([e.connect_rate for e in parts])
    abandon = mix([e.abandon_rate_per_s for e in parts])
    kappa = alpha / (1.0 - alpha)
    denominator = 1.0 - out.price * kappa
    if out.slack:
        upper = out.gain_hi / (n_agents * tier.mu)
    elif denominator > 0.0 and math.isfinite(out.gain_hi):
        upper = out.gain_hi / denominator / (n_agents * tier.mu)
    else:
        upper = math.inf
    return OptimumResult(
        n_agents=n_agents,
        p_live=tier.p,
        abandon_target=alpha,
        mean_ring_s=mean_ring_s,
        mean_busy_s=mean_busy_s,
        utilisation=mix([e.utilisation for e in parts]),
        abandon_rate=abandon / (abandon + connect) if connect + abandon > 0 else 0.0,
        connects_per_agent_hour=connect * _HOUR / n_agents,
        dials_per_agent_hour=mix([e.dials_per_agent_hour for e in parts]),
        mean_ringing=mix([e.mean_ringing for e in parts]),
        utilisation_upper_bound=min(1.0, upper),
        price=out.price,
        prices=(below.price, above.price if above is not None else below.price),
        price_path=tuple(search.prices),
        randomised=above is not None,
        mix_weight=weight,
        policy=below.ev.policy,
        policy_alt=above.ev.policy if above is not None else None,
        components=parts,
        top_up_form=all(e.policy.top_up_form for e in parts),
        iterations=counters.sweeps,
        price_iterations=out.price_iterations,
        power_iterations=counters.power,
        max_ringing=cap,
        cap_binding=(not auto) and near_cap,
        solve_seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------------------------------
# Baselines


def evaluate_top_up(
    n_agents: int,
    p_live: float,
    levels: Sequence[int],
    mean_ring_s: float = 15.0,
    mean_busy_s: float = 135.0,
    max_ringing: int | None = None,
) -> PolicyEvaluation:
    """Exact averages of the top-up policy "ring up to levels[b] calls when b agents are busy"
    (never cancels calls; above the level it waits), e.g. a fixed dial ratio."""
    tier = _Tier.of(n_agents, p_live, mean_ring_s, mean_busy_s)
    cap = max(max(levels), 1) if max_ringing is None else int(max_ringing)
    grid = _Grid(tier, cap)
    return _evaluate(grid, _top_up_actions(levels, n_agents, cap))


def evaluate_progressive(
    n_agents: int, p_live: float, mean_ring_s: float = 15.0, mean_busy_s: float = 135.0
) -> PolicyEvaluation:
    """Progressive (power) dialing: as many calls ringing as agents free (r = N - b)."""
    return evaluate_top_up(
        n_agents, p_live, [n_agents - b for b in range(n_agents + 1)], mean_ring_s, mean_busy_s
    )


def progressive_utilisation(
    n_agents: int, p_live: float, mean_ring_s: float = 15.0, mean_busy_s: float = 135.0
) -> float:
    """U of progressive dialing on the Markov tier, exactly (zero abandons). It equals
    mean_busy / (mean_busy + mean_ring / p) for every N (each agent is on its own)."""
    return evaluate_progressive(n_agents, p_live, mean_ring_s, mean_busy_s).utilisation


def erlang_b(servers: int, offered_erlangs: float) -> float:
    """Erlang B blocking probability (the stable recursion)."""
    if servers < 0 or offered_erlangs < 0.0:
        raise ValueError("servers and offered load must be non-negative")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_erlangs * b / (k + offered_erlangs * b)
    return b


def erlang_b_open_loop(
    n_agents: int,
    abandon_target: float = 0.03,
    p_live: float | None = None,
    mean_busy_s: float = 135.0,
) -> OpenLoopResult:
    """Open-loop dialing: calls placed as a Poisson stream at a fixed rate. The output of the
    infinite-server ringing stage is Poisson, so live calls arrive Poisson at p x rate; with no
    queue the abandon fraction is Erlang B's blocking (PASTA). The rate giving the target fixes
    the offered load A with B(N, A) = target, and U = A (1 - target) / N: it depends on N and
    the target only (p and the ring time set the dial rate, not U)."""
    if not isinstance(n_agents, int) or n_agents < 1:
        raise ValueError(f"n_agents must be a positive integer, not {n_agents!r}")
    if not 0.0 < abandon_target < 1.0:
        raise ValueError(f"abandon_target must be in (0, 1), not {abandon_target!r}")
    lo, hi = 0.0, 1.0
    while erlang_b(n_agents, hi) < abandon_target:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if erlang_b(n_agents, mid) < abandon_target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-14 * hi:
            break
    offered = 0.5 * (lo + hi)
    blocking = erlang_b(n_agents, offered)
    connects = offered * (1.0 - blocking) / mean_busy_s
    live = offered / mean_busy_s
    return OpenLoopResult(
        n_agents=n_agents,
        abandon_target=abandon_target,
        offered_erlangs=offered,
        utilisation=offered * (1.0 - blocking) / n_agents,
        abandon_rate=blocking,
        connects_per_agent_hour=connects * _HOUR / n_agents,
        dials_per_agent_hour=None if p_live is None else live / p_live * _HOUR / n_agents,
    )


# --------------------------------------------------------------------------------------------
# The table


def _row(cell: tuple[int, float, float]) -> str:
    n, p, target = cell
    opt = solve(n, p, target)
    prog = progressive_utilisation(n, p)
    open_loop = erlang_b_open_loop(n, target, p)
    gap = opt.utilisation_upper_bound - opt.utilisation
    levels = f"{max(opt.policy.levels)}/{opt.max_ringing}"
    return (
        f"{n:>4} {p:>4.2f}  {opt.utilisation:>6.4f} {gap:>8.1e} {opt.abandon_rate:>7.4%}"
        f" {opt.price:>6.3f} {opt.mix_weight:>5.3f} {opt.connects_per_agent_hour:>6.2f}"
        f" {opt.dials_per_agent_hour:>6.1f} {levels:>9} {prog:>6.4f}"
        f" {open_loop.utilisation:>6.4f} {opt.solve_seconds:>7.2f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table of the note's cells: optimum, progressive and Erlang B open-loop U."""
    parser = argparse.ArgumentParser(
        prog="python -m ccgateway.sim.optimum",
        description="Exact optimum, progressive and Erlang B open-loop U on the Markov tier",
    )
    parser.add_argument("--agents", type=int, nargs="+", default=[10, 20, 50, 100])
    parser.add_argument("--p-live", type=float, nargs="+", default=[0.2, 0.3])
    parser.add_argument("--target", type=float, default=0.03)
    parser.add_argument("--jobs", type=int, default=1, help="cells solved in parallel processes")
    args = parser.parse_args(argv)
    cells = [(n, p, args.target) for n in args.agents for p in args.p_live]
    head = (
        f"{'N':>4} {'p':>4}  {'U opt':>6} {'bound-U':>8} {'abandon':>7} {'price':>6} {'mix w':>5}"
        f" {'conn/h':>6} {'dial/h':>6} {'r*max/cap':>9} {'U prog':>6} {'U ErlB':>6} {'solve s':>7}"
    )
    print(
        f"Markov tier, abandon target {args.target:.1%} of live calls (per agent hour: conn, dial)"
    )
    print(head)
    print("-" * len(head))
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for line in pool.map(_row, cells):
                print(line, flush=True)
    else:
        for cell in cells:
            print(_row(cell), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
