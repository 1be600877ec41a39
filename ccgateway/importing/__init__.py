"""Adapters that read files from outside into domain objects (contact lists, do-not-call
registers)."""
