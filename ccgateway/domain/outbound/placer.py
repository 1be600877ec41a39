"""Placing calls: how many (the pacer, or one per free agent), which contact (the hopper,
through the gate), and how (launch.py: customer first, or agent first for previews and
callbacks). Each running campaign is paced after every step of the centre and every
half second while it runs (rings age).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ccgateway.domain.agents import Trigger
from ccgateway.domain.calls import CallDesk, CallState
from ccgateway.domain.commands import Command
from ccgateway.domain.errors import Conflict, NotFound
from ccgateway.domain.floor import Floor
from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.campaigns import CampaignState, DialMode
from ccgateway.domain.outbound.commands import LoadContacts
from ccgateway.domain.outbound.gate import Gate
from ccgateway.domain.outbound.launch import Launcher
from ccgateway.domain.outbound.notices import dial_notice
from ccgateway.domain.outbound.pacing import PaceState, decide
from ccgateway.domain.outbound.runs import CampaignRun, Stage
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.outbound.steps import DialSteps
from ccgateway.domain.timers import TimerKind

PACE_EVERY_S = 0.5  # a running campaign is paced again this often (rings age)
MAX_HOPPER = 500


@dataclass(eq=False)
class Placer:
    state: DialerState
    floor: Floor
    desk: CallDesk
    steps: DialSteps
    gate: Gate
    launcher: Launcher

    def pace(self, now: float) -> list[Command]:
        out: list[Command] = []
        for run in self.state.runs.values():
            out += self._pace(run, now)
        return out

    def _pace(self, run: CampaignRun, now: float) -> list[Command]:
        campaign = run.campaign
        queue = self.floor.directory.queues.get(campaign.queue_id)
        why = self._idle_reason(run, queue, now)
        run.why_idle = why
        if why or queue is None:
            return []
        self.floor.timers.set(TimerKind.OB_PACE, campaign.id, now + PACE_EVERY_S)
        out = self._owned_callbacks(run, now)
        blend = campaign.blend
        if blend is not None:
            longest = self._longest_inbound_wait(blend.inbound_queue_ids, now)
            run.adjust_reserve(longest, now)
            if longest is not None:
                run.why_idle = "inbound callers are waiting"
                return out + self._maybe_load(run, now)
        free = self.steps.free_agents(queue)
        spare = max(0, len(free) - run.reserve)
        if campaign.mode is DialMode.PREVIEW:
            previews = self._one_per_agent(run, queue, spare, DialMode.PREVIEW, now)
            return out + previews + self._maybe_load(run, now)
        state = self._pace_state(run, queue, spare, now)
        if campaign.mode is DialMode.PROGRESSIVE:
            # none of its own; other campaigns' calls that may take these agents
            in_flight = len(state.ringing_ages_s) + state.live_waiting
            count = max(0, spare - in_flight)
            out += self._one_per_agent(run, queue, count, DialMode.PROGRESSIVE, now)
        else:
            decision = decide(run.pacer, run.ledger, state, now)
            if decision.keep_agents:
                out += self._one_per_agent(run, queue, decision.calls, DialMode.PROGRESSIVE, now)
            else:
                out += self._dial_at_risk(run, queue, decision.calls, now)
        return out + self._maybe_load(run, now)

    def _idle_reason(self, run: CampaignRun, queue: Queue | None, now: float) -> str:
        campaign = run.campaign
        if run.state is not CampaignState.RUNNING:
            return run.state.value
        if not campaign.in_schedule(now):
            return "outside the campaign's schedule"
        if queue is None:
            return f"queue {campaign.queue_id} is gone"
        if campaign.pbx not in self.floor.ready:
            return f"PBX {campaign.pbx} is not connected"
        return ""

    def _pace_state(self, run: CampaignRun, queue: Queue, spare: int, now: float) -> PaceState:
        """What the pacer sees: the calls out with no agent kept for them (a kept call has
        its agent, who is not free), the free agents, and the busy ones' elapsed times.

        Calls of other campaigns whose agents are this queue's too are in flight for this
        pacer as well: they may take the same free agents, and two campaigns that each
        counted every free agent as theirs would dial for them twice."""
        ringing, live, kept = self._in_flight(run, now)
        own = len(ringing) + live
        members = set(self.floor.engine.members(queue))
        for other in self.state.runs.values():
            if other is not run and self._shares_agents(other, members):
                their_ringing, their_live, _ = self._in_flight(other, now)
                ringing += their_ringing
                live += their_live
        busy = []
        for agent_id in members:
            status = self.floor.status[agent_id]
            if status.engaged_at is not None:
                busy.append(now - status.engaged_at)
        lines = run.campaign.max_lines  # the campaign's own calls only
        room = None if lines is None else lines - kept + (len(ringing) + live - own)
        return PaceState(spare, ringing, busy, room, live)

    def _in_flight(self, run: CampaignRun, now: float) -> tuple[list[float], int, int]:
        """The run's calls out with no agent kept: the ringing ones' ages and the people
        on the line waiting for an agent; and the calls out with an agent kept."""
        ringing, live, kept = [], 0, 0
        for dial_id in run.dials:
            dial = self.state.dials[dial_id]
            if dial.dialled_at is None:
                continue
            if not dial.at_risk:
                kept += dial.stage in (Stage.RINGING, Stage.ANSWERED, Stage.LIVE)
            elif dial.stage in (Stage.RINGING, Stage.ANSWERED):
                ringing.append(now - dial.dialled_at)
            elif dial.stage is Stage.LIVE:
                live += 1
        return ringing, live, kept

    def _shares_agents(self, run: CampaignRun, members: set[str]) -> bool:
        queue = self.floor.directory.queues.get(run.campaign.queue_id)
        return queue is not None and not members.isdisjoint(self.floor.engine.members(queue))

    def _longest_inbound_wait(self, queue_ids: Iterable[str], now: float) -> float | None:
        waits = [
            now - call.arrived_at
            for call in self.desk.calls.values()
            if call.queue_id in queue_ids
            and call.kind == "inbound"
            and call.state is not CallState.CONNECTED
        ]
        return max(waits, default=None)

    def _maybe_load(self, run: CampaignRun, now: float) -> list[Command]:
        """Ask the store for more contacts when the hopper runs below half what the
        campaign's lines and free agents would use."""
        lines = len(run.dials)
        want = min(MAX_HOPPER, max(10, 3 * (lines + len(self._free_agents_of(run)))))
        if run.loading or len(run.hopper) >= want // 2 or now < run.exhausted_until:
            return []
        run.loading = True
        exclude = run.ids_in_hand() | {e.contact.id for es in run.owned.values() for e in es}
        exclude |= {self.state.dials[d].entry.contact.id for d in run.dials}
        count = want - len(run.hopper)
        return [LoadContacts(run.campaign.id, count, now, frozenset(exclude), owned_callbacks=True)]

    def _free_agents_of(self, run: CampaignRun) -> list[str]:
        queue = self.floor.directory.queues.get(run.campaign.queue_id)
        return self.steps.free_agents(queue) if queue is not None else []

    def _dial_at_risk(
        self, run: CampaignRun, queue: Queue, count: int, now: float
    ) -> list[Command]:
        out: list[Command] = []
        for _ in range(count):
            entry, refused = self.gate.next_entry(run, DialMode.PREDICTIVE, now)
            out += refused
            if entry is None:
                break
            if entry.progress.callback_at is not None:  # a promise: an agent goes with it
                agents = self.steps.free_agents(queue)
                if not agents:
                    run.hopper.appendleft(entry)
                    break
                out += self.launcher.agent_first(run, entry, agents[0], now)
                continue
            out += self.launcher.dial_customer(run, entry, DialMode.PREDICTIVE, None, now)
        return out

    def _one_per_agent(
        self, run: CampaignRun, queue: Queue, count: int, mode: DialMode, now: float
    ) -> list[Command]:
        """Progressive (a call) or preview (a contact shown) for each of `count` free
        agents, who is kept for it; a callback due goes agent first in either mode."""
        out: list[Command] = []
        for agent_id in self.steps.free_agents(queue)[:count]:
            entry, refused = self.gate.next_entry(run, mode, now)
            out += refused
            if entry is None:
                break
            if entry.progress.callback_at is not None:
                out += self.launcher.agent_first(run, entry, agent_id, now)
            elif mode is DialMode.PREVIEW:
                out += self.launcher.offer_preview(run, entry, agent_id, now)
            else:
                out += self.launcher.dial_customer(run, entry, mode, agent_id, now)
        return out

    def preview_answer(
        self, agent_id: str, dial_id: str, accept: bool, now: float
    ) -> list[Command]:
        """The agent dials the previewed contact, or skips it."""
        dial = self.state.dials.get(dial_id)
        if dial is None or dial.stage is not Stage.PREVIEW:
            raise NotFound(f"no preview {dial_id!r} waiting for an answer")
        if dial.agent_id != agent_id:
            raise Conflict(f"preview {dial_id} is offered to {dial.agent_id}, not {agent_id}")
        run = self.state.runs[dial.campaign_id]
        self.floor.timers.cancel(TimerKind.OB_PREVIEW, dial.id)
        if not accept:
            return self.steps.drop_preview(dial, now, Trigger.WITHDRAW, skipped=True)
        refusal = self.gate.check(run, dial.entry, DialMode.PREVIEW, now)
        if refusal is not None:
            out = self.steps.drop_preview(dial, now, Trigger.WITHDRAW)
            told = dial_notice(dial, "refused", refusal=refusal)
            return [*out, told, *self.gate.refused(run, dial.entry, refusal, now)]
        return self.launcher.ring_agent_first(run, dial, now)

    def _owned_callbacks(self, run: CampaignRun, now: float) -> list[Command]:
        """Callbacks promised to an agent go out when that agent is free."""
        out: list[Command] = []
        for agent_id in list(run.owned):
            if not self.floor.engine.is_free(agent_id) or agent_id not in self.floor.status:
                continue
            entries = run.owned[agent_id]
            while entries:
                entry = entries.pop(0)
                refusal = self.gate.check(run, entry, DialMode.PREVIEW, now)
                if refusal is None:
                    out += self.launcher.agent_first(run, entry, agent_id, now)
                    break
                out += self.gate.refused(run, entry, refusal, now)
            if not entries:
                del run.owned[agent_id]
        return out
