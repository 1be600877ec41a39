"""Stores on SQLAlchemy: SQLite (the embedded default) and PostgreSQL."""

from ccgateway.persistence.stores import (
    SqlConfigStore,
    SqlInteractionStore,
    SqlKeyStore,
    open_database,
)

__all__ = ["SqlConfigStore", "SqlInteractionStore", "SqlKeyStore", "open_database"]
