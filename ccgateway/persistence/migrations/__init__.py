"""Alembic's script directory for ccgateway's schema, packaged with it (env.py, versions/).

persistence/migrate.py drives it from the controller's start and `ccgateway db`; the frozen
baseline schema is schema_v10.py, and legacy.py brings databases from before Alembic to it.

A change of the schema: change tables.py, then `ccgateway db revision "what it changes"`
drafts versions/NNNN_what_it_changes.py (autogenerate, batch mode for SQLite); complete it
(data to move, the record guards if a record table changes) and run tests/persistence,
whose test_migrations takes every revision down and up again with rows in every table.
"""
