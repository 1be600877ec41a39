"""The pages' JavaScript without a browser, where Node.js is on the machine: every module
parses, the console's reading of queue requirements agrees with the domain's, and so does
the pages' reading of a recording's state."""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ccgateway.api.routes.recordings import RecordingOut
from ccgateway.domain.recorder import state as recorder_state
from ccgateway.domain.recording import Consent, Recording
from ccgateway.domain.requirements import parse_requirement, requirement_from_levels
from ccgateway.ports import RecordingFacts
from ccgateway.ui import router as ui_router

STATIC = Path(ui_router.__file__).resolve().parent / "static"
SCRIPTS = sorted(STATIC.rglob("*.js"))
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="no Node.js here")


def run_module(source: str) -> str:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--experimental-default-type=module", "--input-type=module", "-e", source],
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(STATIC).as_posix())
def test_each_module_parses(script: Path) -> None:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "--input-type=module", "--check"],
        input=script.read_text(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr


EXPRESSIONS = [
    "de >= 5",
    "de >= 5 and (billing >= 3 or team == 'vip') and language in ('de', 'en')",
    "not en and fr > 2",
    "team != 'red' or de < 4",
    "language not in ('fr', 'it') and (de == 7 or en != 3)",
    "true",
    "en <= 2 or not (de > 6 and team in ('blue'))",
]


def test_requirements_read_as_the_domain_reads_them() -> None:
    rng = random.Random(7)
    agents = [
        (
            {s: rng.randint(1, 10) for s in ("de", "en", "fr", "billing") if rng.random() < 0.6},
            {
                k: rng.choice(["vip", "red", "blue", "de", "en", "fr", "it"])
                for k in ("team", "language")
                if rng.random() < 0.7
            },
        )
        for _ in range(200)
    ]
    texts = [parse_requirement(e).source for e in EXPRESSIONS]
    texts.append(requirement_from_levels({"de": 5, "en": 2}).source)
    expected = [[parse_requirement(t).matches(s, a) for s, a in agents] for t in texts]
    module = (STATIC / "js" / "requirement.js").as_uri()
    got = run_module(
        f"import {{ compileRequirement }} from {json.dumps(module)};\n"
        f"const texts = {json.dumps(texts)}; const agents = {json.dumps(agents)};\n"
        "console.log(JSON.stringify(texts.map((t) => {\n"
        "  const f = compileRequirement(t);\n"
        "  return f === null ? null : agents.map(([s, a]) => f(s, a));\n"
        "})));"
    )
    assert json.loads(got) == expected


def test_csv_cells_are_quoted_and_formulas_defused() -> None:
    module = (STATIC / "js" / "dom.js").as_uri()
    rows = [["a,b", "=HYPERLINK(1)", "-5", 'say "hi"', "+49 30 1234", "+cmd|' /C calc'!A0", None]]
    got = run_module(
        f"import {{ toCsv }} from {json.dumps(module)};\n"
        f"process.stdout.write(toCsv({json.dumps(rows)}));"
    )
    cells = ['"a,b"', "'=HYPERLINK(1)", "-5", '"say ""hi"""', "+49 30 1234", "'+cmd|' /C calc'!A0"]
    assert got == ",".join([*cells, ""]) + "\r\n"


def _recordings() -> list[Recording]:
    """Recordings in every state the domain names: running, paused, resumed, ended (paused
    or not at the end), refused by the caller, failed on the PBX."""

    def rec(**changes: Any) -> Recording:
        base = Recording("rec-1", "c1", "asterisk", "q", "a1", "+4930123", 100.0, "rec-1.wav")
        return dataclasses.replace(base, **changes)

    return [
        rec(),
        rec(pauses=[(110.0, None)]),
        rec(pauses=[(110.0, 115.0)]),
        rec(pauses=[(110.0, 115.0), (120.0, None)]),
        rec(ended_at=130.0),
        rec(ended_at=130.0, pauses=[(110.0, 130.0)]),
        rec(ended_at=100.0, failure="the caller refused to be recorded", consent=Consent.REFUSED),
        rec(ended_at=101.0, failure="MixMonitor: Permission denied"),
    ]


def test_recording_states_read_as_the_domain_reads_them() -> None:
    """The console's and the desktop's reading of GET /v1/recordings agrees with the
    domain's state (which the recording.state events carry); a caller's refusal is a
    failure there too, as the list has no consent field."""
    records = _recordings()
    listed = [
        RecordingOut.of(RecordingFacts(r, None, None)).model_dump(mode="json") for r in records
    ]
    expected = [recorder_state(r).replace("refused", "failed") for r in records]
    for module in ("recordings.js", "agent-recording.js"):
        uri = (STATIC / "js" / module).as_uri()
        got = run_module(
            f"import {{ stateOf }} from {json.dumps(uri)};\n"
            f"console.log(JSON.stringify({json.dumps(listed)}.map(stateOf)));"
        )
        assert json.loads(got) == expected, module


def test_sizes_read_as_bytes_kilobytes_and_megabytes() -> None:
    uri = (STATIC / "js" / "recordings.js").as_uri()
    got = run_module(
        f"import {{ fmtSize }} from {json.dumps(uri)};\n"
        "console.log(JSON.stringify([null, 0, 812, 49152, 3355443].map(fmtSize)));"
    )
    assert json.loads(got) == ["\u2013", "0 B", "812 B", "48 KB", "3.2 MB"]
