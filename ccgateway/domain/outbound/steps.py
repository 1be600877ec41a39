"""The small steps every part of the dialer takes on the floor: keep an agent for a dial
or let them go, forget a dial (and its timers), drop a preview. One object, held by the
parts that need it, so the agents' states change the same way whoever ends a dial.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ccgateway.domain.agents import AgentState, Trigger
from ccgateway.domain.calls import CallDesk
from ccgateway.domain.commands import Command
from ccgateway.domain.floor import Floor
from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.campaigns import CampaignState, DialOutcome
from ccgateway.domain.outbound.commands import SaveProgress
from ccgateway.domain.outbound.contacts import ContactState
from ccgateway.domain.outbound.notices import dial_notice
from ccgateway.domain.outbound.runs import Dial, dial_for
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.timers import TimerKind

SKIP_RETRY_S = 3600.0  # a skipped preview comes round again after an hour


@dataclass(eq=False)
class DialSteps:
    state: DialerState
    floor: Floor
    desk: CallDesk

    def free_agents(self, queue: Queue) -> list[str]:
        """The queue's free agents, the queue's strategy's first pick first."""
        return self.floor.engine.free_agents(queue)

    def new_dial_id(self) -> str:
        # Not "ccgw-": the PBX adapters take channels named so for agent legs.
        return dial_for(self.floor.new_id())

    def keep_agent(self, agent_id: str, dial: Dial, now: float) -> list[Command]:
        """The agent is reserved for the dial (progressive, previews, callbacks)."""
        self.floor.apply(agent_id, Trigger.OFFER, now)
        self.floor.status[agent_id].call_id = dial.id
        self.state.agent_campaign[agent_id] = dial.campaign_id
        return [self.floor.agent_notice(agent_id)]

    def release(
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
            run = self.state.runs.get(dial.campaign_id)
            queue_id = run.campaign.queue_id if run is not None and wrapup else ""
            self.desk.start_wrapup(agent_id, queue_id, now)
        return [self.floor.agent_notice(agent_id)]

    def forget(self, dial: Dial) -> None:
        """The dial is no longer in flight: out of the state, its timers cancelled."""
        state = self.state
        state.dials.pop(dial.id, None)
        if dial.leg_id is not None:
            state.legs.pop(dial.leg_id, None)
        run = state.runs.get(dial.campaign_id)
        if run is not None:
            run.dials.discard(dial.id)
        self.floor.timers.cancel(TimerKind.OB_DIAL, dial.id)
        self.floor.timers.cancel(TimerKind.OB_PREVIEW, dial.id)

    def drop_preview(
        self, dial: Dial, now: float, trigger: Trigger, *, skipped: bool = False
    ) -> list[Command]:
        """A preview nobody dialled: skipped (the contact comes round in an hour) or
        withdrawn (back to the head of the hopper while the campaign runs)."""
        self.forget(dial)
        out = self.release(
            dial, trigger, now, reason=f"{self.floor.policy.no_answer_reason}: preview not answered"
        )
        run = self.state.runs.get(dial.campaign_id)
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
            return [*out, SaveProgress(progress), dial_notice(dial, "skipped")]
        if run is not None and run.state is CampaignState.RUNNING:
            run.hopper.appendleft(dial.entry)
        return [*out, dial_notice(dial, "withdrawn")]
