"""Customer-first dials as the PBX reports them: ringing, answered (AMD listening), a
person live (they join the campaign's queue, at the head, for the grace), connected to an
agent, a machine, no agent in time (abandoned: the campaign's message), hung up. Its own
timers catch a PBX that never says. Every end goes to the settler.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccgateway.domain.agents import Trigger
from ccgateway.domain.calls import Call, CallDesk, CallState
from ccgateway.domain.commands import Command, HangUp, Outcome
from ccgateway.domain.events import LegFailure
from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.agent_first import FAILURE_OUTCOMES, AgentFirstCalls
from ccgateway.domain.outbound.campaigns import DialOutcome
from ccgateway.domain.outbound.notices import dial_notice
from ccgateway.domain.outbound.pacing import DialEnd
from ccgateway.domain.outbound.runs import Dial, Stage
from ccgateway.domain.outbound.settler import Settler
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.outbound.steps import DialSteps
from ccgateway.domain.timers import TimerKind

LIVE_GRACE_S = 5.0  # past the grace before the centre gives up on the PBX's verdict


@dataclass(eq=False)
class Tracker:
    state: DialerState
    floor: Floor
    desk: CallDesk
    steps: DialSteps
    settler: Settler
    agent_first: AgentFirstCalls

    def _ringing(self, dial_id: str) -> Dial | None:
        """The dial, if the PBX may still say how its ringing ended (AMD included)."""
        dial = self.state.dials.get(dial_id)
        if dial is None or dial.stage not in (Stage.RINGING, Stage.ANSWERED):
            return None
        return dial

    def _picked_up(self, dial_id: str, end: DialEnd, now: float) -> Dial | None:
        """A ringing dial reached a person or a machine: the pacer learns its ring time."""
        dial = self._ringing(dial_id)
        if dial is None:
            return None
        assert dial.dialled_at is not None
        dial.answered_at = dial.answered_at or now
        self.state.runs[dial.campaign_id].pacer.dial_ended(end, now - dial.dialled_at)
        return dial

    def answered(self, dial_id: str, now: float) -> list[Command]:
        dial = self.state.dials.get(dial_id)
        if dial is None or dial.stage is not Stage.RINGING:
            return []
        dial.stage, dial.answered_at = Stage.ANSWERED, now
        return []

    def live(self, dial_id: str, amd: str, now: float) -> list[Command]:
        """A person is on the line: they join the campaign's queue, at the head."""
        dial = self._picked_up(dial_id, DialEnd.LIVE, now)
        if dial is None:
            return []
        run = self.state.runs[dial.campaign_id]
        dial.stage, dial.live_at, dial.amd = Stage.LIVE, now, amd
        self.floor.timers.set(TimerKind.OB_DIAL, dial.id, now + run.rules.grace_s + LIVE_GRACE_S)
        contact, campaign = dial.contact, run.campaign
        call = Call(
            dial.id,
            campaign.queue_id,
            contact.number,
            contact.name,
            now,
            pbx=campaign.pbx,
            priority=campaign.live_priority,
            queued_at=now,
            kind="outbound",
            recording=run.recording_policy(self.floor.directory.queues),
            campaign_id=run.campaign.id,
        )
        self.desk.calls[call.id] = call
        out: list[Command] = [self.desk.notice(call), dial_notice(dial, "live")]
        if dial.agent_id is not None:  # progressive: the kept agent takes it
            return out + self.desk.ring(call, dial.agent_id, now, kept=True)
        self.desk.enqueue(call, now)
        return out

    def connected(self, call_id: str, now: float) -> list[Command]:
        """The agent answered the person (the call desk has connected them)."""
        dial = self.state.dials.get(call_id)
        call = self.desk.calls.get(call_id)
        if dial is None or call is None or call.state is not CallState.CONNECTED:
            return []
        run = self.state.runs[dial.campaign_id]
        dial.stage, dial.connected_at, dial.agent_id = Stage.CONNECTED, now, call.agent_id
        self.floor.timers.cancel(TimerKind.OB_DIAL, dial.id)
        if call.agent_id is not None:
            self.state.agent_campaign[call.agent_id] = dial.campaign_id
        if dial.live_at is not None:
            run.counters.waits.append(round(now - dial.live_at, 3))
        run.count_in_ledger(DialOutcome.CONNECTED, now)
        if dial.at_risk:
            run.pacer.live_handled(False)
        return [dial_notice(dial, "connected", screen=True)]

    def machine(self, dial_id: str, now: float) -> list[Command]:
        dial = self._picked_up(dial_id, DialEnd.MACHINE, now)
        if dial is None:
            return []
        dial.stage, dial.amd = Stage.MACHINE, "machine"
        self.state.runs[dial.campaign_id].count_in_ledger(DialOutcome.MACHINE, now)
        out = self.steps.release(dial, Trigger.WITHDRAW, now)
        return [*out, dial_notice(dial, "machine")]

    def failed(self, dial_id: str, failure: LegFailure, detail: str, now: float) -> list[Command]:
        dial = self._ringing(dial_id)
        if dial is None:
            return []
        outcome = FAILURE_OUTCOMES.get(failure, DialOutcome.FAILED)
        dial.detail = detail or failure.value
        return self.settler.finish(dial, outcome, now)

    def abandoned(self, dial_id: str, now: float) -> list[Command]:
        """No agent came within the grace: the person hears the campaign's message."""
        dial = self.state.dials.get(dial_id)
        if dial is None or dial.stage is not Stage.LIVE:
            return []
        dial.stage = Stage.ABANDONED
        call = self.desk.calls.get(dial.id)
        out: list[Command] = []
        if call is not None:
            out += self.desk.end(call, Outcome.ABANDONED, now, detail="no agent within the grace")
        return out + self._abandon(dial, now)

    def _abandon(self, dial: Dial, now: float) -> list[Command]:
        run = self.state.runs[dial.campaign_id]
        self.state.log.abandoned(dial.contact.number, now)
        run.count_in_ledger(DialOutcome.ABANDONED, now)
        if dial.at_risk:
            run.pacer.live_handled(True)
        dial.outcome = DialOutcome.ABANDONED
        return [dial_notice(dial, "abandoned")]

    def hung_up(self, channel_id: str, now: float) -> list[Command] | None:
        """A channel ended; None when it is none of the dialer's."""
        if channel_id in self.state.legs:
            return self.agent_first.leg_ended(channel_id, now)
        dial = self.state.dials.get(channel_id)
        if dial is None:
            return None
        call = self.desk.calls.get(dial.id)
        if call is not None:  # a person waiting for (or talking to) an agent
            connected = call.state is CallState.CONNECTED
            outcome = Outcome.ANSWERED if connected else Outcome.ABANDONED
            detail = "" if connected else "hung up before an agent came"
            return self.desk.end(call, outcome, now, detail=detail)
        finish = self.settler.finish
        if dial.stage is Stage.ABANDONED:
            return finish(dial, DialOutcome.ABANDONED, now)
        if dial.stage is Stage.MACHINE:
            return finish(dial, DialOutcome.MACHINE, now)
        if dial.stage is Stage.LIVE:  # hung up in the grace, before the desk had the call
            return self._hung_up_in_grace(dial, now)
        if dial.stage is Stage.ANSWERED:
            dial.detail = "hung up while AMD listened"
            return self._hung_up_in_grace(dial, now)
        return finish(dial, DialOutcome.NO_ANSWER, now)

    def _hung_up_in_grace(self, dial: Dial, now: float) -> list[Command]:
        run = self.state.runs[dial.campaign_id]
        run.count_in_ledger(DialOutcome.HUNG_UP, now)
        out = self.steps.release(dial, Trigger.WITHDRAW, now)
        return out + self.settler.finish(dial, DialOutcome.HUNG_UP, now)

    def call_ended(self, call: Call, outcome: Outcome, now: float) -> list[Command]:
        """The call desk ended an outbound call (the agent or the person hung up)."""
        dial = self.state.dials.get(call.id)
        if dial is None:
            return []
        if dial.stage is Stage.CONNECTED:
            return self.settler.finish(dial, DialOutcome.CONNECTED, now)
        if dial.stage is Stage.LIVE:  # the person left within the grace
            dial.detail = dial.detail or "hung up before an agent came"
            run = self.state.runs[dial.campaign_id]
            run.count_in_ledger(DialOutcome.HUNG_UP, now)
            return self.settler.finish(dial, DialOutcome.HUNG_UP, now)
        return []

    def fire(self, kind: TimerKind, key: str, now: float) -> list[Command]:
        """A dial's timer: a preview nobody answered, or a PBX that never said."""
        if kind == TimerKind.OB_PACE:
            return []  # the centre paces after every timer
        dial = self.state.dials.get(key)
        if dial is None:
            return []
        runs = self.state.runs
        pbx = runs[dial.campaign_id].campaign.pbx if dial.campaign_id in runs else "asterisk"
        if kind == TimerKind.OB_PREVIEW and dial.stage is Stage.PREVIEW:
            return self.steps.drop_preview(dial, now, Trigger.NO_ANSWER, skipped=True)
        if kind != TimerKind.OB_DIAL:
            return []
        if dial.stage is Stage.AGENT_RINGING and dial.leg_id is not None:
            hang_up = HangUp(dial.leg_id, "the agent's phone outlived its ring time", pbx)
            return [hang_up, *self.agent_first.agent_failed(dial.leg_id, LegFailure.NO_ANSWER, now)]
        if dial.stage is Stage.LIVE:  # the PBX never said: the person was not served
            out: list[Command] = [HangUp(dial.id, "no agent and no word from the PBX", pbx)]
            dial.stage = Stage.ABANDONED
            call = self.desk.calls.get(dial.id)
            if call is not None:
                out += self.desk.end(call, Outcome.ABANDONED, now, detail="no word from the PBX")
            return (
                out
                + self._abandon(dial, now)
                + self.settler.finish(dial, DialOutcome.ABANDONED, now)
            )
        target = dial.leg_id if dial.agent_first and dial.leg_id else dial.id
        dial.detail = "no word from the PBX within the ring time"
        hang_up = HangUp(target, dial.detail, pbx)
        return [hang_up, *self.settler.finish(dial, DialOutcome.NO_ANSWER, now)]
