"""Everything the live dialer knows, in one place: the parts of the dialer (book.py,
placer.py, gate.py, launch.py, tracker.py, agent_first.py, settler.py, recovery.py) each
hold this one object rather than copies, so what one part writes the next reads, and a
test or a view reads the same.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass, field

from ccgateway.domain.errors import NotFound
from ccgateway.domain.outbound.contacts import DialLog, Progress
from ccgateway.domain.outbound.records import ERASED, DialRecord
from ccgateway.domain.outbound.rules import PRESETS, RuleSet
from ccgateway.domain.outbound.runs import CampaignRun, Dial


def _presets() -> dict[str, RuleSet]:
    return dict(PRESETS)


@dataclass(eq=False)
class DialerState:
    rule_sets: dict[str, RuleSet] = field(default_factory=_presets)
    runs: dict[str, CampaignRun] = field(default_factory=dict)
    dials: dict[str, Dial] = field(default_factory=dict)  # in flight, previews included
    legs: dict[str, str] = field(default_factory=dict)  # agent-first leg -> dial id
    log: DialLog = field(default_factory=DialLog)
    suppressed: dict[str, str] = field(default_factory=dict)  # number -> the list
    screened: dict[str, float] = field(default_factory=dict)  # register -> when screened
    # Ended dials kept for a late disposition, with the contact's progress at their end.
    ended: OrderedDict[str, DialRecord] = field(default_factory=OrderedDict)
    progress: dict[str, Progress] = field(default_factory=dict)
    disposed: set[str] = field(default_factory=set)
    agent_campaign: dict[str, str] = field(default_factory=dict)  # agent -> last call's campaign

    def run(self, campaign_id: str) -> CampaignRun:
        """The campaign's run; NotFound for a campaign the dialer does not have."""
        run = self.runs.get(campaign_id)
        if run is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        return run

    def dial_for_leg(self, leg_id: str) -> Dial | None:
        dial_id = self.legs.get(leg_id)
        return self.dials.get(dial_id) if dial_id is not None else None

    def lines(self, run: CampaignRun) -> int:
        """The run's calls out (previews not dialled yet are not lines)."""
        return sum(1 for d in run.dials if self.dials[d].dialled_at is not None)

    def forget(self, number: str) -> tuple[int, frozenset[str]]:
        """A person erased: their contacts out of every hopper, their number out of the
        dial log and the in-memory do-not-call list (the store holds its pseudonym now),
        their ended dials' records without them. How many contacts left the hoppers, and
        the dials of theirs still live or awaiting a disposition."""
        self.suppressed.pop(number, None)
        self.log.forget(number)
        removed = 0
        for run in self.runs.values():
            kept = [e for e in run.hopper if e.contact.number != number]
            removed += len(run.hopper) - len(kept)
            run.hopper.clear()
            run.hopper.extend(kept)
        dials = {d.id for d in self.dials.values() if d.contact.number == number}
        for dial_id, record in self.ended.items():
            if record.number == number:
                self.ended[dial_id] = dataclasses.replace(
                    record, number=ERASED, contact_id=ERASED, detail=""
                )
                dials.add(dial_id)
        return removed, frozenset(dials)

    def suppress(self, number: str, why: str) -> None:
        """A number goes on a do-not-call list (an objection, an import): no campaign
        dials it from now on, even if it is already loaded."""
        self.suppressed[number] = why
        for run in self.runs.values():
            kept = [e for e in run.hopper if e.contact.number != number]
            run.hopper.clear()
            run.hopper.extend(kept)
