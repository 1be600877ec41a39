"""Measuring a recording's WAV with sox (as a listener would check it): its stretches' peaks
and the longest silent run, for the recording tests on both PBXs."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    return done.stdout + done.stderr


def peak(path: Path, start: float, seconds: float, channel: int | None = None) -> float:
    """The largest sample (0-1) in that stretch of the file (of one channel: 1, 2)."""
    remix = ["remix", str(channel)] if channel is not None else []
    trim = ["trim", f"{start:.2f}", f"{seconds:.2f}"]
    report = run("sox", str(path), "-n", *remix, *trim, "stat")
    for line in report.splitlines():
        if line.startswith("Maximum amplitude"):
            return float(line.split(":")[1])
    raise AssertionError(f"sox gave no amplitude: {report}")


def longest(values: list[float], chosen: Callable[[float], bool]) -> tuple[int, int]:
    """(start, length) of the longest run of chosen values."""
    best, start = (0, 0), None
    for i, value in enumerate([*values, None]):
        if value is not None and chosen(value):
            start = i if start is None else start
        elif start is not None:
            best = max(best, (start, i - start), key=lambda run: run[1])
            start = None
    return best
