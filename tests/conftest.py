"""Shared fixtures: the real sandbox Asterisk, brought up once per test session.

Tests that use `asterisk_sandbox` are marked `@pytest.mark.asterisk`. They are skipped with
the reason when this is not root or CCGW_SKIP_ASTERISK=1, except in CI (CI=true), where
either is a failure: CI must run them. A test that changes a phone's mode puts it back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from ccgateway.sandbox import Sandbox
from ccgateway.sandbox.asterisk_config import SECOND
from ccgateway.sandbox.lock import asterisk_lock
from tests.pg_server import PostgresServer

SESSION_AGENTS = 6  # agent1..agent6, every phone answers
EAST_AGENTS = 2


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the real-Asterisk tests, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def asterisk_sandbox() -> Iterator[Sandbox]:
    """A running sandbox with six auto-answering agent phones (agent1..agent6)."""
    if os.environ.get("CCGW_SKIP_ASTERISK") == "1":
        _skip_or_fail("CCGW_SKIP_ASTERISK=1 is set")
    if os.geteuid() != 0:
        _skip_or_fail("the sandbox Asterisk needs root (debootstrap, chroot, mounts)")
    # Two Asterisk runs on one machine would fight over ports 5038 and 5060.
    with asterisk_lock():
        sandbox = Sandbox()
        try:
            sandbox.up(agents=SESSION_AGENTS)
            # AstDB outlives Asterisk: end marks of an earlier run's calls (domain/gap.py)
            sandbox.asterisk_cli("database deltree ccgw_end")
            yield sandbox
        finally:
            sandbox.down()


@pytest.fixture
def east(asterisk_sandbox: Sandbox) -> Iterator[Sandbox]:
    """A second sandbox Asterisk ("east": `SECOND`'s ports, phones agent1 and agent2) beside
    the session's, which holds the Asterisk lock."""
    sandbox = Sandbox(layout=SECOND)
    try:
        sandbox.up(agents=EAST_AGENTS)
        yield sandbox
    finally:
        sandbox.down()


def _end_every_call(sandbox: Sandbox) -> None:
    """Hang up every channel up on the sandbox Asterisk, and wait until they are gone."""
    if sandbox.asterisk_cli("core show channels count").startswith("0 active"):
        return
    sandbox.asterisk_cli("channel request hangup all")
    deadline = time.monotonic() + 10
    while not sandbox.asterisk_cli("core show channels count").startswith("0 active"):
        assert time.monotonic() < deadline, "an earlier test's calls did not end"
        time.sleep(0.1)


@pytest.fixture(scope="module", autouse=True)
def no_calls_of_earlier_modules(request: pytest.FixtureRequest) -> None:
    """A module's controller starts on a database of its own, so a caller an earlier module
    left up (a sipp caller hangs up only after its `hangup_after`) would be adopted and
    served by it, or end under it. Ended before the module's own fixtures start (autouse
    fixtures come first in their scope), with the end marks their hang-ups leave."""
    items = request.session.items
    if any("asterisk_sandbox" in i.fixturenames for i in items if i.module is request.module):
        sandbox: Sandbox = request.getfixturevalue("asterisk_sandbox")
        _end_every_call(sandbox)
        sandbox.asterisk_cli("database deltree ccgw_end")


@pytest.fixture(autouse=True)
def no_end_marks_of_earlier_tests(request: pytest.FixtureRequest) -> None:
    """Each test's controller starts on a database of its own, so the dialplan's end marks
    of an earlier test's calls (domain/gap.py) would be news to it: dropped first."""
    if "asterisk_sandbox" in request.fixturenames:
        sandbox: Sandbox = request.getfixturevalue("asterisk_sandbox")
        sandbox.asterisk_cli("database deltree ccgw_end")


@pytest.fixture
def server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test's own, which it may stop and start; removed after."""
    started = PostgresServer()
    try:
        yield started
    finally:
        started.remove()
