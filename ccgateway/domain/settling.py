"""One settle after every step of the centre.

A step (a PBX event, a request, the clock's tick) changes the centre; after it the centre
settles (`Settling.after`): the facts its parts stated are handed on, callers of
queues left without a qualified agent are sent on, waiting work is offered to free agents
until nobody waiting can be served, and the dialer paces. A step marked `@settles` cannot
forget to, and its commands come first, then the settling's.

A step that changes nothing (a request deferred, a move to where the caller already is)
returns before it reaches a marked step, so it does not settle.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from ccgateway.domain.calls import CallConnected, CallEnded, OutboundCallEnded
from ccgateway.domain.commands import Command, RingAgent
from ccgateway.domain.engine import Match
from ccgateway.domain.outbound.dialer import OutboundDesk
from ccgateway.domain.recorder import Recorder
from ccgateway.domain.tasks import TaskDesk
from ccgateway.domain.waiting_room import WaitingRoom

P = ParamSpec("P")
T = TypeVar("T")


class Settling:
    """Brings the centre to rest after a step (the parts it needs are the centre's)."""

    def __init__(
        self, room: WaitingRoom, tasks: TaskDesk, outbound: OutboundDesk, recorder: Recorder
    ) -> None:
        self.floor = room.floor
        self.recorder = recorder
        self.desk = room.desk
        self.callbacks = room.callbacks
        self.room = room
        self.tasks = tasks
        self.outbound = outbound

    def after(self, out: list[Command], now: float) -> list[Command]:
        """A step's commands `out`, its facts handed on, then the settling's commands."""
        return self.hand_on(out, now) + self.settle(now)

    def settle(self, now: float) -> list[Command]:
        """Bring the centre to rest after a step: callers of queues left without a qualified
        agent are sent on, waiting work is offered to free agents until nobody waiting has
        a free qualified agent, and the dialer paces its campaigns."""
        out: list[Command] = []
        if self.floor.staffing_dropped:
            self.floor.staffing_dropped = False
            # handed on before routing: the dialer's end of a call may free its agent
            out += self.hand_on(self.room.sweep_unstaffed(now), now)
        offers: list[Command] = []
        while (match := self.floor.engine.next_match(now)) is not None:
            offers += self._offer(match, now)
        out += self.hand_on(offers, now)  # the pacer learns of every release before it paces
        return out + self.hand_on(self.outbound.pace(now), now)

    def hand_on(self, out: list[Command], now: float) -> list[Command]:
        """`out` with each fact in it handed on to the part it concerns, and what that part
        returns in its place; then the floor's released agents are told to the dialer."""
        handed: list[Command] = []
        for item in out:
            if isinstance(item, OutboundCallEnded):
                ended = self.outbound.call_ended(item.call, item.outcome, now)
                handed += self.hand_on(ended, now)
            elif isinstance(item, CallConnected):
                handed += self.recorder.connected(item.call, now)
            elif isinstance(item, CallEnded):
                handed += self.recorder.ended(item.call, now)
            elif isinstance(item, RingAgent):
                handed.append(self.recorder.ringing(item))
            else:
                handed.append(item)
        for released in self.floor.released:
            self.outbound.agent_released(released.agent_id, released.busy_s, now)
        self.floor.released.clear()
        return handed

    def _offer(self, match: Match, now: float) -> list[Command]:
        if match.call_id in self.callbacks.callbacks:
            return self.callbacks.offer(match, now)
        if match.call_id in self.tasks.tasks:
            return self.tasks.offer(match, now)
        return self.desk.offer(match, now)


class Settled(Protocol):
    """What a marked step runs on: the centre, with its settling."""

    @property
    def settling(self) -> Settling: ...


S = TypeVar("S", bound=Settled)


def settles(
    step: Callable[Concatenate[S, P], list[Command]],
) -> Callable[Concatenate[S, P], list[Command]]:
    """Mark a step: the centre settles after it, at the step's `now`."""
    now_at = _where_now_is(step)

    @functools.wraps(step)
    def settled(center: S, /, *args: P.args, **kwargs: P.kwargs) -> list[Command]:
        out = step(center, *args, **kwargs)
        return center.settling.after(out, _time_of_step(now_at, args, kwargs))

    return settled


def settles_with(
    step: Callable[Concatenate[S, P], tuple[T, list[Command]]],
) -> Callable[Concatenate[S, P], tuple[T, list[Command]]]:
    """`settles`, for a step that gives a result with its commands."""
    now_at = _where_now_is(step)

    @functools.wraps(step)
    def settled(center: S, /, *args: P.args, **kwargs: P.kwargs) -> tuple[T, list[Command]]:
        result, out = step(center, *args, **kwargs)
        return result, center.settling.after(out, _time_of_step(now_at, args, kwargs))

    return settled


def _where_now_is(step: Callable[..., object]) -> int:
    """Where a step's `now` comes among its positional arguments (after the centre)."""
    return list(inspect.signature(step).parameters).index("now") - 1


def _time_of_step(at: int, args: tuple[object, ...], kwargs: dict[str, object]) -> float:
    now = kwargs["now"] if "now" in kwargs else args[at]
    assert isinstance(now, int | float), f"a step's now must be a number, not {now!r}"
    return now
