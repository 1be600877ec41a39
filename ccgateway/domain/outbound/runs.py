"""A campaign at work: its hopper of contacts, its dials in flight, its pacer, its ledger,
its blending reserve and today's counters. The dialer (dialer.py) keeps one per campaign.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.campaigns import Campaign, CampaignState, DialMode, DialOutcome
from ccgateway.domain.outbound.contacts import Contact, Progress
from ccgateway.domain.outbound.ledger import AbandonLedger
from ccgateway.domain.outbound.pacing import Pacer
from ccgateway.domain.outbound.rules import RuleSet
from ccgateway.domain.recording import RecordingPolicy, for_campaign

DIAL_PREFIX = "ob-"  # a dial's id: the customer's channel (never "ccgw-", the agent legs')
LEG_PREFIX = "ccgw-"
EXHAUSTED_RETRY_S = 30.0  # the store had no more due contacts: ask again after this
BLEND_RAISE_EVERY_S = 10.0
BLEND_LOWER_AFTER_S = 60.0


def leg_for(dial_id: str) -> str:
    """An agent-first dial's agent leg has the dial's id in the legs' form, so a restarted
    controller, knowing only the dial (saved with the contact), finds its leg in the PBX."""
    return LEG_PREFIX + dial_id.removeprefix(DIAL_PREFIX)


def dial_for(leg_id: str) -> str:
    return DIAL_PREFIX + leg_id.removeprefix(LEG_PREFIX)


@dataclass(frozen=True, slots=True)
class Entry:
    """A contact loaded to be dialled, with what the store knew of its number."""

    contact: Contact
    progress: Progress
    suppressed_by: str | None = None  # a do-not-call list the number is on


class Stage(StrEnum):
    PREVIEW = "preview"  # shown to an agent, not dialled yet
    AGENT_RINGING = "agent_ringing"  # agent first: the agent's phone rings
    RINGING = "ringing"  # the customer's phone rings
    ANSWERED = "answered"  # answered; AMD is listening
    LIVE = "live"  # a person is on the line, waiting for an agent (the grace)
    CONNECTED = "connected"
    MACHINE = "machine"  # a machine: hung up on, or hearing the campaign's message
    ABANDONED = "abandoned"  # no agent within the grace: hearing the message


@dataclass(slots=True)
class Dial:
    id: str
    campaign_id: str
    entry: Entry
    mode: DialMode
    created_at: float
    stage: Stage
    at_risk: bool = False  # predictive: no agent kept for it
    agent_first: bool = False  # preview and callbacks: the agent's leg dials the customer
    agent_id: str | None = None  # the agent kept for it, then the one who took it
    leg_id: str | None = None  # agent first: the agent's leg
    dialled_at: float | None = None
    answered_at: float | None = None
    live_at: float | None = None
    connected_at: float | None = None
    amd: str = ""
    outcome: DialOutcome | None = None
    detail: str = ""
    restored: bool = False  # put back after a restart: its stage is the PBX's to say

    @property
    def contact(self) -> Contact:
        return self.entry.contact


@dataclass
class Counters:
    """Today's figures of a campaign, counted as dials end (the records have the rest)."""

    dials: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)
    talk_s: float = 0.0
    waits: list[float] = field(default_factory=list)  # person on the line -> agent, seconds
    peak_lines: int = 0

    def ended(self, outcome: DialOutcome) -> None:
        self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1

    def refused(self, rule: str) -> None:
        self.refusals[rule] = self.refusals.get(rule, 0) + 1


@dataclass
class CampaignRun:
    campaign: Campaign
    rules: RuleSet
    pacer: Pacer
    ledger: AbandonLedger
    state: CampaignState = CampaignState.STOPPED
    hopper: deque[Entry] = field(default_factory=deque)
    loading: bool = False
    exhausted_until: float = 0.0
    dials: set[str] = field(default_factory=set)  # in flight (previews included)
    owned: dict[str, list[Entry]] = field(default_factory=dict)  # agent -> their callbacks
    counters: Counters = field(default_factory=Counters)
    reserve: int = 0  # blending: free agents kept for inbound
    reserve_changed_at: float = 0.0
    calm_since: float | None = None  # blending: no inbound caller over the goal since
    why_idle: str = "stopped"

    def count_in_ledger(self, outcome: DialOutcome, at: float) -> None:
        """The abandon ledger counts people reached (and abandoned) and machines; an
        unanswered dial is none of its business."""
        if outcome is DialOutcome.MACHINE:
            self.ledger.machine(at)
        elif outcome in (DialOutcome.CONNECTED, DialOutcome.ABANDONED, DialOutcome.HUNG_UP):
            self.ledger.live(at, abandoned=outcome is DialOutcome.ABANDONED)

    def recording_policy(self, queues: Mapping[str, Queue]) -> RecordingPolicy:
        """How the campaign's calls are recorded (recording.for_campaign)."""
        queue = queues.get(self.campaign.queue_id)
        fallback = queue.recording if queue is not None else RecordingPolicy()
        return for_campaign(self.campaign.recording, fallback, self.rules.recording_needs_consent)

    def ids_in_hand(self) -> set[str]:
        return {entry.contact.id for entry in self.hopper}

    def adjust_reserve(self, longest_inbound_wait: float | None, now: float) -> None:
        """Blending: more agents kept for inbound while an inbound caller waits past the
        goal, fewer after a calm minute (a threshold policy on idle agents)."""
        blend = self.campaign.blend
        if blend is None:
            return
        self.reserve = max(blend.min_reserve, min(blend.max_reserve, self.reserve))
        goal = blend.inbound_wait_goal_s
        if longest_inbound_wait is not None and longest_inbound_wait > goal:
            self.calm_since = None
            if now - self.reserve_changed_at >= BLEND_RAISE_EVERY_S:
                self.reserve = min(blend.max_reserve, self.reserve + 1)
                self.reserve_changed_at = now
            return
        if longest_inbound_wait is not None and longest_inbound_wait > goal / 2:
            self.calm_since = None
            return
        if self.calm_since is None:
            self.calm_since = now
        elif now - self.calm_since >= BLEND_LOWER_AFTER_S and self.reserve > blend.min_reserve:
            self.reserve -= 1
            self.reserve_changed_at = self.calm_since = now
