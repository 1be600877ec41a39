"""How a dial starts: customer first (the PBX dials the contact; the pacer's calls and
progressive ones), agent first (the agent's phone rings, then dials the contact: accepted
previews and callbacks), or as a preview shown to a kept agent. Each start is counted and
the contact saved as being dialled, with the dial's id, before the PBX is asked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ccgateway.domain.commands import Command, DialCallback
from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.campaigns import DialMode, MachineAction
from ccgateway.domain.outbound.commands import DialCustomer, SaveProgress
from ccgateway.domain.outbound.contacts import ContactState
from ccgateway.domain.outbound.notices import dial_notice, preview_notice
from ccgateway.domain.outbound.runs import CampaignRun, Dial, Entry, Stage, leg_for
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.outbound.steps import DialSteps
from ccgateway.domain.timers import TimerKind

AGENT_RING_S = 20.0  # agent first: how long the agent's phone rings
DIAL_GRACE_S = 15.0  # past the ring time (and AMD) before the centre gives up on the PBX


@dataclass(eq=False)
class Launcher:
    state: DialerState
    floor: Floor
    steps: DialSteps

    def dial_customer(
        self, run: CampaignRun, entry: Entry, mode: DialMode, agent_id: str | None, now: float
    ) -> list[Command]:
        """Customer first; `agent_id` is kept for the call (progressive), or None (the
        pacer's call: at risk of finding no agent)."""
        campaign, rules = run.campaign, run.rules
        dial = Dial(
            self.steps.new_dial_id(),
            campaign.id,
            entry,
            mode,
            now,
            Stage.RINGING,
            at_risk=agent_id is None,
            agent_id=agent_id,
        )
        out = self.start(run, dial, now)
        if agent_id is not None:
            out += self.steps.keep_agent(agent_id, dial, now)
        amd = campaign.amd
        out.append(
            DialCustomer(
                dial.id,
                campaign.id,
                entry.contact.number,
                campaign.caller_id,
                campaign.caller_name,
                campaign.ring_s,
                amd.enabled,
                amd.machine_message if amd.machine_action is MachineAction.MESSAGE else None,
                campaign.abandon_message,
                rules.grace_s,
                rules.grace_counts_amd,
                campaign.pbx,
            )
        )
        self.floor.timers.set(TimerKind.OB_DIAL, dial.id, now + campaign.ring_s + DIAL_GRACE_S)
        return out

    def agent_first(
        self, run: CampaignRun, entry: Entry, agent_id: str, now: float
    ) -> list[Command]:
        """A callback (or an accepted preview): the agent's phone rings, then dials out."""
        dial, out = self._keep_for(run, entry, agent_id, Stage.AGENT_RINGING, now)
        return out + self.ring_agent_first(run, dial, now)

    def offer_preview(
        self, run: CampaignRun, entry: Entry, agent_id: str, now: float
    ) -> list[Command]:
        """Preview: the agent, kept for it, is shown the contact, and dials it or skips."""
        dial, out = self._keep_for(run, entry, agent_id, Stage.PREVIEW, now)
        self.floor.timers.set(TimerKind.OB_PREVIEW, dial.id, now + run.campaign.preview_timeout_s)
        return [*out, preview_notice(run, dial)]

    def _keep_for(
        self, run: CampaignRun, entry: Entry, agent_id: str, stage: Stage, now: float
    ) -> tuple[Dial, list[Command]]:
        """A dial of the preview kind (nothing dialled yet) with its agent kept for it."""
        dial = Dial(
            self.steps.new_dial_id(),
            run.campaign.id,
            entry,
            DialMode.PREVIEW,
            now,
            stage,
            agent_id=agent_id,
        )
        self.state.dials[dial.id] = dial
        run.dials.add(dial.id)
        return dial, self.steps.keep_agent(agent_id, dial, now)

    def ring_agent_first(self, run: CampaignRun, dial: Dial, now: float) -> list[Command]:
        assert dial.agent_id is not None
        agent = self.floor.directory.agents[dial.agent_id]
        leg_id = leg_for(dial.id)
        dial.leg_id, dial.stage, dial.agent_first = leg_id, Stage.AGENT_RINGING, True
        self.state.legs[leg_id] = dial.id
        self.floor.timers.set(TimerKind.OB_DIAL, dial.id, now + AGENT_RING_S + DIAL_GRACE_S)
        campaign = run.campaign
        # Saved as being dialled (with the dial's id) before the agent's phone rings: once
        # the agent answers, the PBX dials the customer by itself.
        marked = dataclasses.replace(
            dial.entry.progress, state=ContactState.DIALING, dial_id=dial.id, updated_at=now
        )
        dial.entry = dataclasses.replace(dial.entry, progress=marked)
        return [
            SaveProgress(marked),
            DialCallback(
                leg_id,
                dial.id,
                agent.id,
                agent.device,
                dial.contact.number,
                campaign.caller_id,
                AGENT_RING_S,
                campaign.ring_s,
                campaign.pbx,
            ),
            dial_notice(dial, "agent_ringing"),
        ]

    def start(self, run: CampaignRun, dial: Dial, now: float) -> list[Command]:
        """The customer is being dialled: count the attempt."""
        self.state.dials[dial.id] = dial
        run.dials.add(dial.id)
        dial.dialled_at = now
        self.state.log.dialled(dial.contact.number, now)
        run.counters.dials += 1
        run.counters.peak_lines = max(run.counters.peak_lines, self.state.lines(run))
        progress = dataclasses.replace(
            dial.entry.progress,
            state=ContactState.DIALING,
            attempts=dial.entry.progress.attempts + 1,
            dial_id=dial.id,
            updated_at=now,
        )
        dial.entry = dataclasses.replace(dial.entry, progress=progress)
        return [SaveProgress(progress), dial_notice(dial, "dialing")]
