"""How a campaign's calls are recorded: its own policy or its queue's, and only on demand
where the law wants every party's consent (the rule set's recording_needs_consent)."""

from __future__ import annotations

import pytest

from ccgateway.domain.commands import RingAgent, SaveRecording, StartRecording
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.events import AgentLegAnswered, OutboundLive
from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.rules import DE, PRESETS, US, custom_rule_set
from ccgateway.domain.recording import RecordingMode, RecordingPolicy, recording_id
from tests.domain.outbound.helpers import NOON, campaign, contact, dialer_centre, dials, start

ALWAYS = RecordingPolicy(RecordingMode.ALWAYS)


def _answered_ring(
    camp_changes: dict[str, object], queue: Queue | None = None
) -> tuple[object, RingAgent]:
    c = dialer_centre(1, camp=campaign(**camp_changes), queue=queue)
    dial = dials(start(c, [contact(1)]))[0]
    [ring] = [
        x
        for x in c.handle(OutboundLive(dial.dial_id, "human"), NOON + 9)
        if isinstance(x, RingAgent)
    ]
    return c, ring


def test_a_campaign_that_records_rings_its_agent_with_the_file() -> None:
    c, ring = _answered_ring({"recording": ALWAYS})
    assert ring.record_file == f"{recording_id(ring.call_id)}.wav"
    out = c.handle(AgentLegAnswered(ring.leg_id), NOON + 10)  # type: ignore[attr-defined]
    [saved] = [x.recording for x in out if isinstance(x, SaveRecording)]
    assert (saved.call_id, saved.queue_id, saved.agent_id) == (ring.call_id, "out", "a1")
    assert saved.campaign_id == "sales"


def test_without_a_policy_of_its_own_a_campaign_follows_its_queue() -> None:
    queue = Queue("out", "Outbound", "900", {"en": 1}, wrapup_s=0, recording=ALWAYS)
    _, ring = _answered_ring({}, queue)
    assert ring.record_file
    _, ring = _answered_ring({"recording": RecordingPolicy(RecordingMode.NEVER)}, queue)
    assert ring.record_file == ""  # the campaign's own wins


def test_where_every_party_must_agree_the_agent_starts_it_after_asking() -> None:
    strict = custom_rule_set(
        "uk-strict", "UK, recorded with consent", "uk", {"recording_needs_consent": True}
    )
    c = dialer_centre(1)
    c.outbound.put_rule_set(strict)
    c.put_campaign(campaign(recording=ALWAYS, rule_set_id="uk-strict"), NOON - 90)
    dial = dials(start(c, [contact(1)]))[0]
    [ring] = [
        x
        for x in c.handle(OutboundLive(dial.dial_id, "human"), NOON + 9)
        if isinstance(x, RingAgent)
    ]
    assert ring.record_file == ""  # nothing from the bridge on
    c.handle(AgentLegAnswered(ring.leg_id), NOON + 10)
    out = c.recording_action(ring.call_id, "start", NOON + 20)  # the person said yes
    assert [x.file for x in out if isinstance(x, StartRecording)] == [
        f"{recording_id(ring.call_id)}.wav"
    ]


def test_the_rule_sets_that_need_every_party_and_a_custom_one_cannot_drop_it() -> None:
    assert {r.id for r in PRESETS.values() if r.recording_needs_consent} == {US.id, DE.id}
    with pytest.raises(InvalidValue, match="recording_needs_consent must stay on"):
        custom_rule_set("us-loose", "Loose", "us", {"recording_needs_consent": False})


def test_a_campaign_cannot_play_a_notice_before_its_agent() -> None:
    with pytest.raises(InvalidValue, match="2-second rule"):
        campaign(recording=RecordingPolicy(RecordingMode.ALWAYS, notice="recorded"))
