"""The dialer's shared state and the small steps every part of it takes: keep an agent for a
dial or let them go, forget a dial, count in the ledger, tell the event stream.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

from ccgateway.domain.agents import AgentState, Trigger
from ccgateway.domain.calls import CallDesk
from ccgateway.domain.commands import Command, Notify
from ccgateway.domain.errors import NotFound
from ccgateway.domain.events import LegFailure
from ccgateway.domain.floor import Floor
from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.campaigns import CampaignState, DialOutcome
from ccgateway.domain.outbound.commands import SaveProgress
from ccgateway.domain.outbound.compliance import Refusal
from ccgateway.domain.outbound.contacts import ContactState, DialLog, Progress
from ccgateway.domain.outbound.pacing import DialEnd
from ccgateway.domain.outbound.records import DialRecord
from ccgateway.domain.outbound.rules import PRESETS, RuleSet
from ccgateway.domain.outbound.runs import CampaignRun, Dial, dial_for
from ccgateway.domain.timers import TimerKind

PACE_EVERY_S = 0.5  # a running campaign is paced again this often (rings age)
AGENT_RING_S = 20.0  # agent first: how long the agent's phone rings
DIAL_GRACE_S = 15.0  # past the ring time (and AMD) before the centre gives up on the PBX
LIVE_GRACE_S = 5.0  # past the grace before the centre gives up on the PBX's verdict
SKIP_RETRY_S = 3600.0  # a skipped preview comes round again after an hour
MAX_REFUSALS_PER_PACE = 200  # refusals recorded in one pacing round, at most
DISPOSE_WITHIN = 20_000  # recent ended dials kept for a late disposition
MAX_HOPPER = 500
FAILURE_OUTCOMES = {
    LegFailure.BUSY: DialOutcome.BUSY,
    LegFailure.NO_ANSWER: DialOutcome.NO_ANSWER,
}
PACER_ENDS = {
    DialOutcome.MACHINE: DialEnd.MACHINE,
    DialOutcome.NO_ANSWER: DialEnd.NO_ANSWER,
    DialOutcome.BUSY: DialEnd.BUSY,
    DialOutcome.FAILED: DialEnd.BUSY,
}


class DialerBase:
    def __init__(self, floor: Floor, desk: CallDesk) -> None:
        self.floor = floor
        self.desk = desk
        self.rule_sets: dict[str, RuleSet] = dict(PRESETS)
        self.runs: dict[str, CampaignRun] = {}
        self.dials: dict[str, Dial] = {}
        self.legs: dict[str, str] = {}  # agent-first leg -> dial id
        self.log = DialLog()
        self.suppressed: dict[str, str] = {}  # number -> the list, learned while running
        self.screened: dict[str, float] = {}  # register -> when the lists were last screened
        self.ended: OrderedDict[str, DialRecord] = OrderedDict()  # for late dispositions
        self.progress: dict[str, Progress] = {}  # dial id -> the contact's progress at its end
        self.disposed: set[str] = set()
        self.agent_campaign: dict[str, str] = {}  # agent -> campaign of their last call

    # Steps the other parts of the dialer define (placing.py, ending.py, dialer.py).

    def _finish(self, dial: Dial, outcome: DialOutcome, now: float) -> list[Command]:
        raise NotImplementedError

    def live(self, dial_id: str, amd: str, now: float) -> list[Command]:
        raise NotImplementedError

    def agent_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        raise NotImplementedError

    def connected(self, call_id: str, now: float) -> list[Command]:
        raise NotImplementedError

    def run(self, campaign_id: str) -> CampaignRun:
        run = self.runs.get(campaign_id)
        if run is None:
            raise NotFound(f"no campaign {campaign_id!r}")
        return run

    def _free_agents(self, queue: Queue) -> list[str]:
        """The queue's free agents, the queue's strategy's first pick first."""
        return self.floor.engine.free_agents(queue)

    def _keep_agent(self, agent_id: str, dial: Dial, now: float) -> list[Command]:
        self.floor.apply(agent_id, Trigger.OFFER, now)
        self.floor.status[agent_id].call_id = dial.id
        self.agent_campaign[agent_id] = dial.campaign_id
        return [self.floor.agent_notice(agent_id)]

    def _new_dial_id(self) -> str:
        # Not "ccgw-": the PBX adapters take channels named so for agent legs.
        return dial_for(self.floor.new_id())

    def _release(
        self,
        dial: Dial,
        trigger: Trigger,
        now: float,
        *,
        reason: str | None = None,
        wrapup: bool = False,
    ) -> list[Command]:
        """The agent kept for (or talking on) the dial is let go: back to available (or
        not ready, by `trigger`) if only kept, into wrap-up if on the call (the campaign
        queue's wrap-up time when there was a conversation, none otherwise)."""
        agent_id = dial.agent_id
        status = self.floor.status.get(agent_id) if agent_id is not None else None
        if agent_id is None or status is None or status.call_id != dial.id:
            return []
        if status.state is AgentState.RESERVED:
            self.floor.apply(agent_id, trigger, now, reason)
        elif status.state is AgentState.ON_CALL:
            run = self.runs.get(dial.campaign_id)
            queue_id = run.campaign.queue_id if run is not None and wrapup else ""
            self.desk.start_wrapup(agent_id, queue_id, now)
        return [self.floor.agent_notice(agent_id)]

    def _forget(self, dial: Dial) -> None:
        self.dials.pop(dial.id, None)
        if dial.leg_id is not None:
            self.legs.pop(dial.leg_id, None)
        run = self.runs.get(dial.campaign_id)
        if run is not None:
            run.dials.discard(dial.id)
        self.floor.timers.cancel(TimerKind.OB_DIAL, dial.id)
        self.floor.timers.cancel(TimerKind.OB_PREVIEW, dial.id)

    def _count_in_ledger(self, run: CampaignRun, outcome: DialOutcome, amd: str, at: float) -> None:
        if outcome is DialOutcome.MACHINE:
            run.ledger.machine(at)
        elif outcome in (DialOutcome.CONNECTED, DialOutcome.ABANDONED, DialOutcome.HUNG_UP):
            run.ledger.live(at, abandoned=outcome is DialOutcome.ABANDONED)

    def _dial_for_leg(self, leg_id: str) -> Dial | None:
        dial_id = self.legs.get(leg_id)
        return self.dials.get(dial_id) if dial_id is not None else None

    def _lines(self, run: CampaignRun) -> int:
        return sum(1 for d in run.dials if self.dials[d].dialled_at is not None)

    def _notice(self, run: CampaignRun, now: float) -> Notify:
        return Notify(
            "campaign.state",
            {"campaign_id": run.campaign.id, "state": run.state.value, "idle": run.why_idle},
        )

    def _dial_notice(
        self,
        dial: Dial,
        what: str,
        *,
        outcome: DialOutcome | None = None,
        screen: bool = False,
        refusal: Refusal | None = None,
    ) -> Notify:
        data: dict[str, object] = {
            "dial_id": dial.id,
            "campaign_id": dial.campaign_id,
            "contact_id": dial.contact.id,
            "event": what,
            "agent_id": dial.agent_id,
        }
        if refusal is not None:  # the agent who asked is told which rule said no
            data["rule"], data["detail"] = refusal.rule, refusal.detail
        if outcome is not None:
            data["outcome"] = outcome.value
        if screen:  # the agent's screen pop: who this is
            data["contact"] = _contact_card(dial)
        return Notify("dial.state", data)

    def _preview_notice(self, run: CampaignRun, dial: Dial) -> Notify:
        return Notify(
            "dial.preview",
            {
                "dial_id": dial.id,
                "campaign_id": dial.campaign_id,
                "agent_id": dial.agent_id,
                "contact": _contact_card(dial),
                "expires_in_s": run.campaign.preview_timeout_s,
            },
        )

    def suppress(self, number: str, why: str) -> None:
        """A number goes on a do-not-call list (an objection, an import): no campaign
        dials it from now on, even if it is already loaded."""
        self.suppressed[number] = why
        for run in self.runs.values():
            kept = [e for e in run.hopper if e.contact.number != number]
            run.hopper.clear()
            run.hopper.extend(kept)

    def _drop_preview(
        self, dial: Dial, now: float, trigger: Trigger, *, skipped: bool = False
    ) -> list[Command]:
        self._forget(dial)
        out = self._release(
            dial, trigger, now, reason=f"{self.floor.policy.no_answer_reason}: preview not answered"
        )
        run = self.runs.get(dial.campaign_id)
        if skipped:
            progress = dataclasses.replace(
                dial.entry.progress,
                state=ContactState.SCHEDULED,
                next_at=now + SKIP_RETRY_S,
                last_outcome=DialOutcome.SKIPPED.value,
                updated_at=now,
            )
            if run is not None:
                run.counters.ended(DialOutcome.SKIPPED)
            return [*out, SaveProgress(progress), self._dial_notice(dial, "skipped")]
        if run is not None and run.state is CampaignState.RUNNING:
            run.hopper.appendleft(dial.entry)
        return [*out, self._dial_notice(dial, "withdrawn")]


def _contact_card(dial: Dial) -> dict[str, object]:
    contact = dial.contact
    return {
        "id": contact.id,
        "name": contact.name,
        "number": contact.number,
        "fields": dict(contact.fields),
        "attempts": dial.entry.progress.attempts,
        "last_outcome": dial.entry.progress.last_outcome,
    }
