"""Stores on SQLAlchemy: SQLite (the embedded default) and PostgreSQL."""

from ccgateway.persistence.database import SchemaMismatch, open_database
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.persistence.stores import SqlConfigStore, SqlInteractionStore, SqlKeyStore
from ccgateway.persistence.work_stores import SqlCallbackStore, SqlTaskStore

__all__ = [
    "SchemaMismatch",
    "SqlCallbackStore",
    "SqlConfigStore",
    "SqlInteractionStore",
    "SqlKeyStore",
    "SqlOutboundStore",
    "SqlTaskStore",
    "open_database",
]
