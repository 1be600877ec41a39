"""The campaign book: rule sets and campaigns (checked against the centre), starting,
pausing and stopping, and what the store hands the dialer (history, contacts,
suppressions). It writes the dialer's state; placing and settling read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ccgateway.domain.agents import Trigger
from ccgateway.domain.commands import Command
from ccgateway.domain.errors import Conflict, InvalidValue, NotFound
from ccgateway.domain.floor import Floor
from ccgateway.domain.outbound.campaigns import Campaign, CampaignState, DialOutcome, next_state
from ccgateway.domain.outbound.contacts import DIALABLE
from ccgateway.domain.outbound.ledger import AbandonLedger
from ccgateway.domain.outbound.notices import campaign_notice
from ccgateway.domain.outbound.pacing import new_pacer
from ccgateway.domain.outbound.records import DialRecord
from ccgateway.domain.outbound.rules import PRESETS, RuleSet
from ccgateway.domain.outbound.runs import EXHAUSTED_RETRY_S, CampaignRun, Counters, Entry, Stage
from ccgateway.domain.outbound.state import DialerState
from ccgateway.domain.outbound.steps import DialSteps
from ccgateway.domain.timers import TimerKind

AMD_DECISION_S = 1.5  # AMD's HUMAN verdict came ~1.52 s after the answer on the sandbox


def waits(campaign: Campaign, rules: RuleSet) -> float:
    """How long a person the pacer counts as live can still wait for an agent: the grace,
    less AMD's listening when the law counts it (UK)."""
    if campaign.amd.enabled and rules.grace_counts_amd:
        return max(0.0, rules.grace_s - AMD_DECISION_S)
    return rules.grace_s


@dataclass(eq=False)
class CampaignBook:
    state: DialerState
    floor: Floor
    steps: DialSteps

    def put_rule_set(self, rules: RuleSet) -> None:
        if rules.id in PRESETS:
            raise Conflict(f"rule set {rules.id} is a preset: make a custom one from it")
        runs = self.state.runs.values()
        for run in runs:
            if run.campaign.rule_set_id == rules.id:
                run.campaign.check_against(rules)
        self.state.rule_sets[rules.id] = rules
        for run in runs:
            if run.campaign.rule_set_id == rules.id:
                _retarget(run, run.campaign, rules)

    def remove_rule_set(self, rule_set_id: str) -> None:
        if rule_set_id in PRESETS:
            raise Conflict(f"rule set {rule_set_id} is a preset")
        if rule_set_id not in self.state.rule_sets:
            raise NotFound(f"no rule set {rule_set_id!r}")
        runs = self.state.runs.values()
        users = [r.campaign.id for r in runs if r.campaign.rule_set_id == rule_set_id]
        if users:
            raise Conflict(f"rule set {rule_set_id} is used by {', '.join(sorted(users))}")
        del self.state.rule_sets[rule_set_id]

    def check_campaign(self, campaign: Campaign) -> RuleSet:
        """Everything a campaign's settings must meet against the rest of the centre."""
        rules = self.state.rule_sets.get(campaign.rule_set_id)
        if rules is None:
            raise InvalidValue(f"no rule set {campaign.rule_set_id!r}")
        queues = self.floor.directory.queues
        queue = queues.get(campaign.queue_id)
        if queue is None:
            raise InvalidValue(f"no queue {campaign.queue_id!r} for the campaign's agents")
        self.floor.require(campaign.pbx, "outbound")
        if queue.pbx != campaign.pbx:
            raise InvalidValue(f"queue {queue.id} is on PBX {queue.pbx}, not {campaign.pbx}")
        if campaign.blend is not None:
            for queue_id in campaign.blend.inbound_queue_ids:
                if queue_id not in queues:
                    raise InvalidValue(f"blend: no inbound queue {queue_id!r}")
        campaign.check_against(rules)
        run = self.state.runs.get(campaign.id)
        changed = run is not None and run.campaign.rule_set_id != campaign.rule_set_id
        if run is not None and changed and (run.counters.dials or run.dials):
            raise Conflict(
                f"campaign {campaign.id} has dialled under {run.campaign.rule_set_id}: "
                "its rule set stays (make a new campaign)"
            )
        return rules

    def put_campaign(self, campaign: Campaign, now: float) -> list[Command]:
        rules = self.check_campaign(campaign)
        run = self.state.runs.get(campaign.id)
        if run is None:
            target = campaign.target(rules)
            run = self.state.runs[campaign.id] = CampaignRun(
                campaign,
                rules,
                new_pacer(target, waits(campaign, rules)),
                AbandonLedger(rules, campaign.amd.false_positive_share, target),
            )
            return [campaign_notice(run)]
        _retarget(run, campaign, rules)
        return [campaign_notice(run)]

    def restore_rule_set(self, rules: RuleSet) -> None:
        """At start: a custom rule set as stored (campaigns on it come after)."""
        self.state.rule_sets[rules.id] = rules

    def restore_campaign(self, campaign: Campaign, state: CampaignState, now: float) -> None:
        """At start: a stored campaign, in the state it was left in."""
        self.put_campaign(campaign, now)
        self.state.runs[campaign.id].state = state

    def remove_campaign(self, campaign_id: str) -> None:
        run = self.state.run(campaign_id)
        if run.state is not CampaignState.STOPPED or run.dials:
            raise Conflict(f"campaign {campaign_id} is {run.state.value}: stop it first")
        del self.state.runs[campaign_id]

    def check_queue_removable(self, queue_id: str) -> None:
        users = [
            r.campaign.id
            for r in self.state.runs.values()
            if r.campaign.queue_id == queue_id
            or (r.campaign.blend and queue_id in r.campaign.blend.inbound_queue_ids)
        ]
        if users:
            raise Conflict(f"queue {queue_id} is used by campaign(s) {', '.join(sorted(users))}")

    def set_state(self, campaign_id: str, action: str, now: float) -> list[Command]:
        """A supervisor starts, pauses or stops a campaign. Calls already out go on."""
        run = self.state.run(campaign_id)
        state = next_state(run.state, action)
        if state is CampaignState.RUNNING:
            self.check_campaign(run.campaign)
        run.state = state
        out: list[Command] = []
        if state is not CampaignState.RUNNING:
            for dial in [d for d in self.state.dials.values() if d.campaign_id == campaign_id]:
                if dial.stage is Stage.PREVIEW:
                    out += self.steps.drop_preview(dial, now, Trigger.WITHDRAW)
            run.hopper.clear()
            run.owned.clear()
            self.floor.timers.cancel(TimerKind.OB_PACE, campaign_id)
        return [*out, campaign_notice(run)]

    def load_history(self, records: Iterable[DialRecord], today_from: float) -> None:
        """Recent dial records at start (30 days, oldest first): the numbers' dials and
        abandons, the ledgers, and today's counters (records that ended since
        `today_from`)."""
        log = self.state.log
        for record in records:
            log.dialled(record.number, record.dialled_at)
            if record.outcome is DialOutcome.ABANDONED:
                log.abandoned(record.number, record.ended_at)
            run = self.state.runs.get(record.campaign_id)
            if run is None:
                continue
            run.count_in_ledger(record.outcome, record.ended_at)
            if record.ended_at >= today_from:
                run.counters.dials += 1
                run.counters.ended(record.outcome)
                run.counters.talk_s += record.talk_s
                if record.wait_s is not None:
                    run.counters.waits.append(record.wait_s)

    def drop_loaded(self, campaign_id: str, contact_id: str) -> None:
        """Forget a contact loaded for dialling (its progress changed outside the dialer)."""
        run = self.state.run(campaign_id)
        kept = [e for e in run.hopper if e.contact.id != contact_id]
        run.hopper.clear()
        run.hopper.extend(kept)
        for agent_id, entries in list(run.owned.items()):
            run.owned[agent_id] = [e for e in entries if e.contact.id != contact_id]

    def screening_replaced(self, register: str, at: float) -> None:
        """A register's fresh screening is stored at `at`: contacts loaded before it are
        loaded again."""
        self.state.screened[register] = at
        for run in self.state.runs.values():
            run.hopper.clear()

    def reset_day(self) -> None:
        """A new day: today's counters start again (the ledgers keep their own windows)."""
        for run in self.state.runs.values():
            run.counters = Counters()

    def contacts_loaded(
        self,
        campaign_id: str,
        entries: Iterable[Entry],
        asked: int,
        screened: Mapping[str, float | None],
        now: float,
    ) -> list[Command]:
        """The store's answer to LoadContacts: due contacts go into the hopper, callbacks
        promised to an agent to that agent's list; fewer than asked means no more for a
        while."""
        run = self.state.runs.get(campaign_id)
        if run is None:
            return []
        run.loading = False
        self.state.screened.update({k: v for k, v in screened.items() if v is not None})
        in_hand = run.ids_in_hand() | {d.entry.contact.id for d in self.state.dials.values()}
        got = 0
        for entry in entries:
            got += 1
            if entry.contact.id in in_hand or entry.progress.state not in DIALABLE:
                continue
            owner = entry.progress.callback_agent_id
            if owner is not None and entry.progress.callback_at is not None:
                run.owned.setdefault(owner, []).append(entry)
            else:
                run.hopper.append(entry)
        if got < asked:
            run.exhausted_until = now + EXHAUSTED_RETRY_S
        return []


def _retarget(run: CampaignRun, campaign: Campaign, rules: RuleSet) -> None:
    """New settings for a run: the pacer's target and waits follow, the ledger is rebuilt
    under the new rules with the tallies it had."""
    run.campaign, run.rules = campaign, rules
    target = campaign.target(rules)
    run.pacer.target = target
    run.pacer.grace_s = waits(campaign, rules)
    tallies = run.ledger
    run.ledger = AbandonLedger(rules, campaign.amd.false_positive_share, target)
    run.ledger.adopt(tallies)
