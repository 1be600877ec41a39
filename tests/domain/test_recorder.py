"""The recorder: which calls a queue records, and a PBX that cannot record."""

from __future__ import annotations

import pytest

from ccgateway.domain.commands import (
    Command,
    MuteRecording,
    Notify,
    Outcome,
    PlayConsent,
    RecordInteraction,
    RingAgent,
    SaveRecording,
    StartRecording,
)
from ccgateway.domain.errors import Conflict, InvalidValue
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallWaiting,
    ChannelHungUp,
    ConsentHeard,
    RecordingToggled,
)
from ccgateway.domain.floor import FEATURES
from ccgateway.domain.model import Queue
from ccgateway.domain.recorder import state
from ccgateway.domain.recording import Consent, RecordingMode, RecordingPolicy, recording_id
from ccgateway.domain.waiting_room import CONSENT_TIMEOUT_S
from tests.domain.builders import agent, centre, login

ALWAYS = RecordingPolicy(RecordingMode.ALWAYS)


def test_a_sampled_share_is_about_that_share_and_the_same_every_time() -> None:
    half = RecordingPolicy(RecordingMode.SAMPLED, 0.5)
    chosen = [half.records(f"call-{n}") for n in range(2000)]
    assert 0.45 <= sum(chosen) / len(chosen) <= 0.55
    assert chosen == [half.records(f"call-{n}") for n in range(2000)]
    assert not RecordingPolicy().records("call-1")  # never, by default


def test_a_recorded_queues_leg_rings_with_its_file_and_the_call_end_ends_it() -> None:
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=ALWAYS),)
    )
    login(c, "a1")
    [ring] = [
        x for x in c.handle(CallWaiting("c1", "200", "+4930111"), 10) if isinstance(x, RingAgent)
    ]
    assert ring.record_file == f"{recording_id('c1')}.wav"
    started = [
        x.recording
        for x in c.handle(AgentLegAnswered(ring.leg_id), 12)
        if isinstance(x, SaveRecording)
    ]
    assert [(r.started_at, r.channel_id, r.ended_at) for r in started] == [(12, ring.leg_id, None)]
    ended = [x.recording for x in c.handle(ChannelHungUp("c1"), 50) if isinstance(x, SaveRecording)]
    assert [(r.id, r.ended_at) for r in ended] == [(recording_id("c1"), 50)]
    assert c.recorder.live == {} and c.recorder.rung == {}


def test_a_pbx_that_cannot_record_rings_without_a_file() -> None:
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=ALWAYS),)
    )
    c.drive_pbx("asterisk", FEATURES - {"record"})
    login(c, "a1")
    [ring] = [
        x for x in c.handle(CallWaiting("c1", "200", "+4930111"), 10) if isinstance(x, RingAgent)
    ]
    assert ring.record_file == ""
    out = c.handle(AgentLegAnswered(ring.leg_id), 12)
    assert not [x for x in out if isinstance(x, SaveRecording)]


NOTICE = RecordingPolicy(RecordingMode.ALWAYS, notice="call-recorded", refuse_key="9")


def _rings(out: list[Command]) -> list[RingAgent]:
    return [x for x in out if isinstance(x, RingAgent)]


def test_the_notice_plays_before_any_agent_is_rung_and_a_heard_one_lets_the_caller_in() -> None:
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=NOTICE),)
    )
    login(c, "a1")
    out = c.handle(CallWaiting("c1", "200", "+4930111"), 10)
    assert [x for x in out if isinstance(x, PlayConsent)] == [
        PlayConsent("c1", "200", "call-recorded", "9")
    ]
    assert _rings(out) == [] and c.engine.waiting("c1") is None  # free agent, not rung
    [ring] = _rings(c.handle(ConsentHeard("c1"), 14))
    assert ring.record_file == f"{recording_id('c1')}.wav"
    [saved] = [
        x.recording
        for x in c.handle(AgentLegAnswered(ring.leg_id), 16)
        if isinstance(x, SaveRecording)
    ]
    assert (saved.consent, saved.failure) == (Consent.HEARD, "")
    assert c.calls["c1"].arrived_at == 10  # the notice's time counts as waiting


def test_a_refusal_rings_the_agent_without_a_file_and_the_record_says_why() -> None:
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=NOTICE),)
    )
    login(c, "a1")
    c.handle(CallWaiting("c1", "200", "+4930111"), 10)
    [ring] = _rings(c.handle(ConsentHeard("c1", refused=True), 14))
    assert ring.record_file == ""
    out = c.handle(AgentLegAnswered(ring.leg_id), 16)
    [saved] = [x.recording for x in out if isinstance(x, SaveRecording)]
    assert (saved.consent, saved.ended_at) == (Consent.REFUSED, 16)
    assert saved.failure == "the caller refused to be recorded" and state(saved) == "refused"
    assert c.recorder.live == {}
    with pytest.raises(Conflict, match="refused"):
        c.recording_action("c1", "start", 20)


def test_a_notice_the_pbx_never_ends_lets_the_caller_in_unrecorded() -> None:
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=NOTICE),)
    )
    login(c, "a1")
    c.handle(CallWaiting("c1", "200", "+4930111"), 10)
    assert _rings(c.tick(10 + CONSENT_TIMEOUT_S - 1)) == []
    [ring] = _rings(c.tick(10 + CONSENT_TIMEOUT_S))
    assert ring.record_file == "" and c.calls["c1"].consent is Consent.UNANSWERED
    assert c.handle(ConsentHeard("c1"), 75) == []  # too late: changes nothing


def test_no_notice_where_nothing_is_recorded_and_no_second_one_after_a_move() -> None:
    never = RecordingPolicy(RecordingMode.NEVER, notice="call-recorded")
    c = centre(
        agent("a1", {"de": 5}),
        queues=(
            Queue("q", "Q", "200", {"de": 1}, recording=never),
            Queue("r", "R", "201", {"de": 1}, recording=NOTICE),
        ),
    )
    c.drive_pbx("asterisk", FEATURES - {"record"})
    login(c, "a1")
    assert [
        x for x in c.handle(CallWaiting("c1", "200", "+49301"), 10) if isinstance(x, PlayConsent)
    ] == []
    assert [
        x for x in c.handle(CallWaiting("c2", "201", "+49302"), 10) if isinstance(x, PlayConsent)
    ] == []
    c.calls["c1"].consent = Consent.HEARD  # heard in an earlier queue
    assert c.room.notice(c.calls["c1"], c.directory.queues["r"], 11) is None


def test_a_refusal_key_needs_a_notice_and_is_one_key() -> None:
    with pytest.raises(InvalidValue, match="needs a notice"):
        RecordingPolicy(RecordingMode.ALWAYS, refuse_key="9")
    with pytest.raises(InvalidValue, match="0-9 and"):
        RecordingPolicy(RecordingMode.ALWAYS, notice="n", refuse_key="#")
    with pytest.raises(InvalidValue, match="sound"):
        RecordingPolicy(RecordingMode.ALWAYS, notice="../etc/passwd")


def test_the_phone_key_pauses_then_resumes_and_is_refused_without_a_recording() -> None:
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=ALWAYS),)
    )
    login(c, "a1")
    [ring] = _rings(c.handle(CallWaiting("c1", "200", "+4930111"), 10))
    c.handle(AgentLegAnswered(ring.leg_id), 12)
    paused = c.handle(RecordingToggled(ring.leg_id), 20)
    assert [x.muted for x in paused if isinstance(x, MuteRecording)] == [True]
    resumed = c.handle(RecordingToggled(ring.leg_id), 23)
    assert [x.muted for x in resumed if isinstance(x, MuteRecording)] == [False]
    assert c.recorder.live["c1"].pauses == [(20, 23)]

    c = centre(agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}),))
    login(c, "a1")
    [ring] = _rings(c.handle(CallWaiting("c2", "200", "+4930112"), 10))
    c.handle(AgentLegAnswered(ring.leg_id), 12)
    [told] = [x for x in c.handle(RecordingToggled(ring.leg_id), 20) if isinstance(x, Notify)]
    assert told.topic == "recording.refused" and "not being recorded" in str(told.data["why"])


def test_a_stereo_policy_rings_the_leg_for_stereo_and_starts_on_demand_in_stereo() -> None:
    stereo = RecordingPolicy(RecordingMode.ALWAYS, stereo=True)
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=stereo),)
    )
    login(c, "a1")
    [ring] = _rings(c.handle(CallWaiting("c1", "200", "+4930111"), 10))
    assert (ring.record_file, ring.record_stereo) == (f"{recording_id('c1')}.wav", True)
    demand = RecordingPolicy(RecordingMode.ON_DEMAND, stereo=True)
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=demand),)
    )
    login(c, "a1")
    [ring] = _rings(c.handle(CallWaiting("c2", "200", "+4930112"), 10))
    c.handle(AgentLegAnswered(ring.leg_id), 12)
    [start] = [x for x in c.recording_action("c2", "start", 15) if isinstance(x, StartRecording)]
    assert start.stereo


def test_a_caller_who_hangs_up_during_the_notice_is_recorded_as_abandoned() -> None:
    c = centre(
        agent("a1", {"de": 5}), queues=(Queue("q", "Q", "200", {"de": 1}, recording=NOTICE),)
    )
    login(c, "a1")
    c.handle(CallWaiting("c1", "200", "+4930111"), 10)
    out = c.handle(ChannelHungUp("c1"), 12)
    [record] = [x.interaction for x in out if isinstance(x, RecordInteraction)]
    assert (record.outcome, record.wait_s) == (Outcome.ABANDONED, 2)
    assert c.calls == {} and c.engine.waiting("c1") is None
    assert _rings(c.tick(10 + CONSENT_TIMEOUT_S)) == []  # its timer gone with it
