"""The admin page (users and keys) and the password page, read as files and served by the
in-process API (no browser; tests/installed/test_admin_page.py drives them in Chromium):
no inline script, handler or style, nothing that parses HTML, every reference resolvable,
the test ids present, every control labelled, no window.confirm, and a way to the password
page from every signed-in page's top bar."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from ccgateway.ui import router as ui_router
from tests.services.stack import Stack
from tests.ui.test_pages import HTML_SINKS, STATIC, Markup, assert_secured, page_files

ADMIN = STATIC / "admin.html"
PASSWORD = STATIC / "password.html"
PAGES = {"/ui/admin": ADMIN, "/ui/password": PASSWORD}
SCRIPTS = {ADMIN: STATIC / "js" / "admin.js", PASSWORD: STATIC / "js" / "password.js"}

ADMIN_TEST_IDS = {
    "users", "users-count", "admin-result", "password-link", "logout", "console-link",
    "new-user-username", "new-user-display-name", "new-user-role", "new-user-agent",
    "new-user-device", "new-user-password", "new-user-password2", "new-user-message",
    "new-user-submit", "edit-display-name", "edit-role", "edit-agent", "edit-device",
    "edit-save", "edit-cancel", "edit-message", "reset-password", "reset-password2",
    "reset-save", "reset-message", "confirm-text", "confirm-yes", "confirm-no",
    "keys", "new-key-name", "new-key-role", "new-key-agent", "new-key-submit",
    "new-key-message", "new-key-value", "new-key-copy",
}  # fmt: skip
# Made by the script per row: the literal prefix must be in it.
ADMIN_ROW_TEST_IDS = {"user-row-", "user-edit-", "user-password-", "user-delete-", "key-row-",
                      "key-delete-"}  # fmt: skip
PASSWORD_TEST_IDS = {"password-current", "password-new", "password-new2", "password-submit",
                     "password-message", "password-back"}  # fmt: skip


class Elements(HTMLParser):
    """Every element with its attributes, and the ids labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.labels_for: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "label" and attributes.get("for"):
            self.labels_for.add(str(attributes["for"]))

    def test_ids(self) -> set[str]:
        return {str(a["data-testid"]) for _, a in self.elements if a.get("data-testid")}


def parsed(page: Path) -> Elements:
    elements = Elements()
    elements.feed(page.read_text())
    return elements


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    stack = await Stack.start(tmp_path / "ccgateway.db")
    assert stack.client is not None
    yield stack.client
    await stack.stop()


@pytest.mark.parametrize("url", sorted(PAGES))
async def test_the_pages_are_served_with_the_security_headers(
    client: httpx.AsyncClient, url: str
) -> None:
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert_secured(response)
    assert response.text == PAGES[url].read_text()


def test_the_router_knows_the_pages() -> None:
    assert ui_router.PAGES["admin"] == "admin.html"
    assert ui_router.PAGES["password"] == "password.html"


@pytest.mark.parametrize("page", [ADMIN, PASSWORD], ids=lambda p: p.name)
def test_no_inline_script_handler_or_style_and_every_file_resolves(page: Path) -> None:
    markup = Markup()
    markup.feed(page.read_text())
    assert not markup.problems, markup.problems
    assert [s.get("src") for s in markup.scripts] == [f"/ui/static/js/{SCRIPTS[page].name}"]
    files = page_files(page)
    assert SCRIPTS[page] in files
    for path in files:
        if path.suffix == ".js":
            assert not HTML_SINKS.findall(path.read_text()), path.name


@pytest.mark.parametrize("page", [ADMIN, PASSWORD], ids=lambda p: p.name)
def test_controls_are_labelled_ids_unique_and_buttons_typed(page: Path) -> None:
    elements = parsed(page)
    ids = [str(a["id"]) for _, a in elements.elements if a.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for tag, attributes in elements.elements:
        if tag in ("input", "select", "textarea") and "hidden" not in attributes:
            assert attributes.get("aria-label") or attributes.get("id") in elements.labels_for, (
                f"<{tag} id={attributes.get('id')}> has no label"
            )
        if tag == "button":
            assert attributes.get("type") in ("button", "submit"), attributes
    script = SCRIPTS[page].read_text()
    looked_up = set(re.findall(r"""(?:\$|getElementById)\("([A-Za-z0-9_-]+)"\)""", script))
    assert looked_up - set(ids) == set(), "the script looks up ids the page lacks"


def test_the_admin_page_has_its_test_ids() -> None:
    assert ADMIN_TEST_IDS - parsed(ADMIN).test_ids() == set()
    script = SCRIPTS[ADMIN].read_text()
    for prefix in ADMIN_ROW_TEST_IDS:
        assert re.search("`" + re.escape(prefix) + r"\$\{", script), prefix
    assert PASSWORD_TEST_IDS - parsed(PASSWORD).test_ids() == set()


def test_deleting_asks_in_the_page_not_with_window_dialogs() -> None:
    for script in SCRIPTS.values():
        text = script.read_text()
        assert not re.search(r"(?<![\w.])(?:window\.)?(?:confirm|alert|prompt)\s*\(", text)
    assert 'data-testid="confirm-yes"' in ADMIN.read_text()


def test_only_admins_stay_on_the_admin_page() -> None:
    script = SCRIPTS[ADMIN].read_text()
    assert re.search(
        r'me\.role !== "admin"\)\s*\{\s*location\.replace\(pageFor\(me\.role\)\)', script
    )


def test_every_signed_in_page_links_to_the_password_page() -> None:
    for page in sorted(STATIC.glob("*.html")):
        if page.name in ("login.html", "password.html"):
            continue
        header = page.read_text().split("<header", 1)[1].split("</header>", 1)[0]
        assert 'href="/ui/password"' in header, f"{page.name}: no password link in its top bar"


def test_the_console_links_to_the_admin_page_for_admins_only() -> None:
    console = (STATIC / "console.html").read_text()
    link = re.search(r'<a href="/ui/admin"[^>]*>', console)
    assert link and " hidden" in link.group(0)
    script = (STATIC / "js" / "console.js").read_text()
    assert 'getElementById("admin-link").hidden = me.role !== "admin"' in script
