"""Who sees which items of the event stream: one pure function over a principal and an item.

    role         sees
    admin        everything
    supervisor   everything
    agent        items whose data["agent_id"] is its own agent, unchanged (its agent.state,
                 calls, transfers, callbacks, tasks, dials and previews)
    wallboard    the floor's figures: agent.state, call.state without caller_number and
                 caller_name, call.ended, campaign.state, queue.*
    any other    nothing (a role added later sees nothing until it is given a row here)

Roles are compared by their value, so the table holds whether or not a role exists yet.
"""

from __future__ import annotations

from ccgateway.api.auth import Principal
from ccgateway.services.event_hub import Published

EVERYTHING = frozenset({"admin", "supervisor"})
# The wallboard shows the floor, never who is calling: a caller's number and name are
# personal data that a TV in the room must not show.
FLOOR_TOPICS = frozenset({"agent.state", "call.state", "call.ended", "campaign.state"})
FLOOR_TOPIC_PREFIXES = ("queue.",)
CALLER_FIELDS = ("caller_number", "caller_name")


def may_subscribe(principal: Principal) -> bool:
    """Whether the stream has anything at all for this principal."""
    role = principal.role.value
    if role == "agent":
        return principal.agent_id is not None
    return role in EVERYTHING or role == "wallboard"


def visible(principal: Principal, published: Published) -> dict[str, object] | None:
    """The message `{seq, at, topic, data}` this principal receives for the item, or None."""
    data = _visible_data(principal, published.topic, published.data)
    if data is None:
        return None
    return {"seq": published.seq, "at": published.at, "topic": published.topic, "data": data}


def _visible_data(
    principal: Principal, topic: str, data: dict[str, object]
) -> dict[str, object] | None:
    role = principal.role.value
    if role in EVERYTHING:
        return data
    if role == "agent":
        mine = principal.agent_id is not None and data.get("agent_id") == principal.agent_id
        return data if mine else None
    if role == "wallboard":
        if topic not in FLOOR_TOPICS and not topic.startswith(FLOOR_TOPIC_PREFIXES):
            return None
        # A new dict: the hub's item is shared by every subscriber and its history.
        return {k: v for k, v in data.items() if k not in CALLER_FIELDS}
    return None
