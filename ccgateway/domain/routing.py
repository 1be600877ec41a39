"""Who takes a call: qualification and the choice among qualified, free agents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ccgateway.domain.agents import AgentState, AgentStatus
from ccgateway.domain.model import Agent


def is_qualified(skills: Mapping[str, int], requires: Mapping[str, int]) -> bool:
    """True when the agent holds every required skill at or above its minimum level."""
    return all(skills.get(skill, 0) >= level for skill, level in requires.items())


@dataclass(frozen=True, slots=True)
class Decision:
    """A routing choice with the reason it was made, kept for the API and the logs."""

    call_id: str
    agent_id: str
    explanation: str


def choose_agent(
    call_id: str,
    requires: Mapping[str, int],
    candidates: Iterable[tuple[Agent, AgentStatus]],
    is_reachable: Mapping[str, bool],
) -> Decision | None:
    """The longest-idle available agent with the required skills; ties go to the lowest id.

    An agent whose device the PBX reports unreachable is never offered a call.
    """
    best: tuple[float, str] | None = None
    considered = 0
    for agent, status in candidates:
        if status.state is not AgentState.AVAILABLE:
            continue
        if not is_reachable.get(agent.device, True):
            continue
        if not is_qualified(agent.skills, requires):
            continue
        considered += 1
        key = (status.idle_since, agent.id)
        if best is None or key < best:
            best = key
    if best is None:
        return None
    need = ", ".join(f"{s}>={lvl}" for s, lvl in sorted(requires.items())) or "no skills"
    return Decision(
        call_id=call_id,
        agent_id=best[1],
        explanation=(
            f"longest idle of {considered} available agent(s) qualified for {need} "
            f"(idle since {best[0]:.3f})"
        ),
    )
