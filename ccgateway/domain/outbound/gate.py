"""The law at the moment of dialling: each contact taken for a call is checked
(compliance.py) against the campaign's rule set, the dialer's do-not-call knowledge and
the numbers' recent dials; a refusal is recorded and the contact moved on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ccgateway.domain.commands import Command
from ccgateway.domain.outbound.campaigns import DialMode
from ccgateway.domain.outbound.commands import RecordRefusal, SaveProgress
from ccgateway.domain.outbound.compliance import DialContext, Refusal, check
from ccgateway.domain.outbound.contacts import ContactState
from ccgateway.domain.outbound.records import RefusalRecord
from ccgateway.domain.outbound.runs import CampaignRun, Entry
from ccgateway.domain.outbound.state import DialerState

MAX_REFUSALS_PER_PACE = 200  # refusals recorded in one pacing round, at most


@dataclass(eq=False)
class Gate:
    state: DialerState

    def next_entry(
        self, run: CampaignRun, mode: DialMode, now: float
    ) -> tuple[Entry | None, list[Command]]:
        """The next contact that may be dialled now, recording every refusal on the way."""
        out: list[Command] = []
        refused = 0
        while run.hopper and refused < MAX_REFUSALS_PER_PACE:
            entry = run.hopper.popleft()
            refusal = self.check(run, entry, mode, now)
            if refusal is None:
                return entry, out
            refused += 1
            out += self.refused(run, entry, refusal, now)
        return None, out

    def check(self, run: CampaignRun, entry: Entry, mode: DialMode, now: float) -> Refusal | None:
        """Why the contact may not be dialled now, or None."""
        number = entry.contact.number
        ctx = DialContext(
            run.campaign,
            run.rules,
            now,
            mode,
            suppressed_by=entry.suppressed_by or self.state.suppressed.get(number),
            screened_at={r: self.state.screened.get(r) for r in run.rules.registers},
        )
        return check(entry.contact, entry.progress, self.state.log, ctx)

    def refused(
        self, run: CampaignRun, entry: Entry, refusal: Refusal, now: float
    ) -> list[Command]:
        """The refusal's record, and the contact moved on: suppressed, done, or due again
        when the rule allows."""
        run.counters.refused(refusal.rule)
        contact, progress = entry.contact, entry.progress
        if refusal.rule == "suppressed":
            state = ContactState.SUPPRESSED
        elif refusal.final:
            state = ContactState.DONE
        else:
            state = ContactState.SCHEDULED
        moved = dataclasses.replace(
            progress,
            state=state,
            next_at=refusal.retry_at,
            last_outcome=f"refused: {refusal.rule}",
            updated_at=now,
        )
        record = RefusalRecord(
            run.campaign.id,
            contact.id,
            contact.number,
            refusal.rule,
            refusal.detail,
            now,
            refusal.retry_at,
        )
        return [RecordRefusal(record), SaveProgress(moved)]
