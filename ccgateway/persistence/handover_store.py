"""Writes a pair's controller left for the next active when it lost the lease (PostgreSQL).

A controller cut off from the database alone (a partition) goes on routing on the PBXs'
owner marks for `ride_s` (services/lease.py), and its writes of that time (records,
dispositions, do-not-call entries...) wait in its journal. When it reaches the database
again another holds the lease, and the fence refuses them. Rather than dropping them it
leaves them here, each as its value (journal_file's `dump_write`: the same trusted, domain-
only pickles as the journal file), and exits; the active takes them in under its own epoch
(services/handover.py) and forgets the rows. Leaving is on the lease's own engine, which is
not fenced: a row here changes nothing until the active has judged and written it.

The rows are transient: the active looks every few seconds. They hold personal data (a
record's caller number) for that long; an erasure meanwhile reaches them as it reaches the
active's live work (its redactions apply to what it takes in).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    insert,
    select,
)

from ccgateway.persistence.journal_file import JournalFileError, dump_write, load_write
from ccgateway.persistence.tables import Base
from ccgateway.ports import LeftWrite

log = logging.getLogger(__name__)

_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite counts only an INTEGER key

ha_handover = Table(
    "ha_handover",
    Base.metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("node", String(64), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("left_at", Float, nullable=False),  # the leaver's wall clock, for the log
    Column("write", LargeBinary, nullable=False),
)


class SqlHandoverStore:
    """The left writes, on the lease's engine (a statement never outlasts a lease)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def leave(self, node: str, epoch: int, writes: Sequence[object]) -> None:
        rows = [
            {"node": node, "epoch": epoch, "left_at": time.time(), "write": dump_write(w)}
            for w in writes
        ]
        if not rows:
            return
        with self._engine.begin() as connection:
            connection.execute(insert(ha_handover), rows)

    def waiting(self, limit: int) -> list[LeftWrite]:
        query = (
            select(ha_handover.c.id, ha_handover.c.node, ha_handover.c.epoch, ha_handover.c.write)
            .order_by(ha_handover.c.id)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [LeftWrite(int(i), str(node), int(epoch), _read(payload)) for i, node, epoch,
                payload in rows]  # fmt: skip

    def forget(self, ids: Collection[int]) -> None:
        if not ids:
            return
        with self._engine.begin() as connection:
            connection.execute(delete(ha_handover).where(ha_handover.c.id.in_(list(ids))))


def _read(payload: bytes) -> object | None:
    try:
        write: object = load_write(bytes(payload))
        return write
    except JournalFileError as exc:
        log.error("a write left by a controller that lost the lease cannot be read: %s", exc)
        return None
