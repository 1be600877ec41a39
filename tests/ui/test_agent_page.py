"""The agent desktop's files, read as text (no browser; tests/browser/ drives the page):
no inline script, handler or style (the CSP forbids them), nothing that parses HTML from
data, nothing remote, every module import resolvable, the test ids the contract names
present, every form control labelled, and the shortcuts listed on the page are the ones the
script handles."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "ccgateway" / "ui" / "static"
PAGE = STATIC / "agent.html"
SCRIPTS = sorted((STATIC / "js").glob("agent*.js"))
STYLES = [STATIC / "css" / "agent.css"]

# What other helpers' tests and the contract read on this page.
CONTRACT_TEST_IDS = {
    "agent-state",
    "screen-pop",
    "caller-number",
    "caller-name",
    "history",
    "note-text",
    "note-save",
    "go-available",
    "go-pause",
    "pause-code",
    "go-after-call",
    "go-logout",
    "stale-banner",
    "conn-status",
    "call-queue",
    "call-wait",
    "transfer-kind",
    "transfer-to",
    "transfer-attended",
    "transfer-go",
    "transfer-complete",
    "transfer-cancel",
    "transfer-conference",
    "preview-card",
    "preview-dial",
    "preview-skip",
    "skip-reason",
    "dial-card",
    "dial-message",
    "script",
    "disposition-code",
    "disposition-save",
    "callback-at",
    "callback-who",
    "tasks",
    "figures",
    "fig-calls",
    "fig-talk",
    "fig-aht",
    "fig-occupancy",
    "shortcuts",
    "pending-state",
    "announce",
    "disposition-message",
    "transfer-message",
    "call-state",
    "sign-out",
    "recording-row",
    "rec-indicator",
    "rec-toggle",
    "rec-start",
    "rec-message",
}
# Made by the scripts (per item): the literal prefix must be in a script.
SCRIPT_TEST_IDS = {"history-item", "task-accept-", "task-reject-", "task-complete-", "answer-"}


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline_script = False
        self.style_elements = 0
        self.labels_for: set[str] = set()
        self._tag_stack: list[str] = []
        self._text: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "style":
            self.style_elements += 1
        if tag == "label" and attributes.get("for"):
            self.labels_for.add(str(attributes["for"]))
        self._tag_stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._tag_stack and self._tag_stack[-1] == tag:
            self._tag_stack.pop()

    def handle_data(self, data: str) -> None:
        if self._tag_stack and self._tag_stack[-1] == "script" and data.strip():
            self.inline_script = True


@pytest.fixture(scope="module")
def page() -> Page:
    parsed = Page()
    parsed.feed(PAGE.read_text(encoding="utf-8"))
    return parsed


def test_the_files_are_there() -> None:
    assert PAGE.is_file()
    assert STATIC / "js" / "agent.js" in SCRIPTS
    assert all(p.is_file() for p in STYLES)


def test_no_inline_script_handler_or_style(page: Page) -> None:
    assert not page.inline_script
    assert page.style_elements == 0
    for tag, attributes in page.elements:
        for name in attributes:
            assert not name.lower().startswith("on"), f"<{tag} {name}=...> is an inline handler"
            assert name.lower() != "style", f"<{tag} style=...> is an inline style"
        if tag == "script":
            assert attributes.get("type") == "module"
            assert str(attributes.get("src", "")).startswith("/ui/static/js/")
        for name in ("href", "src", "action"):
            value = str(attributes.get(name) or "")
            assert not value.lower().startswith("javascript:"), f"<{tag} {name}={value}>"


def test_linked_files_exist(page: Page) -> None:
    for _tag, attributes in page.elements:
        for name in ("href", "src"):
            value = str(attributes.get(name) or "")
            if value.startswith("/ui/static/"):
                assert (STATIC / value.removeprefix("/ui/static/")).is_file(), value


@pytest.mark.parametrize("path", [PAGE, *SCRIPTS, *STYLES], ids=lambda p: p.name)
def test_nothing_remote(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", text), f"{path.name} names a remote URL"
    assert "@import" not in text and "url(" not in text.replace("data:", "")


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_never_parse_html(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser"):
        assert sink not in text, f"{path.name} uses {sink}"
    assert not re.search(r"\beval\s*\(|new\s+Function\s*\(|setTimeout\(\s*[\"'`]", text)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_imports_resolve(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    imports = re.findall(r"^\s*(?:import|export)\b[^;]*?from\s+\"([^\"]+)\"", text, re.M | re.S)
    assert imports or path.name == "agent-util.js" or "import" not in text
    for target in imports:
        assert target.startswith("./"), f"{path.name} imports {target}: relative paths only"
        assert (path.parent / target).resolve().is_file(), f"{path.name}: {target} missing"


def test_contract_test_ids_present(page: Page) -> None:
    ids = {str(a["data-testid"]) for _, a in page.elements if a.get("data-testid")}
    assert CONTRACT_TEST_IDS - ids == set()
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in SCRIPTS)
    for prefix in SCRIPT_TEST_IDS:
        assert re.search('["`]' + re.escape(prefix), scripts), prefix


def test_element_ids_unique_and_scripts_find_them(page: Page) -> None:
    ids = [str(a["id"]) for _, a in page.elements if a.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    scripts = "\n".join(p.read_text(encoding="utf-8") for p in SCRIPTS)
    looked_up = set(re.findall(r"\$\(\"([a-z0-9-]+)\"\)", scripts))
    assert looked_up - set(ids) == set(), "scripts look up ids the page lacks"


def test_controls_are_labelled_and_buttons_are_buttons(page: Page) -> None:
    for tag, attributes in page.elements:
        if tag in ("input", "select", "textarea"):
            control = attributes.get("id") or attributes
            assert attributes.get("aria-label") or attributes.get("id") in page.labels_for, (
                f"<{tag}> {control} has no label"
            )
        if tag == "button":
            assert attributes.get("type") in ("button", "submit"), attributes
        if tag in ("div", "span") and attributes.get("tabindex") is not None:
            raise AssertionError(f"<{tag}> made focusable: use a button")


def test_the_listed_shortcuts_are_the_handled_ones() -> None:
    html = PAGE.read_text(encoding="utf-8")
    listed = set(re.findall(r"<kbd>Alt</kbd>\+<kbd>([A-Z])</kbd>", html))
    script = (STATIC / "js" / "agent.js").read_text(encoding="utf-8")
    block = script.split("const SHORTCUTS = {", 1)[1].split("};", 1)[0]
    handled = {k.upper() for k in re.findall(r"^\s*([a-z]):", block, re.M)}
    assert listed and listed == handled
