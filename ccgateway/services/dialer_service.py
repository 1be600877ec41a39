"""The use cases behind the API for outbound work: rule sets, campaigns, contact lists,
do-not-call lists, the agent's previews and dispositions, records and figures.

As elsewhere, every change runs inside the dispatcher: checked against the live centre,
saved, then applied, so a refused change writes nothing. Contact lists are checked row by
row outside it (in a thread) and stored in one transaction; the running dialer finds them
the next time it loads contacts.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from ccgateway.domain import administration
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.domain.model import check_id
from ccgateway.domain.outbound.campaigns import Campaign, CampaignState
from ccgateway.domain.outbound.contacts import (
    Contact,
    ContactList,
    ContactState,
    Progress,
    check_e164,
)
from ccgateway.domain.outbound.figures import CampaignFigures
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.domain.outbound.rules import RuleSet, custom_rule_set
from ccgateway.domain.outbound.runs import Entry
from ccgateway.domain.outbound.scripts import summarise
from ccgateway.importing.contacts_csv import ImportReport, parse_contacts
from ccgateway.ports import Clock, OutboundStore
from ccgateway.services.dispatcher import Dispatcher

MAX_NUMBERS = 100_000  # numbers added to a do-not-call list in one request
MAX_REGISTER = 50_000_000  # numbers in a register's screening
SCREENING_PART = 20_000  # numbers written per transaction; other writes go between them


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
        self._screening = asyncio.Lock()

    # --- rule sets -----------------------------------------------------------------------

    def rule_sets(self) -> list[RuleSet]:
        return administration.rule_sets(self._center)

    def rule_set(self, rule_set_id: str) -> RuleSet:
        return administration.rule_set(self._center, rule_set_id)

    async def put_rule_set(
        self, rule_set_id: str, name: str, base: str, changes: Mapping[str, object]
    ) -> RuleSet:
        rules = custom_rule_set(rule_set_id, name, base, changes)

        async def op(center: Center, now: float) -> tuple[RuleSet, list[Command]]:
            administration.check_rule_set_change(center, rules)  # before anything is saved
            await asyncio.to_thread(self._store.put_rule_set, rules)
            center.outbound.put_rule_set(rules)
            return rules, []

        return await self._dispatcher.perform(op)

    async def delete_rule_set(self, rule_set_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            administration.check_rule_set_removable(center, rule_set_id)
            await asyncio.to_thread(self._store.delete_rule_set, rule_set_id)
            center.outbound.remove_rule_set(rule_set_id)
            return None, []

        await self._dispatcher.perform(op)

    # --- campaigns -----------------------------------------------------------------------

    async def campaigns(self) -> list[CampaignView]:
        ids = administration.campaign_ids(self._center)
        return [await self.campaign(campaign_id) for campaign_id in ids]

    async def campaign(self, campaign_id: str) -> CampaignView:
        status = administration.campaign_status(self._center, campaign_id)
        counts = await asyncio.to_thread(self._store.counts, campaign_id)
        return CampaignView(status.campaign, status.state, status.why_idle, status.lines, counts)

    async def put_campaign(self, campaign: Campaign, *, new: bool | None = None) -> CampaignView:
        """Create (`new`), replace (not `new`) or either (None)."""

        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            state = administration.check_campaign_put(center, campaign, new)
            await asyncio.to_thread(self._store.put_campaign, campaign, state)
            return None, center.put_campaign(campaign, now)

        await self._dispatcher.perform(op)
        return await self.campaign(campaign.id)

    async def delete_campaign(self, campaign_id: str) -> None:
        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            administration.check_campaign_removable(center, campaign_id)
            await asyncio.to_thread(self._store.delete_campaign, campaign_id)
            center.outbound.remove_campaign(campaign_id)
            return None, []

        await self._dispatcher.perform(op)

    async def campaign_action(self, campaign_id: str, action: str) -> CampaignView:
        """start, pause or stop; the state is saved, so a restart resumes it."""

        async def op(center: Center, now: float) -> tuple[None, list[Command]]:
            administration.campaign(center, campaign_id)  # NotFound before anything
            commands = center.campaign_action(campaign_id, action, now)
            campaign, state = administration.campaign_state(center, campaign_id)
            await asyncio.to_thread(self._store.put_campaign, campaign, state)
            return None, commands

        await self._dispatcher.perform(op)
        return await self.campaign(campaign_id)

    def figures(self, campaign_id: str) -> CampaignFigures:
        return administration.live_campaign_figures(self._center, campaign_id, self._clock.now())

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
        campaign = administration.campaign(self._center, campaign_id)
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
        administration.campaign(self._center, campaign_id)
        return await asyncio.to_thread(self._store.lists, campaign_id)

    async def contacts(
        self, campaign_id: str, state: ContactState | None, limit: int, offset: int
    ) -> list[tuple[Contact, Progress]]:
        administration.campaign(self._center, campaign_id)
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

        async def op(center: Center, now: float) -> tuple[Progress, list[Command]]:
            moved = administration.schedule_contact_callback(center, progress, at, agent_id, now)
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
        """Numbers on the internal do-not-call list (an objection): no campaign dials them.

        The live centre stops dialling them first (in its turn), then the list is written
        in the database writer's order without holding routing; how many were new."""
        checked = await asyncio.to_thread(_numbers, numbers)
        if not 1 <= len(reason) <= 200:
            raise InvalidValue("give a reason of 1-200 characters")

        async def op(center: Center, now: float) -> tuple[float, list[Command]]:
            administration.suppress_numbers(center, checked, reason)
            return now, []

        at = await self._dispatcher.perform(op)
        return await self._dispatcher.write(
            partial(self._store.suppress, "internal", checked, reason, at)
        )

    async def replace_register(self, register: str, numbers: Sequence[str]) -> int:
        """A fresh screening list of a register (TPS, the national DNC), whole.

        Checked in a thread, then written in parts in the database writer's order, so the
        centre goes on routing and the dialer's own writes and loads go between the parts;
        until the last part is written the register lists its old numbers too (it only
        suppresses more meanwhile). Then the old ones go, the screening time is recorded,
        and contacts loaded before it are loaded again."""
        if register == "internal":
            raise InvalidValue("the internal list is added to, not replaced")
        check_id("register", register)
        checked = await asyncio.to_thread(_numbers, numbers, MAX_REGISTER)
        async with self._screening:  # one at a time: two would mix their parts
            at = self._clock.now()
            screening = f"screening {secrets.token_hex(8)}"
            for start in range(0, len(checked), SCREENING_PART):
                part = checked[start : start + SCREENING_PART]
                write = partial(self._store.screen_numbers, register, part, screening, at)
                await self._dispatcher.write(write)
            finish = partial(self._store.finish_screening, register, screening, at)
            count = await self._dispatcher.write(finish)

        async def op(center: Center, now: float) -> tuple[int, list[Command]]:
            administration.screening_replaced(center, register, at)
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
        administration.campaign(self._center, campaign_id)
        await self._dispatcher.drain_writes()
        return await asyncio.to_thread(self._store.refusals, campaign_id, since, limit)

    async def answers(self, campaign_id: str, since: float | None) -> list[dict[str, object]]:
        """The script's answers summarised per question (a survey's results)."""
        campaign = administration.campaign(self._center, campaign_id)
        await self._dispatcher.drain_writes()
        found = await asyncio.to_thread(self._store.dispositions, campaign_id, since)
        return summarise(campaign.script, (d.answers for d in found))

    async def dispositions(self, campaign_id: str, since: float | None) -> list[DispositionRecord]:
        administration.campaign(self._center, campaign_id)
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
    for warning in administration.restore_campaigns(center, rule_sets, campaigns, now):
        warn(warning)
    today = now // 86_400 * 86_400
    center.outbound.load_history(store.dials(None, now - 30 * 86400.0, 10_000_000), today)
    listed = store.dialing()
    center.outbound.restore([Entry(c, p) for c, p in listed], now)
