"""Errors of the core.

    DomainError
    ├── InvalidValue        a value breaks a rule of the model (bad id, level out of range)
    ├── NotFound            no skill, agent, queue or call with that id
    ├── Conflict            the request clashes with current state (extension taken, skill in use)
    └── InvalidTransition   an agent cannot go from its state to the one asked for

The API maps each class to one HTTP status and a stable error id (api/errors.py).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose."""


class InvalidValue(DomainError):
    pass


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class InvalidTransition(DomainError):
    pass
