"""Alembic's script directory for ccgateway's schema, packaged with it (env.py, versions/).

persistence/migrate.py drives it from the controller's start and `ccgateway db`; the frozen
baseline schema is schema_v10.py, and legacy.py brings databases from before Alembic to it.
"""
