"""Configuration of the centre: skills, agents and queues as immutable values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ccgateway.domain.errors import InvalidValue

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
EXTENSION_PATTERN = re.compile(r"^[0-9]{1,20}$")
DEVICE_PATTERN = re.compile(r"^(PJSIP|SIP|IAX2|sofia/[a-z0-9_.-]+|user)/[A-Za-z0-9_.@:+-]{1,80}$")
MIN_LEVEL, MAX_LEVEL = 1, 10
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

    def __post_init__(self) -> None:
        check_id("agent", self.id)
        check_id("pbx", self.pbx)
        if not DEVICE_PATTERN.fullmatch(self.device):
            raise InvalidValue(
                f"device {self.device!r} must look like 'PJSIP/agent1' (technology/resource)"
            )
        object.__setattr__(self, "skills", check_levels("agent", self.skills))


@dataclass(frozen=True, slots=True)
class Queue:
    """Where callers wait: reached by an extension, served by agents with the required skills."""

    id: str
    name: str
    extension: str
    requires: Mapping[str, int] = field(default_factory=dict)
    ring_timeout_s: float = 15.0
    wrapup_s: float = 10.0
    pbx: str = DEFAULT_PBX

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
