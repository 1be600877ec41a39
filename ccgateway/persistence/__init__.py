"""Stores on SQLAlchemy: SQLite (the embedded default) and PostgreSQL."""

from ccgateway.persistence.database import SchemaMismatch, open_database
from ccgateway.persistence.stores import SqlConfigStore, SqlInteractionStore, SqlKeyStore

__all__ = [
    "SchemaMismatch",
    "SqlConfigStore",
    "SqlInteractionStore",
    "SqlKeyStore",
    "open_database",
]
