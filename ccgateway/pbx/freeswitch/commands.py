"""Domain commands as ESL command words: every `api` and `bgapi` the controller sends but
auth, event and the probe (the client's) is built here. Pure: no I/O.

The words go through `esl.command`, which refuses CR, LF and NUL in any of them
(pbx/wire.py); the builders here refuse what would split a word or a dial string: a space in
a value, a comma in an originate variable, a device or number that is not one.
"""

from __future__ import annotations

import re

from ccgateway.domain.commands import Monitor, MonitorMode, RingAgent
from ccgateway.pbx.freeswitch import esl
from ccgateway.ports import DialplanTarget, InvalidWireValue

Words = tuple[str, ...]


def show_channels() -> Words:
    """api words: the resync's picture of every channel, as json."""
    return ("show", "channels", "as", "json")


def originate_agent(command: RingAgent) -> tuple[str, ...]:
    """bgapi words: ring the agent and park the leg when answered (then uuid_bridge)."""
    variables = esl.originate_variables(
        {
            "origination_uuid": command.leg_id,
            "ccgw_caller": command.call_id,
            "originate_timeout": str(int(command.timeout_s)),
            "origination_caller_id_number": re.sub(r"[^0-9+*#]", "", command.caller_number) or "0",
            "origination_caller_id_name": re.sub(r"[^A-Za-z0-9._-]", "_", command.caller_name)[:40]
            or "Customer",
        }
    )
    return ("originate", variables + _device(command.device), "&park()")


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
