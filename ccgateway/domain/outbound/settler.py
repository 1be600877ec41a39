"""The end of a dial: its record, the contact's next step by the campaign's retries, the
abandon ledger and the pacer learning from it, then the agent's disposition and the
script's answers, which may change that next step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from ccgateway.domain.agents import AgentState, Trigger
from ccgateway.domain.commands import Command, Interaction, Outcome, RecordInteraction
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.campaigns import Campaign, DialOutcome
from ccgateway.domain.outbound.commands import (
    RecordDial,
    RecordDisposition,
    SaveProgress,
    SuppressNumber,
)
from ccgateway.domain.outbound.contacts import ContactState, Progress
from ccgateway.domain.outbound.notices import dial_notice
from ccgateway.domain.outbound.pacing import DialEnd
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord
from ccgateway.domain.outbound.runs import Dial, Stage
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.outbound.steps import DialSteps

DISPOSE_WITHIN = 20_000  # recent ended dials kept for a late disposition
PACER_ENDS = {
    DialOutcome.MACHINE: DialEnd.MACHINE,
    DialOutcome.NO_ANSWER: DialEnd.NO_ANSWER,
    DialOutcome.BUSY: DialEnd.BUSY,
    DialOutcome.FAILED: DialEnd.BUSY,
}


@dataclass(eq=False)
class Settler:
    state: DialerState
    floor: Floor
    steps: DialSteps

    def finish(self, dial: Dial, outcome: DialOutcome, now: float) -> list[Command]:
        """The dial is over: its record, the contact's next step, the agent's wrap-up."""
        state = self.state
        run = state.runs.get(dial.campaign_id)
        self.steps.forget(dial)
        out: list[Command] = []
        if dial.agent_first or dial.stage is not Stage.CONNECTED:
            wrapup = outcome is DialOutcome.CONNECTED
            out += self.steps.release(
                dial, Trigger.HANG_UP if wrapup else Trigger.WITHDRAW, now, wrapup=wrapup
            )
        if run is None or dial.dialled_at is None:
            return out
        pacer_end = PACER_ENDS.get(outcome)
        if pacer_end is not None and dial.stage in (Stage.RINGING, Stage.ANSWERED):
            run.pacer.dial_ended(pacer_end, now - dial.dialled_at)
        record = DialRecord(
            id=dial.id,
            campaign_id=dial.campaign_id,
            contact_id=dial.contact.id,
            number=dial.contact.number,
            rule_set_id=run.rules.id,
            mode=dial.mode,
            caller_id=run.campaign.caller_id,
            dialled_at=dial.dialled_at,
            ended_at=now,
            outcome=outcome,
            answered_at=dial.answered_at,
            live_at=dial.live_at,
            connected_at=dial.connected_at,
            agent_id=dial.agent_id if dial.connected_at is not None else None,
            amd=dial.amd,
            at_risk=dial.at_risk,
            detail=dial.detail,
        )
        run.counters.ended(outcome)
        run.counters.talk_s += record.talk_s
        progress = next_step(run.campaign, dial.entry.progress, outcome, now)
        state.ended[dial.id] = record
        state.progress[dial.id] = progress
        while len(state.ended) > DISPOSE_WITHIN:
            old, _ = state.ended.popitem(last=False)
            state.progress.pop(old, None)
            state.disposed.discard(old)
        out += [
            RecordDial(record),
            SaveProgress(progress),
            dial_notice(dial, "ended", outcome=outcome),
        ]
        if dial.agent_first and dial.connected_at is not None:
            out.append(RecordInteraction(self._interaction(record)))
        return out

    def _interaction(self, record: DialRecord) -> Interaction:
        """An agent-first call's record for the agents' figures (customer-first calls go
        through the call desk, which writes one)."""
        queue_id = self.state.runs[record.campaign_id].campaign.queue_id
        assert record.connected_at is not None
        return Interaction(
            call_id=record.id,
            queue_id=queue_id,
            agent_id=record.agent_id,
            caller_number=record.number,
            outcome=Outcome.ANSWERED,
            arrived_at=record.dialled_at,
            answered_at=record.connected_at,
            ended_at=record.ended_at,
            wait_s=0.0,
            talk_s=record.talk_s,
            offers=1,
            detail=f"campaign {record.campaign_id}",
            kind="outbound",
        )

    def dispose(
        self,
        dial_id: str,
        agent_id: str,
        code: str,
        answers: Mapping[str, object],
        note: str,
        callback_at: float | None,
        callback_agent_id: str | None,
        now: float,
    ) -> tuple[DispositionRecord, list[Command]]:
        """The agent's disposition of a conversation that has ended, with the script's
        answers; it decides the contact's next step."""
        state = self.state
        record = state.ended.get(dial_id)
        if record is None:
            if dial_id in state.dials:
                raise Conflict(f"dial {dial_id} is still going on: dispose of it when it ends")
            raise NotFound(f"no recent dial {dial_id!r}")
        if record.agent_id != agent_id:
            raise Conflict(f"dial {dial_id} was taken by {record.agent_id}, not {agent_id}")
        if dial_id in state.disposed:
            raise Conflict(f"dial {dial_id} has a disposition already")
        run = state.run(record.campaign_id)
        disposition = run.campaign.disposition(code)
        checked = run.campaign.script.check_answers(answers)
        if len(note) > 2000:
            raise InvalidValue("a disposition's note is at most 2000 characters")
        if disposition.callback:
            if callback_at is None or not now < callback_at <= now + 90 * 86400.0:
                raise InvalidValue(f"disposition {code} needs callback_at within the next 90 days")
            if callback_agent_id is not None:
                self.floor.directory.agent(callback_agent_id)
        elif callback_at is not None or callback_agent_id is not None:
            raise InvalidValue(f"disposition {code} is not a callback: no callback_at")
        progress = state.progress[dial_id]
        out: list[Command] = []
        if disposition.do_not_call:
            moved = dataclasses.replace(progress, state=ContactState.SUPPRESSED, next_at=None)
            state.suppress(record.number, f"objection ({run.campaign.id})")
            out.append(
                SuppressNumber(record.number, f"objection in campaign {run.campaign.id}", now)
            )
        elif disposition.callback:
            moved = dataclasses.replace(
                progress,
                state=ContactState.SCHEDULED,
                next_at=callback_at,
                callback_at=callback_at,
                callback_agent_id=callback_agent_id,
            )
        elif disposition.retry_after_s is not None:
            moved = dataclasses.replace(
                progress, state=ContactState.SCHEDULED, next_at=now + disposition.retry_after_s
            )
        else:
            moved = dataclasses.replace(progress, state=ContactState.DONE, next_at=None)
        moved = dataclasses.replace(moved, last_outcome=f"disposition: {code}", updated_at=now)
        state.progress[dial_id] = moved
        state.disposed.add(dial_id)
        result = DispositionRecord(
            dial_id,
            record.campaign_id,
            record.contact_id,
            agent_id,
            code,
            now,
            checked,
            note,
            callback_at,
            callback_agent_id,
        )
        out += [RecordDisposition(result), SaveProgress(moved)]
        status = self.floor.status.get(agent_id)
        waiting_on_this = status is not None and status.call_id in (dial_id, None)
        if status is not None and status.state is AgentState.WRAP_UP and waiting_on_this:
            self.floor.apply(agent_id, Trigger.WRAPUP_DONE, now)  # disposed: ready for the next
            out.append(self.floor.agent_notice(agent_id))
        return result, out

    def agent_released(self, agent_id: str, busy_s: float) -> None:
        """An agent of a campaign's last call is free again: the pacer learns how long
        agents stay busy."""
        campaign_id = self.state.agent_campaign.get(agent_id)
        run = self.state.runs.get(campaign_id) if campaign_id is not None else None
        if run is not None:
            run.pacer.busy_ended(busy_s)


def next_step(campaign: Campaign, progress: Progress, outcome: DialOutcome, now: float) -> Progress:
    """The contact after a dial: done, or due again by the campaign's retries."""
    counts = dict(progress.outcomes)
    counts[outcome.value] = used = counts.get(outcome.value, 0) + 1
    changes: dict[str, object] = {
        "outcomes": counts,
        "last_outcome": outcome.value,
        "updated_at": now,
        "callback_at": None,
        "callback_agent_id": None,
        "dial_id": None,
    }
    retry = campaign.retries.get(outcome)
    if outcome is DialOutcome.CONNECTED or retry is None or used > retry.times:
        changes.update(state=ContactState.DONE, next_at=None)
    else:
        changes.update(state=ContactState.SCHEDULED, next_at=now + retry.after_s)
    return dataclasses.replace(progress, **changes)  # type: ignore[arg-type]
