"""`ccgateway simulate ...`: the benchmarks on the simulator.

`ccgateway simulate dialer` runs the dialer benchmark of the project's note on the pacing
code the live dialer uses, every baseline beside it on the same seeds, the exact optimum on
the Markov tier; it prints a table and writes an SVG chart.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ccgateway.sim.bench import KINDS, VARIANTS, Setup, cells_of, quick, run_benchmark
from ccgateway.sim.plot import write
from ccgateway.sim.report import CellReport, format_table, report

DEFAULT_PLOT = "/tmp/ccgateway-sim/dialer.svg"


def add_simulate_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    simulate = commands.add_parser("simulate", help="benchmarks on the discrete-event simulator")
    sub = simulate.add_subparsers(dest="simulation", required=True)
    dialer = sub.add_parser(
        "dialer",
        help="the outbound pacing benchmark: ccgateway's pacer against every baseline",
        description=__doc__,
    )
    dialer.add_argument("--agents", type=int, nargs="+", default=[10, 20, 50, 100])
    dialer.add_argument("--p-live", type=float, nargs="+", default=[0.2, 0.3])
    dialer.add_argument(
        "--tier", choices=["realistic", "markov", "both"], default="both", help="default both"
    )
    dialer.add_argument("--replications", "-r", type=int, default=10, help="days per cell")
    dialer.add_argument("--hours", type=float, default=8.0, help="shift length")
    dialer.add_argument(
        "--variant",
        choices=VARIANTS,
        action="append",
        default=[],
        help="amd (1.5-3 s, --amd-fp), drift (p falls to p/2), churn (agents log out and in), "
        "cap (--lines-per-agent); repeat to combine",
    )
    dialer.add_argument("--amd-fp", type=float, default=0.02, help="AMD: people taken for machines")
    dialer.add_argument("--lines-per-agent", type=float, default=0.4, help="cap: lines per agent")
    dialer.add_argument("--rules", choices=["uk", "us"], default="uk", help="the abandon ledger")
    dialer.add_argument("--target", type=float, default=0.03, help="abandon target (0.03)")
    dialer.add_argument(
        "--vicidial", choices=["hard", "average", "tapered"], default="hard",
        help="which ADAPT_ method VICIdial's emulation cuts with",
    )  # fmt: skip
    dialer.add_argument("--policies", nargs="+", choices=KINDS, default=list(KINDS))
    dialer.add_argument("--seed", type=int, default=1)
    dialer.add_argument("--jobs", "-j", type=int, default=2, help="worker processes")
    dialer.add_argument("--plot", default=DEFAULT_PLOT, help=f"SVG file ({DEFAULT_PLOT})")
    dialer.add_argument("--json", help="also write the figures as JSON here")
    dialer.add_argument(
        "--quick", action="store_true", help="N 10 and 20, p 0.3, 2 days of 1 h: a smoke test"
    )
    dialer.set_defaults(handler=_dialer)


def _dialer(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    setup = Setup(
        hours=args.hours,
        replications=args.replications,
        rules=args.rules,
        target=args.target,
        seed=args.seed,
        variants=tuple(sorted(set(args.variant))),
        amd_fp=args.amd_fp,
        lines_per_agent=args.lines_per_agent,
        vicidial_method=args.vicidial,
    )
    agents, p_lives = args.agents, args.p_live
    if args.quick:
        setup = quick(setup)
        agents, p_lives = [10, 20], [0.3]
    tiers = ["realistic", "markov"] if args.tier == "both" else [args.tier]
    cells = cells_of(agents, p_lives, tiers)
    runs = run_benchmark(setup, cells, args.policies, jobs=args.jobs)
    reports = [report(setup, run) for run in runs]
    print(format_table(setup, reports))
    elapsed = time.perf_counter() - started
    title = (
        f"Dialer benchmark: U against N, {setup.rules.upper()} rules, target "
        f"{100 * setup.target:g} %, {setup.replications} x {setup.hours:g} h"
        + (f", variants {', '.join(setup.variants)}" if setup.variants else "")
    )
    path = write(args.plot, reports, title)
    print(f"\nplot: {path}\nrun time: {elapsed:.1f} s on {args.jobs} worker(s)")
    if args.json:
        Path(args.json).write_text(json.dumps(_figures(setup, reports), indent=1))
    return 0


def _figures(setup: Setup, reports: list[CellReport]) -> dict[str, object]:
    return {
        "setup": asdict(setup),
        "cells": [
            {
                "cell": asdict(r.run.cell),
                "fixed_ratio": r.fixed_ratio,
                "optimum_u": r.optimum_u,
                "rows": [asdict(row) for row in r.rows],
                "notes": r.notes,
                "goals": r.goals(),
            }
            for r in reports
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ccgateway")
    add_simulate_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
