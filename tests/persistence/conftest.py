"""A throwaway PostgreSQL server (Debian's postgresql package) for the store tests."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from ccgateway.persistence import open_database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh cluster on 127.0.0.1 and a free port, owned by the OS user postgres; removed at
    the end. Skipped (failed when CI=true) without the binaries or root."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins or os.geteuid() != 0:
        reason = (
            "the PostgreSQL tests need Debian's postgresql package (/usr/lib/postgresql/*/bin) "
            "and root, to run the server as the user postgres"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    bindir = os.path.dirname(bins[-1])
    data = tempfile.mkdtemp(prefix="ccgw-pg-")
    shutil.chown(data, "postgres", "postgres")
    port = _free_port()

    def as_postgres(*command: str) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *command],
            capture_output=True,
            text=True,
            cwd="/tmp",
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")

    as_postgres(f"{bindir}/initdb", "-D", data, "-A", "trust", "-U", "postgres")
    as_postgres(
        f"{bindir}/pg_ctl",
        "-D",
        data,
        "-w",
        "-l",
        f"{data}/log",
        "-o",
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data}",
        "start",
    )
    try:
        as_postgres(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "ccgateway")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/ccgateway"
    finally:
        as_postgres(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with the schema on SQLite, then on PostgreSQL (emptied first)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/ccgateway.db"
    else:
        url = request.getfixturevalue("postgres_url")
        clean = create_engine(url)
        with clean.begin() as connection:  # whatever the last test left
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        clean.dispose()
    engine = open_database(url)
    yield engine
    engine.dispose()
