"""A throwaway PostgreSQL server (Debian's postgresql package) for the store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from ccgateway.persistence import open_database
from tests.pg_server import PostgresServer


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """One server for the session's store tests; removed at the end."""
    server = PostgresServer()
    try:
        yield server.url
    finally:
        server.remove()


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
