"""Async orchestration between the pure core and the adapters."""
