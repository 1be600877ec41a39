"""The pair's lease and the fence on every write (PostgreSQL only; `ha.mode = "pair"`).

One row, `ha_lease` named `controller`: who holds the lease (`holder`), its fencing `epoch`
(one more at every change of holder, never less), when it expires (`expires_at`, epoch
seconds on the DATABASE's clock: the controllers' clocks are never compared) and the API URL
the holder advertises. Taking and renewing are one UPDATE each (`claim`): a renewal only
while the row still names this node at its epoch (expired or not: nobody has held it since,
and a holder riding out the database's absence on the PBXs' owner marks, services/lease.py,
renews as soon as it is back); a take (epoch + 1) only once it has expired.

`Fence` makes every write of a controller carry its epoch without touching the stores: an
engine event marks a transaction that wrote, and before it commits checks, in the same
transaction, that the lease row still names this node at this epoch, holding the row with
FOR SHARE until the commit (expired or not: what matters is that nobody took it; a holder's
writes kept while the database was away go in once it is back). A taker's UPDATE of the row
waits for that lock, so every write of epoch N is committed before epoch N+1 begins, and one
that comes later (a controller frozen, then resumed, once another took the lease) is
refused: `StaleEpoch`, the transaction rolled back. A session left idle inside a
transaction (its process frozen) is ended by the server after `idle_s`, so a frozen writer
cannot hold a taker back longer than that.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Column, Connection, Engine, Float, Integer, String, Table, event, text

from ccgateway.persistence.outage import is_away
from ccgateway.persistence.tables import Base
from ccgateway.ports import DatabaseUnavailable, LeaseHolder, WriteFenced

log = logging.getLogger(__name__)

LEASE = "controller"  # the row's name: one active controller per database

ha_lease = Table(
    "ha_lease",
    Base.metadata,
    Column("name", String(32), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),  # epoch seconds, the database's clock
    Column("advertise_url", String(2048)),
)

_NOW = "extract(epoch from clock_timestamp())"  # not now(): a transaction's start
_OURS = "holder = :node AND epoch = :epoch"
_HELD = f"{_OURS} AND expires_at > {_NOW}"
_RENEW = text(
    f"UPDATE ha_lease SET expires_at = {_NOW} + :lease_s, advertise_url = :url"
    f" WHERE name = :name AND {_OURS} RETURNING epoch"
)
_TAKE = text(
    f"UPDATE ha_lease SET epoch = epoch + 1, holder = :node, expires_at = {_NOW} + :lease_s,"
    f" advertise_url = :url WHERE name = :name AND expires_at <= {_NOW} RETURNING epoch"
)
_FIRST = text(
    "INSERT INTO ha_lease (name, holder, epoch, expires_at) VALUES (:name, '', 0, 0)"
    " ON CONFLICT (name) DO NOTHING"
)
_READ = text(
    f"SELECT holder, epoch, advertise_url, expires_at > {_NOW} FROM ha_lease WHERE name = :name"
)
_RELEASE = text(f"UPDATE ha_lease SET expires_at = {_NOW} WHERE name = :name AND {_HELD}")
# The fence's check, on the writer's own connection (psycopg's placeholders).
_FENCE = "SELECT 1 FROM ha_lease WHERE name = %s AND holder = %s AND epoch = %s FOR SHARE"
# A tool's fence (ToolFence): no controller of the pair holds a live lease.
_NOBODY = f"SELECT 1 FROM ha_lease WHERE name = %s AND expires_at <= {_NOW} FOR SHARE"


class StaleEpoch(WriteFenced):
    """A write of a controller that no longer holds the lease (or not at this epoch): refused,
    rolled back (the journal keeps a controller's own for the next active: WriteFenced)."""


class SqlLeaseStore:
    """The lease on its own engine (a short statement timeout, so a renewal never hangs past
    the lease it renews), apart from the controller's, whose writes it fences."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the pair's lease needs PostgreSQL")
        self._engine = engine
        with engine.begin() as connection:
            connection.execute(_FIRST, {"name": LEASE})

    def claim(self, node: str, epoch: int | None, lease_s: float, url: str | None) -> int | None:
        # A renewal never takes: it keeps (or, expired, takes back) a lease nobody took since.
        statement = _TAKE if epoch is None else _RENEW
        values = {"name": LEASE, "node": node, "epoch": epoch, "lease_s": lease_s, "url": url}
        with self._engine.begin() as connection:
            row = connection.execute(statement, values).first()
        return None if row is None else int(row[0])

    def holder(self) -> LeaseHolder | None:
        with self._engine.connect() as connection:
            row = connection.execute(_READ, {"name": LEASE}).first()
        if row is None or row[0] == "":
            return None
        return LeaseHolder(str(row[0]), int(row[1]), row[2], bool(row[3]))

    def release(self, node: str, epoch: int) -> None:
        with self._engine.begin() as connection:
            connection.execute(_RELEASE, {"name": LEASE, "node": node, "epoch": epoch})


def lease_engine(url: str, lease_s: float) -> Engine:
    """An engine for the lease alone: connecting and each statement bounded by the lease."""
    from ccgateway.persistence.database import connect

    timeout_ms = max(1, int(lease_s * 1000))
    return connect(
        url,
        connect_args={
            "connect_timeout": max(1, round(lease_s)),
            "options": f"-c statement_timeout={timeout_ms}",
        },
    )


class Fence:
    """Refuses, at its commit, any transaction that wrote unless this node holds the lease at
    its epoch (module docstring). Holds nothing until `hold` is called: every write fails."""

    def __init__(self, idle_s: float) -> None:
        self.node: str | None = None
        self.epoch: int | None = None
        self._idle_ms = max(1, int(idle_s * 1000))

    def hold(self, node: str, epoch: int) -> None:
        self.node, self.epoch = node, epoch

    def install(self, engine: Engine) -> None:
        """Fence every later transaction on `engine` (its pooled connections are replaced,
        so each new one gets the idle-in-transaction limit)."""
        if engine.dialect.name != "postgresql":
            raise ValueError("the fence needs PostgreSQL")
        event.listen(engine, "connect", self._limit_idle)
        event.listen(engine, "before_cursor_execute", self._note_write)
        event.listen(engine, "commit", self._check)
        event.listen(engine, "rollback", self._forget)
        engine.dispose()  # connections opened before (the migrations) lack the limit

    def _limit_idle(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET idle_in_transaction_session_timeout = {self._idle_ms}")
        cursor.close()
        dbapi_connection.commit()

    def _note_write(
        self,
        connection: Connection,
        _cursor: Any,
        statement: str,
        *_: Any,
    ) -> None:
        if _is_write(statement):
            connection.info["ccgw_wrote"] = True

    def _condition(self) -> tuple[str, tuple[str | int, ...]]:
        """The check a write's commit must pass, and its values."""
        if self.node is None or self.epoch is None:
            raise StaleEpoch("no lease is held: this controller may not write")
        return _FENCE, (LEASE, self.node, self.epoch)

    def _refusal(self) -> StaleEpoch:
        log.error("write refused: %s no longer holds the lease at epoch %d", *self._who())
        return StaleEpoch(f"the lease is no longer {self.node}'s at epoch {self.epoch}")

    def _check(self, connection: Connection) -> None:
        if not connection.info.pop("ccgw_wrote", False):
            return
        statement, values = self._condition()
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            cursor.execute(statement, values)
            held = cursor.fetchone() is not None
        except Exception as exc:  # the driver's own (a session the server ended): unproven
            if is_away(exc):  # the journal keeps the write and tries it again
                raise DatabaseUnavailable(f"the lease could not be checked: {exc}") from exc
            raise StaleEpoch(f"the lease could not be checked: {exc}") from exc
        finally:
            cursor.close()
        if not held:
            raise self._refusal()

    def _who(self) -> tuple[str, int]:
        return str(self.node), int(self.epoch or 0)

    def _forget(self, connection: Connection) -> None:
        connection.info.pop("ccgw_wrote", None)


class ToolFence(Fence):
    """The fence of a command-line tool writing the database of a pair itself (`ccgateway
    dnc`, `contacts import`, `retention purge`, when no controller is active): a write
    commits only while no controller holds a live lease, and holds the lease row until the
    commit, so a controller taking over afterwards (its UPDATE waits for the row) loads what
    was written. A controller that became active meanwhile holds its lists in memory, where
    a write behind its back would not reach: the write is refused, rolled back."""

    def _condition(self) -> tuple[str, tuple[str | int, ...]]:
        return _NOBODY, (LEASE,)

    def _refusal(self) -> StaleEpoch:
        return StaleEpoch(
            "a controller of the pair became active meanwhile: this write was refused and "
            "rolled back; run the command again (it goes to the active controller)"
        )


_READS = ("SELECT", "SHOW", "SET", "SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def _is_write(statement: str) -> bool:
    """Anything but a plain read or transaction control counts as a write (a WITH may
    write, so it counts too)."""
    word = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
    return word not in _READS
