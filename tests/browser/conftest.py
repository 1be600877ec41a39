"""The pages in a real browser, against the controller as a user runs it.

`served` is `.venv/bin/ccgateway serve --config <tmp toml>` as a subprocess on a free port,
with a temporary SQLite database, linked to the real sandbox Asterisk (`asterisk_sandbox`),
reading the recordings Asterisk writes into its own folder inside the sandbox's root;
the centre (skills, queues, agents) is set up through the REST API with the admin key and
the people's accounts through POST /v1/users. `browser` is Debian's
Chromium driven by Playwright's async API; each test opens its own context (own cookies).
What Asterisk did is read on a raw AMI connection of the test's own (`observer`).

Without /usr/bin/chromium (or $CCGW_CHROMIUM) the tests are skipped with the reason, except
under CI=true, where that is a failure (like the real-Asterisk tests). Screenshots of every
page, axe-core reports and the controller's log (serve.log) go to tests/browser/artifacts/
(gitignored); a failed test leaves a FAILED-<test>-<n>-<user>.png of each of its pages.
The tests run in one event loop (session scope) so that they share one browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from ccgateway.sandbox import Sandbox
from tests.chromium import require_chromium
from tests.e2e.ami_observer import AmiObserver

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CCGATEWAY = Path(sys.executable).parent / "ccgateway"
ADMIN_KEY = "browser-admin-" + secrets.token_urlsafe(18)
PASSWORD = "correct horse battery"  # every person's password here (>= 10 characters)

# The centre the pages are tried on: each test has its agent and queue of its own (the skill
# that only that agent has), so tests do not take each other's calls. agent6's phone is the
# supervisor's (it answers by itself, and agent6 is no agent of this centre).
SKILLS = ("pop", "floor", "hostile", "sales", "keys", "taped")
AGENTS = {  # agent id -> (skill, name)
    "agent1": ("pop", "Ada One"),
    "agent2": ("floor", "Bo Two"),
    "agent3": ("hostile", "Cy Three"),
    "agent4": ("sales", "Di Four"),
    "agent5": ("keys", "Ed Five"),
}
# agent3 also serves the recording tests' queues (skill "taped": only they place calls there).
MORE_SKILLS = {"agent3": {"taped": 5}}
QUEUES = {  # queue id -> (extension, skill)
    "pop": ("260", "pop"),
    "floor": ("261", "floor"),
    "hostile": ("262", "hostile"),
    "out": ("263", "sales"),
    "keys": ("264", "keys"),
    "taped": ("265", "taped"),  # records every call
    "untaped": ("266", "taped"),  # never records (a Start is refused)
    "ondemand": ("267", "taped"),  # records when the agent starts it
}
RECORDING = {"taped": "always", "untaped": "never", "ondemand": "on_demand"}
PBX_RECORDINGS = "/var/spool/asterisk/monitor"  # Asterisk's own folder, inside the sandbox's root
SUPERVISOR_DEVICE = "PJSIP/agent6"
USERS = {  # username -> (role, agent_id, device)
    "super1": ("supervisor", None, SUPERVISOR_DEVICE),
    "wall1": ("wallboard", None, None),
    **{f"desk{a.removeprefix('agent')}": ("agent", a, None) for a in AGENTS},
}


def agent_user(agent_id: str) -> str:
    return f"desk{agent_id.removeprefix('agent')}"


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """`ccgateway serve` in a subprocess; `restart()` keeps its database and port."""

    def __init__(self, workdir: Path, sandbox: Sandbox) -> None:
        self.workdir = workdir
        self.port = free_tcp_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "ccgateway.toml"
        self.log_path = ARTIFACTS / "serve.log"
        self.log_path.write_text("")  # this session's starts only
        self._log_from = 0
        key_file = workdir / "admin-key"
        key_file.touch(mode=0o600)
        key_file.write_text(ADMIN_KEY + "\n")
        self.key_file = key_file
        self.secret_file = sandbox.state_dir / "ami-secret"
        self.recordings = Path(sandbox.root) / PBX_RECORDINGS.lstrip("/")
        self._write_config()
        self.process: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> None:
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.config.write_text(
            f'database_url = "sqlite:///{self.workdir / "ccgateway.db"}"\n'
            'log_level = "INFO"\n'
            "[asterisk]\n"
            f'secret_file = "{self.secret_file}"\n'
            "[api]\n"
            'host = "127.0.0.1"\n'
            f"port = {self.port}\n"
            f'admin_key_file = "{self.key_file}"\n'
            "[agents]\n"
            'pause_codes = ["break", "lunch", "training"]\n'
            "[recordings]\n"
            f'directory = "{self.recordings}"\n'
            f'pbx_directory = "{PBX_RECORDINGS}"\n'
        )

    def start(self, timeout_s: float = 40.0) -> None:
        """Start and wait until the API answers with the PBX linked. The first start moves
        to another port if this one was taken meanwhile (suites running side by side)."""
        first = self.process is None
        for _ in range(3):
            try:
                self._start(timeout_s)
                return
            except AssertionError:
                if not first or "address already in use" not in self.log_tail():
                    raise
                self.port = free_tcp_port()
                self._write_config()

    def _start(self, timeout_s: float) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CCGW_")}
        self._log_from = self.log_path.stat().st_size
        with open(self.log_path, "ab") as log:
            log.write(f"--- ccgateway serve on port {self.port} at {time.ctime()}\n".encode())
            self.process = subprocess.Popen(
                [str(CCGATEWAY), "serve", "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while not self._ready():
            if self.process.poll() is not None:
                raise AssertionError(f"ccgateway serve exited: {self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"ccgateway serve not ready in {timeout_s} s: {self.log_tail()}"
                )
            time.sleep(0.2)

    def stop(self, kill: bool = False) -> None:
        """SIGTERM (a clean stop) or SIGKILL (a crash); waits until it is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def restart(self, kill: bool = True) -> None:
        self.stop(kill=kill)
        self.start()

    def log_tail(self, chars: int = 3000) -> str:
        """The end of what the latest start wrote."""
        with open(self.log_path, "rb") as log:
            log.seek(self._log_from)
            return log.read().decode(errors="replace")[-chars:]

    def _ready(self) -> bool:
        try:
            response = httpx.get(
                f"{self.base_url}/v1/health",
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                timeout=2,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("pbx_ready"))

    # --- the admin's REST calls (sync for fixtures, async for tests) -----------------------

    def admin(self, method: str, path: str, body: Any = None, ok: bool = True) -> Any:
        response = httpx.request(
            method,
            self.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            timeout=10,
        )
        if ok:
            assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def client(self) -> httpx.AsyncClient:
        """An async client with the admin key (use as `async with served.client() as c`)."""
        return httpx.AsyncClient(
            base_url=self.base_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10
        )

    async def aadmin(self, method: str, path: str, body: Any = None, ok: bool = True) -> Any:
        async with self.client() as client:
            response = await client.request(method, path, json=body)
        if ok:
            assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json() if response.content else None


def add_users(served: Served, users: dict[str, tuple[str, str | None, str | None]]) -> None:
    """POST /v1/users for each (the same rules as `ccgateway users add`, whose own test is
    tests/api/test_sessions.py: seven runs of the command cost these tests 10-20 s)."""
    for name, (role, agent, device) in users.items():
        body: dict[str, Any] = {"username": name, "password": PASSWORD, "role": role}
        body |= {"agent_id": agent} if agent else {}
        body |= {"device": device} if device else {}
        served.admin("POST", "/v1/users", body)


def configure(served: Served) -> None:
    for skill in SKILLS:
        served.admin("POST", "/v1/skills", {"id": skill, "name": skill})
    for queue_id, (extension, skill) in QUEUES.items():
        queue = {"id": queue_id, "name": f"Queue {queue_id}", "extension": extension,
                 "requires": {skill: 1}, "ring_timeout_s": 8, "wrapup_s": 0,
                 "recording": {"mode": RECORDING.get(queue_id, "never")}}  # fmt: skip
        served.admin("POST", "/v1/queues", queue)
    for agent_id, (skill, name) in AGENTS.items():
        agent = {"id": agent_id, "name": name, "device": f"PJSIP/{agent_id}",
                 "skills": {skill: 5, **MORE_SKILLS.get(agent_id, {})}}  # fmt: skip
        served.admin("POST", "/v1/agents", agent)
    began = time.monotonic()
    add_users(served, USERS)
    print(f"{len(USERS)} users added in {time.monotonic() - began:.1f} s")


@pytest.fixture(scope="package")
def chromium() -> Path:
    return require_chromium()


@pytest.fixture(scope="package")
def served(
    chromium: Path, asterisk_sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """One served controller for the browser tests (package scope: no second controller
    stays on the session's Asterisk once these tests are done)."""
    ARTIFACTS.mkdir(exist_ok=True)
    served = Served(Path(tmp_path_factory.mktemp("browser")), asterisk_sandbox)
    print(f"\nbrowser tests: artefacts (screenshots, serve.log) in {ARTIFACTS}")
    began = time.monotonic()
    served.start()
    started = time.monotonic()
    try:
        configure(served)
        print(
            f"ccgateway serve ready in {started - began:.1f} s on port {served.port}, "
            f"the centre and its people set up in {time.monotonic() - started:.1f} s"
        )
        yield served
    finally:
        served.stop()


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def browser(chromium: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="session")
async def observer(asterisk_sandbox: Sandbox) -> AsyncIterator[AmiObserver]:
    """A raw AMI connection of the test's own: Asterisk's word on what happened."""
    watcher = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await watcher.start()
    try:
        yield watcher
    finally:
        await watcher.stop()


@dataclass
class Person:
    """One signed-in person's browser tab, with what the page did that it must not."""

    page: Any
    context: Any
    username: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)  # the page's console (diagnostics)

    async def shot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path

    async def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """A call the page itself makes (its cookie and CSRF token, its origin)."""
        result: dict[str, Any] = await self.page.evaluate(
            """async ([method, path, body]) => {
                const session = await (await fetch("/v1/session")).json();
                const headers = {"Content-Type": "application/json",
                                 "X-CSRF-Token": session.csrf_token || ""};
                const init = {method, headers, credentials: "same-origin"};
                if (body !== null) init.body = JSON.stringify(body);
                const r = await fetch(path, init);
                const text = await r.text();
                return {status: r.status, text};
            }""",
            [method, path, body],
        )
        text = result["text"]
        return int(result["status"]), json.loads(text) if text else None


class People:
    """Opens a signed-in tab per person (fresh cookies each); closes them all at the end."""

    def __init__(self, browser: Any, served: Served) -> None:
        self.browser, self.served = browser, served
        self.opened: list[Person] = []

    async def tab(self, username: str | None = None) -> Person:
        context = await self.browser.new_context(
            base_url=self.served.base_url, viewport={"width": 1366, "height": 900}
        )
        page = await context.new_page()
        person = Person(page, context, username or "")

        async def on_dialog(dialog: Any) -> None:
            person.dialogs.append(f"{dialog.type}: {dialog.message}")
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda exc: person.errors.append(str(exc)))
        page.on("console", lambda msg: person.console.append(f"{msg.type}: {msg.text}"))
        self.opened.append(person)
        if username is not None:
            response = await context.request.post(
                "/v1/session", data={"username": username, "password": PASSWORD}
            )
            assert response.status == 200, f"login {username}: {await response.text()}"
        return person

    async def login_with_form(self, username: str) -> Person:
        """The login page as a person uses it: type the name and password, press Enter."""
        person = await self.tab()
        person.username = username
        page = person.page
        await page.goto("/ui/")
        await field_of(page, "login-username", "Username").fill(username)
        password = field_of(page, "login-password", "Password")
        await password.fill(PASSWORD)
        await password.press("Enter")
        return person

    async def close(self, failed_test: str | None = None) -> None:
        for i, person in enumerate(self.opened):
            if failed_test is not None:  # what each page showed when the test failed
                with contextlib.suppress(Exception):
                    await person.shot(f"FAILED-{failed_test}-{i}-{person.username or 'anon'}")
                if person.console:
                    print(f"console of {person.username or 'anon'}:", *person.console[-15:])
            with contextlib.suppress(Exception):
                await person.context.close()


def field_of(page: Any, testid: str, label: str) -> Any:
    """The element with data-testid `testid`, or else the one labelled `label`."""
    return page.get_by_test_id(testid).or_(page.get_by_label(label, exact=False)).first


def button_of(page: Any, testid: str, name: str) -> Any:
    """The element with data-testid `testid`, or else the button named like `name`."""
    pattern = re.compile(name, re.IGNORECASE)
    return page.get_by_test_id(testid).or_(page.get_by_role("button", name=pattern)).first


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest_asyncio.fixture(loop_scope="session")
async def people(
    browser: Any, served: Served, request: pytest.FixtureRequest
) -> AsyncIterator[People]:
    opened = People(browser, served)
    try:
        yield opened
    finally:
        failed = request.node.stash.get(FAILED, False)
        await opened.close(request.node.name if failed else None)


async def until(
    what: str, check: Callable[[], Awaitable[Any]], timeout_s: float = 20.0, every_s: float = 0.2
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(every_s)


async def in_page(
    page: Any, what: str, function: str, arg: Any = None, timeout_s: float = 10.0
) -> Any:
    """Poll a JavaScript function in the page until it returns something truthy.
    (Playwright's wait_for_function compiles its predicate from a string, which the pages'
    CSP rightly forbids; page.evaluate is not subject to it.)"""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await page.evaluate(function, arg)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting in the page for {what}")
        await asyncio.sleep(0.05)


async def axe_serious(page: Any, name: str) -> list[str]:
    """axe-core (bundled with axe-playwright-python) on the page as it is now: its serious
    and critical violations, one line each; the whole report goes to the artefacts."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    (ARTIFACTS / f"axe-{name}.txt").write_text(results.generate_report())
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def new_number(prefix: str = "+4931") -> str:
    return f"{prefix}{secrets.randbelow(9_000_000) + 1_000_000}"
