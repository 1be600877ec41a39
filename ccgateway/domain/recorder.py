"""The recorder: which calls are recorded, and each recording's pauses and end.

A call is recorded from the moment an agent answers it, if its queue's policy says so
(always, or a sampled share): the agent's leg is rung with the file to record into, so the
PBX starts at the answer itself. Or when an agent or supervisor starts it (a queue that
never records refuses). A pause mutes the recording on the PBX and is kept on its record with its
times; the call's end ends the recording. The PBX writes the file; the shell learns its
size and checksum once it is closed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ccgateway.domain.calls import Call, CallState
from ccgateway.domain.commands import (
    Command,
    MuteRecording,
    Notify,
    RingAgent,
    SaveRecording,
    StartRecording,
)
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.floor import Floor
from ccgateway.domain.model import Queue
from ccgateway.domain.recording import (
    Consent,
    Recording,
    RecordingMode,
    RecordingPolicy,
    recording_id,
)

ACTIONS = ("start", "pause", "resume")
# A caller who refused, or whose notice never ended as it should: nothing of theirs is taped.
NOT_RECORDED = {
    Consent.REFUSED: "the caller refused to be recorded",
    Consent.UNANSWERED: "the recording notice was not heard to its end",
}


class Recorder:
    def __init__(self, floor: Floor, calls: Mapping[str, Call]) -> None:
        """`calls`: the call desk's live calls (read only)."""
        self.calls = calls
        self.floor = floor
        self.live: dict[str, Recording] = {}  # call id -> its recording
        self.rung: dict[str, str] = {}  # agent leg rung to be recorded -> its call

    def ringing(self, ring: RingAgent) -> RingAgent:
        """An agent's leg about to ring for a call its queue records: the PBX records the
        leg from its answer (so no word is lost to a command arriving late)."""
        call = self.calls.get(ring.call_id)
        queue = self.floor.directory.queues.get(call.queue_id) if call else None
        if call is None or queue is None or call.id in self.live:
            return ring
        policy = self.policy(call, queue)
        if not policy.records(call.id) or not self.floor.can(call.pbx, "record"):
            return ring  # a PBX that cannot record: the README's table says which
        if call.consent in NOT_RECORDED:
            return ring
        self.rung[ring.leg_id] = call.id
        file = f"{recording_id(call.id)}.wav"
        return dataclasses.replace(ring, record_file=file, record_stereo=policy.stereo)

    def connected(self, call: Call, now: float) -> list[Command]:
        """An agent answered: the leg rung to be recorded is being recorded now. A call
        its queue would have recorded but the caller refused is on the record as such."""
        rung = {leg for leg, call_id in self.rung.items() if call_id == call.id}
        for leg in rung:
            del self.rung[leg]
        if call.consent in NOT_RECORDED and call.id not in self.live:
            return self._not_recorded(call, now)
        if call.leg_id not in rung or call.id in self.live:
            return []
        return self._record(call, now)

    def act(self, call: Call, action: str, now: float) -> list[Command]:
        """An agent's or supervisor's start, pause or resume."""
        if action not in ACTIONS:
            raise InvalidValue(f"a recording's action is one of {', '.join(ACTIONS)}")
        if call.state is not CallState.CONNECTED:
            raise Conflict(
                f"call {call.id} is {call.state.value}: only a connected call is recorded"
            )
        recording = self.live.get(call.id)
        if action == "start":
            if recording is not None:
                raise Conflict(f"call {call.id} is being recorded already")
            queue = self.floor.directory.queues.get(call.queue_id)
            stereo = queue is not None and self.policy(call, queue).stereo
            if queue is not None and self.policy(call, queue).mode is RecordingMode.NEVER:
                whose = f"queue {queue.id}" if call.recording is None else "its campaign"
                raise Conflict(f"{whose} never records its calls")
            if call.consent in NOT_RECORDED:
                raise Conflict(f"call {call.id} is not recorded: {NOT_RECORDED[call.consent]}")
            self.floor.require(call.pbx, "record")
            out = self._record(call, now)
            recording = self.live[call.id]
            start = StartRecording(
                recording.id, call.id, recording.channel_id, recording.file, call.pbx, stereo
            )
            return [start, *out]
        if recording is None:
            raise NotFound(f"call {call.id} is not being recorded")
        if (action == "pause") == recording.paused:
            state = "paused" if recording.paused else "running"
            raise Conflict(f"the recording of call {call.id} is {state} already")
        if action == "pause":
            recording.pauses.append((now, None))
        else:
            recording.pauses[-1] = (recording.pauses[-1][0], now)
        muted = action == "pause"
        mute = MuteRecording(recording.id, recording.channel_id, recording.file, muted, call.pbx)
        return [mute, *self._saved(recording)]

    def toggle(self, call: Call, now: float) -> list[Command]:
        """The agent's key on their phone: pause a running recording, resume a paused one.
        A call not being recorded is told on the event stream (the phone cannot show it)."""
        recording = self.live.get(call.id)
        action = "resume" if recording is not None and recording.paused else "pause"
        try:
            return self.act(call, action, now)
        except (Conflict, NotFound) as exc:
            why: dict[str, object] = {
                "call_id": call.id,
                "agent_id": call.agent_id,
                "why": str(exc),
            }
            return [Notify("recording.refused", why)]

    def ended(self, call: Call, now: float) -> list[Command]:
        for leg in [leg for leg, call_id in self.rung.items() if call_id == call.id]:
            del self.rung[leg]
        recording = self.live.pop(call.id, None)
        if recording is None:
            return []
        if recording.paused:
            recording.pauses[-1] = (recording.pauses[-1][0], now)
        recording.ended_at = now
        return self._saved(recording)

    def failed(self, call_id: str, reason: str, now: float) -> list[Command]:
        """The PBX would not record the call: its record says so, and it is not live."""
        recording = self.live.pop(call_id, None)
        if recording is None:
            return []
        recording.ended_at, recording.failure = now, reason or "the PBX refused"
        return self._saved(recording)

    def restore(self, recordings: list[Recording]) -> None:
        """Recordings a restart found unfinished: their calls' ends still end them."""
        for recording in recordings:
            if recording.ended_at is None:
                self.live[recording.call_id] = recording

    def forget(self, call_ids: frozenset[str]) -> frozenset[str]:
        """The live recordings of an erased person's calls let go of; their ids (the
        recordings go on until the calls end, but nothing of them is written)."""
        gone = {self.live.pop(c).id for c in call_ids if c in self.live}
        return frozenset(gone)

    def _record(self, call: Call, now: float) -> list[Command]:
        recording = self._recording_of(call, now)
        self.live[call.id] = recording
        return self._saved(recording)

    def _not_recorded(self, call: Call, now: float) -> list[Command]:
        """The record of a recording that never was, saying why (no file is written)."""
        queue = self.floor.directory.queues.get(call.queue_id)
        if queue is None or not self.policy(call, queue).records(call.id):
            return []
        recording = self._recording_of(call, now)
        recording.ended_at, recording.failure = now, NOT_RECORDED[call.consent]
        return self._saved(recording)

    @staticmethod
    def policy(call: Call, queue: Queue) -> RecordingPolicy:
        """A campaign's call follows its campaign's (recording.for_campaign)."""
        return call.recording or queue.recording

    @staticmethod
    def _recording_of(call: Call, now: float) -> Recording:
        rid = recording_id(call.id)
        return Recording(
            rid, call.id, call.pbx, call.queue_id, call.agent_id, call.caller_number, now,
            f"{rid}.wav", channel_id=call.leg_id or "", consent=call.consent,
            campaign_id=call.campaign_id,
        )  # fmt: skip

    @staticmethod
    def _saved(recording: Recording) -> list[Command]:
        snapshot = dataclasses.replace(recording, pauses=list(recording.pauses))
        notice = Notify(
            "recording.state",
            {
                "recording_id": recording.id,
                "call_id": recording.call_id,
                "agent_id": recording.agent_id,
                "state": state(recording),
            },
        )
        return [SaveRecording(snapshot), notice]


def state(recording: Recording) -> str:
    """recording, paused, ended, or why there is no file: refused (by the caller) or failed."""
    if recording.failure:
        return "refused" if recording.consent is Consent.REFUSED else "failed"
    if recording.ended_at is not None:
        return "ended"
    return "paused" if recording.paused else "recording"
