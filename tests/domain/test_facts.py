"""Facts one part states for another (commands.Fact): the centre hands each on, what the
receiving part returns takes the fact's place among the commands, and the shell never sees
a fact."""

from __future__ import annotations

from ccgateway.domain.agents import AgentState, Trigger
from ccgateway.domain.commands import Command, Fact, HangUp, Notify, RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallWaiting,
    ChannelHungUp,
    OutboundAnswered,
    OutboundLive,
)
from ccgateway.domain.floor import AgentReleased
from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.commands import RecordDial
from tests.domain.builders import agent, centre, login
from tests.domain.outbound.helpers import NOON, contact, dialer_centre, dials, start


def test_an_agent_who_hangs_up_a_campaign_call_ends_the_dial_in_the_calls_place() -> None:
    c = dialer_centre(1)
    dial = dials(start(c, [contact(1)]))[0]
    c.handle(OutboundAnswered(dial.dial_id), NOON + 8)
    [ring] = [
        x
        for x in c.handle(OutboundLive(dial.dial_id, "human"), NOON + 9)
        if isinstance(x, RingAgent)
    ]
    c.handle(AgentLegAnswered(ring.leg_id), NOON + 10)
    out = c.handle(ChannelHungUp(ring.leg_id), NOON + 70)
    kinds = [_kind(x) for x in out]
    # The desk's end, then the dialer's (its record), then the person's hang-up: as when the
    # desk called the dialer back in the middle of its end.
    ended, record = kinds.index("Notify:call.ended"), kinds.index("RecordDial")
    hang_up = out.index(HangUp(dial.dial_id, "agent hung up"))
    assert ended < record < hang_up, kinds
    assert [x.record.outcome.value for x in out if isinstance(x, RecordDial)] == ["connected"]
    assert not [x for x in out if isinstance(x, Fact)]


def test_the_floor_states_each_release_and_the_centre_takes_them() -> None:
    c = centre(agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, wrapup_s=5),))
    login(c, "a1")
    c.handle(CallWaiting("c1", "200", "+491"), 10.0)
    leg = c.calls["c1"].leg_id
    assert leg is not None
    c.handle(AgentLegAnswered(leg), 12.0)
    c.handle(ChannelHungUp("c1"), 40.0)
    assert c.status["a1"].state is AgentState.WRAP_UP and c.floor.released == []
    c.floor.apply("a1", Trigger.WRAPUP_DONE, 45.0)  # as the wrap-up's timer would
    assert c.floor.released == [AgentReleased("a1", 33.0)]  # talk and wrap-up, from the answer
    assert c.tick(46.0) == [] and c.floor.released == []  # handed on with the next step


def _kind(command: Command) -> str:
    if isinstance(command, Notify):
        return f"Notify:{command.topic}"
    return type(command).__name__
