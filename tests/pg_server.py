"""A throwaway PostgreSQL server (Debian's postgresql package), which a test may stop and
start again (an outage, a failover's gap)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

REASON = (
    "the PostgreSQL tests need Debian's postgresql package (/usr/lib/postgresql/*/bin) "
    "and root, to run the server as the user postgres"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """A fresh cluster on 127.0.0.1 and a free port, owned by the OS user postgres, with a
    database `ccgateway`. Skips the test (fails it when CI=true) without the binaries or
    root."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins or os.geteuid() != 0:
            if os.environ.get("CI") == "true":
                pytest.fail(REASON)
            pytest.skip(REASON)
        self._bindir = os.path.dirname(bins[-1])
        self._data = tempfile.mkdtemp(prefix="ccgw-pg-")
        shutil.chown(self._data, "postgres", "postgres")
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/ccgateway"
        self._as_postgres(
            f"{self._bindir}/initdb", "-D", self._data, "-A", "trust", "-U", "postgres"
        )
        self.start()
        self._as_postgres(
            f"{self._bindir}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "ccgateway"
        )

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port}"
        options += f" -c unix_socket_directories={self._data}"
        self._as_postgres(
            f"{self._bindir}/pg_ctl", "-D", self._data, "-w", "-l", f"{self._data}/log",
            "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        """At once, as a crash would: connections are cut, nothing waits for clients."""
        self._as_postgres(f"{self._bindir}/pg_ctl", "-D", self._data, "-m", "immediate", "stop")

    def remove(self) -> None:
        try:
            with contextlib.suppress(RuntimeError):  # stopped already
                self.stop()
        finally:
            shutil.rmtree(self._data, ignore_errors=True)

    def _as_postgres(self, *command: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            capture_output=True,
            text=True,
            cwd="/tmp",
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")
