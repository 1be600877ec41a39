"""Domain commands as ESL command words: every `api` and `bgapi` the controller sends but
auth, event and the probe (the client's) is built here. Pure: no I/O.

The words go through `esl.command`, which refuses CR, LF and NUL in any of them
(pbx/wire.py); the builders here refuse what would split a word or a dial string: a space in
a value, a comma in an originate variable, a device or number that is not one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ccgateway.domain.commands import Monitor, MonitorMode, RingAgent
from ccgateway.pbx import trunks
from ccgateway.pbx.freeswitch import end_marks, esl
from ccgateway.ports import DialplanTarget, InvalidWireValue

Words = tuple[str, ...]
# Debian's FreeSWITCH packages' $${recordings_dir}; the controller passes its own setting.
DEFAULT_RECORDINGS = "/var/lib/freeswitch/recordings"
FOLDER_PATTERN = re.compile(r"^/[A-Za-z0-9_./-]{0,200}$")
FILE_PATTERN = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}\.wav$")
UUID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,36}$")
KEY_PATTERN = re.compile(r"^[0-9*#]$")
GATEWAY = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # a sofia gateway's name (a trunk to a PBX)
CONSENT_CONTEXT = "ccgw-consent"
# The agent's in-call recording key, *0 as on Asterisk (features.conf's ccgw_recording):
# bind_meta_app on the agent leg from its answer (meta key `*`, FreeSWITCH's default
# bind_meta_key); digit 0 heard on the leg itself (`a`) runs, on the leg itself (`s`), the
# dptools `event` application, which fires CUSTOM only with `Event-Name=CUSTOM,` first.
RECORDING_TOGGLE = "ccgw::recording_toggle"
RECORDING_KEY = "0"
RECORDING_KEY_BINDING = (
    f"bind_meta_app:{RECORDING_KEY} a s event::Event-Name=CUSTOM,Event-Subclass={RECORDING_TOGGLE}"
)


def show_channels() -> Words:
    """api words: the resync's picture of every channel, as json."""
    return ("show", "channels", "as", "json")


def originate_agent(
    command: RingAgent,
    recordings: str = DEFAULT_RECORDINGS,
    extra: Mapping[str, str] | None = None,
    gateways: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """bgapi words: ring the agent and park the leg when answered (then uuid_bridge). From
    its answer the leg has the recording key (`*0`: CUSTOM ccgw::recording_toggle). With
    `record_file`, the leg records itself from its answer (`execute_on_answer`). Any
    recording of the leg (that one, or one started later by uuid_record) takes only what
    it hears and says while bridged (`RECORD_BRIDGE_REQ`, a channel variable
    record_session reads): both voices mixed into one file, nothing of the wait. From its
    answer, FreeSWITCH notes the leg's end at its hang-up (end_marks.py). `extra`:
    more variables (a campaign's live call: auto-answer and the claim, outbound.py). An
    agent on another PBX (`agent_pbx`) is rung over the sofia gateway `gateways` names for
    it, and the leg's `ccgw_device` says whose phone that is (pbx/trunks.py)."""
    dial, device = _agent_dial(command, gateways or {})
    record = {"RECORD_BRIDGE_REQ": "true"}
    if command.record_file:
        # `app:arg` (switch_channel_execute_on_value splits at the first ' ' or single ':'):
        # no space, so nothing for the originate string to cut; the path has no ':' itself.
        path = recording_path(recordings, command.record_file)
        record["execute_on_answer"] = f"record_session:{path}"
        if command.record_stereo:  # the agent's side left, the caller's right (verified)
            record["RECORD_STEREO"] = "true"
    variables = esl.originate_variables(
        {
            "origination_uuid": command.leg_id,
            "ccgw_caller": command.call_id,
            "originate_timeout": str(int(command.timeout_s)),
            "origination_caller_id_number": re.sub(r"[^0-9+*#]", "", command.caller_number) or "0",
            "origination_caller_id_name": re.sub(r"[^A-Za-z0-9._-]", "_", command.caller_name)[:40]
            or "Customer",
            "execute_on_answer_ccgw_key": _spaced(RECORDING_KEY_BINDING),
            # from its answer, the leg's end mark at its hang-up (end_marks.py)
            "ccgw_device": device,
            "execute_on_answer_ccgw_end": _spaced(end_marks.LEG_ANSWERED),
            **record,
            **(extra or {}),
        }
    )
    return ("originate", variables + dial, "&park()")


def _agent_dial(command: RingAgent, gateways: Mapping[str, str]) -> tuple[str, str]:
    """The leg's dial string and what its `ccgw_device` says."""
    if not command.agent_pbx:
        device = _device(command.device)
        return device, device
    gateway = gateways.get(command.agent_pbx)
    if gateway is None or not GATEWAY.fullmatch(gateway):
        raise InvalidWireValue(
            f"no trunk from this FreeSWITCH to {command.agent_pbx} (its `trunks` setting)"
        )
    phone = trunks.phone(command.device)
    return f"sofia/gateway/{gateway}/{phone}", trunks.account(command.device, command.agent_pbx)


def _spaced(value: str) -> str:
    """A value with spaces as one originate word: `\\s`, which FreeSWITCH's word splitter
    reads as a space (switch_utils.c, `unescape_char`) after splitting the originate
    string on its real spaces; the commas are escaped by `esl.originate_variables`. Every
    variable whose name starts with `execute_on_answer` runs on the answer
    (switch_channel.c, `switch_channel_execute_on`), each as `app:arg` split at the first
    ' ' or single ':'. Only for our own constants: no backslash of theirs gets this far."""
    if "\\" in value:
        raise InvalidWireValue(f"{value!r}: a backslash would escape what follows it")
    return value.replace(" ", "\\s")


EAVESDROP_VARIABLES = {
    MonitorMode.LISTEN: {},
    MonitorMode.WHISPER: {"eavesdrop_whisper_aleg": "true"},
    MonitorMode.BARGE: {"eavesdrop_bridge_aleg": "true", "eavesdrop_bridge_bleg": "true"},
}


def eavesdrop(command: Monitor) -> tuple[str, ...]:
    """bgapi words: ring the supervisor; on answer mod_dptools' eavesdrop joins the agent's
    leg (whisper speaks to the agent only, barge to both sides)."""
    variables = esl.originate_variables(
        {
            "origination_caller_id_name": command.mode.value,
            "origination_caller_id_number": "monitor",
            **EAVESDROP_VARIABLES[command.mode],
        }
    )
    leg = command.agent_leg_id
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,36}", leg):
        raise InvalidWireValue(f"leg id {leg!r} is not a FreeSWITCH uuid")
    return ("originate", variables + _device(command.supervisor_device), f"&eavesdrop({leg})")


def _device(device: str) -> str:
    if not re.fullmatch(r"(user|sofia/[A-Za-z0-9_.-]+)/[A-Za-z0-9_.@:+-]{1,80}", device):
        raise InvalidWireValue(f"device {device!r} is not a FreeSWITCH dial string we accept")
    return device


def bridge(caller: str, leg: str) -> Words:
    """api words: join an answered, parked agent leg to its waiting caller."""
    return ("uuid_bridge", caller, leg)


def kill(uuid: str) -> Words:
    """api words: hang a channel up."""
    return ("uuid_kill", uuid)


def transfer(uuid: str, target: DialplanTarget) -> Words:
    """api words: send a channel to an extension of the XML dialplan."""
    return ("uuid_transfer", uuid, target.exten, "XML", target.context)


def broadcast(uuid: str, sound: str) -> Words:
    """api words: play a sound (or a music stream) to the channel itself."""
    return ("uuid_broadcast", uuid, sound, "aleg")


SAFE_VALUE = re.compile(r"^[A-Za-z0-9_@+/.&!:-]{1,400}$")


def set_variable(uuid: str, name: str, value: str) -> tuple[str, ...]:
    """api words: `uuid_setvar <uuid> <name> <value>`; values of plain characters only (the
    words are separated by spaces)."""
    if not SAFE_VALUE.fullmatch(value) or ".." in value:
        raise InvalidWireValue(f"{name}: {value!r} has characters FreeSWITCH would split on")
    return ("uuid_setvar", uuid, name, value)


def check_dial_template(template: str) -> str:
    if template.count("{number}") != 1 or not re.fullmatch(r"[A-Za-z0-9_/.@:{}-]{1,120}", template):
        raise InvalidWireValue(f"dial template {template!r} must hold {{number}} once")
    return template


def transfer_out(uuid: str, template: str, number: str) -> tuple[str, ...]:
    """api words: the caller leaves the agent for a bridge to an outside number."""
    if not re.fullmatch(r"\+?[0-9]{3,20}", number):
        raise InvalidWireValue(f"number {number!r}")
    return ("uuid_transfer", uuid, f"bridge:{template.format(number=number)}", "inline")


# --- recordings ----------------------------------------------------------------------------


def check_recordings_folder(folder: str) -> str:
    """The folder FreeSWITCH writes recordings into, as FreeSWITCH sees it: an absolute path
    of plain characters (it becomes part of a command word and of an originate variable)."""
    if not FOLDER_PATTERN.fullmatch(folder) or ".." in folder.split("/"):
        raise InvalidWireValue(f"recordings folder {folder!r}: an absolute path")
    return folder.rstrip("/") or "/"


def recording_path(folder: str, file: str) -> str:
    """`<folder>/<file>`; the file name checked again at the wire (the domain made it):
    letters, digits, '.', '_', '-' and the .wav that makes mod_sndfile write a WAV."""
    if not FILE_PATTERN.fullmatch(file) or ".." in file:
        raise InvalidWireValue(f"recording file {file!r}: letters, digits, '.', '_', '-', .wav")
    return f"{check_recordings_folder(folder).rstrip('/')}/{file}"


def record(leg: str, path: str) -> Words:
    """bgapi words: start recording a leg on demand (both directions mixed). The media bug
    is known by its path: a pause names the same path."""
    return ("uuid_record", _uuid(leg), "start", path)


def mask_recording(leg: str, path: str, muted: bool) -> Words:
    """bgapi words: pause (mask: the file goes on, with silence) or resume a recording.
    uuid_record's `pause` would drop the paused time from the file instead."""
    return ("uuid_record", _uuid(leg), "mask" if muted else "unmask", path)


def consent_variables(call_id: str, sound: str, refuse_key: str | None, hold: str) -> Words:
    """api words: what ccgw-consent reads, in one `uuid_setvar_multi` (`;` between
    variables): the notice, the refusal key (none: the variable is unset) and the context
    the caller holds in afterwards (the inbound one, at their queue's extension)."""
    if refuse_key is not None and not KEY_PATTERN.fullmatch(refuse_key):
        raise InvalidWireValue(f"refusal key {refuse_key!r}: one of 0-9, * and #")
    values = {"ccgw_sound": sound, "ccgw_refuse_key": refuse_key or "", "ccgw_hold_context": hold}
    for name, value in values.items():
        if name != "ccgw_refuse_key" and (not SAFE_VALUE.fullmatch(value) or ".." in value):
            raise InvalidWireValue(f"{name}: {value!r} has characters FreeSWITCH would split on")
    return ("uuid_setvar_multi", _uuid(call_id), ";".join(f"{k}={v}" for k, v in values.items()))


def consent(call_id: str, extension: str) -> Words:
    """api words: the caller hears the notice in ccgw-consent (the queue's extension kept, so
    a resync still knows their queue), then holds again."""
    if not re.fullmatch(r"[0-9]{1,20}", extension):
        raise InvalidWireValue(f"extension {extension!r} must be digits")
    return transfer(_uuid(call_id), DialplanTarget(CONSENT_CONTEXT, extension))


def channel(uuid: str) -> str:
    """A channel uuid as a command word: FreeSWITCH's 36 characters at most, plain ones."""
    return _uuid(uuid)


def _uuid(uuid: str) -> str:
    if not UUID_PATTERN.fullmatch(uuid):
        raise InvalidWireValue(f"channel id {uuid!r} is not a FreeSWITCH uuid")
    return uuid
