from ccgateway.domain.agents import AgentState, AgentStatus
from ccgateway.domain.model import Agent
from ccgateway.domain.routing import choose_agent, is_qualified


def agent(
    aid: str,
    skills: dict[str, int],
    state: AgentState = AgentState.AVAILABLE,
    idle_since: float = 0.0,
) -> tuple[Agent, AgentStatus]:
    return Agent(aid, aid, f"PJSIP/{aid}", skills), AgentStatus(state=state, idle_since=idle_since)


def test_qualification_needs_every_skill_at_its_minimum() -> None:
    assert is_qualified({"de": 5, "billing": 3}, {"de": 5, "billing": 3})
    assert not is_qualified({"de": 4, "billing": 9}, {"de": 5})
    assert not is_qualified({"de": 9}, {"de": 5, "billing": 1})
    assert is_qualified({}, {})


def test_longest_idle_qualified_available_agent_wins() -> None:
    pool = [
        agent("a1", {"de": 9}, idle_since=50.0),
        agent("a2", {"de": 5}, idle_since=10.0),
        agent("a3", {"de": 9}, AgentState.PAUSED, idle_since=1.0),
        agent("a4", {"en": 9}, idle_since=0.0),
    ]
    decision = choose_agent("c1", {"de": 5}, pool, {})
    assert decision is not None and decision.agent_id == "a2"
    assert "2 available agent(s)" in decision.explanation


def test_ties_go_to_the_lowest_id_and_unreachable_devices_are_skipped() -> None:
    pool = [agent("b", {}, idle_since=5.0), agent("a", {}, idle_since=5.0)]
    assert choose_agent("c", {}, pool, {}).agent_id == "a"  # type: ignore[union-attr]
    assert choose_agent("c", {}, pool, {"PJSIP/a": False}).agent_id == "b"  # type: ignore[union-attr]


def test_no_qualified_agent_means_no_decision() -> None:
    assert choose_agent("c", {"fr": 1}, [agent("a", {"de": 9})], {}) is None
