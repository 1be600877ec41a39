"""What the compliance tests share: contacts, dial contexts, dial logs, and times in named
zones."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ccgateway.domain.outbound.campaigns import Campaign, DialMode
from ccgateway.domain.outbound.compliance import (
    DialContext,
    Refusal,
    check,
)
from ccgateway.domain.outbound.contacts import (
    Consent,
    Contact,
    DialLog,
    Progress,
)
from ccgateway.domain.outbound.rules import (
    DE,
    UK,
    Basis,
    LineType,
    Purpose,
    RuleSet,
)
from tests.domain.outbound.helpers import campaign

HOUR = 3600.0
DAY = 86400.0
LONDON = "Europe/London"
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
CHICAGO = "America/Chicago"
DENVER = "America/Denver"
PHOENIX = "America/Phoenix"


def at(text: str, tz: str = "UTC") -> float:
    """An ISO local time in `tz` as epoch seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


# Tuesday 2026-12-01 14:00 in Berlin and London's 13:00: open under every preset in Europe.
TUESDAY = at("2026-12-01 13:00")
PROVEN = Consent(Basis.EXPRESS, TUESDAY - 30 * DAY, "web form 2026-11")


def person(
    zones: tuple[str, ...] = (LONDON,),
    line: LineType = LineType.MOBILE,
    consents: dict[Purpose, Consent] | None = None,
    business: bool = False,
    number: str = "+447946000001",
) -> Contact:
    return Contact(
        id="c1",
        list_id="l1",
        number=number,
        time_zones=zones,
        line_type=line,
        business=business,
        consents=consents if consents is not None else {},
    )


def dial_context(
    rules: RuleSet = UK,
    now: float = TUESDAY,
    *,
    camp: Campaign | None = None,
    mode: DialMode = DialMode.PREDICTIVE,
    suppressed_by: str | None = None,
    screened_at: dict[str, float | None] | None = None,
) -> DialContext:
    fresh: dict[str, float | None] = {"tps": now - DAY, "national": now - DAY}
    return DialContext(
        campaign=camp or campaign(rule_set_id=rules.id),
        rules=rules,
        now=now,
        mode=mode,
        suppressed_by=suppressed_by,
        screened_at=fresh if screened_at is None else screened_at,
    )


def refusal(
    contact: Contact,
    ctx: DialContext,
    log: DialLog | None = None,
    progress: Progress | None = None,
) -> Refusal | None:
    return check(contact, progress or Progress(contact.id, "sales"), log or DialLog(), ctx)


def refused_by(
    contact: Contact,
    ctx: DialContext,
    log: DialLog | None = None,
    progress: Progress | None = None,
) -> str | None:
    found = refusal(contact, ctx, log, progress)
    return None if found is None else found.rule


def log_of(number: str, *dials: float, abandoned: float | None = None) -> DialLog:
    log = DialLog()
    for moment in dials:
        log.dialled(number, moment)
    if abandoned is not None:
        log.abandoned(number, abandoned)
    return log


def de_context(purpose: Purpose = Purpose.MARKETING, now: float = TUESDAY) -> DialContext:
    return dial_context(DE, now, camp=campaign(purpose=purpose, rule_set_id="de"))


GERMAN = "+4930123456"


def german(*zones: str) -> Contact:
    return person(zones or (BERLIN,), LineType.FIXED, business=True, number=GERMAN)


def spread(now: float, count: int, first_days_ago: float) -> list[float]:
    """`count` dials, three a day an hour apart, the first `first_days_ago` days ago."""
    dials = [now - first_days_ago * DAY + (i // 3) * DAY + (i % 3) * HOUR for i in range(count)]
    assert dials[-1] < now
    return dials
