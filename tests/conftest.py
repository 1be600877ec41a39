"""Shared fixtures: the real sandbox Asterisk, brought up once per test session."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from ccgateway.sandbox import Sandbox

LOCK = "/tmp/ccgw-asterisk.lock"


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"real-Asterisk tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def asterisk_sandbox() -> Iterator[Sandbox]:
    """A running sandbox with six auto-answering agent phones (agent1..agent6)."""
    if os.environ.get("CCGW_SKIP_ASTERISK") == "1":
        _skip_or_fail("CCGW_SKIP_ASTERISK=1")
    if os.geteuid() != 0:
        _skip_or_fail("the sandbox Asterisk needs root (debootstrap, chroot, mounts)")
    lock = open(LOCK, "w")  # noqa: SIM115 - held for the whole session
    subprocess.run(["flock", "-w", "600", str(lock.fileno())], pass_fds=(lock.fileno(),),
                   check=True)
    sandbox = Sandbox()
    try:
        sandbox.up(agents=6)
        yield sandbox
    finally:
        sandbox.down()
        lock.close()
