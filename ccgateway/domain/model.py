"""Configuration of the centre: skills, agents and queues as immutable values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ccgateway.domain.agents import check_capacity
from ccgateway.domain.calendar import Hours
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.queue_policy import Announcements, CallbackPolicy, Limits
from ccgateway.domain.recording import RecordingPolicy
from ccgateway.domain.requirements import (
    ANY,
    Requirement,
    all_of,
    parse_requirement,
    requirement_from_levels,
)

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
EXTENSION_PATTERN = re.compile(r"^[0-9]{1,20}$")
DEVICE_PATTERN = re.compile(r"^(PJSIP|SIP|IAX2|sofia/[a-z0-9_.-]+|user)/[A-Za-z0-9_.@:+-]{1,80}$")
MIN_LEVEL, MAX_LEVEL = 1, 10
ATTRIBUTE_VALUE_PATTERN = re.compile(r"^[^\x00-\x1f\x7f\"']{0,100}$")
MAX_ATTRIBUTES = 32
MAX_RELAXATION_STEPS = 10
MAX_PRIORITY = 100
MAX_TRUNKED_PBXES = 16
# The PBX a queue or an agent lives on, when the controller drives only one.
DEFAULT_PBX = "asterisk"


def check_id(kind: str, value: str) -> str:
    """Ids travel to the PBX and into URLs, so they are kept to a small safe alphabet."""
    if not ID_PATTERN.fullmatch(value):
        raise InvalidValue(
            f"{kind} id {value!r} must be 1-64 characters of a-z, 0-9, '_', '.', '-' "
            "starting with a letter or digit"
        )
    return value


def check_levels(kind: str, levels: Mapping[str, int]) -> Mapping[str, int]:
    for skill, level in levels.items():
        check_id("skill", skill)
        if isinstance(level, bool) or not isinstance(level, int):
            raise InvalidValue(f"{kind} level for skill {skill!r} must be an integer")
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise InvalidValue(
                f"{kind} level for skill {skill!r} is {level}; it must be {MIN_LEVEL}-{MAX_LEVEL}"
            )
    return MappingProxyType(dict(levels))


def check_attributes(attributes: Mapping[str, str]) -> Mapping[str, str]:
    """Attributes (language, team, site...) are compared as strings by queue requirements."""
    if len(attributes) > MAX_ATTRIBUTES:
        raise InvalidValue(f"an agent has at most {MAX_ATTRIBUTES} attributes")
    for name, value in attributes.items():
        check_id("attribute", name)
        if not isinstance(value, str) or not ATTRIBUTE_VALUE_PATTERN.fullmatch(value):
            raise InvalidValue(
                f"attribute {name!r} must be text of at most 100 characters "
                "without quotes or control characters"
            )
    return MappingProxyType(dict(attributes))


def check_priority(priority: int) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidValue("priority must be an integer")
    if not 0 <= priority <= MAX_PRIORITY:
        raise InvalidValue(f"priority is {priority}; it must be 0-{MAX_PRIORITY} (higher first)")
    return priority


class Strategy(StrEnum):
    """How a queue picks among the free agents who qualify for its call."""

    LONGEST_IDLE = "longest_idle"
    MOST_SKILLED = "most_skilled"  # highest sum of levels in the skills the queue asks for
    LEAST_OCCUPIED = "least_occupied"  # lowest share of staffed time spent handling calls
    ROUND_ROBIN = "round_robin"  # next agent id after the one this queue offered to last


@dataclass(frozen=True, slots=True)
class Skill:
    id: str
    name: str

    def __post_init__(self) -> None:
        check_id("skill", self.id)


@dataclass(frozen=True, slots=True)
class Agent:
    """A person who takes calls on one device (a SIP desk phone or softphone)."""

    id: str
    name: str
    device: str
    skills: Mapping[str, int] = field(default_factory=dict)
    pbx: str = DEFAULT_PBX
    attributes: Mapping[str, str] = field(default_factory=dict)
    # Non-voice items handled at once, per channel, where this agent differs from the
    # centre's default (AgentPolicy.capacity); 0 keeps a channel away from the agent.
    capacity: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_id("agent", self.id)
        object.__setattr__(self, "attributes", check_attributes(self.attributes))
        object.__setattr__(self, "capacity", check_capacity(self.capacity))
        check_id("pbx", self.pbx)
        if not DEVICE_PATTERN.fullmatch(self.device):
            raise InvalidValue(
                f"device {self.device!r} must look like 'PJSIP/agent1' (technology/resource)"
            )
        object.__setattr__(self, "skills", check_levels("agent", self.skills))


@dataclass(frozen=True, slots=True)
class RelaxationStep:
    """What changes for a caller once they have waited `after_s` in the queue.

    A step's `requirement` replaces the queue's whole requirement (skill levels and
    expression), so it can widen the pool; `priority_boost` adds to the caller's priority
    (ageing); `overflow_to` moves the caller to another queue, keeping their place (arrival
    time) and priority. Steps apply to callers already waiting, as their wait crosses `after_s`.
    """

    after_s: float
    requirement: str | None = None
    priority_boost: int = 0
    overflow_to: str | None = None
    compiled: Requirement | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not 1.0 <= self.after_s <= 86400.0:
            raise InvalidValue("a relaxation step's after_s must be 1-86400 seconds")
        if not 0 <= self.priority_boost <= MAX_PRIORITY:
            raise InvalidValue(f"priority_boost must be 0-{MAX_PRIORITY}")
        if self.overflow_to is not None:
            check_id("queue", self.overflow_to)
        if self.requirement is not None:
            object.__setattr__(self, "compiled", parse_requirement(self.requirement))
        if self.requirement is None and self.overflow_to is None and not self.priority_boost:
            raise InvalidValue(
                "a relaxation step must change something: requirement, priority_boost "
                "or overflow_to"
            )


@dataclass(frozen=True, slots=True)
class Queue:
    """Where callers wait: reached by an extension, served by agents who meet its requirement.

    The requirement is the skill levels in `requires` and the expression in `requirement`
    together; `relaxation` changes it (or moves the caller) as the wait grows.
    """

    id: str
    name: str
    extension: str
    requires: Mapping[str, int] = field(default_factory=dict)
    ring_timeout_s: float = 15.0
    wrapup_s: float = 10.0
    pbx: str = DEFAULT_PBX
    requirement: str = ""
    strategy: Strategy = Strategy.LONGEST_IDLE
    weight: float = 1.0
    priority: int = 0
    relaxation: tuple[RelaxationStep, ...] = ()
    # Last-agent routing: a caller this queue's agents served within `last_agent_within_s`
    # waits up to `last_agent_wait_s` for that agent before anyone else may take them.
    last_agent_wait_s: float = 0.0
    last_agent_within_s: float = 86400.0
    limits: Limits = field(default_factory=Limits)
    hours: Hours | None = None  # None: always open
    announce: Announcements = field(default_factory=Announcements)
    callback: CallbackPolicy = field(default_factory=CallbackPolicy)
    recording: RecordingPolicy = field(default_factory=RecordingPolicy)
    # Other PBXs whose agents may take this queue's callers, rung over a trunk from the
    # queue's PBX (the PBX's `trunks` setting names it); empty: only agents on `pbx`.
    trunked_pbxes: tuple[str, ...] = ()
    compiled: Requirement = field(default=ANY, init=False, compare=False, repr=False)
    # `pbx` and `trunked_pbxes`: the PBXs whose agents may be offered this queue's callers.
    scope: frozenset[str] = field(default=frozenset(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        check_id("queue", self.id)
        check_id("pbx", self.pbx)
        if not EXTENSION_PATTERN.fullmatch(self.extension):
            raise InvalidValue(f"extension {self.extension!r} must be 1-20 digits")
        if not 5.0 <= self.ring_timeout_s <= 120.0:
            raise InvalidValue("ring_timeout_s must be between 5 and 120 seconds")
        if not 0.0 <= self.wrapup_s <= 3600.0:
            raise InvalidValue("wrapup_s must be between 0 and 3600 seconds")
        object.__setattr__(self, "requires", check_levels("queue", self.requires))
        object.__setattr__(self, "strategy", Strategy(self.strategy))
        if not 0.1 <= self.weight <= 100.0:
            raise InvalidValue("weight must be between 0.1 and 100 (1 is neutral)")
        check_priority(self.priority)
        if not 0.0 <= self.last_agent_wait_s <= 600.0:
            raise InvalidValue("last_agent_wait_s must be 0 (off) to 600 seconds")
        if not 60.0 <= self.last_agent_within_s <= 30 * 86400.0:
            raise InvalidValue("last_agent_within_s must be 60 seconds to 30 days")
        expression = parse_requirement(self.requirement) if self.requirement.strip() else ANY
        object.__setattr__(
            self, "compiled", all_of(requirement_from_levels(self.requires), expression)
        )
        object.__setattr__(self, "relaxation", tuple(self.relaxation))
        if len(self.relaxation) > MAX_RELAXATION_STEPS:
            raise InvalidValue(f"a queue has at most {MAX_RELAXATION_STEPS} relaxation steps")
        times = [step.after_s for step in self.relaxation]
        if times != sorted(set(times)):
            raise InvalidValue("relaxation steps must have strictly increasing after_s")
        for step in self.relaxation:
            if step.overflow_to == self.id:
                raise InvalidValue("a queue cannot overflow to itself")
        if self.id in self.limits.targets():
            raise InvalidValue("a queue's limits cannot send callers to the queue itself")
        object.__setattr__(self, "trunked_pbxes", tuple(self.trunked_pbxes))
        for pbx in self.trunked_pbxes:
            check_id("pbx", pbx)
        if len(self.trunked_pbxes) > MAX_TRUNKED_PBXES:
            raise InvalidValue(f"a queue names at most {MAX_TRUNKED_PBXES} trunked_pbxes")
        if self.pbx in self.trunked_pbxes or len(set(self.trunked_pbxes)) != len(
            self.trunked_pbxes
        ):
            raise InvalidValue("trunked_pbxes names other PBXs than the queue's own, each once")
        object.__setattr__(self, "scope", frozenset((self.pbx, *self.trunked_pbxes)))

    def sends_to(self) -> list[str]:
        """Every queue this one may move a caller to (overflow steps and limit actions)."""
        steps = [s.overflow_to for s in self.relaxation if s.overflow_to is not None]
        return steps + self.limits.targets()

    def sounds(self) -> list[tuple[str, str]]:
        """(setting, sound) of every sound this queue may play: its messages, its comfort
        sound, its recording notice. Each PBX gives sounds its own meaning (FreeSWITCH's
        adapter refuses, when the queue is saved, one it could not play)."""
        found = self.limits.sounds()
        if self.announce.comfort is not None:
            found.append(("announce.comfort", self.announce.comfort))
        if self.recording.notice is not None:
            found.append(("recording.notice", self.recording.notice))
        return found

    def requirement_at(self, step: int) -> Requirement:
        """The requirement after the first `step` relaxation steps have applied."""
        for applied in reversed(self.relaxation[:step]):
            if applied.compiled is not None:
                return applied.compiled
        return self.compiled

    def boost_at(self, step: int) -> int:
        return sum(applied.priority_boost for applied in self.relaxation[:step])
