"""The database being away, told apart from a write that is wrong.

A lost connection, a server that refuses connections or is shutting down, and a server
that has become read-only (a failover: the old primary demoted, the replica not yet
promoted) are raised as `ports.DatabaseUnavailable`, which the writer's journal waits out
and the API answers with 503. Everything else (a constraint, a bad statement, a lock held
too long) stays SQLAlchemy's error: trying it again would fail the same way, and a journal
that retried it would hold every later write behind it.
"""

from __future__ import annotations

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from ccgateway.ports import DatabaseUnavailable

# PostgreSQL's SQLSTATEs of a server that is going or gone, or read-only.
_AWAY = {"57P01", "57P02", "57P03", "25006"}


def raise_outages(engine: Engine) -> None:
    """Make `engine` raise DatabaseUnavailable (the driver's error as its cause) when the
    database is away."""
    event.listen(engine, "handle_error", _translate)


def _translate(context: ExceptionContext) -> None:
    if context.is_pre_ping:  # the pool's own test of a connection: it reconnects on failure
        return
    error = context.original_exception
    if is_away(error, context.is_disconnect):
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatabaseUnavailable(f"the database is unavailable: {first}") from error


def is_away(error: BaseException, disconnect: bool = False) -> bool:
    """Whether the driver's `error` says the database is away rather than the work wrong."""
    if disconnect:
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover  (psycopg is a dependency)
        return False
    if not isinstance(error, psycopg.Error):
        return False
    state = error.sqlstate
    if state is None:  # the client's own: refused, timed out, the connection closed
        return isinstance(error, psycopg.OperationalError)
    return state.startswith("08") or state in _AWAY
