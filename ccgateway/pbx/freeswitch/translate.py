"""FreeSWITCH events to domain events (commands.py builds what goes the other way). Pure.

Built on the real 1.10.12 transcripts (tests/fixtures/esl): a caller parks (CHANNEL_PARK,
inbound); the controller rings the agent with `bgapi originate {origination_uuid=<leg>,...}
user/1001 &park()` (14_agent_register_originate_bridge); once the leg has answered and parked,
`uuid_bridge <caller> <leg>` joins them (06, 14); a failed originate ends in BACKGROUND_JOB
`-ERR <CAUSE>` whose Job-Command-Arg still names the origination uuid (10_originate_failure).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping

from ccgateway.domain.events import (
    AgentChannel,
    AgentLegAnswered,
    AgentLegFailed,
    CallbackRequested,
    CallerChannel,
    CallerLeft,
    CallWaiting,
    ChannelHungUp,
    ConsentHeard,
    DeviceState,
    DeviceStateChanged,
    Feature,
    FeatureCodeDialled,
    LegFailure,
    MachineDetected,
    PbxEvent,
    PbxResynced,
    RecordingToggled,
)
from ccgateway.pbx import trunks
from ccgateway.pbx.freeswitch import devices
from ccgateway.pbx.freeswitch.announce import CALLBACK_EVENT
from ccgateway.pbx.freeswitch.commands import RECORDING_TOGGLE
from ccgateway.pbx.wire import plain_text

EventHeaders = Mapping[str, str]
INBOUND_CONTEXT = "ccgw-inbound"
LEG_PREFIX = "ccgw-"
QUEUE_VARIABLE = "ccgw_queue"  # set by dialplans/freeswitch before park
# CHANNEL_UNPARK: a waiting caller leaving park names where it goes (left_dialplan);
# CHANNEL_UNBRIDGE: a talking caller leaving its bridge does too
SUBSCRIBED = (
    "CHANNEL_PARK",
    "CHANNEL_ANSWER",
    "CHANNEL_HANGUP",
    "CHANNEL_BRIDGE",
    "CHANNEL_UNPARK",
    "CHANNEL_UNBRIDGE",
)
OUR_CONTEXTS = "ccgw-"  # every context of dialplans/freeswitch
CUSTOM = (
    "sofia::register",
    "sofia::unregister",
    "sofia::expire",
    "avmd::beep",
    "ccgw::feature",
    "ccgw::consent",
    CALLBACK_EVENT,  # key 1 during an announcement (announce.py)
    RECORDING_TOGGLE,  # the agent's *0 (commands.RECORDING_KEY_BINDING)
)

# FreeSWITCH hang-up cause names and their Q.850 codes (switch_types.h); FreeSWITCH's own
# causes (600s) mapped to the nearest Q.850 meaning.
CAUSES = {
    "UNALLOCATED_NUMBER": 1,
    "NO_ROUTE_DESTINATION": 3,
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21,
    "DESTINATION_OUT_OF_ORDER": 27,
    "NORMAL_TEMPORARY_FAILURE": 41,
    "ORIGINATOR_CANCEL": 16,
    "LOSE_RACE": 16,
    "USER_NOT_REGISTERED": 20,
    "RECOVERY_ON_TIMER_EXPIRE": 102,
    "ALLOTTED_TIMEOUT": 19,
}
FAILURES = {
    "NO_ANSWER": LegFailure.NO_ANSWER,
    "NO_USER_RESPONSE": LegFailure.NO_ANSWER,
    "ALLOTTED_TIMEOUT": LegFailure.NO_ANSWER,
    "USER_BUSY": LegFailure.BUSY,
    "CALL_REJECTED": LegFailure.REJECTED,
    "USER_NOT_REGISTERED": LegFailure.UNREACHABLE,
    "SUBSCRIBER_ABSENT": LegFailure.UNREACHABLE,
    "DESTINATION_OUT_OF_ORDER": LegFailure.UNREACHABLE,
    "NO_ROUTE_DESTINATION": LegFailure.UNREACHABLE,
    "NORMAL_TEMPORARY_FAILURE": LegFailure.UNREACHABLE,
}
ORIGINATION_UUID = re.compile(r"origination_uuid=([^,}\s]+)")
SHUTDOWN = "SYSTEM_SHUTDOWN"  # runtime.shutdown_cause (switch_core.c), every channel's at a stop


def to_event(event: EventHeaders, inbound_context: str = INBOUND_CONTEXT) -> PbxEvent | None:
    """The domain event a FreeSWITCH event means, or None."""
    name = event.get("Event-Name", "")
    uuid = event.get("Unique-ID", "")
    if name == "CHANNEL_PARK" and event.get("Call-Direction") == "inbound":
        queue = event.get(f"variable_{QUEUE_VARIABLE}")
        if queue is None and event.get("Caller-Context") != inbound_context:
            return None
        return CallWaiting(
            uuid,
            queue or event.get("Caller-Destination-Number", ""),
            plain_text(event.get("Caller-Caller-ID-Number", "")),
            plain_text(event.get("Caller-Caller-ID-Name", "")),
        )
    if name in ("CHANNEL_UNPARK", "CHANNEL_UNBRIDGE"):
        return left_dialplan(event, inbound_context)
    if name == "CHANNEL_ANSWER" and uuid.startswith(LEG_PREFIX):
        answered = _micros(event.get("Caller-Channel-Answered-Time"))
        return AgentLegAnswered(uuid, answered / 1e6 if answered else None)
    if name == "CHANNEL_HANGUP" and uuid:
        cause = event.get("Hangup-Cause", "NORMAL_CLEARING")
        # FreeSWITCH shutting down hangs up every channel with this cause: cut off by the
        # PBX, not ended by anyone on the call
        return ChannelHungUp(uuid, CAUSES.get(cause, 16), cause, pbx_down=cause == SHUTDOWN)
    if name == "BACKGROUND_JOB" and event.get("Job-Command") == "originate":
        result = event.get("_body", "").strip()
        leg = ORIGINATION_UUID.search(event.get("Job-Command-Arg", ""))
        if result.startswith("-ERR") and leg:
            cause = result.removeprefix("-ERR").strip()
            return AgentLegFailed(leg.group(1), FAILURES.get(cause, LegFailure.ERROR), cause)
        return None
    if name == "CUSTOM":
        return _custom(event)
    return None


def _custom(event: EventHeaders) -> PbxEvent | None:
    if event.get("Event-Subclass") == "ccgw::feature":
        return _feature(event)
    if event.get("Event-Subclass") == "ccgw::consent":
        # dialplans/freeswitch's ccgw-consent, fired on the caller's own channel once the
        # notice and the wait for the refusal key are over
        refused = event.get("Refused")
        if refused not in ("0", "1") or not event.get("Unique-ID"):
            return None
        return ConsentHeard(event["Unique-ID"], refused == "1")
    if event.get("Event-Subclass") == CALLBACK_EVENT:
        # dialplans/freeswitch's ccgw-announce, fired on the caller's own channel when the
        # caller pressed 1 after "if you would like us to call you back"
        caller = event.get("Unique-ID", "")
        return CallbackRequested(caller) if caller and not caller.startswith(LEG_PREFIX) else None
    if event.get("Event-Subclass") == RECORDING_TOGGLE:
        # the agent's *0, fired by the `event` application on the agent's own leg
        leg = event.get("Unique-ID", "")
        return RecordingToggled(leg) if leg.startswith(LEG_PREFIX) else None
    if event.get("Event-Subclass") == "avmd::beep" and event.get("Beep-Status") == "DETECTED":
        hz = event.get("Frequency", "?").split(".")[0]
        return MachineDetected(event.get("Unique-ID", ""), f"avmd beep at {hz} Hz")
    return _registration(event)


def _feature(event: EventHeaders) -> FeatureCodeDialled | None:
    """A feature code from dialplans/freeswitch's ccgw-features: the `event` application
    fires it on the agent's own channel, so the channel's user names the device."""
    try:
        feature = Feature(event.get("ccgw_feature", ""))
    except ValueError:
        return None
    user = event.get("variable_user_name") or event.get("Caller-Username", "")
    if not re.fullmatch(r"[A-Za-z0-9_.@:+-]{1,80}", user):
        return None
    code = event.get("ccgw_code", "")
    number = int(code) if code.isdigit() and len(code) <= 2 else None
    return FeatureCodeDialled(f"user/{user}", feature, number)


def _registration(event: EventHeaders) -> DeviceStateChanged | None:
    """A registration's device state on its own (FreeSwitchPbx keeps a book instead:
    devices.py, where a phone on a call stays in use whatever its registrations say)."""
    found = devices.registration(event)
    if found is None:
        return None
    user, registered = found
    return DeviceStateChanged(
        devices.device(user), DeviceState.AVAILABLE if registered else DeviceState.UNAVAILABLE
    )


def parked_agent_leg(event: EventHeaders) -> str | None:
    """The leg's uuid when one of our agent legs has answered and parked: time to bridge."""
    uuid = event.get("Unique-ID", "")
    parked = event.get("Event-Name") == "CHANNEL_PARK" and event.get("Call-Direction") == "outbound"
    return uuid if parked and uuid.startswith(LEG_PREFIX) else None


def to_snapshot(
    channels_json: str,
    devices: Iterable[DeviceStateChanged] = (),
    inbound_context: str = INBOUND_CONTEXT,
    now: float | None = None,
    dumps: Mapping[str, EventHeaders] | None = None,
) -> PbxResynced:
    """`show channels as json` as the PBX's whole picture. With a channel's `uuid_dump`
    (`dumps`), its times are FreeSWITCH's own microseconds against FreeSWITCH's clock (the
    row has whole seconds of creation only): a caller's age from its creation, an agent
    leg's from its answer (else its bridge, else its creation), so an adopted call keeps
    its wait up to the answer and its talk from it, as the live CHANNEL_ANSWER gave them;
    and a leg rung over a trunk says whose phone it rang (its `ccgw_device`,
    pbx/trunks.py)."""
    data = json.loads(channels_json or '{"row_count": 0}')
    rows = data.get("rows", []) if isinstance(data, dict) else []
    clock = time.time() if now is None else now
    callers, legs = [], []
    for row in rows:
        uuid = str(row.get("uuid", ""))
        dump = (dumps or {}).get(uuid)
        age = max(0.0, clock - float(row.get("created_epoch") or clock))
        if uuid.startswith(LEG_PREFIX):
            other = str(row.get("call_uuid", ""))
            trunked = trunks.agent_of((dump or {}).get("variable_ccgw_device", ""))
            device, device_pbx = trunked or (_row_device(row), "")
            legs.append(
                AgentChannel(
                    uuid,
                    device,
                    other if other != uuid else "",
                    row.get("callstate") in ("ACTIVE", "HELD"),
                    age if dump is None else _age(dump, *LEG_TIMES),
                    device_pbx=device_pbx,
                )
            )
        elif row.get("direction") == "inbound" and (
            row.get("context") == inbound_context or row.get("initial_context") == inbound_context
        ):
            callers.append(
                CallerChannel(
                    uuid,
                    str(row.get("initial_dest") or row.get("dest")),
                    age if dump is None else _age(dump, CREATED),
                    plain_text(str(row.get("cid_num", ""))),
                    plain_text(str(row.get("cid_name", ""))),
                )
            )
    return PbxResynced(tuple(callers), tuple(legs), tuple(devices))


CREATED = "Caller-Channel-Created-Time"
LEG_TIMES = ("Caller-Channel-Answered-Time", "Caller-Channel-Bridged-Time", CREATED)


def _age(dump: EventHeaders, *moments: str) -> float:
    """Seconds from the first of `moments` FreeSWITCH has set (microseconds since the
    epoch; 0 when it has not happened) to the dump's own time."""
    at = _micros(dump.get("Event-Date-Timestamp"))
    for moment in moments:
        since = _micros(dump.get(moment))
        if since and at:
            return max(0.0, (at - since) / 1e6)
    return 0.0


def _micros(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) <= 20 else 0


def channel_dump(text: str) -> dict[str, str] | None:
    """`uuid_dump <uuid> json` as headers (the names of the channel's events); None for
    FreeSWITCH's `-ERR No such channel!` or anything not a flat object."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str | int | float)}


def _row_device(row: Mapping[str, object]) -> str:
    dest = str(row.get("dest", ""))
    return f"user/{dest}" if dest else str(row.get("name", ""))


CORE_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def core_restarted(known: str | None, answer: str) -> tuple[str | None, bool]:
    """FreeSWITCH's `global_getvar core_uuid` against the one of the last connection: the
    core's uuid is drawn anew at each start, so a new one means FreeSWITCH restarted since
    (not a mere link drop). Returns the uuid to keep and whether it restarted; an answer
    that is no uuid (an -ERR) tells nothing either way."""
    core = answer.strip()
    if not CORE_UUID.fullmatch(core):
        return known, False
    return core, known is not None and core != known


def left_dialplan(event: EventHeaders, inbound_context: str = INBOUND_CONTEXT) -> CallerLeft | None:
    """A caller leaving park (CHANNEL_UNPARK) or its bridge with an agent (CHANNEL_UNBRIDGE)
    for a context that is not the controller's: someone else moved it (`uuid_transfer
    <caller> <ext> XML <context>` from another tool), as Asterisk's Newexten elsewhere.
    FreeSWITCH has set the new context when park or the bridge ends, so the event names it
    (seen on 1.10.12). Our own moves (consent, announcements, messages, a requeue, a consult,
    a conference, a blind transfer, the fallback) stay in `ccgw-` contexts or the inbound
    one; a hang-up leaves from the context it was in."""
    context = event.get("Caller-Context", "")
    uuid = event.get("Unique-ID", "")
    if event.get("Call-Direction") != "inbound" or not context or uuid.startswith(LEG_PREFIX):
        return None
    if context.startswith(OUR_CONTEXTS) or context == inbound_context:
        return None
    extension = plain_text(event.get("Caller-Destination-Number", ""))
    return CallerLeft(uuid, plain_text(context), extension)
