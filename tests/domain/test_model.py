import pytest

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.model import Agent, Queue, Skill


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Skill("Billing", "b"), "skill id"),
        (lambda: Skill("a" * 65, "b"), "skill id"),
        (lambda: Agent("a1", "A", "PJSIP/agent1\r\nAction: Hangup"), "device"),
        (lambda: Agent("a1", "A", "agent1"), "device"),
        (lambda: Agent("a1", "A", "PJSIP/agent1", {"billing": 11}), "1-10"),
        (lambda: Agent("a1", "A", "PJSIP/agent1", {"billing": 0}), "1-10"),
        (lambda: Agent("a1", "A", "PJSIP/agent1", {"billing": True}), "integer"),
        (lambda: Queue("q", "Q", "20a"), "extension"),
        (lambda: Queue("q", "Q", "200", ring_timeout_s=2), "ring_timeout_s"),
        (lambda: Queue("q", "Q", "200", wrapup_s=-1), "wrapup_s"),
    ],
)
def test_invalid_values_are_refused_with_the_reason(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidValue, match=message):
        build()


def test_agent_skills_cannot_be_changed_after_creation() -> None:
    agent = Agent("a1", "Ann", "PJSIP/agent1", {"billing": 5})
    with pytest.raises(TypeError):
        agent.skills["billing"] = 1  # type: ignore[index]
