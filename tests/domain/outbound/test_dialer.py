"""The live dialer on the centre: dials go out for free agents, people who answer reach
agents, the rest is retried, abandoned and refused dials are recorded, agents dispose."""

from __future__ import annotations

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import DialCallback, HangUp, Notify, RecordInteraction, RingAgent
from ccgateway.domain.errors import Conflict, InvalidValue
from ccgateway.domain.events import (
    AgentLegAnswered,
    AgentLegFailed,
    CallbackAnswered,
    CallWaiting,
    ChannelHungUp,
    LegFailure,
    MachineDetected,
    OutboundAbandoned,
    OutboundAnswered,
    OutboundFailed,
    OutboundLive,
)
from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.campaigns import Amd, Blend, DialMode, DialOutcome, MachineAction
from ccgateway.domain.outbound.commands import LoadContacts, SuppressNumber
from ccgateway.domain.outbound.contacts import ContactState
from tests.domain.outbound.helpers import (
    NOON,
    campaign,
    contact,
    dialer_centre,
    dials,
    entries,
    progress,
    records,
    refusals,
    start,
    warm_ledger,
)


def test_a_running_predictive_campaign_asks_for_contacts_and_dials_for_its_free_agents() -> None:
    c = dialer_centre(2)
    out = start(c, [contact(i) for i in range(10)])
    placed = dials(out)
    assert len(placed) >= 2  # never fewer than progressive: one per free agent
    first = placed[0]
    assert first.dial_id.startswith("ob-") and not first.dial_id.startswith("ccgw-")
    assert first.caller_id == "+442071234567" and first.ring_s == 20.0
    assert first.grace_s == 2.0 and first.grace_counts_amd  # UK: AMD's time counts
    saved = {p.contact_id: p for p in progress(out)}
    assert saved["c0"].state is ContactState.DIALING and saved["c0"].attempts == 1


def test_a_person_who_answers_reaches_a_free_agent_who_answers_at_once() -> None:
    c = dialer_centre(1)
    dial = dials(start(c, [contact(1)]))[0]
    c.handle(OutboundAnswered(dial.dial_id), NOON + 8)
    out = c.handle(OutboundLive(dial.dial_id, "human"), NOON + 9)
    [ring] = [x for x in out if isinstance(x, RingAgent)]
    assert ring.call_id == dial.dial_id and ring.agent_id == "a1" and ring.auto_answer
    out = c.handle(AgentLegAnswered(ring.leg_id), NOON + 9.2)
    assert c.status["a1"].state is AgentState.ON_CALL
    pops = [x for x in out if isinstance(x, Notify) and x.topic == "dial.state"]
    assert pops and pops[-1].data["contact"]["number"] == "+447946000001"  # type: ignore[index]
    out = c.handle(ChannelHungUp(dial.dial_id), NOON + 70)
    [record] = records(out)
    assert record.outcome is DialOutcome.CONNECTED and record.agent_id == "a1"
    assert record.wait_s == pytest.approx(0.2) and record.talk_s == pytest.approx(60.8)
    interactions = [x.interaction for x in out if isinstance(x, RecordInteraction)]
    assert interactions[0].kind == "outbound" and interactions[0].agent_id == "a1"
    [done] = [p for p in progress(out) if p.contact_id == "c1"]
    assert done.state is ContactState.DONE and done.last_outcome == "connected"


def test_the_pacer_learns_how_long_the_agent_was_busy_once_they_are_free_again() -> None:
    c = dialer_centre(1)
    dial = dials(start(c, [contact(1)]))[0]
    out = c.handle(OutboundLive(dial.dial_id, "human"), NOON + 9)
    [ring] = [x for x in out if isinstance(x, RingAgent)]
    c.handle(AgentLegAnswered(ring.leg_id), NOON + 10)
    pacer = c.outbound.runs["sales"].pacer
    assert pacer.busy_seen == 0
    c.handle(ChannelHungUp(dial.dial_id), NOON + 70)
    assert c.status["a1"].state is AgentState.WRAP_UP and pacer.busy_seen == 0
    c.dispose(dial.dial_id, "a1", "sale", {}, "", None, None, NOON + 80)  # free again
    assert c.status["a1"].state is AgentState.AVAILABLE
    assert pacer.busy_seen == 1


def test_a_day_starts_progressive_until_one_abandon_would_stay_within_the_limit() -> None:
    c = dialer_centre(2)
    out = start(c, [contact(i) for i in range(10)])
    assert len(dials(out)) == 2  # one per free agent, each kept for its call
    assert all(c.status[a].state is AgentState.RESERVED for a in ("a1", "a2"))
    assert c.outbound.runs["sales"].ledger.stopped(NOON)


def test_with_nobody_free_in_the_grace_the_call_is_abandoned_counted_and_locked_out() -> None:
    c = dialer_centre(2)
    warm_ledger(c, lives=40)
    first, second = dials(start(c, [contact(i) for i in range(1, 5)]))[:2]
    c.set_agent_state("a2", AgentState.PAUSED, None, NOON + 1)  # a break: one agent left
    c.handle(OutboundLive(first.dial_id, "human"), NOON + 9)
    c.handle(OutboundLive(second.dial_id, "human"), NOON + 9.5)  # a1 took the first
    out = c.handle(OutboundAbandoned(second.dial_id), NOON + 11.5)
    run = c.outbound.runs["sales"]
    assert run.ledger.tally(NOON + 12).abandoned == 1
    assert run.ledger.stopped(NOON + 12)  # a second abandon would take 42 calls over 3 %
    out = c.handle(ChannelHungUp(second.dial_id), NOON + 17)
    [record] = records(out)
    assert record.outcome is DialOutcome.ABANDONED and record.at_risk
    [retry] = [p for p in progress(out) if p.state is ContactState.SCHEDULED]
    assert retry.next_at == pytest.approx(NOON + 17 + 72 * 3600)
    assert c.outbound.log.last_abandon(record.number) == NOON + 11.5


def test_at_the_ledger_limit_predictive_drops_to_progressive_with_agents_kept() -> None:
    c = dialer_centre(3)
    warm_ledger(c, lives=40)
    placed = dials(start(c, [contact(i) for i in range(1, 30)]))
    first, second, third = placed[:3]
    c.set_agent_state("a3", AgentState.PAUSED, None, NOON + 1)
    c.handle(OutboundLive(first.dial_id, "human"), NOON + 5)
    c.handle(OutboundLive(second.dial_id, "human"), NOON + 5)
    c.handle(OutboundLive(third.dial_id, "human"), NOON + 5.5)
    c.handle(OutboundAbandoned(third.dial_id), NOON + 7.5)
    for d in placed[3:]:
        c.handle(OutboundFailed(d.dial_id, LegFailure.NO_ANSWER), NOON + 8)
    assert c.outbound.runs["sales"].ledger.stopped(NOON + 8)
    # Both agents are busy: nothing is dialled; when one frees, exactly one call goes out,
    # with that agent kept (reserved) for it.
    calls = [cid for cid, call in c.calls.items() if call.agent_id]
    for call_id in calls:
        c.handle(AgentLegAnswered(c.calls[call_id].leg_id or ""), NOON + 6)
    out = c.handle(ChannelHungUp(calls[0]), NOON + 60)
    out += c.tick(NOON + 60)
    placed = dials(out)
    assert len(placed) == 1
    freed = next(a for a in ("a1", "a2") if c.status[a].state is AgentState.RESERVED)
    assert c.status[freed].call_id == placed[0].dial_id
    out = c.handle(OutboundLive(placed[0].dial_id, "human"), NOON + 70)
    [ring] = [x for x in out if isinstance(x, RingAgent)]
    assert ring.agent_id == freed


def test_busy_and_no_answer_are_retried_by_the_campaigns_schedule_then_given_up() -> None:
    c = dialer_centre(1, camp=campaign(mode=DialMode.PROGRESSIVE))
    dial = dials(start(c, [contact(1)]))[0]
    assert c.status["a1"].state is AgentState.RESERVED  # progressive keeps the agent
    out = c.handle(OutboundFailed(dial.dial_id, LegFailure.BUSY, "486"), NOON + 4)
    assert c.status["a1"].state is AgentState.AVAILABLE
    [record] = records(out)
    assert record.outcome is DialOutcome.BUSY and not record.at_risk
    [retry] = [p for p in progress(out) if p.contact_id == "c1"]
    assert retry.state is ContactState.SCHEDULED and retry.next_at == NOON + 4 + 600
    assert retry.outcomes == {"busy": 1}


def test_a_machine_is_hung_up_on_or_hears_the_message_and_feeds_the_uk_estimate() -> None:
    amd = Amd(True, MachineAction.MESSAGE, "ccgw-machine-message", false_positive_share=0.05)
    c = dialer_centre(1, camp=campaign(amd=amd))
    dial = dials(start(c, [contact(1)]))[0]
    assert dial.amd and dial.machine_message == "ccgw-machine-message"
    c.handle(OutboundAnswered(dial.dial_id), NOON + 8)
    c.handle(MachineDetected(dial.dial_id), NOON + 11)
    out = c.handle(ChannelHungUp(dial.dial_id), NOON + 30)
    [record] = records(out)
    assert record.outcome is DialOutcome.MACHINE and record.amd == "machine"
    view = c.outbound.runs["sales"].ledger.view(NOON + 31)
    assert view.machines == 1 and view.amd_estimate == pytest.approx(0.05)


def test_every_refusal_is_recorded_with_its_rule_and_the_contact_moved_on() -> None:
    c = dialer_centre(1)
    night = contact(1, time_zones=("Pacific/Auckland",))  # 01:00 in Auckland
    listed = contact(2)
    out = c.campaign_action("sales", "start", NOON)
    load = next(x for x in out if isinstance(x, LoadContacts))
    listed_entry = entries([listed])[0].__class__(listed, entries([listed])[0].progress, "tps")
    out = c.contacts_loaded(
        "sales", [entries([night])[0], listed_entry], load.count, {"tps": NOON - 3600}, NOON
    )
    found = {r.contact_id: r for r in refusals(out)}
    assert found["c1"].rule == "calling_hours" and found["c1"].retry_at is not None
    assert found["c2"].rule == "suppressed" and found["c2"].retry_at is None
    states = {p.contact_id: p.state for p in progress(out)}
    assert states == {"c1": ContactState.SCHEDULED, "c2": ContactState.SUPPRESSED}
    assert not dials(out)


def test_a_stale_register_stops_every_dial_of_the_rule_set() -> None:
    c = dialer_centre(1)
    out = c.campaign_action("sales", "start", NOON)
    load = next(x for x in out if isinstance(x, LoadContacts))
    stale = NOON - 29 * 86400  # TPS screening older than 28 days
    out = c.contacts_loaded("sales", entries([contact(1)]), load.count, {"tps": stale}, NOON)
    assert [r.rule for r in refusals(out)] == ["register_stale"]


def test_preview_shows_the_contact_then_dials_agent_first_on_accept() -> None:
    c = dialer_centre(1, camp=campaign(mode=DialMode.PREVIEW))
    out = start(c, [contact(1), contact(2)])
    [preview] = [x for x in out if isinstance(x, Notify) and x.topic == "dial.preview"]
    dial_id = str(preview.data["dial_id"])
    assert c.status["a1"].state is AgentState.RESERVED and not dials(out)
    out = c.preview_answer("a1", dial_id, True, NOON + 5)
    [leg] = [x for x in out if isinstance(x, DialCallback)]
    assert leg.callback_id == dial_id and leg.number == "+447946000001"
    c.handle(AgentLegAnswered(leg.leg_id), NOON + 7)
    c.handle(CallbackAnswered(leg.leg_id), NOON + 15)
    out = c.handle(ChannelHungUp(leg.leg_id), NOON + 75)
    [record] = records(out)
    assert record.outcome is DialOutcome.CONNECTED and record.mode is DialMode.PREVIEW
    assert record.talk_s == pytest.approx(60)
    assert [x for x in out if isinstance(x, RecordInteraction)]


def test_a_skipped_preview_comes_back_later_and_the_next_one_is_shown() -> None:
    c = dialer_centre(1, camp=campaign(mode=DialMode.PREVIEW))
    out = start(c, [contact(1), contact(2)])
    first = next(x for x in out if isinstance(x, Notify) and x.topic == "dial.preview")
    out = c.preview_answer("a1", str(first.data["dial_id"]), False, NOON + 3)
    [skipped] = [p for p in progress(out) if p.contact_id == "c1"]
    assert skipped.state is ContactState.SCHEDULED and skipped.next_at == NOON + 3 + 3600
    nxt = [x for x in out if isinstance(x, Notify) and x.topic == "dial.preview"]
    assert nxt and nxt[0].data["contact"]["id"] == "c2"  # type: ignore[index]


def test_a_preview_the_rules_refuse_when_dialled_tells_the_agent_which_rule() -> None:
    c = dialer_centre(1, camp=campaign(mode=DialMode.PREVIEW))
    out = start(c, [contact(1), contact(2)])
    [preview] = [x for x in out if isinstance(x, Notify) and x.topic == "dial.preview"]
    c.outbound.suppress("+447946000001", "objected on another call")  # while on screen
    out = c.preview_answer("a1", str(preview.data["dial_id"]), True, NOON + 5)
    assert not [x for x in out if isinstance(x, DialCallback)]
    told = [x.data for x in out if isinstance(x, Notify) and x.data.get("event") == "refused"]
    assert len(told) == 1 and told[0]["agent_id"] == "a1"
    assert told[0]["rule"] and told[0]["detail"]


def test_a_preview_nobody_answers_makes_the_agent_not_ready() -> None:
    c = dialer_centre(1, camp=campaign(mode=DialMode.PREVIEW, preview_timeout_s=30))
    start(c, [contact(1)])
    c.tick(NOON + 31)
    assert c.status["a1"].state is AgentState.PAUSED


def test_an_agent_leg_that_fails_puts_the_contact_back_without_an_attempt() -> None:
    c = dialer_centre(1, camp=campaign(mode=DialMode.PREVIEW))
    out = start(c, [contact(1)])
    dial_id = str(
        next(x for x in out if isinstance(x, Notify) and x.topic == "dial.preview").data["dial_id"]
    )
    leg = next(
        x for x in c.preview_answer("a1", dial_id, True, NOON + 2) if isinstance(x, DialCallback)
    )
    out = c.handle(AgentLegFailed(leg.leg_id, LegFailure.NO_ANSWER), NOON + 22)
    assert c.status["a1"].state is AgentState.PAUSED
    assert not records(out)
    assert [e.contact.id for e in c.outbound.runs["sales"].hopper] == ["c1"]


def connected_dial(c_agents: int = 1, **camp: object) -> tuple[Center, str]:
    c = dialer_centre(c_agents, camp=campaign(**camp))
    dial = dials(start(c, [contact(1), contact(2)]))[0]
    ring = next(
        x
        for x in c.handle(OutboundLive(dial.dial_id, "human"), NOON + 9)
        if isinstance(x, RingAgent)
    )
    c.handle(AgentLegAnswered(ring.leg_id), NOON + 9.1)
    c.handle(ChannelHungUp(dial.dial_id), NOON + 60)
    return c, dial.dial_id


def test_a_disposition_callback_owned_by_the_agent_is_dialled_agent_first_to_them() -> None:
    c, dial_id = connected_dial()
    record, out = c.dispose(dial_id, "a1", "callback", {}, "after 3", NOON + 3600, "a1", NOON + 61)
    [moved] = [p for p in progress(out) if p.contact_id == "c1"]
    assert moved.state is ContactState.SCHEDULED and moved.callback_agent_id == "a1"
    assert record.callback_at == NOON + 3600
    with pytest.raises(Conflict):
        c.dispose(dial_id, "a1", "sale", {}, "", None, None, NOON + 62)
    # At the time, the store hands the contact back, kept for a1: it rings a1 first.
    c.campaign_action("sales", "pause", NOON + 100)  # nothing else in the way
    c.tick(NOON + 3599)  # the PBX never said how c2's dial went: given up on
    c.campaign_action("sales", "start", NOON + 3600)
    back = entries([contact(1)])[0].__class__(contact(1), moved)
    out = c.contacts_loaded("sales", [back], 10, {"tps": NOON}, NOON + 3600)
    [leg] = [x for x in out if isinstance(x, DialCallback)]
    assert leg.agent_id == "a1" and leg.number == "+447946000001"


def test_do_not_call_suppresses_the_number_everywhere_at_once() -> None:
    c, dial_id = connected_dial()
    _, out = c.dispose(dial_id, "a1", "do_not_call", {}, "", None, None, NOON + 61)
    [suppress] = [x for x in out if isinstance(x, SuppressNumber)]
    assert suppress.number == "+447946000001"
    assert c.outbound.suppressed["+447946000001"].startswith("objection")


def test_a_disposition_is_checked_against_the_campaign_and_its_script() -> None:
    c, dial_id = connected_dial()
    with pytest.raises(InvalidValue, match="no disposition"):
        c.dispose(dial_id, "a1", "maybe", {}, "", None, None, NOON + 61)
    with pytest.raises(InvalidValue, match="callback_at"):
        c.dispose(dial_id, "a1", "callback", {}, "", None, None, NOON + 61)
    with pytest.raises(Conflict, match="taken by a1"):
        c.dispose(dial_id, "a2", "sale", {}, "", None, None, NOON + 61)


def test_blended_campaigns_place_no_call_while_an_inbound_caller_waits() -> None:
    inbound = Queue("in", "Inbound", "200", {"en": 1}, wrapup_s=0)
    c = dialer_centre(1, camp=None)
    c.put_queue(inbound, NOON - 90)
    c.put_campaign(campaign(blend=Blend(("in",), min_reserve=0)), NOON - 80)
    c.set_agent_state("a1", AgentState.PAUSED, None, NOON - 1)
    c.handle(CallWaiting("in-1", "200"), NOON - 0.5)  # waits: nobody free
    c.set_agent_state("a1", AgentState.AVAILABLE, None, NOON)  # takes the inbound caller
    out = start(c, [contact(1)], NOON + 1)
    assert not dials(out)
    assert c.outbound.runs["sales"].why_idle == "" or not dials(out)


def test_a_campaign_must_meet_its_rule_set() -> None:
    c = dialer_centre(1)
    with pytest.raises(InvalidValue, match="ring at least 15"):
        c.put_campaign(campaign(ring_s=10.0), NOON)
    with pytest.raises(InvalidValue, match="above the law"):
        c.put_campaign(campaign(abandon_target=0.05), NOON)
    de = campaign(rule_set_id="de", ring_s=45.0)
    with pytest.raises(InvalidValue, match="ring at most 40"):
        c.put_campaign(de, NOON)


def test_the_pbx_silent_past_the_grace_ends_the_live_call_as_abandoned() -> None:
    c = dialer_centre(2)
    warm_ledger(c)
    first, second = dials(start(c, [contact(i) for i in range(1, 4)]))[:2]
    c.set_agent_state("a2", AgentState.PAUSED, None, NOON + 1)
    c.handle(OutboundLive(first.dial_id, "human"), NOON + 9)
    c.handle(OutboundLive(second.dial_id, "human"), NOON + 9)
    out = c.tick(NOON + 9 + 2 + 5 + 0.1)
    assert [x for x in out if isinstance(x, HangUp) and x.channel_id == second.dial_id]
    assert [r.outcome for r in records(out) if r.id == second.dial_id] == [DialOutcome.ABANDONED]


def test_two_predictive_campaigns_on_the_same_agents_do_not_both_dial_for_them() -> None:
    alone = dialer_centre(5)
    warm_ledger(alone)
    dials_alone = dials(start(alone, [contact(i) for i in range(40)]))
    placed_alone = len(dials_alone)
    assert placed_alone > 5  # predictive: more calls than free agents

    c = dialer_centre(5)
    c.put_campaign(campaign(id="survey", name="Survey"), NOON - 100)
    warm_ledger(c)
    warm_ledger(c, campaign_id="survey")
    first = dials(start(c, [contact(i) for i in range(40)]))
    assert len(first) == placed_alone
    second = dials(start(c, [contact(i) for i in range(50, 90)], campaign_id="survey"))
    # The first campaign's calls already cover the five free agents, as the pacer wants:
    # the second one dials nothing more for them.
    assert second == []

    # When a call fails, the two together dial what the one campaign alone dials.
    def after_a_failure(centre: Center, dial_id: str) -> int:
        out = centre.handle(OutboundFailed(dial_id, LegFailure.NO_ANSWER), NOON + 20)
        return len(dials(out + centre.tick(NOON + 20)))

    by_one = after_a_failure(alone, dials_alone[0].dial_id)
    assert by_one >= 1
    assert after_a_failure(c, first[0].dial_id) == by_one
