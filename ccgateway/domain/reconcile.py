"""Making the centre agree with a PBX after a (re)connect or a controller restart.

The PBX is the truth about calls: its snapshot (`PbxResynced`) lists the callers holding in
the controller's dialplan and the agent legs it still has. Only that PBX's calls are
touched: another PBX's calls are not in its picture.
"""

from __future__ import annotations

from ccgateway.domain.agents import Trigger
from ccgateway.domain.calls import CUT_OFF_DETAIL, Call, CallDesk, CallState
from ccgateway.domain.commands import Command, HangUp, Outcome
from ccgateway.domain.events import (
    AgentChannel,
    CallerChannel,
    CallWaiting,
    LegFailure,
    PbxResynced,
)
from ccgateway.domain.waiting_room import WaitingRoom


def resync(
    room: WaitingRoom, snapshot: PbxResynced, now: float, pbx: str, claimed: set[str]
) -> list[Command]:
    """End calls the PBX no longer has, adopt callers and conversations the centre did not
    know, hang up agent legs nobody is waiting for, re-offer callers whose leg vanished.
    `claimed` legs belong to other desks (callbacks) and are left alone."""
    desk = room.desk
    out: list[Command] = []
    for device in snapshot.devices:
        desk.floor.devices[(pbx, device.device)] = device.state
    present = {c.call_id: c for c in snapshot.callers}
    legs = [leg for leg in snapshot.agent_legs if leg.leg_id not in claimed]
    pbx_legs = {leg.leg_id: leg for leg in legs}
    # A campaign's calls are settled by the dialer (outbound/recovery.py) first.
    for call in [c for c in desk.calls.values() if c.pbx == pbx and c.kind != "outbound"]:
        if call.id not in present:  # ended while nobody was listening
            outcome, detail = _vanished(call, snapshot.restarted)
            out += desk.end(call, outcome, now, detail)
        elif call.leg_id is not None and call.leg_id not in pbx_legs:
            if call.state is CallState.OFFERING:
                out += desk.leg_failed(call.leg_id, LegFailure.ERROR, now, blame_agent=False)
            else:  # the agent is gone but the caller is still here: serve them again
                out += desk.end(call, Outcome.ANSWERED, now)
                out += room.arrive(as_waiting(present[call.id]), now, pbx, rejoin=True)
    for leg in legs:
        out += _resync_leg(desk, leg, present, now, pbx)
    bridged = {leg.caller_id for leg in legs if leg.answered}
    for caller in sorted(snapshot.callers, key=lambda c: -c.age_s):
        if caller.call_id not in desk.calls and caller.call_id not in bridged:
            out += room.arrive(as_waiting(caller), now, pbx, age_of(caller, now), rejoin=True)
    return out


def _vanished(call: Call, restarted: bool) -> tuple[Outcome, str]:
    """How a call the PBX no longer has ended, as far as the centre can tell: a PBX that
    restarted cut it off (a waiting caller did not abandon); otherwise its caller hung up."""
    if call.state is CallState.CONNECTED:
        return Outcome.ANSWERED, CUT_OFF_DETAIL if restarted else ""
    return (Outcome.CUT_OFF if restarted else Outcome.ABANDONED), ""


def _resync_leg(
    desk: CallDesk, leg: AgentChannel, present: dict[str, CallerChannel], now: float, pbx: str
) -> list[Command]:
    floor = desk.floor
    call = desk.call_for_leg(leg.leg_id)
    if call is not None:
        return desk.leg_answered(leg.leg_id, now, pbx, seen_bridged=True) if leg.answered else []
    caller = present.get(leg.caller_id)
    known = desk.calls.get(leg.caller_id)
    if leg.role == "consulted":  # a consult from before a restart: the agent goes back
        return [HangUp(leg.leg_id, "a consult the controller did not see start", pbx)]
    if leg.role == "conference" and known is not None and known.state is CallState.CONNECTED:
        return _adopt_member(desk, known, leg, now)
    stray = known is not None and known.state is not CallState.WAITING
    if not leg.answered or caller is None or stray:
        return [HangUp(leg.leg_id, "agent leg unknown to the controller", pbx)]
    # A conversation the controller did not see start (it restarted, or the answer was
    # lost with the connection): adopt it. Hanging the leg up would hang up the caller.
    if known is not None:
        desk.leave_line(known, now)
        desk.stop_wait_timers(known.id)
        del desk.calls[known.id]
    agent = floor.directory.agent_for_device(leg.device, leg.device_pbx or pbx)
    queue = floor.directory.queue_for_extension(caller.extension, pbx)
    call = Call(
        caller.call_id,
        queue.id if queue else "",
        caller.caller_number,
        caller.caller_name,
        known.arrived_at if known else now - age_of(caller, now),
        CallState.CONNECTED,
        agent.id if agent else None,
        leg.leg_id,
        now - age_of(leg, now),
        1,
        pbx=pbx,
    )
    desk.calls[call.id] = call
    desk.legs[leg.leg_id] = call.id
    if agent is None:
        return [desk.notice(call)]
    floor.apply(agent.id, Trigger.ADOPT_CALL, now)
    floor.status[agent.id].call_id = call.id
    return [floor.agent_notice(agent.id), desk.notice(call)]


def _adopt_member(desk: CallDesk, call: Call, leg: AgentChannel, now: float) -> list[Command]:
    """A second agent in a conference the controller did not see start."""
    agent = desk.floor.directory.agent_for_device(leg.device, leg.device_pbx or call.pbx)
    call.conference[leg.leg_id] = agent.id if agent else None
    desk.legs[leg.leg_id] = call.id
    if agent is None:
        return []
    desk.floor.apply(agent.id, Trigger.ADOPT_CALL, now)
    desk.floor.status[agent.id].call_id = call.id
    return [desk.floor.agent_notice(agent.id)]


def age_of(channel: CallerChannel | AgentChannel, now: float) -> float:
    """How long ago the caller started waiting (or the agent answered): from the PBX's own
    sub-second stamp when it kept one and it is not in the future (clocks apart), else
    from the channel's age, which the PBX gives in whole seconds."""
    if channel.since is not None and 0.0 <= now - channel.since <= channel.age_s + 2.0:
        return now - channel.since
    return channel.age_s


def as_waiting(caller: CallerChannel) -> CallWaiting:
    return CallWaiting(
        caller.call_id,
        caller.extension,
        caller.caller_number,
        caller.caller_name,
        caller.priority,
    )
