"""Agent-first dials (accepted previews and callbacks) as the PBX reports them: the
agent's leg rings first, then, once answered, dials the customer by itself. The events
name the agent's leg; the dial is found by it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ccgateway.domain.agents import Trigger
from ccgateway.domain.commands import Command
from ccgateway.domain.events import LegFailure
from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.campaigns import CampaignState, DialOutcome
from ccgateway.domain.outbound.commands import SaveProgress
from ccgateway.domain.outbound.contacts import ContactState
from ccgateway.domain.outbound.launch import DIAL_GRACE_S, Launcher
from ccgateway.domain.outbound.notices import dial_notice
from ccgateway.domain.outbound.runs import Stage
from ccgateway.domain.outbound.settler import Settler
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.outbound.steps import DialSteps
from ccgateway.domain.timers import TimerKind

FAILURE_OUTCOMES = {
    LegFailure.BUSY: DialOutcome.BUSY,
    LegFailure.NO_ANSWER: DialOutcome.NO_ANSWER,
}


@dataclass(eq=False)
class AgentFirstCalls:
    state: DialerState
    floor: Floor
    steps: DialSteps
    launcher: Launcher
    settler: Settler

    def agent_answered(self, leg_id: str, now: float) -> list[Command]:
        """The agent took the call: the PBX now dials the customer (counted as a dial)."""
        dial = self.state.dial_for_leg(leg_id)
        if dial is None or dial.stage is not Stage.AGENT_RINGING or dial.agent_id is None:
            return []
        run = self.state.runs[dial.campaign_id]
        self.floor.apply(dial.agent_id, Trigger.ANSWER, now)
        out = self.launcher.start(run, dial, now)
        dial.stage = Stage.RINGING
        self.floor.timers.set(TimerKind.OB_DIAL, dial.id, now + run.campaign.ring_s + DIAL_GRACE_S)
        return [
            self.floor.agent_notice(dial.agent_id),
            *out,
            dial_notice(dial, "connected", screen=True),
        ]

    def agent_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        """The agent's phone was not answered: not ready; the contact goes back."""
        dial = self.state.dial_for_leg(leg_id)
        if dial is None or dial.stage is not Stage.AGENT_RINGING:
            return []
        self.steps.forget(dial)
        trigger = Trigger.WITHDRAW if failure is LegFailure.NOT_SENT else Trigger.NO_ANSWER
        reason = f"{self.floor.policy.no_answer_reason}: {failure.value}"
        out = self.steps.release(dial, trigger, now, reason=reason)
        # Nobody was dialled: the contact is as it was, due again now.
        progress = dial.entry.progress
        state = ContactState.SCHEDULED if progress.attempts else ContactState.NEW
        back = dataclasses.replace(
            progress, state=state, dial_id=None, next_at=progress.callback_at, updated_at=now
        )
        entry = dataclasses.replace(dial.entry, progress=back)
        run = self.state.runs.get(dial.campaign_id)
        if run is not None and run.state is CampaignState.RUNNING:
            run.hopper.appendleft(entry)
        return [*out, SaveProgress(back)]

    def customer_answered(self, leg_id: str, now: float) -> list[Command]:
        dial = self.state.dial_for_leg(leg_id)
        if dial is None or dial.stage is not Stage.RINGING:
            return []
        run = self.state.runs[dial.campaign_id]
        dial.stage = Stage.CONNECTED
        dial.answered_at = dial.live_at = dial.connected_at = now
        self.floor.timers.cancel(TimerKind.OB_DIAL, dial.id)
        if dial.agent_id is not None:
            self.floor.status[dial.agent_id].calls_answered += 1
        run.count_in_ledger(DialOutcome.CONNECTED, now)
        return [dial_notice(dial, "connected")]

    def customer_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        dial = self.state.dial_for_leg(leg_id)
        if dial is None or dial.stage is not Stage.RINGING:
            return []
        dial.detail = failure.value
        return self.settler.finish(dial, FAILURE_OUTCOMES.get(failure, DialOutcome.FAILED), now)

    def leg_ended(self, leg_id: str, now: float) -> list[Command]:
        """The agent's leg hung up: unanswered, after the conversation, or while the
        customer's phone rang."""
        dial = self.state.dial_for_leg(leg_id)
        self.state.legs.pop(leg_id, None)
        if dial is None:
            return []
        if dial.stage is Stage.AGENT_RINGING:
            self.state.legs[leg_id] = dial.id
            return self.agent_failed(leg_id, LegFailure.NO_ANSWER, now)
        if dial.stage is Stage.CONNECTED:
            return self.settler.finish(dial, DialOutcome.CONNECTED, now)
        dial.detail = dial.detail or "the agent hung up while it rang"
        return self.settler.finish(dial, DialOutcome.NO_ANSWER, now)
