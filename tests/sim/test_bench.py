"""The benchmark's runner, table and chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ccgateway.domain.outbound.ledger import AbandonLedger
from ccgateway.domain.outbound.rules import US
from ccgateway.sim.bench import Cell, Job, Setup, Spec, cells_of, run_benchmark, run_days
from ccgateway.sim.cli import main
from ccgateway.sim.plot import render
from ccgateway.sim.policies import shift_start
from ccgateway.sim.report import Stat, format_table, report

SVG = "{http://www.w3.org/2000/svg}"


def test_a_small_run_gives_a_block_per_cell_and_a_chart() -> None:
    setup = Setup(hours=0.25, replications=2)
    cells = cells_of([10], [0.3], ["realistic", "markov"])
    runs = run_benchmark(setup, cells, jobs=1, note=lambda _: None)
    reports = [report(setup, run) for run in runs]
    table = format_table(setup, reports)
    assert "== N=10 p=0.30 realistic ==" in table and "== N=10 p=0.30 Markov ==" in table
    for label in ("pacer", "progressive", "fixed r=", "vicidial-hard", "erlang-b"):
        assert label in table
    assert "optimum (exact)" in table and "optimum top-up (DES)" in table
    assert "goals" in table
    markov = reports[1]
    assert markov.optimum_u is not None and markov.fixed_u is not None
    progressive = markov.row("progressive")
    assert progressive is not None and progressive.abandon_30day == 0.0
    svg = ET.fromstring(render(reports, "test"))
    assert svg.tag == f"{SVG}svg"
    assert len(svg.findall(f".//{SVG}polyline")) >= 6


def test_the_us_ledger_runs_on_from_day_to_day() -> None:
    setup = Setup(hours=0.25, replications=2, rules="us")
    ledger = AbandonLedger(US, 0.0, 0.03)
    days = run_days(Job(setup, Cell(10, 0.3, True), Spec("pacer"), (0, 1)), ledger)
    assert [d.rep for d in days] == [0, 1]
    tally = ledger.tally(shift_start(US, 1) + 3600.0)
    assert tally.live == sum(d.result.connected + d.result.abandoned for d in days)
    assert tally.abandoned == sum(d.result.abandoned for d in days)


def test_the_interval_is_students() -> None:
    stat = Stat.of([1.0, 2.0, 3.0])
    assert stat.mean == 2.0
    assert stat.half == pytest.approx(4.303 * 1.0 / 3**0.5)


def test_quick_mode_prints_the_table_and_writes_the_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot = tmp_path / "out" / "dialer.svg"
    assert main(["simulate", "dialer", "--quick", "--plot", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("== N=") == 4 and "run time" in printed
    ET.parse(plot)
