"""Retention: the policy, legal holds, and the purge that runs on a schedule or on demand.

The purge deletes in batches, each a write of its own in the dispatcher's writer: the
centre routes on (it never waits for the database) and its own writes go between batches.
Each batch is a transaction that deletes what is past its period at the purge's start, so a
purge stopped half-way (a restart) leaves whole batches done and is simply run again. What
a period is, and the law's floors under it, is the domain's (domain/retention.py); which
campaigns are running and what rule set each is under, the stores'.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from dataclasses import dataclass

from ccgateway.domain.errors import Conflict
from ccgateway.domain.outbound.rules import RuleSet
from ccgateway.domain.retention import (
    Floor,
    HoldKind,
    Kind,
    RetentionPolicy,
    check_hold,
    every_floor,
    purge_plan,
)
from ccgateway.ports import (
    AuditEntry,
    Clock,
    Hold,
    PrivacyStore,
    RecordingFileStore,
    RetentionStore,
)
from ccgateway.services.dispatcher import Dispatcher

log = logging.getLogger("ccgateway.retention")


@dataclass(frozen=True, slots=True)
class PurgeReport:
    started_at: float
    finished_at: float
    removed: dict[Kind, int]


class RetentionService:
    def __init__(
        self,
        dispatcher: Dispatcher,
        store: RetentionStore,
        audit: PrivacyStore,
        clock: Clock,
        batch: int,
        files: RecordingFileStore | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._store = store
        self._audit = audit
        self._clock = clock
        self._batch = batch
        self._files = files
        self._policy = store.policy()
        self._purging = asyncio.Lock()

    # --- the policy ----------------------------------------------------------------------

    @property
    def policy(self) -> RetentionPolicy:
        return self._policy

    def floors(self) -> list[tuple[str, Floor]]:
        """Every rule set's floors: what the law keeps whatever the policy says."""
        return every_floor(self._rule_sets().values())

    async def put_policy(self, policy: RetentionPolicy, actor: str) -> RetentionPolicy:
        at = self._clock.now()
        detail = f"{len(policy.queues)} queue(s), {len(policy.campaigns)} campaign(s)"

        def write() -> None:
            self._store.put_policy(policy, at)
            self._audit.add_audit(AuditEntry(at, actor, "retention policy", "-", detail))

        await self._dispatcher.write(write)
        self._policy = policy
        return policy

    # --- legal holds ---------------------------------------------------------------------

    async def holds(self) -> list[Hold]:
        return await asyncio.to_thread(self._store.holds)

    async def hold(self, kind: HoldKind, value: str, reason: str, actor: str) -> bool:
        hold = Hold(kind, check_hold(kind, value), reason, self._clock.now())

        def write() -> bool:
            added = self._store.add_hold(hold)
            if added:
                entry = AuditEntry(hold.at, actor, "hold", f"{kind}:{value}", reason)
                self._audit.add_audit(entry)
            return added

        return await self._dispatcher.write(write)

    async def release(self, kind: HoldKind, value: str, actor: str) -> bool:
        at = self._clock.now()

        def write() -> bool:
            removed = self._store.remove_hold(kind, value)
            if removed:
                self._audit.add_audit(AuditEntry(at, actor, "release", f"{kind}:{value}"))
            return removed

        return await self._dispatcher.write(write)

    async def check_not_held(self, number: str, contact: str | None) -> None:
        """A person under a legal hold may not be erased (GDPR art. 17(3)(e))."""
        held = await asyncio.to_thread(self._store.held, HoldKind.NUMBER, number)
        if not held and contact is not None:
            held = await asyncio.to_thread(self._store.held, HoldKind.CONTACT, contact)
        if held:
            raise Conflict("this person's data is under a legal hold: release it first")

    # --- the purge -----------------------------------------------------------------------

    async def purge(self, actor: str) -> PurgeReport:
        """Everything past its period, in batches; one purge at a time."""
        if self._purging.locked():
            raise Conflict("a purge is running already")
        async with self._purging:
            started = self._clock.now()
            rule_sets = self._rule_sets()
            campaigns = await asyncio.to_thread(self._store.campaign_rule_sets)
            removed: dict[Kind, int] = {}
            for kind, scope in purge_plan(self._policy, started, campaigns, rule_sets).items():
                removed[kind] = 0
                while True:
                    batch = functools.partial(self._store.purge_batch, kind, scope, self._batch)
                    done, files = await self._dispatcher.write(batch)
                    if files and self._files is not None:
                        await asyncio.to_thread(self._files.delete, files)
                    removed[kind] += done
                    if done < self._batch:
                        break
            finished = self._clock.now()
            detail = json.dumps({k.value: n for k, n in removed.items()}, sort_keys=True)
            entry = AuditEntry(finished, actor, "purge", "-", detail)
            await self._dispatcher.write(lambda: self._audit.add_audit(entry))
            log.info("purge by %s removed %s", actor, detail)
            return PurgeReport(started, finished, removed)

    async def run_schedule(self, every_s: float, first_after_s: float = 60.0) -> None:
        """The purge now and then, for as long as the controller runs; a failed one is
        logged and tried again at the next turn."""
        await asyncio.sleep(first_after_s)
        while True:
            try:
                await self.purge("schedule")
            except Conflict:
                pass  # one on demand is running
            except Exception:
                log.exception("the scheduled purge failed")
            await asyncio.sleep(every_s)

    def _rule_sets(self) -> dict[str, RuleSet]:
        """The rule sets the dialer knows (the presets and the centre's own), read on the
        event loop, where the centre lives."""
        return dict(self._dispatcher.center.outbound.state.rule_sets)
