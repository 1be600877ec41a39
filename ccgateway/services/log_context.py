"""Which call, agent, queue and campaign the controller is busy with, for its log lines.

The dispatcher names what it handles (a PBX event, then each command it carries out) with
`about`; a log line written meanwhile, in its turn or in a task it starts then (a PBX
command runs as a task of its own, which copies the context), carries those ids: the JSON
log format (ccgateway/logs.py) writes them, so a log system can follow one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar

from ccgateway.domain.commands import Notify, RecordInteraction

IDS = ("call_id", "agent_id", "queue_id", "campaign_id")
# What the dispatcher is busy with: the event or command itself, read only when a line is
# written (most turns write none, and naming the ids at every turn cost more than the rest
# of a turn's bookkeeping).
current: ContextVar[object] = ContextVar("ccgateway_log_about", default=None)


def ids_of(item: object) -> dict[str, str]:
    """The ids an event or a command names (a notice's data, a record's interaction)."""
    if item is None:
        return {}
    if isinstance(item, Notify):
        source: object = item.data
    elif isinstance(item, RecordInteraction):
        source = item.interaction
    else:
        source = item
    found: dict[str, str] = {}
    for name in IDS:
        value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
        if isinstance(value, str) and value:
            found[name] = value
    return found


def ids() -> dict[str, str]:
    """The ids log lines name now, in this context."""
    return ids_of(current.get())


def about(item: object) -> None:
    """From now on in this context, log lines name what `item` names."""
    current.set(item)


def clear() -> None:
    current.set(None)
