"""The queue_log table, as Asterisk's realtime queue_log writes it (contrib/ast-db-manage/
queue_log: id, time, callid, queuename, agent, event, data1..data5, with its widths), so
tools that read app_queue's table read ours without change.

`time` is a timestamp (UTC, microseconds), not the epoch Float of our other tables: it is
the column such tools query. The data fields go one per column, as Asterisk's adaptive
realtime splits them; a sixth or later field (none of the events we write has one) would
be joined onto data5 with `|`, as Asterisk's splitting leaves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Engine, Index, Integer, String, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from ccgateway.domain.queue_log import QueueLogLine
from ccgateway.persistence.tables import Base

DATA_COLUMNS = 5


class QueueLogRow(Base):
    __tablename__ = "queue_log"
    __table_args__ = (Index("ix_queue_log_time", "time"),)

    # BIGINT on PostgreSQL; SQLite's rowid alias must be spelled INTEGER to count by itself.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    time: Mapped[datetime] = mapped_column(DateTime)
    callid: Mapped[str] = mapped_column(String(80))
    queuename: Mapped[str] = mapped_column(String(256))
    agent: Mapped[str] = mapped_column(String(80))
    event: Mapped[str] = mapped_column(String(32))
    data1: Mapped[str] = mapped_column(String(100), default="")
    data2: Mapped[str] = mapped_column(String(100), default="")
    data3: Mapped[str] = mapped_column(String(100), default="")
    data4: Mapped[str] = mapped_column(String(100), default="")
    data5: Mapped[str] = mapped_column(String(100), default="")


def row_values(line: QueueLogLine) -> dict[str, object]:
    """One line as the table's columns (every field cleaned and cut to its width)."""
    text = line.text().split("|")  # the fields as the file has them: cleaned, no `|` inside
    data = text[5:]
    data = [*data[: DATA_COLUMNS - 1], "|".join(data[DATA_COLUMNS - 1 :])]
    data += [""] * (DATA_COLUMNS - len(data))
    return {
        "time": datetime.fromtimestamp(line.time, UTC).replace(tzinfo=None),
        "callid": text[1][:80],
        "queuename": text[2][:256],
        "agent": text[3][:80],
        "event": text[4][:32],
        **{f"data{i + 1}": value[:100] for i, value in enumerate(data)},
    }


class SqlQueueLogStore:
    """Appends lines to the table, one transaction per batch."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __str__(self) -> str:
        return "the queue_log table"

    def write(self, lines: Sequence[QueueLogLine]) -> None:
        if not lines:
            return
        with self._engine.begin() as connection:
            connection.execute(insert(QueueLogRow), [row_values(line) for line in lines])

    def lines(self, limit: int = 1000) -> list[QueueLogLine]:
        """The oldest `limit` lines, as written (for checks and tests)."""
        with self._engine.connect() as connection:
            rows = connection.execute(select(QueueLogRow).order_by(QueueLogRow.id).limit(limit))
            return [
                QueueLogLine(
                    int(row.time.replace(tzinfo=UTC).timestamp()),
                    row.callid,
                    row.queuename,
                    row.agent,
                    row.event,
                    tuple(d for d in (row.data1, row.data2, row.data3, row.data4, row.data5)),
                )
                for row in rows
            ]
