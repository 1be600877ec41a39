"""Consults (attended transfers) and three-way conferences on FreeSWITCH.

What each command means is the domain's (domain/transfers.py); the contexts are the
`ccgw-consult`, `ccgw-conf-caller` and `ccgw-conf-agent` of dialplans/freeswitch/ccgateway.xml.
How the legs move, as on Asterisk (pbx/asterisk/actions.py) but with FreeSWITCH's own means:

- StartConsult: the agent leg gets `transfer_after_bridge=wait:XML:ccgw-consult`, then the
  caller is sent back to the inbound context at their queue's extension (`uuid_transfer`): the
  caller parks again with hold music (the centre ignores the repeat park) and the agent leg,
  its bridge broken by the other side, goes to `wait` (ringback, bounded).
- RingConsult: `originate {origination_uuid=<leg>,ccgw_caller=<caller>,
  transfer_after_bridge=back:XML:ccgw-consult,...}<device> &park()`. Its answer is the
  leg's CHANNEL_ANSWER (AgentLegAnswered), a failure the originate's BACKGROUND_JOB, as for
  any agent leg. On its first park the agent leg gets the same `transfer_after_bridge` and
  the two are joined (`uuid_bridge <agent> <consult>`).
- Whichever of the two leaves, the other goes to `back` and parks; the adapter then bridges
  it to its caller (`ccgw_caller`), as it does for any answered agent leg. So the agent
  hanging up (or CompleteConsult: `uuid_kill <agent>`) hands the caller to the consulted
  party, and the consulted party leaving (or CancelConsult: `uuid_kill <consult>`) brings
  the agent back. FreeSWITCH clears `transfer_after_bridge` as it uses it.
- A consult still ringing (or rung out) has no bridge: CancelConsult ends the leg and sends
  the agent to `back` itself.
- The held caller hanging up ends the consulting agent's leg (`uuid_kill`): it may be
  waiting with nothing that would end it, and there is no caller to go back to.
- Conference: the agent and the consulted party, bridged, go together (`uuid_transfer
  <agent> -both`: neither is left alone, so neither goes to `back`) into mod_conference room
  `<caller uuid>@ccgw`; then the caller, with `endconf`: their leaving ends it for everybody.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Mapping

from ccgateway.domain.commands import (
    CancelConsult,
    CompleteConsult,
    Conference,
    RingConsult,
    StartConsult,
)
from ccgateway.pbx.freeswitch import commands, esl, translate
from ccgateway.pbx.freeswitch.client import EslClient
from ccgateway.ports import DialplanTarget, InvalidWireValue, PbxError, PbxRejected

log = logging.getLogger(__name__)
Words = commands.Words
CONSULT_CONTEXT = "ccgw-consult"
WAIT = DialplanTarget(CONSULT_CONTEXT, "wait")  # the agent leg waits, hearing ringback
BACK = DialplanTarget(CONSULT_CONTEXT, "back")  # a leg whose partner left parks
CONFERENCE_CALLER = "ccgw-conf-caller"
CONFERENCE_AGENT = "ccgw-conf-agent"
EXTENSION = re.compile(r"^[0-9]{1,20}$")
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


def after_bridge(target: DialplanTarget) -> str:
    """`transfer_after_bridge`'s value: `<exten>:XML:<context>` (switch_ivr_bridge.c splits
    it on ':' when the leg's bridge ends by the other side)."""
    return f"{target.exten}:XML:{target.context}"


def start_consult(command: StartConsult, inbound_context: str) -> list[Words]:
    """api words, in order: the agent leg is told where to go when its bridge breaks, then
    the caller goes back to hold (which breaks it)."""
    agent, caller = _uuid(command.agent_leg_id), _uuid(command.call_id)
    return [
        commands.set_variable(agent, "transfer_after_bridge", after_bridge(WAIT)),
        commands.transfer(caller, DialplanTarget(inbound_context, _extension(command.extension))),
    ]


def ring_consult(command: RingConsult, dial_template: str) -> Words:
    """bgapi words: ring the consulted device (or an outside number through the dial
    template) with our leg id; answered, it parks, and the adapter joins it to the agent."""
    if command.is_number:
        if not NUMBER.fullmatch(command.target):
            raise InvalidWireValue(f"number {command.target!r}")
        device = commands.check_dial_template(dial_template).format(number=command.target)
    else:
        device = commands._device(command.target)  # the agent devices RingAgent accepts
    variables = esl.originate_variables(
        {
            "origination_uuid": _uuid(command.leg_id),
            "ccgw_caller": _uuid(command.call_id),
            "ccgw_consult": _uuid(command.agent_leg_id),
            "originate_timeout": str(max(1, int(command.timeout_s))),
            "origination_caller_id_number": re.sub(r"[^0-9+*#]", "", command.caller_number) or "0",
            "origination_caller_id_name": "Consult",
            "transfer_after_bridge": after_bridge(BACK),
        }
    )
    return ("originate", variables + device, "&park()")


def join(agent_leg: str, consult_leg: str) -> list[Words]:
    """api words: the answered consult leg (parked) and the waiting agent leg talk; the agent
    leg learns where to go if the consulted party leaves first."""
    agent = _uuid(agent_leg)
    return [
        commands.set_variable(agent, "transfer_after_bridge", after_bridge(BACK)),
        commands.bridge(agent, _uuid(consult_leg)),
    ]


def cancel_ringing(command: CancelConsult) -> list[Words]:
    """api words: the consult leg that never answered ends; the agent leg parks at `back`
    (and is bridged to its caller from there)."""
    return [
        commands.kill(_uuid(command.consult_leg_id)),
        commands.transfer(_uuid(command.agent_leg_id), BACK),
    ]


def conference(command: Conference) -> list[Words]:
    """api words: the agent legs two by two (bridged pairs move together), then the caller."""
    room = _uuid(command.call_id)
    legs = [_uuid(leg) for leg in command.legs]
    out: list[Words] = []
    while legs:
        first = legs.pop(0)
        both = ("-both",) if legs else ()
        if legs:
            legs.pop(0)
        out.append(("uuid_transfer", first, *both, room, "XML", CONFERENCE_AGENT))
    caller = DialplanTarget(CONFERENCE_CALLER, _extension(command.extension))
    return [*out, commands.transfer(room, caller)]


class Consults:
    """The adapter's part for consults: sends the words and joins an answered consult leg to
    its agent. `pending`: consult legs not yet answered -> the agent leg they are for (kept
    after a leg rings out: the centre's CancelConsult still has to bring the agent back)."""

    def __init__(
        self,
        client: EslClient,
        on_channel: Callable[..., Coroutine[None, None, None]],
        spawn: Callable[[Coroutine[None, None, None]], None],
        inbound_context: str,
        dial_template: str,
    ) -> None:
        self._client = client
        self._on_channel = on_channel  # an api command on a channel (a gone channel is fine)
        self._spawn = spawn
        self._inbound_context = inbound_context
        self._dial = dial_template
        self.pending: dict[str, str] = {}
        self.holding: dict[str, str] = {}  # a caller put on hold -> the agent leg consulting

    async def execute(
        self, command: StartConsult | RingConsult | CompleteConsult | CancelConsult | Conference
    ) -> None:
        match command:
            case StartConsult():
                self.holding[command.call_id] = command.agent_leg_id
                for words in start_consult(command, self._inbound_context):
                    await self._on_channel(*words)
            case RingConsult():
                words = ring_consult(command, self._dial)
                self.pending[command.leg_id] = command.agent_leg_id
                try:
                    await self._client.bgapi_start(*words)
                except PbxError:
                    self.pending.pop(command.leg_id, None)
                    raise
            case CompleteConsult(agent_leg_id=agent):
                # the consult leg, left alone, goes to `back` and from there to the caller
                await self._on_channel(*commands.kill(_uuid(agent)))
            case CancelConsult(consult_leg_id=leg) if self.pending.pop(leg, None) is not None:
                # never answered (ringing, or rung out): no bridge will send the agent back
                for words in cancel_ringing(command):
                    await self._on_channel(*words)
            case CancelConsult(consult_leg_id=leg):
                # the agent leg, left alone, goes to `back` and from there to the caller
                await self._on_channel(*commands.kill(_uuid(leg)))
            case Conference():
                for words in conference(command):
                    await self._on_channel(*words)

    def took(self, event: Mapping[str, str]) -> bool:
        """True when the event is the park of a consult leg that just answered (joined to its
        agent here), which the adapter must not bridge to the caller. A held caller who
        hangs up takes their consulting agent's leg with them: it may be waiting in
        `ccgw-consult` (ringback, no bridge that would end it) and nobody is left to go
        back to."""
        uuid = event.get("Unique-ID", "")
        if event.get("Event-Name") == "CHANNEL_HANGUP" and uuid in self.holding:
            agent = self.holding.pop(uuid)
            self.pending = {leg: a for leg, a in self.pending.items() if a != agent}
            self._spawn(self._on_channel(*commands.kill(agent)))
            return False
        if uuid not in self.pending or translate.parked_agent_leg(event) is None:
            return False
        self._spawn(self._join(self.pending.pop(uuid), uuid))
        return True

    async def _join(self, agent: str, leg: str) -> None:
        try:
            for words in join(agent, leg):
                result = (await self._client.api(*words)).strip()
                if not result.startswith("+OK"):
                    raise PbxRejected(result)
        except PbxRejected as exc:
            # the agent hung up as the consult answered, which completes the transfer: the
            # consult leg goes to `back`, and from there to the caller
            log.warning("joining consult leg %s to %s failed: %s", leg, agent, exc)
            await self._on_channel(*commands.transfer(_uuid(leg), BACK))


def _uuid(uuid: str) -> str:
    if not commands.UUID_PATTERN.fullmatch(uuid):
        raise InvalidWireValue(f"channel id {uuid!r} is not a FreeSWITCH uuid")
    return uuid


def _extension(extension: str) -> str:
    if not EXTENSION.fullmatch(extension):
        raise InvalidWireValue(f"extension {extension!r} must be digits")
    return extension
