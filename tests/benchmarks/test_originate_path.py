"""The offline path benchmark still runs against the controller as it is now.

`benchmarks/ami_source.py` is a scripted AMI peer: when the controller learnt to read its
owner mark back and to read the end marks at a resync, the peer answered neither and the
benchmark stopped at "the AMI link did not come up" unnoticed. A short run here keeps the
peer in step with what the controller asks of a PBX.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mode", [[], ["--talk"]])
def test_originate_path_runs_and_times_every_call(mode: list[str]) -> None:
    """With --talk each call is answered, bridged and ended by the scripted messages, and
    the run fails unless every call is recorded answered."""
    command = ["benchmarks.originate_path", "--calls", "5", "--agents", "2", *mode]
    done = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r"Originate read, 5 calls, 2 agents", done.stdout), done.stdout
    figures = re.search(r"p50 ([\d.]+)\s+p90 ([\d.]+)\s+p99 ([\d.]+)", done.stdout)
    assert figures is not None and 0 < float(figures[1]) <= float(figures[3]), done.stdout
