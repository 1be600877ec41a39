"""The dialer after a PBX reconnect or a controller restart: the PBX is the truth.

A restart loses the dials in flight from memory, but each contact being dialled was saved
with its dial's id (`Progress.dial_id`); `restore` puts them back as dials of unknown
stage. Every resync of their PBX then settles each dial it knows against the PBX's picture:
- still there: adopted where it stands (ringing, AMD listening, a person waiting for an
  agent, talking to one) - nothing is dialled again;
- gone: ended while nobody listened. A dial that had reached an agent is recorded as
  connected; one that never got so far as lost (the contact is tried again by its retries).
Agent-first dials (previews, callbacks) are found by their agent leg, whose id is the dial's
in the legs' form (`leg_for`). The legs claimed here are left alone by the call desk.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccgateway.domain.agents import AgentState, Trigger
from ccgateway.domain.calls import Call, CallDesk, CallState
from ccgateway.domain.commands import Command, Outcome
from ccgateway.domain.events import AgentChannel, LegFailure, OutboundChannel, PbxResynced
from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.agent_first import AgentFirstCalls
from ccgateway.domain.outbound.campaigns import DialMode, DialOutcome
from ccgateway.domain.outbound.runs import Dial, Entry, Stage, leg_for
from ccgateway.domain.outbound.settler import Settler
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.outbound.tracker import Tracker
from ccgateway.domain.timers import TimerKind

RESTORED = "restored"  # the detail of a dial adopted after a restart


@dataclass(eq=False)
class Recovery:
    state: DialerState
    floor: Floor
    desk: CallDesk
    settler: Settler
    tracker: Tracker
    agent_first: AgentFirstCalls

    def restore(self, dialing: list[Entry], now: float) -> None:
        """Contacts saved as being dialled before a restart; their PBX's first resync says
        how each stands."""
        for entry in dialing:
            dial_id = entry.progress.dial_id
            run = self.state.runs.get(entry.progress.campaign_id)
            if dial_id is None or run is None or dial_id in self.state.dials:
                continue
            dial = Dial(
                dial_id,
                run.campaign.id,
                entry,
                run.campaign.mode,
                now,
                Stage.RINGING,
                at_risk=False,  # unknown: not fed to the pacer's feedback
                dialled_at=entry.progress.updated_at or now,
                detail=RESTORED,
                restored=True,
            )
            self.state.dials[dial.id] = dial
            run.dials.add(dial.id)

    def resync(self, snapshot: PbxResynced, now: float, pbx: str) -> tuple[set[str], list[Command]]:
        """Settle this PBX's dials; the agent legs they own (the call desk leaves them)."""
        channels = {c.dial_id: c for c in snapshot.outbound}
        legs = {leg.leg_id: leg for leg in snapshot.agent_legs}
        by_caller = {leg.caller_id: leg for leg in snapshot.agent_legs if leg.caller_id}
        # Agent legs of campaign calls are the dialer's, known or not: the call desk, which
        # would hang up a leg it cannot place, leaves them alone.
        claimed = {leg.leg_id for leg in snapshot.agent_legs if leg.caller_id.startswith("ob-")}
        out: list[Command] = []
        for dial in [d for d in self.state.dials.values() if self._pbx_of(d) == pbx]:
            if dial.stage is Stage.PREVIEW:
                continue  # nothing was dialled
            if dial.agent_first or (dial.restored and leg_for(dial.id) in legs):
                leg = legs.get(dial.leg_id or leg_for(dial.id))
                if leg is not None:
                    claimed.add(leg.leg_id)
                out += self._settle_agent_first(dial, leg, now)
                continue
            channel = channels.get(dial.id)
            leg = by_caller.get(dial.id)
            out += self._settle_customer_first(dial, channel, leg, now)
        return claimed, out

    def _pbx_of(self, dial: Dial) -> str:
        run = self.state.runs.get(dial.campaign_id)
        return run.campaign.pbx if run is not None else ""

    def _settle_customer_first(
        self, dial: Dial, channel: OutboundChannel | None, leg: AgentChannel | None, now: float
    ) -> list[Command]:
        call = self.desk.calls.get(dial.id)
        if channel is None:  # gone while nobody listened
            if call is not None:
                connected = call.state is CallState.CONNECTED
                return self.desk.end(
                    call, Outcome.ANSWERED if connected else Outcome.ABANDONED, now
                )
            outcome = {
                Stage.ABANDONED: DialOutcome.ABANDONED,
                Stage.MACHINE: DialOutcome.MACHINE,
            }.get(dial.stage, DialOutcome.LOST)
            if outcome is DialOutcome.LOST:
                dial.detail = "ended while the controller was not listening"
            return self.settler.finish(dial, outcome, now)
        if channel.stage in ("ringing", "answered"):
            dial.stage = Stage.RINGING if channel.stage == "ringing" else Stage.ANSWERED
            return []
        if channel.stage == "live" and dial.stage in (Stage.RINGING, Stage.ANSWERED):
            return self.tracker.live(dial.id, "", now)
        if channel.stage == "agent" and call is None and leg is not None:
            return self._adopt_conversation(dial, leg, now)
        offering = call is not None and call.state is CallState.OFFERING
        if offering and leg is not None and leg.answered and call and call.leg_id == leg.leg_id:
            # the agent answered while the link was down
            answered = self.desk.leg_answered(leg.leg_id, now, call.pbx, seen_bridged=True)
            return answered + self.tracker.connected(dial.id, now)
        if channel.stage == "message" and dial.stage not in (Stage.ABANDONED, Stage.MACHINE):
            dial.stage = Stage.MACHINE if dial.amd == "machine" else Stage.ABANDONED
        return []

    def _adopt_conversation(self, dial: Dial, leg: AgentChannel, now: float) -> list[Command]:
        """A person talking to an agent the centre had not seen connect: the call desk
        takes the call over as connected, the agent as on the call."""
        run = self.state.runs[dial.campaign_id]
        agent = self.floor.directory.agent_for_device(leg.device, self._pbx_of(dial))
        contact = dial.contact
        call = Call(
            dial.id,
            run.campaign.queue_id,
            contact.number,
            contact.name,
            now - leg.age_s,
            CallState.CONNECTED,
            agent.id if agent else None,
            leg.leg_id,
            now - leg.age_s,
            1,
            pbx=run.campaign.pbx,
            kind="outbound",
            recording=run.recording_policy(self.floor.directory.queues),
            campaign_id=run.campaign.id,
        )
        self.desk.calls[call.id] = call
        self.desk.legs[leg.leg_id] = call.id
        dial.stage, dial.connected_at = Stage.CONNECTED, now - leg.age_s
        dial.live_at = dial.live_at or dial.connected_at
        dial.agent_id = agent.id if agent else None
        self.floor.timers.cancel(TimerKind.OB_DIAL, dial.id)
        out: list[Command] = [self.desk.notice(call)]
        if agent is not None:
            self.floor.apply(agent.id, Trigger.ADOPT_CALL, now)
            self.floor.status[agent.id].call_id = call.id
            self.state.agent_campaign[agent.id] = dial.campaign_id
            out.append(self.floor.agent_notice(agent.id))
        return out

    def _settle_agent_first(
        self, dial: Dial, leg: AgentChannel | None, now: float
    ) -> list[Command]:
        if leg is None:
            if dial.stage is Stage.AGENT_RINGING and dial.leg_id is not None:
                return self.agent_first.agent_failed(dial.leg_id, LegFailure.ERROR, now)
            outcome = DialOutcome.CONNECTED if dial.stage is Stage.CONNECTED else DialOutcome.LOST
            if outcome is DialOutcome.LOST:
                dial.detail = "ended while the controller was not listening"
            return self.settler.finish(dial, outcome, now)
        dial.leg_id = leg.leg_id
        dial.agent_first = True
        self.state.legs[leg.leg_id] = dial.id
        agent = self.floor.directory.agent_for_device(leg.device, self._pbx_of(dial))
        if agent is not None and dial.agent_id in (None, agent.id):
            dial.agent_id = agent.id
            status = self.floor.status[agent.id]
            if leg.answered and status.state is not AgentState.ON_CALL:
                self.floor.apply(agent.id, Trigger.ADOPT_CALL, now)
            status.call_id = dial.id
        if leg.bridged and dial.stage is not Stage.CONNECTED:  # talking to the customer
            dial.stage = Stage.CONNECTED
            dial.connected_at = dial.live_at = dial.answered_at = now - min(leg.age_s, 1.0)
        elif leg.answered and dial.stage is Stage.AGENT_RINGING:
            dial.stage = Stage.RINGING  # the agent answered; the customer is being rung
        if dial.mode is DialMode.PREVIEW and not leg.answered:
            return []
        return [self.floor.agent_notice(dial.agent_id)] if dial.agent_id else []
