"""Questions the use cases ask of the live centre across its parts: whom an agent serves
now, who took a dial, which campaigns there are. Pure reads: nothing here changes state."""

from __future__ import annotations

from dataclasses import dataclass

from ccgateway.domain.center import Center
from ccgateway.domain.outbound.campaigns import Campaign


@dataclass(frozen=True, slots=True)
class DialParty:
    """The number a dial called and the agent who took it (None: nobody yet, or nobody)."""

    number: str
    agent_id: str | None


def is_serving(center: Center, agent_id: str, number: str) -> bool:
    """Whether the agent has a live call, dial or callback with `number` right now."""
    calls = (
        c
        for c in center.calls.values()
        if c.caller_number == number
        and (c.agent_id == agent_id or agent_id in c.conference.values())
    )
    dials = (
        d
        for d in center.outbound.dials.values()
        if d.agent_id == agent_id and d.contact.number == number
    )
    callbacks = (
        c
        for c in center.callbacks.callbacks.values()
        if c.agent_id == agent_id and c.number == number
    )
    return any(calls) or any(dials) or any(callbacks)


def dial_party(center: Center, dial_id: str) -> DialParty | None:
    """A dial out now, or one that ended lately (kept for late dispositions); None if the
    centre no longer holds it (the store may)."""
    live = center.outbound.dials.get(dial_id)
    if live is not None:
        return DialParty(live.contact.number, live.agent_id)
    record = center.outbound.ended.get(dial_id)
    if record is not None:
        return DialParty(record.number, record.agent_id)
    return None


def campaigns(center: Center) -> list[Campaign]:
    """Every loaded campaign, by id."""
    return sorted((r.campaign for r in center.outbound.runs.values()), key=lambda c: c.id)
