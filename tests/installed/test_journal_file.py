"""The installed `ccgateway serve` on a real PostgreSQL, stopped at once (as a crash or a
failover's gap): an agent's pause made meanwhile is kept in the journal file, the controller
is killed (`kill -9`) before the database is back, and the next start writes it before it
reads its state; without the file, the same pause is lost (what the file is for)."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from ccgateway.persistence.journal_file import MAGIC
from tests.installed.conftest import ServedController
from tests.pg_server import PostgresServer

pytestmark = pytest.mark.postgres


def agent_state(served: ServedController) -> tuple[str, str | None]:
    answer = httpx.get(f"{served.base_url}/v1/agents/a1", headers=served.auth, timeout=5)
    answer.raise_for_status()
    return answer.json()["state"], answer.json().get("reason")


def until_stored(url: str, state: str) -> None:
    """The agent's presence as the database holds it is `state`."""
    engine = create_engine(url)
    query = text("SELECT state FROM agent_presence WHERE agent_id = 'a1'")
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                if connection.scalar(query) == state:
                    return
            time.sleep(0.05)
        raise AssertionError(f"the agent's presence never stored as {state}")
    finally:
        engine.dispose()


def paused_through_an_outage_then_killed(
    server: PostgresServer, folder: Path, journal_toml: str
) -> ServedController:
    """A controller whose agent was paused while PostgreSQL was away, killed before it came
    back; started again once it is back."""
    folder.mkdir(exist_ok=True)
    served = ServedController(folder, journal_toml, env={"CCGW_DATABASE_URL": server.url})
    try:
        served.start()
        api = httpx.Client(base_url=served.base_url, headers=served.auth, timeout=5)
        agent = {"id": "a1", "name": "Ann", "device": "PJSIP/a1", "skills": {}}
        assert api.post("/v1/agents", json=agent).status_code == 201
        assert api.post("/v1/agents/a1/state", json={"state": "available"}).is_success
        until_stored(server.url, "available")  # the outage begins after this write
        server.stop()
        paused = api.post("/v1/agents/a1/state", json={"state": "paused", "reason": "lunch"})
        assert paused.is_success, paused.text  # routing goes on: the write waits
        deadline = time.monotonic() + 20
        while api.get("/v1/health").json()["database"] and time.monotonic() < deadline:
            time.sleep(0.1)  # the writer has met the outage
        assert not api.get("/v1/health").json()["database"]
        assert agent_state(served) == ("paused", "lunch")
        assert served.process is not None
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait(10)
        served.process = None
        server.start()
        served.start()
        return served
    except BaseException:
        served.close()
        raise


def test_a_pause_made_while_postgresql_was_away_survives_the_controllers_kill(
    server: PostgresServer, tmp_path: Path
) -> None:
    journal = tmp_path / "state" / "journal"
    served = paused_through_an_outage_then_killed(
        server, tmp_path / "with", f'database_journal_file = "{journal}"'
    )
    try:
        assert agent_state(served) == ("paused", "lunch")
        assert re.search(r"writing 1 writes kept in \S+/state/journal", served.log())
        assert journal.read_bytes() == MAGIC  # written, so nothing is kept any more
        assert journal.stat().st_mode & 0o777 == 0o600
    finally:
        served.close()


def test_without_the_file_the_same_pause_is_lost(server: PostgresServer, tmp_path: Path) -> None:
    served = paused_through_an_outage_then_killed(server, tmp_path, "")
    try:
        assert agent_state(served) == ("available", None)  # as stored before the outage
    finally:
        served.close()
