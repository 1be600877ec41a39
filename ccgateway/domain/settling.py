"""One settle after every step of the centre.

A step (a PBX event, a request, the clock's tick) changes the centre; after it the centre
settles (`Center.settle_after`): the facts its parts stated are handed on, callers of
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

from ccgateway.domain.commands import Command

P = ParamSpec("P")
T = TypeVar("T")


class Settling(Protocol):
    def settle_after(self, out: list[Command], now: float) -> list[Command]:
        """A step's commands `out`, then what settling the centre at `now` takes."""
        ...


S = TypeVar("S", bound=Settling)


def settles(
    step: Callable[Concatenate[S, P], list[Command]],
) -> Callable[Concatenate[S, P], list[Command]]:
    """Mark a step: the centre settles after it, at the step's `now`."""
    now_at = _where_now_is(step)

    @functools.wraps(step)
    def settled(center: S, /, *args: P.args, **kwargs: P.kwargs) -> list[Command]:
        out = step(center, *args, **kwargs)
        return center.settle_after(out, _time_of_step(now_at, args, kwargs))

    return settled


def settles_with(
    step: Callable[Concatenate[S, P], tuple[T, list[Command]]],
) -> Callable[Concatenate[S, P], tuple[T, list[Command]]]:
    """`settles`, for a step that gives a result with its commands."""
    now_at = _where_now_is(step)

    @functools.wraps(step)
    def settled(center: S, /, *args: P.args, **kwargs: P.kwargs) -> tuple[T, list[Command]]:
        result, out = step(center, *args, **kwargs)
        return result, center.settle_after(out, _time_of_step(now_at, args, kwargs))

    return settled


def _where_now_is(step: Callable[..., object]) -> int:
    """Where a step's `now` comes among its positional arguments (after the centre)."""
    return list(inspect.signature(step).parameters).index("now") - 1


def _time_of_step(at: int, args: tuple[object, ...], kwargs: dict[str, object]) -> float:
    now = kwargs["now"] if "now" in kwargs else args[at]
    assert isinstance(now, int | float), f"a step's now must be a number, not {now!r}"
    return now
