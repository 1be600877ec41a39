"""The use cases behind the API for outbound work: rule sets, campaigns, contact lists,
do-not-call lists, the agent's previews and dispositions, records and figures.

As elsewhere, every change runs inside the dispatcher: checked against the live centre,
saved, then applied, so a refused change writes nothing. Contact lists are checked row by
row outside it (in a thread) and stored in one transaction; the running dialer finds them
the next time it loads contacts.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command
from ccgateway.domain.errors import Conflict, DomainError, InvalidValue, NotFound
from ccgateway.domain.outbound.campaigns import Campaign, CampaignState
from ccgateway.domain.outbound.contacts import (
    Contact,
    ContactList,
    ContactState,
    Progress,
    check_e164,
)
from ccgateway.domain.outbound.figures import CampaignFigures, campaign_figures
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.domain.outbound.rules import PRESETS, RuleSet, custom_rule_set
from ccgateway.domain.outbound.runs import Entry
from ccgateway.domain.outbound.scripts import summarise
from ccgateway.importing.contacts_csv import ImportReport, parse_contacts
from ccgateway.ports import Clock, OutboundStore
from ccgateway.services.dispatcher import Dispatcher

MAX_NUMBERS = 100_000  # numbers added to a do-not-call list in one request


@dataclass(frozen=True, slots=True)
class CampaignView:
    campaign: Campaign
    state: CampaignState
    why_idle: str  # "" while dialling
    lines: int  # calls out now
    counts: Mapping[str, int]  # contacts per state


class DialerService:
    def __init__(self, dispatcher: Dispatcher, store: OutboundStore, clock: Clock) -> None:
        self._dispatcher = dispatcher
        self._center = dispatcher.center
        self._store = store
        self._clock = clock

    # --- rule sets -----------------------------------------------------------------------

    def rule_sets(self) -> list[RuleSet]:
        return sorted(self._center.outbound.rule_sets.values(), key=lambda r: r.id)

    def rule_set(self, rule_set_id: str) -> RuleSet:
        found = self._center.outbound.rule_sets.get(rule_set_id)
        if found is None:
            raise NotFound(f"no rule set {rule_set_id!r}")
        return found

    async def put_rule_set(
        self, rule_set_id: str, name: str, base: str, changes: Mapping[str, object]
    ) -> RuleSet:
        rules = custom_rule_set(rule_set_id, name, base, changes)

        async def op(center: Center, now: float) -> tuple[RuleSet, list[Command]]:
            for run in center.outbound.runs.values():  # checked before anything is saved
                if run.campaign.rule_set_id == rules.id:
                    run.campaign.check_against(rules)
            await asyncio.to_thread(self._store.put_rule_set, rules)
            center.outbound.put_rule_set(rules)
            return rules, []

        return await self._dispatcher.perform(op)

    async def delete_rule_set(self, rule_set_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            if rule_set_id in PRESETS:
                raise Conflict(f"rule set {rule_set_id} is a preset")
            self.rule_set(rule_set_id)
            users = [
                r.campaign.id
                for r in center.outbound.runs.values()
                if r.campaign.rule_set_id == rule_set_id
            ]
            if users:
                raise Conflict(f"rule set {rule_set_id} is used by {', '.join(sorted(users))}")
            await asyncio.to_thread(self._store.delete_rule_set, rule_set_id)
            center.outbound.remove_rule_set(rule_set_id)
            return None, []

        await self._dispatcher.perform(op)

    # --- campaigns -----------------------------------------------------------------------

    async def campaigns(self) -> list[CampaignView]:
        ids = sorted(self._center.outbound.runs)
        return [await self.campaign(campaign_id) for campaign_id in ids]

    async def campaign(self, campaign_id: str) -> CampaignView:
        run = self._center.outbound.run(campaign_id)
        counts = await asyncio.to_thread(self._store.counts, campaign_id)
        lines = sum(1 for d in run.dials if self._center.outbound.dials[d].dialled_at)
        return CampaignView(run.campaign, run.state, run.why_idle, lines, counts)

    async def put_campaign(self, campaign: Campaign, *, new: bool | None = None) -> CampaignView:
        """Create (`new`), replace (not `new`) or either (None)."""

        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            run = center.outbound.runs.get(campaign.id)
            if new is True and run is not None:
                raise Conflict(f"campaign {campaign.id} exists already")
            if new is False and run is None:
                raise NotFound(f"no campaign {campaign.id!r}")
            center.outbound.check_campaign(campaign)
            state = run.state if run is not None else CampaignState.STOPPED
            await asyncio.to_thread(self._store.put_campaign, campaign, state)
            return None, center.put_campaign(campaign, now)

        await self._dispatcher.perform(op)
        return await self.campaign(campaign.id)

    async def delete_campaign(self, campaign_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            run = center.outbound.run(campaign_id)
            if run.state is not CampaignState.STOPPED or run.dials:
                raise Conflict(f"campaign {campaign_id} is {run.state.value}: stop it first")
            await asyncio.to_thread(self._store.delete_campaign, campaign_id)
            center.outbound.remove_campaign(campaign_id)
            return None, []

        await self._dispatcher.perform(op)

    async def campaign_action(self, campaign_id: str, action: str) -> CampaignView:
        """start, pause or stop; the state is saved, so a restart resumes it."""

        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            run = center.outbound.run(campaign_id)
            commands = center.campaign_action(campaign_id, action, now)
            await asyncio.to_thread(self._store.put_campaign, run.campaign, run.state)
            return None, commands

        await self._dispatcher.perform(op)
        return await self.campaign(campaign_id)

    def figures(self, campaign_id: str) -> CampaignFigures:
        outbound = self._center.outbound
        run = outbound.run(campaign_id)
        lines = sum(1 for d in run.dials if outbound.dials[d].dialled_at)
        return campaign_figures(run, self._center.floor, lines, self._clock.now())

    # --- lists and contacts ----------------------------------------------------------------

    async def import_list(
        self,
        campaign_id: str,
        list_id: str,
        name: str,
        lines: Iterable[str],
        region: str,
        source: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> tuple[ContactList, ImportReport]:
        """Check every row; store the list and its good rows in one transaction (or
        nothing). Rejected rows are reported, not stored."""
        campaign = self._center.outbound.run(campaign_id).campaign
        if not 1 <= len(name) <= 200:
            raise InvalidValue("a list's name is 1-200 characters")
        report = await asyncio.to_thread(
            parse_contacts, lines, list_id, campaign.purpose, region, progress
        )
        if not report.contacts:
            raise InvalidValue(
                f"no row of the file could be imported ({report.rejected_count} rejected)"
            )
        contact_list = ContactList(
            list_id,
            campaign_id,
            name,
            self._clock.now(),
            len(report.contacts),
            report.rejected_count,
            source,
        )
        await asyncio.to_thread(self._store.import_contacts, contact_list, report.contacts)
        return contact_list, report

    async def lists(self, campaign_id: str) -> list[ContactList]:
        self._center.outbound.run(campaign_id)
        return await asyncio.to_thread(self._store.lists, campaign_id)

    async def contacts(
        self, campaign_id: str, state: ContactState | None, limit: int, offset: int
    ) -> list[tuple[Contact, Progress]]:
        self._center.outbound.run(campaign_id)
        await self._dispatcher.drain_writes()
        return await asyncio.to_thread(self._store.contacts, campaign_id, state, limit, offset)

    async def contact(self, campaign_id: str, contact_id: str) -> tuple[Contact, Progress]:
        await self._dispatcher.drain_writes()
        found = await asyncio.to_thread(self._store.contact, campaign_id, contact_id)
        if found is None:
            raise NotFound(f"campaign {campaign_id} has no contact {contact_id!r}")
        return found

    async def schedule_callback(
        self, campaign_id: str, contact_id: str, at: float, agent_id: str | None
    ) -> Progress:
        """Call the contact back at `at` (by `agent_id`, or by any of the campaign's agents)."""
        _, progress = await self.contact(campaign_id, contact_id)
        now = self._clock.now()
        if not now < at <= now + 90 * 86400.0:
            raise InvalidValue("a callback is within the next 90 days")
        if agent_id is not None:
            self._center.directory.agent(agent_id)
        if progress.state in (ContactState.DIALING, ContactState.SUPPRESSED):
            raise Conflict(f"contact {contact_id} is {progress.state.value}")

        async def op(center: Center, now: float) -> tuple[Progress, list[Command]]:
            if any(d.entry.contact.id == contact_id for d in center.outbound.dials.values()):
                raise Conflict(f"contact {contact_id} is being dialled")
            center.outbound.drop_loaded(campaign_id, contact_id)  # loaded before: stale
            moved = dataclasses.replace(
                progress,
                state=ContactState.SCHEDULED,
                next_at=at,
                last_outcome="callback scheduled",
                callback_at=at,
                callback_agent_id=agent_id,
                dial_id=None,
                updated_at=now,
            )
            await asyncio.to_thread(self._store.save_progress, moved)
            return moved, []

        return await self._dispatcher.perform(op)

    # --- the agent's side --------------------------------------------------------------------

    async def preview_answer(self, agent_id: str, dial_id: str, accept: bool) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            return None, center.preview_answer(agent_id, dial_id, accept, now)

        await self._dispatcher.perform(op)

    async def dispose(
        self,
        dial_id: str,
        agent_id: str,
        code: str,
        answers: Mapping[str, object],
        note: str,
        callback_at: float | None,
        callback_agent_id: str | None,
    ) -> DispositionRecord:
        async def op(center: Center, now: float) -> tuple[DispositionRecord, list[Command]]:
            return center.dispose(
                dial_id, agent_id, code, dict(answers), note, callback_at, callback_agent_id, now
            )

        return await self._dispatcher.perform(op)

    # --- do-not-call -------------------------------------------------------------------------

    async def suppress(self, numbers: Sequence[str], reason: str) -> int:
        """Numbers on the internal do-not-call list (an objection): no campaign dials them."""
        checked = _numbers(numbers)
        if not 1 <= len(reason) <= 200:
            raise InvalidValue("give a reason of 1-200 characters")

        async def op(center: Center, now: float) -> tuple[int, list[Command]]:
            added = await asyncio.to_thread(self._store.suppress, "internal", checked, reason, now)
            for number in checked:
                center.outbound.suppress(number, f"internal ({reason})")
            return added, []

        return await self._dispatcher.perform(op)

    async def replace_register(self, register: str, numbers: Sequence[str]) -> int:
        """A fresh screening list of a register (TPS, the national DNC), whole."""
        if register == "internal":
            raise InvalidValue("the internal list is added to, not replaced")
        checked = _numbers(numbers, limit=50_000_000)

        async def op(center: Center, now: float) -> tuple[int, list[Command]]:
            count = await asyncio.to_thread(self._store.replace_register, register, checked, now)
            center.outbound.screened[register] = now
            for run in center.outbound.runs.values():
                run.hopper.clear()  # loaded before the new screening: load again
            return count, []

        return await self._dispatcher.perform(op)

    async def registers(self) -> dict[str, float]:
        return await asyncio.to_thread(self._store.screened)

    # --- records -----------------------------------------------------------------------------

    async def dials(
        self, campaign_id: str | None, since: float | None, limit: int, offset: int
    ) -> list[DialRecord]:
        await self._dispatcher.drain_writes()
        return await asyncio.to_thread(self._store.dials, campaign_id, since, limit, offset)

    async def refusals(
        self, campaign_id: str, since: float | None, limit: int
    ) -> list[RefusalRecord]:
        self._center.outbound.run(campaign_id)
        await self._dispatcher.drain_writes()
        return await asyncio.to_thread(self._store.refusals, campaign_id, since, limit)

    async def answers(self, campaign_id: str, since: float | None) -> list[dict[str, object]]:
        """The script's answers summarised per question (a survey's results)."""
        campaign = self._center.outbound.run(campaign_id).campaign
        await self._dispatcher.drain_writes()
        found = await asyncio.to_thread(self._store.dispositions, campaign_id, since)
        return summarise(campaign.script, (d.answers for d in found))

    async def dispositions(self, campaign_id: str, since: float | None) -> list[DispositionRecord]:
        self._center.outbound.run(campaign_id)
        await self._dispatcher.drain_writes()
        return await asyncio.to_thread(self._store.dispositions, campaign_id, since)


def _numbers(numbers: Sequence[str], limit: int = MAX_NUMBERS) -> list[str]:
    if not numbers:
        raise InvalidValue("give at least one number")
    if len(numbers) > limit:
        raise InvalidValue(f"at most {limit:,} numbers at once")
    return [check_e164(n) for n in dict.fromkeys(numbers)]


def load_outbound(
    center: Center, store: OutboundStore, now: float, warn: Callable[[str], None] = print
) -> None:
    """At start: custom rule sets, campaigns in the state they were left in, the last 30
    days' dials (ledgers, lockouts, attempt caps, today's counters) and the contacts that
    were being dialled (the PBX's first picture settles them). A campaign that no longer
    meets the centre's checks (its queue went) stays in the store, unloaded, with a warning."""
    rule_sets, campaigns = store.load_config()
    for rules in rule_sets:
        center.outbound.rule_sets[rules.id] = rules
    for campaign, state in campaigns:
        try:
            center.outbound.put_campaign(campaign, now)
        except DomainError as exc:
            warn(f"campaign {campaign.id} not loaded: {exc}")
            continue
        center.outbound.runs[campaign.id].state = state
    today = now // 86_400 * 86_400
    center.outbound.load_history(store.dials(None, now - 30 * 86400.0, 10_000_000), today)
    listed = store.dialing()
    center.outbound.restore([Entry(c, p) for c, p in listed], now)
