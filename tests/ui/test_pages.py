"""The pages as served by the in-process API: content types, security headers, and checks on
the files themselves (no inline script, no inline handler or style, nothing remote, no
innerHTML, every import resolvable, light enough). The real-browser tests are in
tests/browser/."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from ccgateway.ui import router as ui_router
from ccgateway.ui.security import CONTENT_SECURITY_POLICY
from tests.services.stack import ADMIN, Stack

STATIC = Path(ui_router.__file__).resolve().parent / "static"
FILES = sorted(p for p in STATIC.rglob("*") if p.is_file())
HTML = [p for p in FILES if p.suffix == ".html"]
SCRIPTS = [p for p in FILES if p.suffix == ".js"]
PAGES = {"/ui/": "login.html", **{f"/ui/{k}": v for k, v in ui_router.PAGES.items() if k}}
CONTRACT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_BUDGET_BYTES = 300_000


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    stack = await Stack.start(tmp_path / "ccgateway.db")
    assert stack.client is not None
    yield stack.client
    await stack.stop()


def assert_secured(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CONTRACT_CSP
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_the_policy_is_the_contract() -> None:
    assert CONTENT_SECURITY_POLICY == CONTRACT_CSP


def rel(path: Path) -> str:
    return path.relative_to(STATIC).as_posix()


# --- served ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", sorted(PAGES))
async def test_each_page_is_html_with_the_security_headers(
    client: httpx.AsyncClient, url: str
) -> None:
    if not (STATIC / PAGES[url]).exists():
        pytest.skip(f"{PAGES[url]} is not written yet")
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert_secured(response)
    assert response.text == (STATIC / PAGES[url]).read_text()


@pytest.mark.parametrize("path", [rel(p) for p in FILES])
async def test_each_static_file_has_its_content_type(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"/ui/static/{path}")
    assert response.status_code == 200
    expected = ui_router.CONTENT_TYPES[Path(path).suffix]
    assert response.headers["content-type"] == expected
    assert_secured(response)
    assert response.content == (STATIC / path).read_bytes()
    again = await client.get(
        f"/ui/static/{path}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


async def test_the_root_goes_to_the_login_page(client: httpx.AsyncClient) -> None:
    for url in ("/", "/ui"):
        response = await client.get(url)
        assert response.status_code in (302, 307)
        assert response.headers["location"] == "/ui/"
        assert_secured(response)


@pytest.mark.parametrize(
    "url",
    [
        "/ui/static/../router.py",
        "/ui/static/%2e%2e/router.py",
        "/ui/static/js/..%2f..%2frouter.py",
        "/ui/static/.hidden.js",
        "/ui/static/a/b/c.js",
        "/ui/static/js/nothing.js",
        "/ui/static/js",
        "/ui/static/../__init__.py",
        "/ui/nothing",
        "/ui/static/login.py",
    ],
)
async def test_nothing_else_is_served(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(url)
    assert response.status_code == 404
    assert "import" not in response.text
    assert_secured(response)


async def test_api_responses_carry_the_headers_too(client: httpx.AsyncClient) -> None:
    answered = await client.get("/v1/health", headers={"Authorization": f"Bearer {ADMIN}"})
    refused = await client.get("/v1/queues")
    assert answered.status_code == 200
    assert refused.status_code == 401
    assert_secured(answered)
    assert_secured(refused)


async def test_the_api_docs_still_load_and_cannot_be_framed(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


# --- the files -------------------------------------------------------------------------


class Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.in_script = False
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, _ in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>: an inline event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=...>: an inline style")
        if tag == "style":
            self.problems.append("<style>: an inline style sheet")
        if tag == "script":
            self.in_script = True
            self.scripts.append(dict(attrs))
            if not dict(attrs).get("src"):
                self.problems.append("<script> without src")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.problems.append(f"<script> with a body: {data.strip()[:40]!r}")


@pytest.mark.parametrize("page", HTML, ids=rel)
def test_no_inline_script_handler_or_style(page: Path) -> None:
    markup = Markup()
    markup.feed(page.read_text())
    assert not markup.problems, markup.problems
    assert markup.scripts, "a page without its module script"
    assert '<html lang="' in page.read_text()


# The SVG namespace is a name, not an address anything is fetched from.
NAMESPACES = re.compile(r"http://www\.w3\.org/2000/svg")
REMOTE = re.compile(r"(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import\s+url")


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_nothing_is_fetched_from_elsewhere(path: Path) -> None:
    text = NAMESPACES.sub("", path.read_text())
    found = [m.group(0) for m in REMOTE.finditer(text)]
    assert not found, f"{rel(path)} refers to {found}"


HTML_SINKS = re.compile(
    r"\.(?:innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|createContextualFragment"
    r"|\beval\s*\(|new\s+Function\s*\(|setTimeout\s*\(\s*[\"'`]"
)


@pytest.mark.parametrize("script", SCRIPTS, ids=rel)
def test_scripts_never_parse_html_or_strings_as_code(script: Path) -> None:
    found = [m.group(0) for m in HTML_SINKS.finditer(script.read_text())]
    assert not found, f"{rel(script)}: {found}"


IMPORT = re.compile(
    r"""(?m)^\s*(?:import|export)\b[^"';]*?from\s*["']([^"']+)["']"""
    r"""|^\s*import\s*["']([^"']+)["']"""
)
REFERENCE = re.compile(r"""(?:src|href)="(/ui/static/[^"]+)\"""")


def imports_of(script: Path) -> list[Path]:
    found = []
    for m in IMPORT.finditer(script.read_text()):
        target = m.group(1) or m.group(2)
        assert target.startswith("./") or target.startswith("/ui/static/"), (
            f"{rel(script)} imports {target!r}: only our own modules"
        )
        found.append(
            (script.parent / target).resolve()
            if target.startswith("./")
            else STATIC / target.removeprefix("/ui/static/")
        )
    return found


def page_files(page: Path) -> set[Path]:
    files = {page}
    todo = [STATIC / ref.removeprefix("/ui/static/") for ref in REFERENCE.findall(page.read_text())]
    while todo:
        path = todo.pop()
        if path in files:
            continue
        assert path.is_file(), f"{rel(page)} needs {path}, which is missing"
        files.add(path)
        if path.suffix == ".js":
            todo.extend(imports_of(path))
    return files


@pytest.mark.parametrize("page", HTML, ids=rel)
def test_every_reference_resolves_and_the_page_is_light(page: Path) -> None:
    total = sum(p.stat().st_size for p in page_files(page))
    assert total < PAGE_BUDGET_BYTES, f"{rel(page)} weighs {total} bytes uncompressed"


def test_the_tree_is_at_most_two_levels_deep() -> None:
    # pyproject's package-data ships ui/static/* and ui/static/*/*.
    assert all(len(p.relative_to(STATIC).parts) <= 2 for p in FILES)


LOOKUP = re.compile(r"""getElementById\(\s*["']([A-Za-z0-9_-]+)["']\s*\)""")
ID = re.compile(r"""\sid="([^"]+)\"""")


@pytest.mark.parametrize("page", HTML, ids=rel)
def test_the_ids_a_page_s_modules_look_up_are_on_it(page: Path) -> None:
    """The elements a page's modules find by a literal id (the console's recordings panel,
    its player and pager among them) are in its markup."""
    ids = set(ID.findall(page.read_text()))
    scripts = [p for p in page_files(page) if p.suffix == ".js"]
    wanted = {(rel(s), i) for s in scripts for i in LOOKUP.findall(s.read_text())}
    assert {(s, i) for s, i in wanted if i not in ids} == set()
