"""Alembic's environment: runs the revisions on the connection persistence/migrate.py hands
over (in config.attributes), inside the transaction that holds the database's write lock.

No URL and no engine here: ccgateway opens the database itself (SQLite's settings, the
driver for PostgreSQL), so the `alembic` command line is not used; `ccgateway db` is.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run the migrations with `ccgateway db`, not the alembic command")
# SQLite's DDL is made transactional by migrate.py (BEGIN IMMEDIATE), PostgreSQL's is.
# Batch mode: SQLite changes a column only by copying its table, which batch ops do (and
# PostgreSQL runs them as plain ALTERs). target_metadata: tables.py, for `db revision`.
context.configure(
    connection=connection,
    transactional_ddl=True,
    render_as_batch=True,
    target_metadata=context.config.attributes.get("target_metadata"),
)
with context.begin_transaction():
    context.run_migrations()
