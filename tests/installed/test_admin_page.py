"""The admin page and the password page in a real Chromium (Debian's, driven by Playwright)
against the installed `ccgateway serve` (no PBX: nothing here needs one). The first admin is
made with the real CLI (`ccgateway users add`), as an installer would; everything after
that goes through the pages, and what they did is checked against the API.

Without /usr/bin/chromium (or $CCGW_CHROMIUM) these tests are skipped with the reason,
except under CI=true, where that is a failure. Screenshots and axe-core reports go to
tests/browser/artifacts/ (gitignored)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chromium import require_chromium
from tests.installed.conftest import ServedController, entry_point

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "browser" / "artifacts"
PASSWORD = "first admin password"
WAIT_MS = 10_000


@pytest.fixture(scope="module")
def chromium() -> Path:
    return require_chromium()


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedController]:
    """One served controller for this module, with an agent `a7` and the admin `boss`
    (made with `ccgateway users add`, the password from a file)."""
    served = ServedController(tmp_path_factory.mktemp("admin-page"))
    served.start()
    try:
        admin_api(served, "POST", "/v1/agents", {"id": "a7", "name": "Ann Seven",
                                                 "device": "PJSIP/a7"})  # fmt: skip
        secret = served.folder / "password"
        secret.touch(mode=0o600)
        secret.write_text(PASSWORD + "\n")
        added = subprocess.run(
            [str(entry_point()), "users", "add", "boss", "--role", "admin",
             "--password-file", str(secret), "--config", str(served.config_path)],
            capture_output=True, text=True, timeout=60, env=served.env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        yield served
    finally:
        served.close()


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Tab:
    """One person's browser context and page; what the page did that it must not."""

    def __init__(self, browser: Any, served: ServedController) -> None:
        self.context = browser.new_context(
            base_url=served.base_url, viewport={"width": 1366, "height": 900}
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._on_console)

    def _on_console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:  # the CSP refused something
            self.errors.append(message.text)

    def sign_in(self, username: str, password: str) -> None:
        """Through the login form, as a person does."""
        self.page.goto("/ui/")
        self.page.get_by_test_id("login-username").fill(username)
        self.page.get_by_test_id("login-password").fill(password)
        self.page.get_by_test_id("login-submit").click()

    def status_of_session(self) -> int:
        status: int = self.context.request.get("/v1/session").status
        return status

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def clean(self) -> None:
        assert self.dialogs == [], "the page used window dialogs"
        assert self.errors == [], "the page threw or broke its CSP"


@pytest.fixture
def tabs(browser: Any, controller: ServedController) -> Iterator[list[Tab]]:
    opened: list[Tab] = []
    try:
        yield opened
    finally:
        for tab in opened:
            tab.context.close()


def open_tab(tabs: list[Tab], browser: Any, served: ServedController) -> Tab:
    tab = Tab(browser, served)
    tabs.append(tab)
    return tab


def admin_api(served: ServedController, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(
        method, served.base_url + path, json=body, headers=served.auth, timeout=10
    )
    assert response.status_code < 300, f"{method} {path}: {response.text}"
    return response.json() if response.content else None


def sign_in_status(served: ServedController, username: str, password: str) -> int:
    body = {"username": username, "password": password}
    return httpx.post(f"{served.base_url}/v1/session", json=body, timeout=10).status_code


def axe_serious(page: Any, name: str) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.txt").write_text(results.generate_report())
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def test_an_admin_manages_users_and_keys_in_the_page(
    browser: Any, controller: ServedController, tabs: list[Tab]
) -> None:
    from playwright.sync_api import expect

    admin = open_tab(tabs, browser, controller)
    page = admin.page
    admin.sign_in("boss", PASSWORD)
    expect(page).to_have_url(re.compile(r"/ui/console$"))
    link = page.get_by_test_id("admin-link")
    expect(link).to_be_visible()
    admin.shot("admin-console-topbar")
    link.click()
    expect(page).to_have_url(re.compile(r"/ui/admin$"))
    expect(page.get_by_test_id("user-row-boss")).to_contain_text("admin")

    # A new agent user: the page's own checks first, then the API's refusal, then for real.
    page.get_by_test_id("new-user-username").fill("desk7")
    page.get_by_test_id("new-user-display-name").fill("Ann at desk 7")
    page.get_by_test_id("new-user-role").select_option("agent")
    page.get_by_test_id("new-user-agent").select_option("a7")
    page.get_by_test_id("new-user-password").fill("short")
    page.get_by_test_id("new-user-password2").fill("short")
    page.get_by_test_id("new-user-submit").click()
    message = page.get_by_test_id("new-user-message")
    expect(message).to_have_text(re.compile("at least 10 characters"))
    page.get_by_test_id("new-user-password").fill("desk seven password")
    page.get_by_test_id("new-user-password2").fill("desk seven passw0rd")
    page.get_by_test_id("new-user-submit").click()
    expect(message).to_have_text(re.compile("differ"))
    page.get_by_test_id("new-user-password2").fill("desk seven password")
    page.get_by_test_id("new-user-device").fill("not a phone")
    page.get_by_test_id("new-user-submit").click()
    expect(message).to_have_text(re.compile(r"device 'not a phone' must look like"))
    page.get_by_test_id("new-user-device").fill("")
    page.get_by_test_id("new-user-submit").click()
    row = page.get_by_test_id("user-row-desk7")
    expect(row.get_by_test_id("user-role")).to_have_text("agent")
    expect(row.get_by_test_id("user-agent")).to_have_text("a7")
    expect(row.get_by_test_id("user-display-name")).to_have_text("Ann at desk 7")
    expect(message).to_be_hidden()
    made = admin_api(controller, "GET", "/v1/users/desk7")
    assert (made["role"], made["agent_id"], made["device"]) == ("agent", "a7", None)

    # Its device.
    page.get_by_test_id("user-edit-desk7").click()
    expect(page.get_by_test_id("edit-agent")).to_have_value("a7")
    assert axe_serious(page, "admin-page-edit") == []
    page.get_by_test_id("edit-device").fill("PJSIP/desk7")
    page.get_by_test_id("edit-save").click()
    expect(row.get_by_test_id("user-device")).to_have_text("PJSIP/desk7")
    assert admin_api(controller, "GET", "/v1/users/desk7")["device"] == "PJSIP/desk7"

    # A new password for it; then it signs in with that one, in a browser of its own.
    page.get_by_test_id("user-password-desk7").click()
    page.get_by_test_id("reset-password").fill("a brand new one")
    page.get_by_test_id("reset-password2").fill("a brand new one")
    page.get_by_test_id("reset-save").click()
    expect(page.get_by_test_id("admin-result")).to_contain_text("New password set for desk7")
    agent = open_tab(tabs, browser, controller)
    agent.sign_in("desk7", "a brand new one")
    expect(agent.page).to_have_url(re.compile(r"/ui/agent$"))
    expect(agent.page.get_by_test_id("password-link")).to_be_visible()
    agent.shot("admin-agent-topbar")
    agent.page.goto("/ui/admin")  # not theirs: sent back to their own page
    expect(agent.page).to_have_url(re.compile(r"/ui/agent$"))

    # A key: shown once, read-only, copyable; it works until it is deleted.
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_test_id("new-key-name").fill("tv in the hall")
    page.get_by_test_id("new-key-role").select_option("wallboard")
    page.get_by_test_id("new-key-submit").click()
    value = page.get_by_test_id("new-key-value")
    expect(value).to_be_visible()
    expect(value).not_to_be_editable()
    key = value.input_value()
    assert len(key) > 20
    page.get_by_test_id("new-key-copy").click()
    expect(page.locator("#nk-copied")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == key
    listed = [k for k in admin_api(controller, "GET", "/v1/keys") if k["name"] == "tv in the hall"]
    assert len(listed) == 1 and listed[0]["role"] == "wallboard"
    key_id = listed[0]["id"]
    with_key = {"Authorization": f"Bearer {key}"}
    url = f"{controller.base_url}/v1/queues"
    assert httpx.get(url, headers=with_key, timeout=10).status_code == 200
    admin.shot("admin-page")
    assert axe_serious(page, "admin-page") == []
    page.get_by_test_id("new-key-done").click()
    expect(value).to_be_hidden()

    page.get_by_test_id(f"key-delete-{key_id}").click()
    expect(page.get_by_test_id("confirm-text")).to_contain_text("tv in the hall")
    admin.shot("admin-page-confirm")
    assert axe_serious(page, "admin-page-confirm") == []
    page.get_by_test_id("confirm-yes").click()
    expect(page.get_by_test_id(f"key-row-{key_id}")).to_have_count(0)
    assert httpx.get(url, headers=with_key, timeout=10).status_code == 401

    # The user goes too: a cancelled confirm first changes nothing.
    page.get_by_test_id("user-delete-desk7").click()
    page.get_by_test_id("confirm-no").click()
    expect(row).to_be_visible()
    page.get_by_test_id("user-delete-desk7").click()
    page.get_by_test_id("confirm-yes").click()
    expect(row).to_have_count(0)
    assert agent.status_of_session() == 401
    assert sign_in_status(controller, "desk7", "a brand new one") == 401
    admin.clean()
    agent.clean()


def test_a_supervisor_is_sent_away_and_sees_no_admin_link(
    browser: Any, controller: ServedController, tabs: list[Tab]
) -> None:
    from playwright.sync_api import expect

    admin_api(controller, "POST", "/v1/users", {"username": "sue", "password": PASSWORD,
                                                "role": "supervisor"})  # fmt: skip
    sue = open_tab(tabs, browser, controller)
    sue.sign_in("sue", PASSWORD)
    expect(sue.page).to_have_url(re.compile(r"/ui/console$"))
    expect(sue.page.get_by_test_id("me")).to_contain_text("sue")
    expect(sue.page.get_by_test_id("admin-link")).to_be_hidden()
    sue.page.goto("/ui/admin")
    expect(sue.page).to_have_url(re.compile(r"/ui/console$"))
    expect(sue.page.get_by_test_id("new-user-username")).to_have_count(0)
    sue.clean()


def test_a_password_change_signs_out_the_other_sessions_and_the_old_one_fails(
    browser: Any, controller: ServedController, tabs: list[Tab]
) -> None:
    from playwright.sync_api import expect

    admin_api(controller, "POST", "/v1/users", {"username": "sam", "password": PASSWORD,
                                                "role": "supervisor"})  # fmt: skip
    here = open_tab(tabs, browser, controller)
    elsewhere = open_tab(tabs, browser, controller)
    elsewhere.sign_in("sam", PASSWORD)
    expect(elsewhere.page).to_have_url(re.compile(r"/ui/console$"))
    here.sign_in("sam", PASSWORD)
    expect(here.page).to_have_url(re.compile(r"/ui/console$"))
    here.page.get_by_test_id("password-link").click()
    page = here.page
    expect(page).to_have_url(re.compile(r"/ui/password$"))
    assert axe_serious(page, "password-page") == []

    message = page.get_by_test_id("password-message")
    page.get_by_test_id("password-current").fill("not my password")
    page.get_by_test_id("password-new").fill("sam's new password")
    page.get_by_test_id("password-new2").fill("sam's new password")
    page.get_by_test_id("password-submit").click()
    expect(message).to_have_text("The current password is wrong.")
    page.get_by_test_id("password-current").fill(PASSWORD)
    page.get_by_test_id("password-new2").fill("sam's new passwor")
    page.get_by_test_id("password-submit").click()
    expect(message).to_have_text(re.compile("differ"))
    page.get_by_test_id("password-new2").fill("sam's new password")
    page.get_by_test_id("password-submit").click()
    expect(message).to_have_text(re.compile("other sessions were signed out"))
    here.shot("password-page")

    assert here.status_of_session() == 200
    assert elsewhere.status_of_session() == 401
    assert sign_in_status(controller, "sam", PASSWORD) == 401
    assert sign_in_status(controller, "sam", "sam's new password") == 200
    page.get_by_test_id("password-back").click()
    expect(page).to_have_url(re.compile(r"/ui/console$"))
    here.clean()
