"""A campaign: whom it calls for what, how, under which law, and what its agents record.

A campaign is staffed through a queue: the agents who meet the queue's requirement take its
calls, and a person who answers joins that queue's line (at the campaign's `live_priority`,
above inbound callers by default: the law gives them 2 s) until an agent takes them or the
PBX plays the campaign's message. The campaign's state is what a supervisor set (running,
paused, stopped); whether it dials at this moment also depends on its schedule (its hours
and dates), on the PBX, and on its agents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ccgateway.domain.calendar import Hours
from ccgateway.domain.errors import InvalidTransition, InvalidValue
from ccgateway.domain.model import check_id, check_priority
from ccgateway.domain.outbound.contacts import check_e164
from ccgateway.domain.outbound.rules import LineType, Purpose, RuleSet
from ccgateway.domain.outbound.scripts import Script
from ccgateway.domain.queue_policy import check_sound
from ccgateway.domain.recording import RecordingPolicy

MAX_DISPOSITIONS = 60


class DialMode(StrEnum):
    PREVIEW = "preview"  # the agent sees the contact, then dials or skips
    PROGRESSIVE = "progressive"  # one call per free agent, the agent kept for it
    PREDICTIVE = "predictive"  # paced by the model: more calls than free agents


class CampaignState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    PAUSED = "paused"


TRANSITIONS = {
    ("start", CampaignState.STOPPED): CampaignState.RUNNING,
    ("start", CampaignState.PAUSED): CampaignState.RUNNING,
    ("start", CampaignState.RUNNING): CampaignState.RUNNING,
    ("pause", CampaignState.RUNNING): CampaignState.PAUSED,
    ("pause", CampaignState.PAUSED): CampaignState.PAUSED,
    ("stop", CampaignState.RUNNING): CampaignState.STOPPED,
    ("stop", CampaignState.PAUSED): CampaignState.STOPPED,
    ("stop", CampaignState.STOPPED): CampaignState.STOPPED,
}


def next_state(state: CampaignState, action: str) -> CampaignState:
    found = TRANSITIONS.get((action, state))
    if found is None:
        if action not in {a for a, _ in TRANSITIONS}:
            raise InvalidValue(f"a campaign is started, paused or stopped, not {action!r}")
        raise InvalidTransition(f"a {state.value} campaign cannot {action}")
    return found


class MachineAction(StrEnum):
    HANG_UP = "hang_up"
    MESSAGE = "message"  # leave the campaign's recorded message after the greeting


@dataclass(frozen=True, slots=True)
class Amd:
    """Answering-machine detection (Asterisk's AMD()).

    `false_positive_share` is the campaign's reasoned estimate of the people AMD takes for a
    machine (from listening to a sample of machine verdicts): the UK ledger counts them as
    abandoned calls.
    """

    enabled: bool = False
    machine_action: MachineAction = MachineAction.HANG_UP
    machine_message: str | None = None
    false_positive_share: float = 0.03

    def __post_init__(self) -> None:
        if not 0.0 <= self.false_positive_share <= 0.5:
            raise InvalidValue("amd.false_positive_share is a share between 0 and 0.5")
        if self.machine_message is not None:
            check_sound(self.machine_message)
        if self.machine_action is MachineAction.MESSAGE and self.machine_message is None:
            raise InvalidValue("amd.machine_action message needs amd.machine_message (a sound)")


class DialOutcome(StrEnum):
    """How one dial ended."""

    CONNECTED = "connected"  # a person, put through to an agent
    ABANDONED = "abandoned"  # a person, no agent within the grace: the message played
    HUNG_UP = "hung_up"  # a person who hung up within the grace, before an agent came
    MACHINE = "machine"  # AMD said answering machine
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # invalid number, congestion, the trunk refused
    SKIPPED = "skipped"  # preview: the agent skipped the contact (no dial)
    LOST = "lost"  # the controller lost sight of it (a restart while ringing)


RETRYABLE = (
    DialOutcome.BUSY,
    DialOutcome.NO_ANSWER,
    DialOutcome.MACHINE,
    DialOutcome.ABANDONED,
    DialOutcome.HUNG_UP,
    DialOutcome.FAILED,
    DialOutcome.LOST,
)


@dataclass(frozen=True, slots=True)
class Retry:
    after_s: float
    times: int  # retries after this outcome (0: give up on the contact)

    def __post_init__(self) -> None:
        if not 60.0 <= self.after_s <= 30 * 86400.0:
            raise InvalidValue("a retry comes 60 s to 30 days later")
        if isinstance(self.times, bool) or not 0 <= self.times <= 50:
            raise InvalidValue("a retry is made 0-50 times")


DEFAULT_RETRIES: Mapping[DialOutcome, Retry] = MappingProxyType(
    {
        DialOutcome.BUSY: Retry(600.0, 5),
        DialOutcome.NO_ANSWER: Retry(3 * 3600.0, 5),
        DialOutcome.MACHINE: Retry(4 * 3600.0, 3),
        DialOutcome.ABANDONED: Retry(72 * 3600.0, 2),  # an agent guaranteed before 72 h
        DialOutcome.HUNG_UP: Retry(3600.0, 2),
        DialOutcome.FAILED: Retry(3600.0, 1),  # once: a congested network, not a bad number
        DialOutcome.LOST: Retry(600.0, 3),
    }
)


@dataclass(frozen=True, slots=True)
class Disposition:
    """What the agent records at the end of a conversation."""

    code: str
    label: str
    final: bool = True  # the contact is done in this campaign
    retry_after_s: float | None = None  # not final: call again after this (unless a callback)
    do_not_call: bool = False  # the person objected: suppressed in every campaign
    callback: bool = False  # the agent sets a time (and maybe keeps the callback)

    def __post_init__(self) -> None:
        check_id("disposition", self.code)
        if not 1 <= len(self.label) <= 100:
            raise InvalidValue(f"disposition {self.code}: its label is 1-100 characters")
        if self.final and (self.retry_after_s is not None or self.callback):
            raise InvalidValue(
                f"disposition {self.code}: a final one is neither retried nor called back"
            )
        if self.retry_after_s is not None and not 60.0 <= self.retry_after_s <= 90 * 86400.0:
            raise InvalidValue(f"disposition {self.code}: retry_after_s is 60 s to 90 days")
        if self.do_not_call and not self.final:
            raise InvalidValue(f"disposition {self.code}: do-not-call is final")


DEFAULT_DISPOSITIONS = (
    Disposition("sale", "Sale / success"),
    Disposition("not_interested", "Not interested"),
    Disposition("callback", "Call back", final=False, callback=True),
    Disposition("call_later", "Call again later", final=False, retry_after_s=86400.0),
    Disposition("wrong_number", "Wrong number"),
    Disposition("do_not_call", "Do not call", do_not_call=True),
)


@dataclass(frozen=True, slots=True)
class Blend:
    """Blended agents: inbound first. While a caller waits in one of the inbound queues the
    campaign places no call; otherwise it counts only the free agents above a reserve kept
    for inbound callers. The reserve grows while inbound callers wait past the goal and
    shrinks after a calm minute (a threshold policy on idle agents, Bhulai and Koole)."""

    inbound_queue_ids: tuple[str, ...] = ()
    min_reserve: int = 1
    max_reserve: int = 20
    inbound_wait_goal_s: float = 20.0  # the inbound queues' service-level threshold

    def __post_init__(self) -> None:
        if not self.inbound_queue_ids:
            raise InvalidValue("blend names the inbound queues it must not hurt")
        for queue_id in self.inbound_queue_ids:
            check_id("queue", queue_id)
        if not 0 <= self.min_reserve <= self.max_reserve <= 500:
            raise InvalidValue("blend: 0 <= min_reserve <= max_reserve <= 500")
        if not 1.0 <= self.inbound_wait_goal_s <= 3600.0:
            raise InvalidValue("blend.inbound_wait_goal_s is 1-3600 seconds")


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    name: str
    purpose: Purpose
    rule_set_id: str
    mode: DialMode
    queue_id: str
    caller_id: str  # E.164: a number that can be called back (UK, US, DE)
    abandon_message: str  # the information message of the 2 s rule (a sound)
    caller_name: str = ""
    ring_s: float = 20.0
    abandon_target: float | None = None  # the pacer's own cap; at most the rule set's
    amd: Amd = field(default_factory=Amd)
    retries: Mapping[DialOutcome, Retry] = field(default_factory=lambda: DEFAULT_RETRIES)
    dispositions: tuple[Disposition, ...] = DEFAULT_DISPOSITIONS
    script: Script = field(default_factory=Script)
    hours: Hours | None = None  # when the campaign dials (its own zone); the callee's window too
    starts_at: float | None = None
    ends_at: float | None = None
    max_lines: int | None = None  # calls being dialled at once (ringing, AMD, the grace)
    live_priority: int = 100
    preview_timeout_s: float = 60.0  # a preview not answered by then is skipped
    blend: Blend | None = None
    pbx: str = "asterisk"
    recording: RecordingPolicy | None = None  # None: the queue's (recording.for_campaign)

    def __post_init__(self) -> None:
        check_id("campaign", self.id)
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,63}", self.id) or self.id == "failed":
            # the PBX's dialplan takes the campaign as an extension (ccgw-outbound): one
            # character would be a special one (h, s, t), "failed" is the originate's
            raise InvalidValue(
                f"campaign id {self.id!r}: 2-64 of a-z, 0-9, '_', '-', and not 'failed'"
            )
        check_id("rule set", self.rule_set_id)
        check_id("queue", self.queue_id)
        check_id("pbx", self.pbx)
        if not 1 <= len(self.name) <= 100:
            raise InvalidValue("a campaign's name is 1-100 characters")
        check_e164(self.caller_id, "caller ID")
        check_sound(self.abandon_message)
        if len(self.caller_name) > 40 or not all(
            c.isalnum() or c in " .-'&" for c in self.caller_name
        ):
            raise InvalidValue("caller_name is at most 40 letters, digits, spaces and . - ' &")
        if not 5.0 <= self.ring_s <= 180.0:
            raise InvalidValue("ring_s is 5-180 seconds")
        if self.abandon_target is not None and not 0.0 <= self.abandon_target <= 0.5:
            raise InvalidValue("abandon_target is a share between 0 and 0.5")
        if self.max_lines is not None and not 1 <= self.max_lines <= 5000:
            raise InvalidValue("max_lines is 1-5000")
        check_priority(self.live_priority)
        if not 5.0 <= self.preview_timeout_s <= 3600.0:
            raise InvalidValue("preview_timeout_s is 5-3600 seconds")
        if (
            self.starts_at is not None
            and self.ends_at is not None
            and self.ends_at <= self.starts_at
        ):
            raise InvalidValue("a campaign ends after it starts")
        if len(self.dispositions) > MAX_DISPOSITIONS or not self.dispositions:
            raise InvalidValue(f"a campaign has 1-{MAX_DISPOSITIONS} dispositions")
        codes = [d.code for d in self.dispositions]
        if len(set(codes)) != len(codes):
            raise InvalidValue("disposition codes must be distinct")
        unknown = set(self.retries) - set(RETRYABLE)
        if unknown:
            raise InvalidValue(f"no retry for {', '.join(sorted(o.value for o in unknown))}")
        object.__setattr__(self, "retries", MappingProxyType({**DEFAULT_RETRIES, **self.retries}))
        if self.blend is not None and self.queue_id in self.blend.inbound_queue_ids:
            raise InvalidValue("blend: the campaign's own queue is not an inbound queue")
        if self.recording is not None and self.recording.notice is not None:
            raise InvalidValue(
                "recording: a campaign's calls hear no notice before the agent (the "
                "2-second rule leaves no time): the script says it"
            )

    def check_against(self, rules: RuleSet) -> None:
        """What the campaign's own settings must meet under its rule set (checked when it
        is saved and when it starts): ring long enough and not too long, the target within
        the law's cap, a purpose the rule set allows (the caller ID is checked when the
        campaign is made)."""
        if self.ring_s < rules.min_ring_s:
            raise InvalidValue(
                f"{rules.id}: ring at least {rules.min_ring_s:g} s, not {self.ring_s:g}"
            )
        if rules.max_ring_s is not None and self.ring_s > rules.max_ring_s:
            raise InvalidValue(
                f"{rules.id}: ring at most {rules.max_ring_s:g} s, not {self.ring_s:g}"
            )
        limit = rules.abandon_limit
        if limit is not None and self.abandon_target is not None and self.abandon_target > limit:
            raise InvalidValue(
                f"{rules.id}: abandon_target {self.abandon_target:g} is above the law's {limit:g}"
            )
        if rules.accepted_bases(self.purpose, LineType.MOBILE) is None:
            raise InvalidValue(f"{rules.id} allows no {self.purpose.value} calls")

    def target(self, rules: RuleSet) -> float:
        """The abandon rate the pacer keeps under: the campaign's, else the law's, else 3 %."""
        if self.abandon_target is not None:
            return self.abandon_target
        return rules.abandon_limit if rules.abandon_limit is not None else 0.03

    def disposition(self, code: str) -> Disposition:
        for disposition in self.dispositions:
            if disposition.code == code:
                return disposition
        raise InvalidValue(
            f"campaign {self.id} has no disposition {code!r}; "
            f"it has {', '.join(d.code for d in self.dispositions)}"
        )

    def in_schedule(self, now: float) -> bool:
        if self.starts_at is not None and now < self.starts_at:
            return False
        if self.ends_at is not None and now >= self.ends_at:
            return False
        return self.hours is None or self.hours.is_open(now)
