"""Two processes opening one SQLite database at once (`ccgateway serve` starting while a CLI
command opens it): both get it, with its record tables guarded. The triggers used to be
dropped and made again on every open, outside any transaction, and one side failed with
"trigger ... already exists" (seen in CI: the browser tests' `ccgateway users add`)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlalchemy import text

from ccgateway.persistence.database import open_database
from ccgateway.persistence.record_guards import APPEND_ONLY


def _open(url: str) -> None:
    open_database(url).dispose()


def test_databases_opened_at_once_by_several_processes_all_open(tmp_path: Path) -> None:
    for attempt in range(5):
        url = f"sqlite:///{tmp_path}/race{attempt}.db"
        _open(url)  # made (as serve's first start does); then opened by several at once
        context = multiprocessing.get_context("spawn")
        with context.Pool(6) as pool:
            pool.map(_open, [url] * 12)
        engine = open_database(url)
        with engine.connect() as connection:
            triggers = connection.execute(
                text("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
            ).scalar()
        assert triggers == 2 * len(APPEND_ONLY)  # no UPDATE and no DELETE, per table
        engine.dispose()
