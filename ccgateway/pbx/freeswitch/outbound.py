"""Outbound campaigns and agent-first callbacks on FreeSWITCH. Pure: no I/O.

The words of `DialCustomer` and `DialCallback`, the events of dialplans/freeswitch's
ccgw-outbound and ccgw-callback contexts as domain events, and the campaign dials a resync
finds (`show channels as json`). The same promise as Asterisk's ccgw-outbound
(dialplans/asterisk/ccgateway.conf, "Outbound campaigns"), event for event:

- the customer answered: CUSTOM ccgw::outbound with ccgw_step answered -> OutboundAnswered;
- a person (AMD's HUMAN, or AMD off): ccgw_step live, ccgw_amd_status -> OutboundLive;
- a machine (LONGGREETING, INITIALSILENCE): ccgw_step machine, ccgw_amd_cause ->
  MachineDetected;
- no agent leg within the grace: ccgw_step abandoned -> OutboundAbandoned;
- never answered (busy, no answer, invalid, congestion): CHANNEL_HANGUP with no answer
  time, then BACKGROUND_JOB -ERR <cause> -> OutboundFailed (each; the dialer takes the first);
- the answered customer's channel ended: CHANNEL_HANGUP (variable_ccgw_phase) ->
  ChannelHungUp (translate.py);
- a callback's customer answered: their CHANNEL_ANSWER with variable_ccgw_callback_leg ->
  CallbackAnswered; not reached: CUSTOM ccgw::callback on the agent's leg -> CallbackFailed.

The claim: the agent leg rung for a live customer runs, on its own answer, in
ccgw-outbound-agent (FreeSWITCH, not the controller): `hash insert_ifempty/ccgw_claim/<dial>/
<leg>`, and the leg holding the claim takes the customer with `intercept`; the customer's
dialplan reads the same claim at the grace's end.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ccgateway.domain.commands import DialCallback, RingAgent
from ccgateway.domain.events import (
    AgentChannel,
    CallbackAnswered,
    CallbackFailed,
    LegFailure,
    MachineDetected,
    OutboundAbandoned,
    OutboundAnswered,
    OutboundChannel,
    OutboundFailed,
    OutboundLive,
    PbxEvent,
    PbxResynced,
    failure_for_cause,
)
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.pbx.freeswitch import commands, esl
from ccgateway.pbx.freeswitch.sounds import UnknownSound
from ccgateway.pbx.freeswitch.translate import CAUSES, FAILURES, LEG_PREFIX, ORIGINATION_UUID
from ccgateway.ports import InvalidWireValue

Words = tuple[str, ...]
DIAL_PREFIX = "ob-"  # a campaign dial's customer channel (domain/outbound/runs.py)
OUTBOUND_CONTEXT = "ccgw-outbound"
CALLBACK_CONTEXT = "ccgw-callback"
AGENT_CONTEXT = "ccgw-outbound-agent"
OUTBOUND_EVENT, CALLBACK_EVENT = "ccgw::outbound", "ccgw::callback"
CUSTOM = (OUTBOUND_EVENT, CALLBACK_EVENT)
CLAIM_REALM = "ccgw_claim"  # the hash realm of the claims (dialplans: ccgw-outbound-agent)
# Never silence: the message a person hears when no agent came, if the campaign's own has
# no FreeSWITCH meaning (as Asterisk's im-sorry&all-circuits-busy-now&vm-goodbye).
DEFAULT_ABANDON = "im-sorry&all-circuits-busy-now&vm-goodbye"
CAMPAIGN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{1,63}")
NUMBER = re.compile(r"\+?[0-9]{3,20}")
DEVICE = re.compile(r"(user|sofia/[A-Za-z0-9_.-]+)/[A-Za-z0-9_.@:+-]{1,80}")
# Where the customer is, by the extension of ccgw-outbound they run (`<step>~<campaign>`).
STAGES = {
    "": "answered",  # the campaign's own extension: just answered
    "amd": "answered",
    "heard": "answered",
    "verdict": "answered",
    "live": "live",
    "late": "live",
    "abandon": "message",
    "machine": "message",
}
# sofia adds Call-Info: <sip:...>;answer-after=0 to the INVITE (mod_sofia.c), the header
# desk phones (and the Asterisk adapter's PJSIP_HEADER) use for auto-answer
AUTO_ANSWER = {"sip_auto_answer": "true"}


@dataclass(frozen=True)
class AmdFigures:
    """Asterisk's amd.conf defaults, in the units of FreeSWITCH's detect_audio and
    detect_silence (20 ms frames of 8 kHz audio; energy = mean absolute sample)."""

    threshold: int = 256  # silence_threshold
    word_frames: int = 5  # min_word_length 100 ms
    initial_ms: int = 2500  # initial_silence
    silence_frames: int = 40  # after_greeting_silence 800 ms
    greeting_ms: int = 2300  # greeting 1500 ms + after_greeting_silence 800 ms

    def variables(self) -> dict[str, str]:
        return {
            "ccgw_amd_threshold": str(self.threshold),
            "ccgw_amd_word": str(self.word_frames),
            "ccgw_amd_initial_ms": str(self.initial_ms),
            "ccgw_amd_silence": str(self.silence_frames),
            "ccgw_amd_greeting_ms": str(self.greeting_ms),
        }


def ring_timeout(ring_s: float) -> int:
    """originate_timeout for at least `ring_s` of ringing. FreeSWITCH counts it in whole
    seconds of its clock (switch_ivr_originate.c compares epoch seconds), so it may end the
    ring up to a second early: seen 14.86 s of ringing for 15 (the UK's minimum). One second
    more keeps the promise; the dialer's own timer waits far longer (launch.DIAL_GRACE_S)."""
    return max(1, math.ceil(ring_s)) + 1


def dial_string(template: str, number: str) -> str:
    """The trunk's dial string for an outside number (template checked by the adapter)."""
    if not NUMBER.fullmatch(number):
        raise InvalidWireValue(f"number {number!r}")
    return template.format(number=number)


def caller_name(name: str) -> str:
    """A display name as one originate word: plain characters, spaces as `\\s` (FreeSWITCH's
    escaped space, read back as a space after the string is split; commands._spaced)."""
    plain = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip()[:40] or "Unknown"
    return plain.replace(" ", "\\s")


def sounds(command: DialCustomer, path: Callable[[str], str]) -> tuple[str, str | None, list[str]]:
    """The abandon message and the machine message as FreeSWITCH paths, and what was
    replaced: an abandon message with no FreeSWITCH meaning becomes DEFAULT_ABANDON (never
    silence), a machine message with none is not left (the machine is hung up on)."""
    notes = []
    try:
        abandon = path(command.abandon_message)
    except UnknownSound as exc:
        notes.append(f"abandon message: {exc}; {DEFAULT_ABANDON} instead")
        abandon = path(DEFAULT_ABANDON)
    machine = None
    if command.machine_message:
        try:
            machine = path(command.machine_message)
        except UnknownSound as exc:
            notes.append(f"machine message: {exc}; the machine is hung up on instead")
    return abandon, machine, notes


def dial_customer(
    command: DialCustomer,
    template: str,
    abandon: str,
    machine: str | None,
    amd: AmdFigures = AmdFigures(),
) -> Words:
    """bgapi words: ring the customer through the trunk for the ring time; on the answer the
    channel runs `<campaign> XML ccgw-outbound` (AMD, the grace, the messages)."""
    if not command.dial_id.startswith(DIAL_PREFIX) or not esl_uuid(command.dial_id):
        raise InvalidWireValue(f"dial id {command.dial_id!r}")
    if not CAMPAIGN.fullmatch(command.campaign_id):
        raise InvalidWireValue(f"campaign id {command.campaign_id!r}: letters, digits, - and _")
    if not NUMBER.fullmatch(command.caller_id):
        raise InvalidWireValue(f"caller id {command.caller_id!r}")
    variables = {
        "origination_uuid": command.dial_id,
        "originate_timeout": str(ring_timeout(command.ring_s)),
        "ignore_early_media": "true",
        "origination_caller_id_number": command.caller_id,
        "origination_caller_id_name": caller_name(command.caller_name),
        "ccgw_amd": "1" if command.amd else "0",
        **amd.variables(),
        "ccgw_grace_ms": str(max(0, round(command.grace_s * 1000))),
        "ccgw_grace_after_amd": "0" if command.grace_counts_amd else "1",
        "ccgw_machine_action": "message" if machine else "hangup",
        "ccgw_abandon_sound": abandon,
    }
    if machine:
        variables["ccgw_machine_sound"] = machine
    target = esl.originate_variables(variables) + dial_string(template, command.number)
    return ("originate", target, command.campaign_id, "XML", OUTBOUND_CONTEXT)


def dial_callback(command: DialCallback, template: str) -> Words:
    """bgapi words: ring the agent; on the answer ccgw-callback dials the customer for the
    customer's ring time, from the campaign's caller id, and joins them."""
    if not esl_uuid(command.leg_id) or not command.leg_id.startswith(LEG_PREFIX):
        raise InvalidWireValue(f"leg id {command.leg_id!r}")
    if command.caller_id is not None and not NUMBER.fullmatch(command.caller_id):
        raise InvalidWireValue(f"caller id {command.caller_id!r}")
    if not DEVICE.fullmatch(command.device):
        raise InvalidWireValue(f"device {command.device!r} is not a FreeSWITCH dial string")
    variables = {
        "origination_uuid": command.leg_id,
        "originate_timeout": str(max(1, round(command.agent_ring_s))),
        "origination_caller_id_number": re.sub(r"[^0-9+]", "", command.number) or "0",
        "origination_caller_id_name": "Callback",
        "ccgw_dial": dial_string(template, command.number),
        "ccgw_ring": str(ring_timeout(command.customer_ring_s)),
    }
    if command.caller_id:
        variables["ccgw_cli"] = command.caller_id
    target = esl.originate_variables(variables) + command.device
    return ("originate", target, "s", "XML", CALLBACK_CONTEXT)


def originate_live_agent(command: RingAgent, recordings: str) -> Words:
    """bgapi words: the agent leg for a campaign's live customer (`command.call_id`, the dial
    id). The ordinary agent leg (commands.originate_agent: the recording key, recordings),
    answering at once (auto-answer) and run on its answer into ccgw-outbound-agent, which
    claims the customer and bridges the leg holding the claim itself: the customer's wait
    ends with no round trip to the controller, as Asterisk's ccgw-agent does."""
    if not command.call_id.startswith(DIAL_PREFIX) or not esl_uuid(command.call_id):
        raise InvalidWireValue(f"dial id {command.call_id!r}")
    extra = dict(AUTO_ANSWER) if command.auto_answer else {}
    words = commands.originate_agent(command, recordings, extra)
    return (*words[:2], command.call_id, "XML", AGENT_CONTEXT)


def esl_uuid(value: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9_.-]{1,36}", value) is not None


# --- events ----------------------------------------------------------------------------------


def to_event(event: Mapping[str, str]) -> PbxEvent | None:
    """The domain event of an outbound or callback event, or None when the event is none
    of theirs (translate.to_event then reads it)."""
    name = event.get("Event-Name", "")
    uuid = event.get("Unique-ID", "")
    if name == "CUSTOM":
        subclass = event.get("Event-Subclass")
        if subclass == OUTBOUND_EVENT and uuid.startswith(DIAL_PREFIX):
            return _step(event, uuid)
        if subclass == CALLBACK_EVENT and uuid.startswith(LEG_PREFIX):
            status = event.get("ccgw_dial_status", "")
            failure = _failure(status)
            return CallbackFailed(uuid, failure, f"dial status {status or 'unknown'}")
        return None
    if name == "CHANNEL_ANSWER" and event.get("variable_ccgw_callback_leg", ""):
        leg = event["variable_ccgw_callback_leg"]
        return CallbackAnswered(leg) if leg.startswith(LEG_PREFIX) else None
    if name == "CHANNEL_HANGUP" and uuid.startswith(DIAL_PREFIX):
        if event.get("Caller-Channel-Answered-Time", "0") in ("", "0"):
            cause = event.get("Hangup-Cause", "")
            return OutboundFailed(uuid, _failure(cause), f"cause {cause}")
        return None  # answered: translate's ChannelHungUp
    if name == "BACKGROUND_JOB" and event.get("Job-Command") == "originate":
        found = ORIGINATION_UUID.search(event.get("Job-Command-Arg", ""))
        result = event.get("_body", "").strip()
        if found and found.group(1).startswith(DIAL_PREFIX) and result.startswith("-ERR"):
            cause = result.removeprefix("-ERR").strip()
            return OutboundFailed(found.group(1), _failure(cause), f"originate {cause}")
    return None


def _step(event: Mapping[str, str], dial_id: str) -> PbxEvent | None:
    step = event.get("ccgw_step", "")
    if step == "answered":
        return OutboundAnswered(dial_id)
    if step == "live":
        status = event.get("ccgw_amd_status", "").lower()
        return OutboundLive(dial_id, status if status in ("human", "notsure") else "")
    if step == "machine":
        return MachineDetected(dial_id, event.get("ccgw_amd_cause", ""))
    if step == "abandoned":
        return OutboundAbandoned(dial_id)
    return None


def _failure(cause: str) -> LegFailure:
    """A FreeSWITCH cause name as the domain's failure: the Q.850 code's meaning, as the
    Asterisk adapter reads a campaign dial's hang-up cause; FreeSWITCH's own names
    (translate.FAILURES) where the code says nothing."""
    if cause in CAUSES:
        failure = failure_for_cause(CAUSES[cause])
        if failure is not LegFailure.ERROR:
            return failure
    return FAILURES.get(cause, LegFailure.ERROR)


# --- the resync ------------------------------------------------------------------------------


def with_outbound(snapshot: PbxResynced, channels_json: str, now: float) -> PbxResynced:
    """The snapshot (translate.to_snapshot of the same rows) with the campaign dials the PBX
    still has; an agent leg of ccgw-outbound-agent names its customer (its extension, as on
    Asterisk), and agent legs dialling a callback are marked as such (their `caller_id` is
    no caller's; bridged once the customer answered)."""
    data = json.loads(channels_json or '{"row_count": 0}')
    rows = data.get("rows", []) if isinstance(data, dict) else []
    by_uuid = {str(r.get("uuid", "")): r for r in rows}
    # two bridged channels: one's call_uuid names the other (which one depends on who
    # asked for the bridge)
    partners = {str(r.get("call_uuid", "")) for r in rows if r.get("call_uuid") != r.get("uuid")}
    paired = {
        uuid
        for uuid, row in by_uuid.items()
        if str(row.get("call_uuid", "")) not in ("", uuid) or uuid in partners
    }
    dials = tuple(
        _dial(uuid, row, uuid in paired, _age(row, now))
        for uuid, row in by_uuid.items()
        if uuid.startswith(DIAL_PREFIX)
    )
    legs = tuple(
        _role(leg, by_uuid.get(leg.leg_id, {}), leg.leg_id in paired) for leg in snapshot.agent_legs
    )
    return dataclasses.replace(snapshot, agent_legs=legs, outbound=dials)


def _age(row: Mapping[str, object], now: float) -> float:
    try:
        created = float(str(row.get("created_epoch") or 0))
    except ValueError:
        return 0.0
    return max(0.0, now - created) if created else 0.0


def _dial(uuid: str, row: Mapping[str, object], bridged: bool, age: float) -> OutboundChannel:
    """Ringing (not yet in ccgw-outbound), or where in ccgw-outbound: the extension is
    `<step>~<campaign>` (the campaign's own at the answer); with an agent once bridged."""
    if row.get("context") != OUTBOUND_CONTEXT:
        return OutboundChannel(uuid, "", "ringing", age)
    step, _, campaign = str(row.get("dest", "")).rpartition("~")
    stage = "agent" if bridged else STAGES.get(step, "message")
    return OutboundChannel(uuid, campaign, stage, age)


def _role(leg: AgentChannel, row: Mapping[str, object], bridged: bool) -> AgentChannel:
    contexts = (row.get("context"), row.get("initial_context"))
    if AGENT_CONTEXT in contexts:  # its extension is <dial> or take~<dial>
        dial = str(row.get("dest", "")).rpartition("~")[2]
        caller = dial if dial.startswith(DIAL_PREFIX) else leg.caller_id
        # the extension replaced the dialled user as `dest`; the first one is kept
        user = str(row.get("initial_dest", ""))
        device = f"user/{user}" if re.fullmatch(r"[A-Za-z0-9_.@+-]{1,80}", user) else leg.device
        return dataclasses.replace(leg, caller_id=caller, device=device, bridged=bridged)
    if CALLBACK_CONTEXT in contexts:
        return dataclasses.replace(leg, role="callback", caller_id="", bridged=bridged)
    return leg
