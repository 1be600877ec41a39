"""A queue's rules for its callers beyond routing: limits, what happens when one is hit,
announcements while waiting, and callbacks.

    max_wait_s / on_max_wait     a caller who has waited this long is sent on (the "exit")
    max_waiting / on_full        a new caller finding this many waiting is sent on at once
    on_no_agents                 no qualified agent logged in: new callers, and callers
                                 already waiting when the last one logs out, are sent on
    hours / on_closed            outside opening hours (calendar.py) new callers are sent on
    announce                     position and expected wait, comfort messages, "press 1"
    callback                     how a caller who asked to be called back is called back

Where a caller is sent is a `QueueAction`: another queue (keeping their place), voicemail,
a queued callback, a message and hang-up, or the PBX's fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from ccgateway.domain.errors import InvalidValue

SOUND_PATTERN = re.compile(r"^[A-Za-z0-9_/.-]{1,100}(&[A-Za-z0-9_/.-]{1,100}){0,9}$")
MAILBOX_PATTERN = re.compile(r"^[0-9]{1,20}(@[a-z0-9_-]{1,40})?$")
NUMBER_PATTERN = re.compile(r"^\+?[0-9]{3,20}$")
QUEUE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
DEFAULT_CLOSED_SOUND = "im-sorry&please-try-call-later"
CALLBACK_CONFIRMATION = "queue-thankyou&goodbye"


def check_sound(sound: str) -> str:
    """Sounds travel to the PBX as dialplan arguments: names (and `&` lists) of plain
    characters only."""
    if not isinstance(sound, str) or not SOUND_PATTERN.fullmatch(sound) or ".." in sound:
        raise InvalidValue(
            f"sound {sound!r} must be file names of letters, digits, '_', '-', '.', '/' "
            "(several joined by '&')"
        )
    return sound


def check_number(number: str, what: str = "number") -> str:
    """A telephone number the PBX may dial: digits with an optional leading +."""
    if not isinstance(number, str) or not NUMBER_PATTERN.fullmatch(number):
        raise InvalidValue(f"{what} {number!r} must be 3-20 digits with an optional leading +")
    return number


class ActionKind(StrEnum):
    QUEUE = "queue"  # move to another queue, keeping the caller's place and priority
    VOICEMAIL = "voicemail"  # leave a message in a mailbox
    CALLBACK = "callback"  # hang up and keep the place: an agent calls back
    MESSAGE = "message"  # play a message, then hang up
    FALLBACK = "fallback"  # the PBX's own fallback (dialplan ccgw-fallback)


@dataclass(frozen=True, slots=True)
class QueueAction:
    kind: ActionKind
    target: str | None = None  # the queue id, the mailbox or the sound

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", ActionKind(self.kind))
        except ValueError:
            kinds = ", ".join(k.value for k in ActionKind)
            raise InvalidValue(f"action {self.kind!r} is not one of {kinds}") from None
        if self.kind is ActionKind.QUEUE:
            if self.target is None or not QUEUE_ID_PATTERN.fullmatch(self.target):
                raise InvalidValue("a queue action needs the target queue's id")
        elif self.kind is ActionKind.VOICEMAIL:
            if self.target is None or not MAILBOX_PATTERN.fullmatch(self.target):
                raise InvalidValue("a voicemail action needs a mailbox like '200' or '200@ccgw'")
        elif self.kind is ActionKind.MESSAGE:
            check_sound(self.target or "")
        elif self.target is not None:
            raise InvalidValue(f"a {self.kind.value} action takes no target")

    def describe(self) -> str:
        return self.kind.value + (f" {self.target}" if self.target else "")


FALLBACK = QueueAction(ActionKind.FALLBACK)


@dataclass(frozen=True, slots=True)
class Announcements:
    """What a waiting caller hears: `position` and `wait_time` ("you are caller 3, about 2
    minutes") first after `first_s` and then every `every_s`; `comfort` (a sound) instead,
    or after it; `offer_callback` ends each announcement with "press 1 to be called back"."""

    position: bool = False
    wait_time: bool = False
    comfort: str | None = None
    first_s: float = 30.0
    every_s: float = 60.0
    offer_callback: bool = False

    def __post_init__(self) -> None:
        if self.comfort is not None:
            check_sound(self.comfort)
        if not 5.0 <= self.first_s <= 3600.0:
            raise InvalidValue("announce.first_s must be 5-3600 seconds")
        if not 15.0 <= self.every_s <= 3600.0:
            raise InvalidValue("announce.every_s must be 15-3600 seconds")

    @property
    def enabled(self) -> bool:
        return self.position or self.wait_time or self.comfort is not None or self.offer_callback


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """How a queued callback is called back once an agent is reserved for it: the customer
    is rung for `ring_s`, from `caller_id`; a busy line or no answer is tried again after
    `retry_s`, `attempts` times in all."""

    attempts: int = 3
    retry_s: float = 300.0
    ring_s: float = 30.0
    caller_id: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not 1 <= self.attempts <= 10:
            raise InvalidValue("callback.attempts must be 1-10")
        if not 30.0 <= self.retry_s <= 86400.0:
            raise InvalidValue("callback.retry_s must be 30-86400 seconds")
        if not 15.0 <= self.ring_s <= 120.0:
            raise InvalidValue("callback.ring_s must be 15-120 seconds (ring at least 15 s)")
        if self.caller_id is not None:
            check_number(self.caller_id, "callback.caller_id")


@dataclass(frozen=True, slots=True)
class Limits:
    max_wait_s: float | None = None
    on_max_wait: QueueAction = FALLBACK
    max_waiting: int | None = None
    on_full: QueueAction = FALLBACK
    on_no_agents: QueueAction | None = None
    on_closed: QueueAction = field(
        default_factory=lambda: QueueAction(ActionKind.MESSAGE, DEFAULT_CLOSED_SOUND)
    )

    def __post_init__(self) -> None:
        if self.max_wait_s is not None and not 10.0 <= self.max_wait_s <= 86400.0:
            raise InvalidValue("max_wait_s must be 10-86400 seconds")
        if self.max_waiting is not None and (
            isinstance(self.max_waiting, bool) or not 1 <= self.max_waiting <= 100_000
        ):
            raise InvalidValue("max_waiting must be 1-100000 callers")

    def sounds(self) -> list[tuple[str, str]]:
        """(setting, sound) of every message these rules may play."""
        actions = {
            "on_max_wait": self.on_max_wait,
            "on_full": self.on_full,
            "on_no_agents": self.on_no_agents,
            "on_closed": self.on_closed,
        }
        return [
            (f"limits.{name}", a.target)
            for name, a in actions.items()
            if a is not None and a.kind is ActionKind.MESSAGE and a.target is not None
        ]

    def targets(self) -> list[str]:
        """Queues these rules may send a caller to."""
        actions = (self.on_max_wait, self.on_full, self.on_no_agents, self.on_closed)
        return [
            a.target
            for a in actions
            if a is not None and a.kind is ActionKind.QUEUE and a.target is not None
        ]
