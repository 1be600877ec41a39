"""The pages' JavaScript without a browser, where Node.js is on the machine: every module
parses, and the console's reading of queue requirements agrees with the domain's."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from ccgateway.domain.requirements import parse_requirement, requirement_from_levels
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
