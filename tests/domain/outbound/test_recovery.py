"""After a reconnect or a restart the PBX is the truth for the dialer's calls too: calls it
still has are adopted where they stand, nothing is dialled twice, the others are settled."""

from __future__ import annotations

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command, DialCallback, HangUp, RingAgent
from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    OutboundChannel,
    OutboundLive,
    PbxConnectionLost,
    PbxResynced,
)
from ccgateway.domain.outbound.campaigns import DialMode, DialOutcome
from ccgateway.domain.outbound.contacts import ContactState, Progress
from ccgateway.domain.outbound.runs import Entry, leg_for
from tests.domain.outbound.helpers import (
    NOON,
    campaign,
    contact,
    dialer_centre,
    dials,
    progress,
    records,
    start,
)


def test_a_reconnect_keeps_the_calls_the_pbx_still_has_and_settles_the_others() -> None:
    c = dialer_centre(3)
    first, second, third = dials(start(c, [contact(i) for i in range(1, 5)]))[:3]
    ring = next(
        x
        for x in c.handle(OutboundLive(first.dial_id, "human"), NOON + 5)
        if isinstance(x, RingAgent)
    )
    c.handle(AgentLegAnswered(ring.leg_id), NOON + 5.1)
    c.handle(PbxConnectionLost("test"), NOON + 10)
    snapshot = PbxResynced(
        agent_legs=(AgentChannel(ring.leg_id, "PJSIP/a1", first.dial_id, True, 15.0, True),),
        outbound=(
            OutboundChannel(first.dial_id, "sales", "agent", 20.0),
            OutboundChannel(second.dial_id, "", "ringing", 20.0),
        ),
    )
    out = c.handle(snapshot, NOON + 20)
    assert not [x for x in out if isinstance(x, HangUp) and x.channel_id == ring.leg_id]
    assert c.calls[first.dial_id].agent_id is not None  # still talking
    assert second.dial_id in c.outbound.dials  # still ringing: not dialled again
    [lost] = [r for r in records(out) if r.id == third.dial_id]
    assert lost.outcome is DialOutcome.LOST
    [retry] = [p for p in progress(out) if p.contact_id == "c3"]
    assert retry.state is ContactState.SCHEDULED and retry.dial_id is None


def restarted(stage: str, *, with_leg: bool = False) -> tuple[Center, str, list[Command]]:
    """A fresh centre after a restart: the contact was saved as being dialled."""
    c = dialer_centre(1)
    c.campaign_action("sales", "start", NOON)
    dial_id = "ob-before"
    person = contact(1)
    saved = Progress("c1", "sales", ContactState.DIALING, 1, dial_id=dial_id, updated_at=NOON - 30)
    c.outbound.restore([Entry(person, saved)], NOON)
    legs: tuple[AgentChannel, ...] = ()
    if with_leg:
        legs = (AgentChannel("ccgw-x", "PJSIP/a1", dial_id, True, 12.0, True),)
    snapshot = PbxResynced(
        agent_legs=legs, outbound=(OutboundChannel(dial_id, "sales", stage, 25.0),)
    )
    return c, dial_id, c.handle(snapshot, NOON + 1)


def test_after_a_restart_a_conversation_in_the_pbx_is_adopted_with_its_agent() -> None:
    c, dial_id, out = restarted("agent", with_leg=True)
    assert not [x for x in out if isinstance(x, HangUp)]
    assert c.calls[dial_id].agent_id == "a1"
    assert c.status["a1"].state is AgentState.ON_CALL
    assert not dials(out)  # the agent is busy: nothing else is dialled for them


def test_after_a_restart_a_person_waiting_for_an_agent_gets_one() -> None:
    _, dial_id, out = restarted("live")
    [ring] = [x for x in out if isinstance(x, RingAgent)]
    assert ring.call_id == dial_id and ring.auto_answer


def test_after_a_restart_a_dial_the_pbx_no_longer_has_is_lost_and_retried() -> None:
    c = dialer_centre(1)
    c.campaign_action("sales", "start", NOON)
    saved = Progress("c1", "sales", ContactState.DIALING, 1, dial_id="ob-gone", updated_at=NOON)
    c.outbound.restore([Entry(contact(1), saved)], NOON)
    out = c.handle(PbxResynced(), NOON + 1)
    [record] = records(out)
    assert record.outcome is DialOutcome.LOST and record.id == "ob-gone"


def test_an_agent_first_dial_is_found_again_by_its_leg() -> None:
    c = dialer_centre(1, camp=campaign(mode=DialMode.PREVIEW))
    c.campaign_action("sales", "start", NOON)
    saved = Progress("c1", "sales", ContactState.DIALING, 1, dial_id="ob-pv1", updated_at=NOON)
    c.outbound.restore([Entry(contact(1), saved)], NOON)
    leg = leg_for("ob-pv1")
    snapshot = PbxResynced(
        agent_legs=(AgentChannel(leg, "PJSIP/a1", "", True, 30.0, True, "callback"),)
    )
    out = c.handle(snapshot, NOON + 1)
    assert not [x for x in out if isinstance(x, HangUp | DialCallback)]
    assert c.status["a1"].state is AgentState.ON_CALL
    assert c.outbound.dials["ob-pv1"].stage.value == "connected"
