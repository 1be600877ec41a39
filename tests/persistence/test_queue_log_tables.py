"""The queue_log table (Asterisk's realtime layout) on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from ccgateway.domain.queue_log import QueueLogLine
from ccgateway.persistence import open_database
from ccgateway.persistence.queue_log_tables import SqlQueueLogStore

LINES = [
    QueueLogLine(1764950400, "NONE", "NONE", "NONE", "QUEUESTART", ("",)),
    QueueLogLine(1764950401, "c1", "sales", "NONE", "ENTERQUEUE", ("", "+4930|1", "1", "Ann")),
    QueueLogLine(1764950409, "c1", "sales", "Agent/a2", "CONNECT", ("9", "leg", "3")),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite://"
    postgres: str = request.getfixturevalue("postgres_url")
    return postgres


def test_lines_are_rows_of_asterisks_layout(url: str) -> None:
    engine = open_database(url)
    try:
        store = SqlQueueLogStore(engine)
        store.write(LINES)
        store.write([])
        columns = [c["name"] for c in inspect(engine).get_columns("queue_log")]
        assert columns == [
            "id",
            "time",
            "callid",
            "queuename",
            "agent",
            "event",
            *(f"data{i}" for i in range(1, 6)),
        ]
        back = store.lines()
        assert [(line.time, line.callid, line.event) for line in back] == [
            (line.time, line.callid, line.event) for line in LINES
        ]
        assert back[1].data == ("", "+4930_1", "1", "Ann", "")  # no `|` inside a field
        assert back[2].data[:3] == ("9", "leg", "3")
    finally:
        engine.dispose()
