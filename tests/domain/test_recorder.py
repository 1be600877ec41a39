"""The recorder: which calls a queue records, and a PBX that cannot record."""

from __future__ import annotations

from ccgateway.domain.commands import RingAgent, SaveRecording
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp
from ccgateway.domain.floor import FEATURES
from ccgateway.domain.model import Queue
from ccgateway.domain.recording import RecordingMode, RecordingPolicy, recording_id
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
