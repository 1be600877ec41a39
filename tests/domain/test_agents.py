import pytest

from ccgateway.domain.agents import TRANSITIONS, AgentState, AgentStatus, Trigger, next_state
from ccgateway.domain.errors import InvalidTransition

S, T = AgentState, Trigger


@pytest.mark.parametrize(
    ("state", "trigger", "expected"),
    [
        (S.LOGGED_OUT, T.LOG_IN, S.AVAILABLE),
        (S.AVAILABLE, T.OFFER, S.RESERVED),
        (S.RESERVED, T.ANSWER, S.ON_CALL),
        (S.RESERVED, T.NO_ANSWER, S.PAUSED),
        (S.RESERVED, T.WITHDRAW, S.AVAILABLE),
        (S.ON_CALL, T.HANG_UP, S.WRAP_UP),
        (S.WRAP_UP, T.WRAPUP_DONE, S.AVAILABLE),
        (S.PAUSED, T.MAKE_AVAILABLE, S.AVAILABLE),
        (S.PAUSED, T.ADOPT_CALL, S.ON_CALL),
    ],
)
def test_allowed_transitions(state: AgentState, trigger: Trigger, expected: AgentState) -> None:
    assert next_state(state, trigger) is expected


@pytest.mark.parametrize(
    ("state", "trigger"),
    [
        (S.ON_CALL, T.PAUSE),
        (S.ON_CALL, T.LOG_OUT),
        (S.RESERVED, T.LOG_OUT),
        (S.PAUSED, T.OFFER),
        (S.LOGGED_OUT, T.OFFER),
        (S.AVAILABLE, T.ANSWER),
    ],
)
def test_refused_transitions_name_the_state(state: AgentState, trigger: Trigger) -> None:
    with pytest.raises(InvalidTransition, match=state.value):
        next_state(state, trigger)


def test_only_available_agents_can_be_offered_a_call() -> None:
    offerable = {state for (state, trigger) in TRANSITIONS if trigger is T.OFFER}
    assert offerable == {S.AVAILABLE}


def test_withdrawn_offer_keeps_the_idle_spell_but_a_call_starts_a_new_one() -> None:
    status = AgentStatus()
    status.apply(T.LOG_IN, now=100.0)
    status.apply(T.OFFER, now=150.0)
    status.apply(T.WITHDRAW, now=160.0)
    assert status.idle_since == 100.0
    status.apply(T.OFFER, now=170.0)
    status.apply(T.ANSWER, now=175.0)
    status.apply(T.HANG_UP, now=200.0)
    status.apply(T.WRAPUP_DONE, now=210.0)
    assert status.idle_since == 210.0


def test_pause_keeps_its_reason_and_other_states_drop_it() -> None:
    status = AgentStatus()
    status.apply(T.PAUSE, now=1.0, reason="lunch")
    assert (status.state, status.reason) == (S.PAUSED, "lunch")
    status.apply(T.MAKE_AVAILABLE, now=2.0, reason="ignored")
    assert (status.state, status.reason) == (S.AVAILABLE, None)
