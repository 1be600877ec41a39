"""Placing calls: how many (the pacer, or one per free agent), which contact (the hopper,
checked against the law at that moment), and how (customer first, or agent first for
previews and callbacks).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ccgateway.domain.agents import Trigger
from ccgateway.domain.calls import CallState
from ccgateway.domain.commands import Command, DialCallback
from ccgateway.domain.errors import Conflict, NotFound
from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.base import (
    AGENT_RING_S,
    DIAL_GRACE_S,
    MAX_HOPPER,
    MAX_REFUSALS_PER_PACE,
    PACE_EVERY_S,
    DialerBase,
)
from ccgateway.domain.outbound.campaigns import CampaignState, DialMode, MachineAction
from ccgateway.domain.outbound.commands import (
    DialCustomer,
    LoadContacts,
    RecordRefusal,
    SaveProgress,
)
from ccgateway.domain.outbound.compliance import DialContext, Refusal, check
from ccgateway.domain.outbound.contacts import ContactState
from ccgateway.domain.outbound.pacing import PaceState, decide
from ccgateway.domain.outbound.records import RefusalRecord
from ccgateway.domain.outbound.runs import CampaignRun, Dial, Entry, Stage, leg_for
from ccgateway.domain.timers import TimerKind


class Placing(DialerBase):
    def pace(self, now: float) -> list[Command]:
        out: list[Command] = []
        for run in self.runs.values():
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
        free = self._free_agents(queue)
        spare = max(0, len(free) - run.reserve)
        if campaign.mode is DialMode.PREVIEW:
            return out + self._offer_previews(run, queue, spare, now) + self._maybe_load(run, now)
        state = self._pace_state(run, queue, spare, now)
        if campaign.mode is DialMode.PROGRESSIVE:
            # none of its own; other campaigns' calls that may take these agents
            in_flight = len(state.ringing_ages_s) + state.live_waiting
            out += self._dial_kept(run, queue, max(0, spare - in_flight), now)
        else:
            decision = decide(run.pacer, run.ledger, state, now)
            if decision.keep_agents:
                out += self._dial_kept(run, queue, decision.calls, now)
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
        for other in self.runs.values():
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
            dial = self.dials[dial_id]
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
        lines = len(run.dials)
        want = min(MAX_HOPPER, max(10, 3 * (lines + len(self._free_agents_of(run)))))
        if run.loading or len(run.hopper) >= want // 2 or now < run.exhausted_until:
            return []
        run.loading = True
        exclude = run.ids_in_hand() | {e.contact.id for es in run.owned.values() for e in es}
        exclude |= {self.dials[d].entry.contact.id for d in run.dials}
        count = want - len(run.hopper)
        return [LoadContacts(run.campaign.id, count, now, frozenset(exclude), owned_callbacks=True)]

    def _free_agents_of(self, run: CampaignRun) -> list[str]:
        queue = self.floor.directory.queues.get(run.campaign.queue_id)
        return self._free_agents(queue) if queue is not None else []

    def _next_entry(
        self, run: CampaignRun, mode: DialMode, now: float
    ) -> tuple[Entry | None, list[Command]]:
        """The next contact that may be dialled now, recording every refusal on the way."""
        out: list[Command] = []
        refused = 0
        while run.hopper and refused < MAX_REFUSALS_PER_PACE:
            entry = run.hopper.popleft()
            refusal = self._check(run, entry, mode, now)
            if refusal is None:
                return entry, out
            refused += 1
            out += self._refused(run, entry, refusal, now)
        return None, out

    def _check(self, run: CampaignRun, entry: Entry, mode: DialMode, now: float) -> Refusal | None:
        number = entry.contact.number
        ctx = DialContext(
            run.campaign,
            run.rules,
            now,
            mode,
            suppressed_by=entry.suppressed_by or self.suppressed.get(number),
            screened_at={r: self.screened.get(r) for r in run.rules.registers},
        )
        return check(entry.contact, entry.progress, self.log, ctx)

    def _refused(
        self, run: CampaignRun, entry: Entry, refusal: Refusal, now: float
    ) -> list[Command]:
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

    def _dial_at_risk(
        self, run: CampaignRun, queue: Queue, count: int, now: float
    ) -> list[Command]:
        out: list[Command] = []
        for _ in range(count):
            entry, refused = self._next_entry(run, DialMode.PREDICTIVE, now)
            out += refused
            if entry is None:
                break
            if entry.progress.callback_at is not None:  # a promise: an agent goes with it
                agents = self._free_agents(queue)
                if not agents:
                    run.hopper.appendleft(entry)
                    break
                out += self._agent_first(run, entry, agents[0], now)
                continue
            out += self._dial_customer(run, entry, DialMode.PREDICTIVE, None, now)
        return out

    def _dial_kept(self, run: CampaignRun, queue: Queue, count: int, now: float) -> list[Command]:
        """Progressive: a call for each of `count` free agents, who is kept for it."""
        out: list[Command] = []
        for agent_id in self._free_agents(queue)[:count]:
            entry, refused = self._next_entry(run, DialMode.PROGRESSIVE, now)
            out += refused
            if entry is None:
                break
            if entry.progress.callback_at is not None:
                out += self._agent_first(run, entry, agent_id, now)
            else:
                out += self._dial_customer(run, entry, DialMode.PROGRESSIVE, agent_id, now)
        return out

    def _dial_customer(
        self, run: CampaignRun, entry: Entry, mode: DialMode, agent_id: str | None, now: float
    ) -> list[Command]:
        campaign, rules = run.campaign, run.rules
        dial = Dial(
            self._new_dial_id(),
            campaign.id,
            entry,
            mode,
            now,
            Stage.RINGING,
            at_risk=agent_id is None,
            agent_id=agent_id,
        )
        out = self._start(run, dial, now)
        if agent_id is not None:
            out += self._keep_agent(agent_id, dial, now)
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

    def _agent_first(
        self, run: CampaignRun, entry: Entry, agent_id: str, now: float
    ) -> list[Command]:
        """A callback (or an accepted preview): the agent's phone rings, then dials out."""
        dial = Dial(
            self._new_dial_id(),
            run.campaign.id,
            entry,
            DialMode.PREVIEW,
            now,
            Stage.AGENT_RINGING,
            agent_first=True,
            agent_id=agent_id,
        )
        self.dials[dial.id] = dial
        run.dials.add(dial.id)
        out = self._keep_agent(agent_id, dial, now)
        return out + self._ring_agent_first(run, dial, now)

    def _ring_agent_first(self, run: CampaignRun, dial: Dial, now: float) -> list[Command]:
        assert dial.agent_id is not None
        agent = self.floor.directory.agents[dial.agent_id]
        leg_id = leg_for(dial.id)
        dial.leg_id, dial.stage, dial.agent_first = leg_id, Stage.AGENT_RINGING, True
        self.legs[leg_id] = dial.id
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
            self._dial_notice(dial, "agent_ringing"),
        ]

    def _start(self, run: CampaignRun, dial: Dial, now: float) -> list[Command]:
        """The customer is being dialled: count the attempt."""
        self.dials[dial.id] = dial
        run.dials.add(dial.id)
        dial.dialled_at = now
        self.log.dialled(dial.contact.number, now)
        run.counters.dials += 1
        run.counters.peak_lines = max(run.counters.peak_lines, self._lines(run))
        progress = dataclasses.replace(
            dial.entry.progress,
            state=ContactState.DIALING,
            attempts=dial.entry.progress.attempts + 1,
            dial_id=dial.id,
            updated_at=now,
        )
        dial.entry = dataclasses.replace(dial.entry, progress=progress)
        return [SaveProgress(progress), self._dial_notice(dial, "dialing")]

    def _offer_previews(
        self, run: CampaignRun, queue: Queue, spare: int, now: float
    ) -> list[Command]:
        out: list[Command] = []
        for agent_id in self._free_agents(queue)[:spare]:
            entry, refused = self._next_entry(run, DialMode.PREVIEW, now)
            out += refused
            if entry is None:
                break
            if entry.progress.callback_at is not None:
                out += self._agent_first(run, entry, agent_id, now)
                continue
            dial = Dial(
                self._new_dial_id(),
                run.campaign.id,
                entry,
                DialMode.PREVIEW,
                now,
                Stage.PREVIEW,
                agent_id=agent_id,
            )
            self.dials[dial.id] = dial
            run.dials.add(dial.id)
            out += self._keep_agent(agent_id, dial, now)
            self.floor.timers.set(
                TimerKind.OB_PREVIEW, dial.id, now + run.campaign.preview_timeout_s
            )
            out.append(self._preview_notice(run, dial))
        return out

    def preview_answer(
        self, agent_id: str, dial_id: str, accept: bool, now: float
    ) -> list[Command]:
        """The agent dials the previewed contact, or skips it."""
        dial = self.dials.get(dial_id)
        if dial is None or dial.stage is not Stage.PREVIEW:
            raise NotFound(f"no preview {dial_id!r} waiting for an answer")
        if dial.agent_id != agent_id:
            raise Conflict(f"preview {dial_id} is offered to {dial.agent_id}, not {agent_id}")
        run = self.runs[dial.campaign_id]
        self.floor.timers.cancel(TimerKind.OB_PREVIEW, dial.id)
        if not accept:
            return self._drop_preview(dial, now, Trigger.WITHDRAW, skipped=True)
        refusal = self._check(run, dial.entry, DialMode.PREVIEW, now)
        if refusal is not None:
            out = self._drop_preview(dial, now, Trigger.WITHDRAW)
            told = self._dial_notice(dial, "refused", refusal=refusal)
            return [*out, told, *self._refused(run, dial.entry, refusal, now)]
        return self._ring_agent_first(run, dial, now)

    def _owned_callbacks(self, run: CampaignRun, now: float) -> list[Command]:
        out: list[Command] = []
        for agent_id in list(run.owned):
            if not self.floor.engine.is_free(agent_id) or agent_id not in self.floor.status:
                continue
            entries = run.owned[agent_id]
            while entries:
                entry = entries.pop(0)
                refusal = self._check(run, entry, DialMode.PREVIEW, now)
                if refusal is None:
                    out += self._agent_first(run, entry, agent_id, now)
                    break
                out += self._refused(run, entry, refusal, now)
            if not entries:
                del run.owned[agent_id]
        return out
