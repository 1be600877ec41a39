"""The dialer's immutable records: every dial, every disposition, every refusal to dial.

They are written once and never changed (the stores have no update path, and the tables
refuse updates): a disposition given after the call is a record of its own, pointing at the
dial. Kept for the law (US: call records with dispositions for 5 years) and for figures.
The one change the tables allow is an erasure's, once: the person's number, contact id,
answers and notes replaced by `ERASED`, the times and outcomes (what the abandon-rate
ledgers count) left as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ccgateway.domain.outbound.campaigns import DialMode, DialOutcome

# What stands in a record for a person erased from it (domain/privacy.py).
ERASED = "erased"


@dataclass(frozen=True, slots=True)
class DialRecord:
    id: str  # the dial's id: the PBX's id of the customer's channel
    campaign_id: str
    contact_id: str
    number: str
    rule_set_id: str
    mode: DialMode
    caller_id: str
    dialled_at: float
    ended_at: float
    outcome: DialOutcome
    answered_at: float | None = None  # the line was answered (a person or a machine)
    live_at: float | None = None  # a person was on the line (AMD's verdict, if any)
    connected_at: float | None = None  # an agent was with them
    agent_id: str | None = None
    amd: str = ""  # "", "human", "machine", "notsure"
    at_risk: bool = False  # placed by predictive pacing, no agent kept for it
    detail: str = ""

    @property
    def ring_s(self) -> float:
        end = self.answered_at if self.answered_at is not None else self.ended_at
        return round(end - self.dialled_at, 3)

    @property
    def wait_s(self) -> float | None:
        """From the person on the line to the agent (the 2 s rule), if connected."""
        if self.live_at is None or self.connected_at is None:
            return None
        return round(self.connected_at - self.live_at, 3)

    @property
    def talk_s(self) -> float:
        return round(self.ended_at - self.connected_at, 3) if self.connected_at else 0.0


@dataclass(frozen=True, slots=True)
class DispositionRecord:
    dial_id: str
    campaign_id: str
    contact_id: str
    agent_id: str
    code: str
    at: float
    answers: Mapping[str, str | float | bool] = field(default_factory=dict)
    note: str = ""
    callback_at: float | None = None
    callback_agent_id: str | None = None  # None with callback_at: anyone may call back


@dataclass(frozen=True, slots=True)
class RefusalRecord:
    campaign_id: str
    contact_id: str
    number: str
    rule: str
    detail: str
    at: float
    retry_at: float | None
