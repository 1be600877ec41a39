"""The live dialer: campaigns place calls, people who answer reach agents, every dial is
checked against the law and leaves a record.

How a dial goes, by mode:
- predictive: the pacer (pacing.py) says how many calls to place for the campaign's free
  agents and their expected releases; each goes to the PBX (DialCustomer) with no agent
  kept for it. A person who answers becomes a waiting call in the campaign's queue, at the
  campaign's live priority; the routing engine gives them the first free agent, whose
  phone answers at once (auto-answer). With nobody free within the grace, the PBX plays
  the campaign's message (OutboundAbandoned);
- progressive: one call per free agent, the agent kept (reserved) while it rings: nobody
  can be abandoned. Predictive drops to this while its abandon ledger is at the limit;
- preview: the agent is shown the contact and accepts (then the agent's phone rings first
  and dials the customer, like a callback) or skips;
- callbacks a disposition scheduled go out agent first too, to their owner or to any free
  agent of the campaign.

Each contact is taken from the campaign's hopper (loaded from the store, LoadContacts) and
checked (compliance.py) at the moment of dialling; a refusal is recorded and the contact
moved on. The dial's end is recorded (RecordDial), the contact's progress saved with its
next try (the campaign's retries), and the abandon ledger and the pacer learn from it.
"""

from __future__ import annotations

import dataclasses

from ccgateway.domain.agents import Trigger
from ccgateway.domain.calls import Call, CallDesk, CallState
from ccgateway.domain.commands import Command, HangUp, Outcome
from ccgateway.domain.events import LegFailure
from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.base import DIAL_GRACE_S, FAILURE_OUTCOMES, LIVE_GRACE_S
from ccgateway.domain.outbound.campaigns import CampaignState, DialOutcome
from ccgateway.domain.outbound.commands import SaveProgress
from ccgateway.domain.outbound.configuring import Configuring
from ccgateway.domain.outbound.contacts import ContactState
from ccgateway.domain.outbound.ending import Ending
from ccgateway.domain.outbound.pacing import DialEnd
from ccgateway.domain.outbound.placing import Placing
from ccgateway.domain.outbound.recovery import Recovery
from ccgateway.domain.outbound.runs import Dial, Stage
from ccgateway.domain.timers import TimerKind


class OutboundDesk(Configuring, Placing, Ending, Recovery):
    def __init__(self, floor: Floor, desk: CallDesk) -> None:
        super().__init__(floor, desk)
        desk.outbound_ended = self._call_ended
        floor.on_release = self._agent_released

    def owns_dial(self, dial_id: str) -> bool:
        return dial_id in self.dials

    def owns_leg(self, leg_id: str) -> bool:
        return leg_id in self.legs

    def answered(self, dial_id: str, now: float) -> list[Command]:
        dial = self.dials.get(dial_id)
        if dial is None or dial.stage is not Stage.RINGING:
            return []
        dial.stage, dial.answered_at = Stage.ANSWERED, now
        return []

    def live(self, dial_id: str, amd: str, now: float) -> list[Command]:
        """A person is on the line: they join the campaign's queue, at the head."""
        dial = self.dials.get(dial_id)
        if dial is None or dial.stage not in (Stage.RINGING, Stage.ANSWERED):
            return []
        run = self.runs[dial.campaign_id]
        assert dial.dialled_at is not None
        dial.answered_at = dial.answered_at or now
        dial.stage, dial.live_at, dial.amd = Stage.LIVE, now, amd
        run.pacer.dial_ended(DialEnd.LIVE, now - dial.dialled_at)
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
        )
        self.desk.calls[call.id] = call
        out: list[Command] = [self.desk.notice(call), self._dial_notice(dial, "live")]
        if dial.agent_id is not None:  # progressive: the kept agent takes it
            return out + self.desk.ring(call, dial.agent_id, now, kept=True)
        self.desk.enqueue(call, now)
        return out

    def connected(self, call_id: str, now: float) -> list[Command]:
        """The agent answered the person (the call desk has connected them)."""
        dial = self.dials.get(call_id)
        call = self.desk.calls.get(call_id)
        if dial is None or call is None or call.state is not CallState.CONNECTED:
            return []
        run = self.runs[dial.campaign_id]
        dial.stage, dial.connected_at, dial.agent_id = Stage.CONNECTED, now, call.agent_id
        self.floor.timers.cancel(TimerKind.OB_DIAL, dial.id)
        if call.agent_id is not None:
            self.agent_campaign[call.agent_id] = dial.campaign_id
        if dial.live_at is not None:
            run.counters.waits.append(round(now - dial.live_at, 3))
        self._count_in_ledger(run, DialOutcome.CONNECTED, dial.amd, now)
        if dial.at_risk:
            run.pacer.live_handled(False)
        return [self._dial_notice(dial, "connected", screen=True)]

    def machine(self, dial_id: str, now: float) -> list[Command]:
        dial = self.dials.get(dial_id)
        if dial is None or dial.stage not in (Stage.RINGING, Stage.ANSWERED):
            return []
        run = self.runs[dial.campaign_id]
        assert dial.dialled_at is not None
        dial.answered_at = dial.answered_at or now
        dial.stage, dial.amd = Stage.MACHINE, "machine"
        run.pacer.dial_ended(DialEnd.MACHINE, now - dial.dialled_at)
        self._count_in_ledger(run, DialOutcome.MACHINE, "machine", now)
        out = self._release(dial, Trigger.WITHDRAW, now)
        return [*out, self._dial_notice(dial, "machine")]

    def failed(self, dial_id: str, failure: LegFailure, detail: str, now: float) -> list[Command]:
        dial = self.dials.get(dial_id)
        if dial is None or dial.stage not in (Stage.RINGING, Stage.ANSWERED):
            return []
        outcome = FAILURE_OUTCOMES.get(failure, DialOutcome.FAILED)
        dial.detail = detail or failure.value
        return self._finish(dial, outcome, now)

    def abandoned(self, dial_id: str, now: float) -> list[Command]:
        """No agent came within the grace: the person hears the campaign's message."""
        dial = self.dials.get(dial_id)
        if dial is None or dial.stage is not Stage.LIVE:
            return []
        dial.stage = Stage.ABANDONED
        call = self.desk.calls.get(dial.id)
        out: list[Command] = []
        if call is not None:
            out += self.desk.end(call, Outcome.ABANDONED, now, detail="no agent within the grace")
        return out + self._abandon(dial, now)

    def _abandon(self, dial: Dial, now: float) -> list[Command]:
        run = self.runs[dial.campaign_id]
        self.log.abandoned(dial.contact.number, now)
        self._count_in_ledger(run, DialOutcome.ABANDONED, dial.amd, now)
        if dial.at_risk:
            run.pacer.live_handled(True)
        dial.outcome = DialOutcome.ABANDONED
        return [self._dial_notice(dial, "abandoned")]

    def hung_up(self, channel_id: str, now: float) -> list[Command] | None:
        """A channel ended; None when it is none of the dialer's."""
        if channel_id in self.legs:
            return self._agent_leg_ended(channel_id, now)
        dial = self.dials.get(channel_id)
        if dial is None:
            return None
        call = self.desk.calls.get(dial.id)
        if call is not None:  # a person waiting for (or talking to) an agent
            connected = call.state is CallState.CONNECTED
            outcome = Outcome.ANSWERED if connected else Outcome.ABANDONED
            detail = "" if connected else "hung up before an agent came"
            return self.desk.end(call, outcome, now, detail=detail)
        if dial.stage is Stage.ABANDONED:
            return self._finish(dial, DialOutcome.ABANDONED, now)
        if dial.stage is Stage.MACHINE:
            return self._finish(dial, DialOutcome.MACHINE, now)
        if dial.stage is Stage.LIVE:  # hung up in the grace, before the desk had the call
            return self._hung_up_in_grace(dial, now)
        if dial.stage is Stage.ANSWERED:
            dial.detail = "hung up while AMD listened"
            return self._hung_up_in_grace(dial, now)
        return self._finish(dial, DialOutcome.NO_ANSWER, now)

    def _hung_up_in_grace(self, dial: Dial, now: float) -> list[Command]:
        run = self.runs[dial.campaign_id]
        self._count_in_ledger(run, DialOutcome.HUNG_UP, dial.amd, now)
        out = self._release(dial, Trigger.WITHDRAW, now)
        return out + self._finish(dial, DialOutcome.HUNG_UP, now)

    def _call_ended(self, call: Call, outcome: Outcome, now: float) -> list[Command]:
        """The call desk ended an outbound call (the agent or the person hung up)."""
        dial = self.dials.get(call.id)
        if dial is None:
            return []
        if dial.stage is Stage.CONNECTED:
            return self._finish(dial, DialOutcome.CONNECTED, now)
        if dial.stage is Stage.LIVE:  # the person left within the grace
            dial.detail = dial.detail or "hung up before an agent came"
            run = self.runs[dial.campaign_id]
            self._count_in_ledger(run, DialOutcome.HUNG_UP, dial.amd, now)
            return self._finish(dial, DialOutcome.HUNG_UP, now)
        return []

    def agent_answered(self, leg_id: str, now: float) -> list[Command]:
        dial = self._dial_for_leg(leg_id)
        if dial is None or dial.stage is not Stage.AGENT_RINGING or dial.agent_id is None:
            return []
        run = self.runs[dial.campaign_id]
        self.floor.apply(dial.agent_id, Trigger.ANSWER, now)
        out = self._start(run, dial, now)
        dial.stage = Stage.RINGING
        self.floor.timers.set(TimerKind.OB_DIAL, dial.id, now + run.campaign.ring_s + DIAL_GRACE_S)
        return [
            self.floor.agent_notice(dial.agent_id),
            *out,
            self._dial_notice(dial, "connected", screen=True),
        ]

    def agent_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        """The agent's phone was not answered: not ready; the contact goes back."""
        dial = self._dial_for_leg(leg_id)
        if dial is None or dial.stage is not Stage.AGENT_RINGING:
            return []
        self._forget(dial)
        trigger = Trigger.WITHDRAW if failure is LegFailure.NOT_SENT else Trigger.NO_ANSWER
        reason = f"{self.floor.policy.no_answer_reason}: {failure.value}"
        out = self._release(dial, trigger, now, reason=reason)
        # Nobody was dialled: the contact is as it was, due again now.
        progress = dial.entry.progress
        state = ContactState.SCHEDULED if progress.attempts else ContactState.NEW
        back = dataclasses.replace(
            progress, state=state, dial_id=None, next_at=progress.callback_at, updated_at=now
        )
        entry = dataclasses.replace(dial.entry, progress=back)
        run = self.runs.get(dial.campaign_id)
        if run is not None and run.state is CampaignState.RUNNING:
            run.hopper.appendleft(entry)
        return [*out, SaveProgress(back)]

    def customer_answered(self, leg_id: str, now: float) -> list[Command]:
        dial = self._dial_for_leg(leg_id)
        if dial is None or dial.stage is not Stage.RINGING:
            return []
        run = self.runs[dial.campaign_id]
        dial.stage = Stage.CONNECTED
        dial.answered_at = dial.live_at = dial.connected_at = now
        self.floor.timers.cancel(TimerKind.OB_DIAL, dial.id)
        if dial.agent_id is not None:
            self.floor.status[dial.agent_id].calls_answered += 1
        self._count_in_ledger(run, DialOutcome.CONNECTED, "", now)
        return [self._dial_notice(dial, "connected")]

    def customer_failed(self, leg_id: str, failure: LegFailure, now: float) -> list[Command]:
        dial = self._dial_for_leg(leg_id)
        if dial is None or dial.stage is not Stage.RINGING:
            return []
        dial.detail = failure.value
        return self._finish(dial, FAILURE_OUTCOMES.get(failure, DialOutcome.FAILED), now)

    def _agent_leg_ended(self, leg_id: str, now: float) -> list[Command]:
        dial = self._dial_for_leg(leg_id)
        self.legs.pop(leg_id, None)
        if dial is None:
            return []
        if dial.stage is Stage.AGENT_RINGING:
            self.legs[leg_id] = dial.id
            return self.agent_failed(leg_id, LegFailure.NO_ANSWER, now)
        if dial.stage is Stage.CONNECTED:
            return self._finish(dial, DialOutcome.CONNECTED, now)
        dial.detail = dial.detail or "the agent hung up while it rang"
        return self._finish(dial, DialOutcome.NO_ANSWER, now)

    def fire(self, kind: TimerKind, key: str, now: float) -> list[Command]:
        if kind == TimerKind.OB_PACE:
            return []  # the centre paces after every timer
        dial = self.dials.get(key)
        if dial is None:
            return []
        pbx = (
            self.runs[dial.campaign_id].campaign.pbx
            if dial.campaign_id in self.runs
            else "asterisk"
        )
        if kind == TimerKind.OB_PREVIEW and dial.stage is Stage.PREVIEW:
            return self._drop_preview(dial, now, Trigger.NO_ANSWER, skipped=True)
        if kind != TimerKind.OB_DIAL:
            return []
        if dial.stage is Stage.AGENT_RINGING and dial.leg_id is not None:
            hang_up = HangUp(dial.leg_id, "the agent's phone outlived its ring time", pbx)
            return [hang_up, *self.agent_failed(dial.leg_id, LegFailure.NO_ANSWER, now)]
        if dial.stage is Stage.LIVE:  # the PBX never said: the person was not served
            out: list[Command] = [HangUp(dial.id, "no agent and no word from the PBX", pbx)]
            dial.stage = Stage.ABANDONED
            call = self.desk.calls.get(dial.id)
            if call is not None:
                out += self.desk.end(call, Outcome.ABANDONED, now, detail="no word from the PBX")
            return out + self._abandon(dial, now) + self._finish(dial, DialOutcome.ABANDONED, now)
        target = dial.leg_id if dial.agent_first and dial.leg_id else dial.id
        dial.detail = "no word from the PBX within the ring time"
        return [HangUp(target, dial.detail, pbx), *self._finish(dial, DialOutcome.NO_ANSWER, now)]
