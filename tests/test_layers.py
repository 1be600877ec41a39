"""The architecture's one-way dependencies, checked on the source (no import-time tricks)."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ccgateway"
# What each layer may import from ccgateway itself; the domain may import only the stdlib.
ALLOWED = {
    "domain": {"ccgateway.domain"},
    # (importing: pure parsers of files into domain objects, no I/O of their own)
    "services": {
        "ccgateway.domain",
        "ccgateway.ports",
        "ccgateway.services",
        "ccgateway.importing",
    },
    "pbx": {"ccgateway.domain", "ccgateway.ports", "ccgateway.pbx"},
    "persistence": {"ccgateway.domain", "ccgateway.ports", "ccgateway.persistence"},
    "api": {
        "ccgateway.domain",
        "ccgateway.ports",
        "ccgateway.services",
        "ccgateway.api",
        "ccgateway.ui",  # create_api serves the pages and adds their security headers
    },
    "ui": {"ccgateway.ui"},  # the pages: static files, their router, the headers
    "sim": {"ccgateway.domain", "ccgateway.sim"},  # the same core, on a virtual clock
    "importing": {"ccgateway.domain", "ccgateway.importing"},  # files in, domain objects out
}
IO_IN_DOMAIN = {
    "asyncio",
    "socket",
    "time",
    "datetime",
    "random",
    "uuid",
    "os",
    "subprocess",
    "threading",
    "logging",
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    bad = []
    for path in (PACKAGE / layer).rglob("*.py"):
        for name in imports(path):
            if name.startswith("ccgateway") and not any(
                name == ok or name.startswith(ok + ".") for ok in ALLOWED[layer]
            ):
                bad.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not bad, "\n".join(bad)


# Wall-clock conversion (an epoch second to a time zone's local time) is pure; it is kept
# to one module, and no domain module may read a clock.
CALENDAR = {"datetime", "zoneinfo"}
CALENDAR_MODULE = "calendar.py"
CLOCK_READS = ("now(", "today(", "utcnow(", "time.time", "monotonic(")


def test_domain_is_pure_stdlib_without_io() -> None:
    bad = []
    for path in (PACKAGE / "domain").rglob("*.py"):
        for name in imports(path):
            top = name.split(".")[0]
            if top == "ccgateway" or top == "__future__":
                continue
            if top in CALENDAR and path.name == CALENDAR_MODULE:
                continue
            if top not in sys.stdlib_module_names or top in IO_IN_DOMAIN | CALENDAR:
                bad.append(f"{path.name} imports {name}")
    assert not bad, "\n".join(bad)


def test_no_domain_module_reads_a_clock() -> None:
    bad = [
        f"{path.name}: {read}"
        for path in (PACKAGE / "domain").rglob("*.py")
        for read in CLOCK_READS
        if read in path.read_text()
    ]
    assert not bad, "\n".join(bad)
