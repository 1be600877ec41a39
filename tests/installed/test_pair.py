"""Two installed `ccgateway serve` processes as a pair on a real PostgreSQL (no PBX reachable:
the lease, the health, the redirects and the fence are what is tested): the standby takes
over within 5 s of the active's `kill -9`, a session signed in on the dead one still works,
and at once after a clean stop;
an active frozen (SIGSTOP) until the standby took over, then resumed (SIGCONT), writes
nothing and exits; a pair on SQLite refuses to start, saying why."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.installed.conftest import ServedController, entry_point, free_port
from tests.persistence.conftest import postgres_url  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgres

TAKEOVER_WITHIN_S = 5.0
PASSWORD = "a-long-password-for-the-pair"


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:  # noqa: F811
    clean = create_engine(postgres_url)
    with clean.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    clean.dispose()
    yield postgres_url


@pytest.fixture
def pair(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., ServedController]]:
    """Controllers of one pair, each named (and given variables of its own) and advertising
    its own URL; all stopped after."""
    made: list[ServedController] = []

    def node(name: str, env: dict[str, str] | None = None) -> ServedController:
        served = ServedController(
            tmp_path_factory.mktemp(f"node-{name}"),
            env={"CCGW_DATABASE_URL": database, "CCGW_HA__MODE": "pair",
                 "CCGW_HA__NODE_ID": name, **(env or {})},
        )  # fmt: skip
        served.env["CCGW_HA__ADVERTISE_URL"] = served.base_url
        made.append(served)
        served.launch()
        return served

    try:
        yield node
    finally:
        for served in made:
            if served.process is not None and served.process.poll() is None:
                os.kill(served.process.pid, signal.SIGCONT)  # a frozen one too
            served.close()


def health(served: ServedController) -> httpx.Response | None:
    try:
        return httpx.get(f"{served.base_url}/v1/health", headers=served.auth, timeout=1)
    except httpx.TransportError:
        return None


def wait_for_role(served: ServedController, role: str, within: float = 30.0) -> dict[str, object]:
    """The health once it says `role` (active: 200, standby: 503)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert served.process is not None and served.process.poll() is None, served.log()[-3000:]
        answer = health(served)
        if answer is not None and answer.json().get("role") == role:
            assert answer.status_code == (200 if role == "active" else 503)
            body: dict[str, object] = answer.json()
            return body
        time.sleep(0.05)
    pytest.fail(f"{served.base_url} never said {role}:\n{served.log()[-3000:]}")


def admin(served: ServedController, method: str, path: str, body: object = None) -> httpx.Response:
    return httpx.request(
        method, f"{served.base_url}{path}", headers=served.auth, json=body, timeout=5
    )


def test_the_standby_takes_over_within_5_s_of_the_actives_kill_and_sessions_survive(
    pair: Callable[..., ServedController],
) -> None:
    a = pair("a")
    assert wait_for_role(a, "active")["epoch"] == 1
    b = pair("b")
    seen = wait_for_role(b, "standby")
    assert seen["active"] == {"node": "a", "epoch": 1, "url": a.base_url}
    assert health(b) is not None  # the standby's health needs no key (a balancer's check)
    assert httpx.get(f"{b.base_url}/v1/health", timeout=1).status_code == 503
    # Other requests on the standby are forwarded to the active, the key with them.
    refused = httpx.post(f"{b.base_url}/v1/skills?x=1", headers=b.auth, json={}, timeout=5)
    assert refused.status_code == 422  # the active's own answer to a bad body
    made = httpx.post(
        f"{b.base_url}/v1/skills", headers=b.auth, json={"id": "sales", "name": "Sales"}, timeout=5
    )
    assert made.status_code == 201, made.text
    assert httpx.get(f"{b.base_url}/v1/skills", timeout=5).status_code == 401  # and no key
    # A person signs in on the active one.
    user = {"username": "sue", "password": PASSWORD, "role": "admin"}
    assert admin(a, "POST", "/v1/users", user).status_code == 201
    signed = httpx.post(
        f"{a.base_url}/v1/session", json={"username": "sue", "password": PASSWORD}, timeout=10
    )
    assert signed.status_code == 200, signed.text
    cookie = signed.cookies["ccgw_session"]

    assert a.process is not None
    a.process.kill()  # kill -9
    killed = time.monotonic()
    now_active = wait_for_role(b, "active", within=TAKEOVER_WITHIN_S + 5)
    took = time.monotonic() - killed
    print(f"standby active {took:.2f} s after the active's kill -9")
    assert took < TAKEOVER_WITHIN_S
    assert now_active["epoch"] == 2 and now_active["node"] == "b"
    # The session made on the dead controller goes on on the new one, and so does the data.
    me = httpx.get(f"{b.base_url}/v1/session", cookies={"ccgw_session": cookie}, timeout=5)
    assert me.status_code == 200 and me.json()["username"] == "sue"
    assert [s["id"] for s in admin(b, "GET", "/v1/skills").json()] == ["sales"]


def test_an_active_frozen_until_the_standby_took_over_writes_nothing_and_exits(
    pair: Callable[..., ServedController], database: str
) -> None:
    a = pair("a")
    wait_for_role(a, "active")
    b = pair("b")
    wait_for_role(b, "standby")
    assert a.process is not None
    os.kill(a.process.pid, signal.SIGSTOP)  # a partition, as the active sees it
    stopped = time.monotonic()
    # A write sent to the frozen one: the kernel takes it, the process reads it on SIGCONT.
    answers: list[httpx.Response | Exception] = []

    def late_write() -> None:
        try:
            answers.append(
                admin(a, "POST", "/v1/skills", {"id": "stale", "name": "Written too late"})
            )
        except httpx.HTTPError as exc:
            answers.append(exc)

    writer = threading.Thread(target=late_write)
    writer.start()
    assert wait_for_role(b, "active", within=TAKEOVER_WITHIN_S + 5)["epoch"] == 2
    print(f"standby active {time.monotonic() - stopped:.2f} s after the active's SIGSTOP")
    os.kill(a.process.pid, signal.SIGCONT)
    status = a.process.wait(10)
    writer.join(10)
    assert status == 75, a.log()[-3000:]  # it gave up at once, for its service manager
    assert answers and not (
        isinstance(answers[0], httpx.Response) and answers[0].status_code < 300
    ), answers
    engine = create_engine(database)
    with engine.connect() as connection:  # nothing of the frozen one's reached the database
        assert connection.scalar(text("SELECT count(*) FROM skills WHERE id = 'stale'")) == 0
    engine.dispose()
    log = a.log()
    assert "lost the lease at epoch 1" in log
    assert "not sent" not in log or "the lease is lost" in log
    print(log[log.index("lost the lease") - 200 :][:1500])


def test_a_pair_on_sqlite_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    served = ServedController(tmp_path, env={"CCGW_HA__MODE": "pair"})
    served.launch()
    assert served.process is not None
    assert served.process.wait(30) == 2
    assert 'ha.mode = "pair" needs PostgreSQL' in served.log()
    served.close()


def test_a_clean_stop_hands_the_lease_over_at_once(
    pair: Callable[..., ServedController],
) -> None:
    a = pair("a")
    wait_for_role(a, "active")
    b = pair("b")
    wait_for_role(b, "standby")
    stopping = time.monotonic()
    a.stop()  # SIGTERM, as a service manager stops it: the lease released as it shuts down
    wait_for_role(b, "active", within=TAKEOVER_WITHIN_S)
    took = time.monotonic() - stopping
    print(f"standby active {took:.2f} s after the active's SIGTERM")
    # The last renewal was at most renew_s (1 s) before the stop, so by itself the lease
    # could not have expired before lease_s - renew_s (2 s) after it.
    assert took < 3.0 - 1.0


def test_a_command_on_a_machine_whose_controller_is_down_goes_to_the_pair_s_active(
    pair: Callable[..., ServedController], tmp_path: Path
) -> None:
    """`ccgateway dnc add` where nothing listens at the config's API address: in a pair the
    lease names the active controller and its address, so the number reaches the lists it
    holds in memory; with no controller active the command writes the database itself
    (fenced: tests/persistence/test_lease_store.py), and the next active one loads it."""
    a = pair("a")
    wait_for_role(a, "active")
    config = tmp_path / "here.toml"
    config.write_text(f'[api]\nhost = "127.0.0.1"\nport = {free_port()}\n')
    env = {k: v for k, v in a.env.items() if k != "CCGW_HA__NODE_ID"}

    def dnc_add(number: str) -> subprocess.CompletedProcess[str]:
        command = ["dnc", "add", number, "--reason", "asked", "--config", str(config)]
        return subprocess.run(
            [str(entry_point()), *command],
            env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip

    sent = dnc_add("+441632960011")
    assert sent.returncode == 0, sent.stderr
    assert f"(by the controller at {a.base_url})" in sent.stdout
    assert "POST /v1/dnc" in a.log()
    a.stop()  # the lease released: no controller is active
    written = dnc_add("+441632960012")
    assert written.returncode == 0, written.stderr
    assert "(no controller running: written to the database)" in written.stdout
    b = pair("b")
    wait_for_role(b, "active")
    for number in ("+441632960011", "+441632960012"):
        listed = admin(b, "POST", "/v1/dnc", {"numbers": [number], "reason": "again"})
        assert listed.json()["added"] == 0, number  # listed already, both ways
