"""A centre with one campaign and its agents, contacts handed in as the store would."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ccgateway.domain.center import Center
from ccgateway.domain.commands import Command
from ccgateway.domain.model import Queue
from ccgateway.domain.outbound.campaigns import Campaign, DialMode
from ccgateway.domain.outbound.commands import (
    DialCustomer,
    LoadContacts,
    RecordDial,
    RecordRefusal,
    SaveProgress,
)
from ccgateway.domain.outbound.contacts import Consent, Contact, Progress
from ccgateway.domain.outbound.records import DialRecord, RefusalRecord
from ccgateway.domain.outbound.rules import Basis, LineType, Purpose
from ccgateway.domain.outbound.runs import Entry
from tests.domain.builders import agent, centre, login

# 2026-12-01 (a Tuesday) 12:00 UTC: inside every preset's calling window in Europe
NOON = 1_796_126_400.0


def campaign(**changes: object) -> Campaign:
    base = Campaign(
        id="sales",
        name="Sales",
        purpose=Purpose.SERVICE,
        rule_set_id="uk",
        mode=DialMode.PREDICTIVE,
        queue_id="out",
        caller_id="+442071234567",
        abandon_message="ccgw-abandon",
        ring_s=20.0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def contact(n: int, **changes: object) -> Contact:
    base = Contact(
        id=f"c{n}",
        list_id="l1",
        number=f"+4479460{n:05d}",
        time_zones=("Europe/London",),
        line_type=LineType.MOBILE,
        region="GB",
        name=f"Person {n}",
        consents={Purpose.MARKETING: Consent(Basis.EXPRESS, NOON - 86400, "web form")},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def entries(contacts: Iterable[Contact], campaign_id: str = "sales") -> list[Entry]:
    return [Entry(c, Progress(c.id, campaign_id)) for c in contacts]


def dialer_centre(
    agents: int = 2, *, camp: Campaign | None = None, queue: Queue | None = None
) -> Center:
    ids = [f"a{i}" for i in range(1, agents + 1)]
    c = centre(
        *(agent(a, {"en": 5}) for a in ids),
        queues=(queue or Queue("out", "Outbound", "900", {"en": 1}, wrapup_s=0),),
    )
    c.put_campaign(camp or campaign(), NOON - 100)
    login(c, *ids, at=NOON - 50)
    return c


def start(
    c: Center, contacts: Iterable[Contact], now: float = NOON, campaign_id: str = "sales"
) -> list[Command]:
    """Start the campaign, answer its first LoadContacts with `contacts`."""
    out = c.campaign_action(campaign_id, "start", now)
    loads = [x for x in out if isinstance(x, LoadContacts)]
    assert loads, out
    listed = entries(contacts, campaign_id)
    return c.contacts_loaded(campaign_id, listed, loads[0].count, {"tps": now - 86400}, now)


def dials(out: list[Command]) -> list[DialCustomer]:
    return [x for x in out if isinstance(x, DialCustomer)]


def records(out: list[Command]) -> list[DialRecord]:
    return [x.record for x in out if isinstance(x, RecordDial)]


def refusals(out: list[Command]) -> list[RefusalRecord]:
    return [x.record for x in out if isinstance(x, RecordRefusal)]


def progress(out: list[Command]) -> list[Progress]:
    return [x.progress for x in out if isinstance(x, SaveProgress)]


def warm_ledger(
    c: Center, lives: int = 200, at: float = NOON - 3600, campaign_id: str = "sales"
) -> None:
    """Earlier today's connected calls: the UK day ledger has room for an abandon, so the
    campaign paces predictively (a day starts progressive until it has)."""
    for _ in range(lives):
        c.outbound.runs[campaign_id].ledger.live(at)
