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


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def domain_imports(path: Path, modules: set[str]) -> set[str]:
    """The domain modules `path` imports (`from ccgateway.domain import x` names module x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found & modules


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it starts, or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for after in sorted(graph[node]):
            if (cycle := visit(after)) is not None:
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if (cycle := visit(node)) is not None:
            return cycle
    return None


def test_the_domain_has_no_import_cycle() -> None:
    # Every import counts, those under `if TYPE_CHECKING:` too: a part that needs another
    # only for its types still cannot be read, or moved, without it.
    paths = list((PACKAGE / "domain").rglob("*.py"))
    modules = {module_name(path) for path in paths}
    graph = {module_name(path): domain_imports(path, modules) for path in paths}
    graph = {module: after - {module} for module, after in graph.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "the domain imports in a circle: " + " -> ".join(cycle or [])


def test_find_cycle_finds_a_circle_and_only_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": {"b"}}) == ["b", "c", "b"]
