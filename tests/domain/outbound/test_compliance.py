"""The compliance check at dial time: one test (or table) per rule, its refusal, its detail,
when the contact may be tried again, and the order in which the rules are asked."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.calendar import Hours
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound import compliance
from ccgateway.domain.outbound.campaigns import Campaign, DialMode
from ccgateway.domain.outbound.compliance import (
    NO_WINDOW_RETRY_S,
    RULES,
    STALE_RETRY_S,
    DialContext,
    Refusal,
    check,
)
from ccgateway.domain.outbound.contacts import (
    MAX_ZONES,
    WEEK_S,
    Consent,
    Contact,
    DialLog,
    Progress,
)
from ccgateway.domain.outbound.rules import (
    DE,
    UK,
    US,
    Basis,
    LineConsent,
    LineType,
    Purpose,
    RuleSet,
    custom_rule_set,
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


def test_every_rule_is_named_in_the_modules_docstring() -> None:
    doc = compliance.__doc__ or ""
    for name in RULES:
        assert f"    {name} " in doc, name
    assert len(set(RULES)) == len(RULES) == 11


@pytest.mark.parametrize("rules", [UK, US, DE], ids=["uk", "us", "de"])
def test_a_contact_who_meets_every_rule_may_be_dialled(rules: RuleSet) -> None:
    zone = {"uk": LONDON, "us": NEW_YORK, "de": BERLIN}[rules.id]
    now = at("2026-12-01 10:00", zone)
    who = person((zone,), consents={Purpose.SERVICE: PROVEN})
    assert refusal(who, dial_context(rules, now)) is None


# --- suppressed -------------------------------------------------------------------------


def test_a_suppressed_number_is_refused_for_good_naming_the_list() -> None:
    found = refusal(person(), dial_context(suppressed_by="objection"))
    assert found == Refusal("suppressed", "+447946000001 is on objection", None)
    assert found.final


def test_suppression_comes_before_every_other_rule() -> None:
    # Stale register, no consent, night time, locked out: the objection still speaks first.
    camp = campaign(purpose=Purpose.MARKETING, rule_set_id="us")
    ctx = dial_context(US, at("2026-12-01 03:00", NEW_YORK), camp=camp, screened_at={})
    ctx = dataclasses.replace(ctx, suppressed_by="dnc-internal")
    found = refusal(person((NEW_YORK,)), ctx)
    assert found is not None and found.rule == "suppressed" and found.final


# --- register_stale ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "register", "days"), [(UK, "tps", 28), (US, "national", 31)], ids=["tps", "dnc"]
)
def test_a_register_screened_exactly_within_its_days_is_fresh_a_second_later_stale(
    rules: RuleSet, register: str, days: int
) -> None:
    now = at("2026-12-01 10:00", NEW_YORK)
    who = person((NEW_YORK,) if rules is US else (LONDON,), line=LineType.FIXED)
    fresh = dial_context(rules, now, screened_at={register: now - days * DAY})
    assert refusal(who, fresh) is None
    stale = dial_context(rules, now, screened_at={register: now - days * DAY - 1})
    found = refusal(who, stale)
    assert found == Refusal(
        "register_stale",
        f"{rules.id}: register {register} must be screened within {days} days; "
        f"last {days} days ago",
        now + STALE_RETRY_S,
    )
    assert not found.final


def test_a_register_never_screened_is_stale_and_looked_at_again_in_an_hour() -> None:
    found = refusal(person(), dial_context(screened_at={"tps": None}))
    assert found == Refusal(
        "register_stale",
        "uk: register tps must be screened within 28 days; last never",
        TUESDAY + 3600.0,
    )
    assert refused_by(person(), dial_context(screened_at={})) == "register_stale"


def test_germany_names_no_register_so_nothing_is_stale() -> None:
    who = person((BERLIN,), consents={Purpose.SERVICE: PROVEN})
    assert refusal(who, dial_context(DE, screened_at={})) is None


def test_the_register_is_checked_before_consent() -> None:
    camp = campaign(purpose=Purpose.MARKETING, rule_set_id="us")
    ctx = dial_context(US, at("2026-12-01 10:00", NEW_YORK), camp=camp, screened_at={})
    assert refused_by(person((NEW_YORK,)), ctx) == "register_stale"


# --- no_consent -------------------------------------------------------------------------


def us_context(purpose: Purpose = Purpose.MARKETING) -> DialContext:
    camp = campaign(purpose=purpose, rule_set_id="us")
    return dial_context(US, at("2026-12-01 10:00", NEW_YORK), camp=camp)


def de_context(purpose: Purpose = Purpose.MARKETING, now: float = TUESDAY) -> DialContext:
    return dial_context(DE, now, camp=campaign(purpose=purpose, rule_set_id="de"))


@pytest.mark.parametrize(
    ("line", "consent", "detail"),
    [
        (
            LineType.MOBILE,
            None,
            "us: marketing calls to a mobile line need express_written; the contact has none",
        ),
        (
            LineType.MOBILE,
            Basis.EXPRESS,
            "us: marketing calls to a mobile line need express_written; the contact has express",
        ),
        (
            LineType.MOBILE,
            Basis.CONTRACT,
            "us: marketing calls to a mobile line need express_written; the contact has contract",
        ),
        (
            LineType.UNKNOWN,
            Basis.EXPRESS,
            "us: marketing calls to an unknown (taken as mobile) line need express_written; "
            "the contact has express",
        ),
    ],
)
def test_us_marketing_to_a_mobile_needs_written_consent(
    line: LineType, consent: Basis | None, detail: str
) -> None:
    consents = {} if consent is None else {Purpose.MARKETING: Consent(consent)}
    found = refusal(person((NEW_YORK,), line, consents), us_context())
    assert found == Refusal("no_consent", detail, None)


@pytest.mark.parametrize("line", [LineType.MOBILE, LineType.UNKNOWN])
def test_us_marketing_with_written_consent_goes_out(line: LineType) -> None:
    consents = {Purpose.MARKETING: Consent(Basis.EXPRESS_WRITTEN)}
    assert refusal(person((NEW_YORK,), line, consents), us_context()) is None


def test_us_calls_to_fixed_lines_need_no_consent() -> None:
    for purpose in Purpose:
        assert refusal(person((NEW_YORK,), LineType.FIXED), us_context(purpose)) is None


def test_us_service_calls_to_mobiles_need_express_consent_written_or_not() -> None:
    found = refusal(
        person((NEW_YORK,), consents={Purpose.SERVICE: Consent(Basis.CONTRACT)}),
        us_context(Purpose.SERVICE),
    )
    assert found is not None and found.rule == "no_consent" and found.final
    assert found.detail.endswith("need express or express_written; the contact has contract")
    for basis in (Basis.EXPRESS, Basis.EXPRESS_WRITTEN):
        who = person((NEW_YORK,), consents={Purpose.SERVICE: Consent(basis)})
        assert refusal(who, us_context(Purpose.SERVICE)) is None


def test_a_consent_for_another_purpose_does_not_count() -> None:
    who = person((NEW_YORK,), consents={Purpose.SERVICE: Consent(Basis.EXPRESS_WRITTEN)})
    assert refused_by(who, us_context(Purpose.MARKETING)) == "no_consent"


@pytest.mark.parametrize("line", [LineType.MOBILE, LineType.FIXED, LineType.UNKNOWN])
def test_german_marketing_to_a_consumer_needs_express_consent_on_every_line(
    line: LineType,
) -> None:
    found = refusal(person((BERLIN,), line), de_context())
    assert found is not None and found.rule == "no_consent" and found.final
    assert "need express or express_written; the contact has none" in found.detail
    legitimate = {Purpose.MARKETING: Consent(Basis.LEGITIMATE_INTEREST, TUESDAY, "crm")}
    assert refused_by(person((BERLIN,), line, legitimate), de_context()) == "no_consent"
    proven = {Purpose.MARKETING: PROVEN}
    assert refusal(person((BERLIN,), line, proven), de_context()) is None


def test_german_marketing_to_a_business_rests_on_presumed_consent() -> None:
    business = person((BERLIN,), LineType.FIXED, business=True)
    assert refusal(business, de_context()) is None  # neither consent nor proof asked


def test_a_business_line_gets_no_presumed_consent_outside_germany() -> None:
    business = person((NEW_YORK,), LineType.MOBILE, business=True)
    assert refused_by(business, us_context()) == "no_consent"


def test_uk_live_calls_need_no_recorded_basis() -> None:
    for purpose in Purpose:
        camp = campaign(purpose=purpose)
        assert refusal(person(line=LineType.UNKNOWN), dial_context(UK, camp=camp)) is None


def test_a_purpose_the_rule_set_does_not_allow_is_refused_for_good() -> None:
    no_research = custom_rule_set("house", "House", "uk", {"consent": {}})
    camp = campaign(purpose=Purpose.RESEARCH, rule_set_id="house")
    found = refusal(person(), dial_context(no_research, camp=camp))
    assert found == Refusal("no_consent", "house allows no research calls", None)


# --- consent_proof ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "consent",
    [
        Consent(Basis.EXPRESS),
        Consent(Basis.EXPRESS, given_at=TUESDAY - DAY),  # a date, no source
        Consent(Basis.EXPRESS, source="web form"),  # a source, no date
    ],
)
def test_german_consent_needs_its_source_and_date(consent: Consent) -> None:
    who = person((BERLIN,), consents={Purpose.MARKETING: consent})
    found = refusal(who, de_context())
    assert found == Refusal(
        "consent_proof", "de: the consent's source and date must be recorded", None
    )


def test_german_proof_is_asked_for_consent_to_advertising_only() -> None:
    # UWG 7a: the proof kept is of consent to advertising calls; a service call to a
    # customer under contract needs no recorded source.
    who = person((BERLIN,), consents={Purpose.SERVICE: Consent(Basis.CONTRACT)})
    assert refusal(who, de_context(Purpose.SERVICE)) is None


def test_without_a_proof_rule_an_unsourced_consent_is_enough() -> None:
    who = person((NEW_YORK,), consents={Purpose.MARKETING: Consent(Basis.EXPRESS_WRITTEN)})
    assert refusal(who, us_context()) is None


def test_consent_is_checked_before_its_proof() -> None:
    who = person((BERLIN,), consents={Purpose.MARKETING: Consent(Basis.CONTRACT)})
    assert refused_by(who, de_context()) == "no_consent"


# --- caller_id --------------------------------------------------------------------------


@pytest.mark.parametrize("caller_id", ["", "02071234567", "+0441234567", "+44 20 7123 4567"])
def test_a_campaign_without_a_valid_caller_id_waits_an_hour(caller_id: str) -> None:
    # A Campaign refuses a bad caller ID when it is made; the check guards the dial anyway
    # (a record loaded from an older version).
    camp = campaign()
    object.__setattr__(camp, "caller_id", caller_id)
    found = refusal(person(), dial_context(camp=camp))
    assert found == Refusal("caller_id", "the campaign has no valid caller ID", TUESDAY + HOUR)


def test_a_rule_set_without_the_caller_id_rule_lets_it_pass() -> None:
    camp = campaign()
    object.__setattr__(camp, "caller_id", "")
    relaxed = dataclasses.replace(UK, id="lab", caller_id_required=False)
    assert refusal(person(), dial_context(relaxed, camp=camp)) is None


# --- ring_time --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "ring", "detail"),
    [
        (DE, 14.0, "de: ring 14 s is outside 15-40 s"),
        (DE, 41.0, "de: ring 41 s is outside 15-40 s"),
        (DE, 40.5, "de: ring 40.5 s is outside 15-40 s"),
        (UK, 10.0, "uk: ring 10 s is outside 15-... s"),
        (US, 14.9, "us: ring 14.9 s is outside 15-... s"),
    ],
)
def test_a_ring_time_outside_the_laws_is_refused_for_an_hour(
    rules: RuleSet, ring: float, detail: str
) -> None:
    zone = {"uk": LONDON, "us": NEW_YORK, "de": BERLIN}[rules.id]
    now = at("2026-12-01 10:00", zone)
    camp = campaign(ring_s=ring, rule_set_id=rules.id)
    who = person((zone,), LineType.FIXED, business=True)
    found = refusal(who, dial_context(rules, now, camp=camp))
    assert found == Refusal("ring_time", detail, now + HOUR)


@pytest.mark.parametrize(("rules", "ring"), [(DE, 15.0), (DE, 40.0), (UK, 15.0), (UK, 180.0)])
def test_a_ring_time_on_the_bounds_is_allowed(rules: RuleSet, ring: float) -> None:
    camp = campaign(ring_s=ring, rule_set_id=rules.id)
    who = person((BERLIN,), LineType.FIXED, business=True)
    assert refusal(who, dial_context(rules, camp=camp)) is None


# --- calling_hours ----------------------------------------------------------------------


def us_caller(*zones: str) -> Contact:
    return person(zones, LineType.FIXED, number="+13125550100")


def hours_refusal(contact: Contact, rules: RuleSet, now: float) -> Refusal | None:
    found = refusal(contact, dial_context(rules, now, camp=campaign(rule_set_id=rules.id)))
    assert found is None or found.rule == "calling_hours", found
    return found


@pytest.mark.parametrize(
    ("moment", "closed", "retry"),
    [
        # A number that may be in New York or in Chicago: 08:00 in the later zone ...
        ("2026-12-01 07:59", "America/New_York, America/Chicago", "2026-12-01 09:00"),
        ("2026-12-01 08:30", "America/Chicago", "2026-12-01 09:00"),
        ("2026-12-01 09:00", None, None),
        # ... to 21:00 in the earlier one.
        ("2026-12-01 20:59", None, None),
        ("2026-12-01 21:00", "America/New_York", "2026-12-02 09:00"),
        ("2026-12-01 21:59", "America/New_York", "2026-12-02 09:00"),
        ("2026-12-01 22:00", "America/New_York, America/Chicago", "2026-12-02 09:00"),
    ],
)
def test_us_calls_only_between_eight_and_nine_in_every_zone_the_number_may_be_in(
    moment: str, closed: str | None, retry: str | None
) -> None:
    found = hours_refusal(us_caller(NEW_YORK, CHICAGO), US, at(moment, NEW_YORK))
    if closed is None:
        assert found is None
    else:
        assert retry is not None
        assert found == Refusal(
            "calling_hours", f"outside the calling window in {closed}", at(retry, NEW_YORK)
        )


def test_the_retry_is_the_next_opening_in_every_zone() -> None:
    found = hours_refusal(us_caller(NEW_YORK, CHICAGO), US, at("2026-12-01 21:30", NEW_YORK))
    assert found is not None and found.retry_at is not None
    assert US.calling_hours is not None
    for zone in (NEW_YORK, CHICAGO):
        assert US.calling_hours.is_open_in(found.retry_at, zone)
    assert not US.calling_hours.is_open_in(found.retry_at - 1, CHICAGO)
    assert found.retry_at == at("2026-12-02 08:00", CHICAGO)


@pytest.mark.parametrize(
    ("moment", "retry"),
    [
        ("2026-12-01 07:59", "2026-12-01 08:00"),  # Tuesday
        ("2026-12-01 20:00", "2026-12-02 08:00"),
        ("2026-12-04 20:00", "2026-12-05 09:00"),  # Friday evening: Saturday at nine
        ("2026-12-05 08:30", "2026-12-05 09:00"),  # Saturday opens at nine ...
        ("2026-12-05 18:00", "2026-12-07 08:00"),  # ... closes at six, Sunday never
        ("2026-12-06 12:00", "2026-12-07 08:00"),
    ],
)
def test_germany_calls_weekdays_eight_to_eight_saturdays_nine_to_six(
    moment: str, retry: str
) -> None:
    who = person((BERLIN,), LineType.FIXED, business=True)
    found = hours_refusal(who, DE, at(moment, BERLIN))
    assert found == Refusal(
        "calling_hours", "outside the calling window in Europe/Berlin", at(retry, BERLIN)
    )


@pytest.mark.parametrize(
    "moment", ["2026-12-01 08:00", "2026-12-04 19:59", "2026-12-05 09:00", "2026-12-05 17:59"]
)
def test_germany_is_open_at_the_edges_of_its_window(moment: str) -> None:
    who = person((BERLIN,), LineType.FIXED, business=True)
    assert hours_refusal(who, DE, at(moment, BERLIN)) is None


@pytest.mark.parametrize(
    ("rules", "zone", "moment", "retry_utc"),
    [
        # US spring forward, Sunday 2026-03-08: 08:00 EDT is 12:00 UTC (13:00 the day before).
        (US, NEW_YORK, "2026-03-07 21:30", "2026-03-08 12:00"),
        # US fall back, Sunday 2026-11-01: 08:00 EST is 13:00 UTC (12:00 the day before).
        (US, NEW_YORK, "2026-10-31 21:30", "2026-11-01 13:00"),
        # The night of the change itself, in the repeated hour.
        (US, NEW_YORK, "2026-11-01 01:30", "2026-11-01 13:00"),
        # DE, Saturday evening to Monday over the switch: CET -> CEST ...
        (DE, BERLIN, "2026-03-28 18:30", "2026-03-30 06:00"),
        # ... and CEST -> CET.
        (DE, BERLIN, "2026-10-24 18:30", "2026-10-26 07:00"),
        # UK: Sunday 2026-03-29 opens at 08:00 BST = 07:00 UTC.
        (UK, LONDON, "2026-03-29 00:30", "2026-03-29 07:00"),
        (UK, LONDON, "2026-10-25 07:30", "2026-10-25 08:00"),
    ],
)
def test_the_window_follows_daylight_saving_in_the_callees_zone(
    rules: RuleSet, zone: str, moment: str, retry_utc: str
) -> None:
    who = person((zone,), LineType.FIXED, business=True)
    found = hours_refusal(who, rules, at(moment, zone))
    assert found is not None and found.retry_at == at(retry_utc)


@pytest.mark.parametrize(
    ("day", "closed_at_nine"),
    [
        # Before the US change Denver and Phoenix both keep UTC-7: they close together.
        ("2026-03-02", "America/Denver, America/Phoenix"),
        # After it Denver is UTC-6 and closes an hour before Phoenix.
        ("2026-03-09", "America/Denver"),
    ],
)
def test_a_zone_without_daylight_saving_beside_one_with_it(day: str, closed_at_nine: str) -> None:
    who = us_caller(DENVER, PHOENIX)
    found = hours_refusal(who, US, at(f"{day} 13:30"))
    # 08:00 in Phoenix (15:00 UTC) is the later opening, or the same as Denver's.
    assert found is not None and found.retry_at == at(f"{day} 15:00")
    closes = at(f"{day} 21:00", DENVER)
    assert hours_refusal(who, US, closes - 60) is None
    late = hours_refusal(who, US, closes)
    assert late is not None and late.detail == f"outside the calling window in {closed_at_nine}"
    assert late.retry_at == at(f"{day} 08:00", PHOENIX) + DAY


def test_new_york_and_london_share_an_extra_hour_between_the_two_springs() -> None:
    # 2026-03-08 to 03-29 New York is on summer time and London not yet: 4 hours apart.
    who = us_caller(LONDON, NEW_YORK)
    found = hours_refusal(who, US, at("2026-03-10 11:00"))
    assert found is not None and found.retry_at == at("2026-03-10 12:00")  # 08:00 EDT
    found = hours_refusal(who, US, at("2026-04-07 11:00"))
    assert found is not None and found.retry_at == at("2026-04-07 12:00")  # BST too
    found = hours_refusal(who, US, at("2026-02-10 12:00"))
    assert found is not None and found.retry_at == at("2026-02-10 13:00")  # 5 hours apart


def test_the_campaigns_own_hours_are_not_applied_again_in_the_callees_zone() -> None:
    # A campaign's hours are the centre's working hours, in its own zone (in_schedule);
    # in the callee's zone only the law's window applies.
    camp = campaign(hours=Hours(LONDON, {d: ("10:00-16:00",) for d in ("mon", "tue")}))
    who = person((NEW_YORK,), LineType.FIXED)
    assert refusal(who, dial_context(UK, at("2026-12-01 09:00", NEW_YORK), camp=camp)) is None


def test_a_window_that_never_opens_is_looked_at_again_tomorrow() -> None:
    closed = dataclasses.replace(UK, id="closed", calling_hours=Hours(LONDON, {}))
    found = refusal(person(), dial_context(closed))
    assert found is not None and found.rule == "calling_hours"
    assert found.retry_at == TUESDAY + NO_WINDOW_RETRY_S


def test_without_a_window_any_hour_may_be_dialled() -> None:
    open_all_day = dataclasses.replace(UK, id="lab", calling_hours=None)
    assert refusal(person(), dial_context(open_all_day, at("2026-12-01 03:00"))) is None


ZONES = (LONDON, BERLIN, NEW_YORK, CHICAGO, DENVER, PHOENIX, "America/Los_Angeles")
YEAR_2026 = (at("2026-01-01 00:00"), at("2026-12-31 00:00"))


def all_open(rules: RuleSet, zones: tuple[str, ...], moment: float) -> bool:
    assert rules.calling_hours is not None
    return all(rules.calling_hours.is_open_in(moment, z) for z in zones)


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([US, DE]),
    st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    st.floats(*YEAR_2026),
)
def test_the_calling_window_retry_is_the_first_moment_open_in_every_zone(
    rules: RuleSet, zones: list[str], now: float
) -> None:
    who = person(tuple(zones), LineType.FIXED, business=True, number="+13125550100")
    found = hours_refusal(who, rules, now)
    if found is None:
        assert all_open(rules, who.time_zones, now)
        return
    assert not all_open(rules, who.time_zones, now)
    # Every zone here is a whole number of hours from UTC and every window opens on the
    # hour: the first common opening is on a whole UTC hour.
    first = (now // HOUR + 1) * HOUR
    while not all_open(rules, who.time_zones, first):
        first += HOUR
        assert first < now + 9 * DAY
    assert found.retry_at == first
    closed = [z for z in zones if not all_open(rules, (z,), now)]
    assert found.detail == f"outside the calling window in {', '.join(closed)}"


# --- attempts_day -----------------------------------------------------------------------

# Germany's caps without its window, to look at the caps around the clock; and its weekly
# cap alone.
CAPS_ONLY = dataclasses.replace(DE, calling_hours=None)
WEEK_ONLY = dataclasses.replace(CAPS_ONLY, attempts_per_day=None)
GERMAN = "+4930123456"


def german(*zones: str) -> Contact:
    return person(zones or (BERLIN,), LineType.FIXED, business=True, number=GERMAN)


def test_three_dials_a_day_in_germany_then_not_before_the_callees_midnight() -> None:
    now = at("2026-12-01 15:00", BERLIN)
    log = log_of(GERMAN, *(at(f"2026-12-01 {h}", BERLIN) for h in ("08:10", "09:00", "10:00")))
    found = refusal(german(), de_context(now=now), log)
    assert found == Refusal(
        "attempts_day",
        "de: 3 dials to +4930123456 today (callee's day), at most 3",
        at("2026-12-02 00:00", BERLIN),
    )


def test_yesterdays_dials_do_not_count_today() -> None:
    now = at("2026-12-01 15:00", BERLIN)
    dials = [at("2026-11-30 23:59", BERLIN), at("2026-12-01 08:00", BERLIN), now - 60]
    assert refusal(german(), de_context(now=now), log_of(GERMAN, *dials)) is None


def test_the_callees_day_starts_at_the_earliest_midnight_of_its_zones() -> None:
    now = at("2026-12-01 15:00", BERLIN)
    # 23:30 in London on Monday is 00:30 on Tuesday in Berlin.
    dials = [at("2026-11-30 23:30", LONDON), at("2026-12-01 09:00", LONDON), now - 60]
    log = log_of(GERMAN, *dials)
    both = refusal(german(BERLIN, LONDON), dial_context(CAPS_ONLY, now), log)
    assert both is not None and both.rule == "attempts_day"
    # At Berlin's midnight London's Monday-night dial no longer counts in either day.
    assert both.retry_at == at("2026-12-02 00:00", BERLIN)
    assert refusal(german(LONDON), dial_context(CAPS_ONLY, now), log) is None


def test_at_the_retry_the_day_cap_lets_the_dial_go() -> None:
    now = at("2026-12-01 20:00", CHICAGO)
    log = log_of(GERMAN, now - 3 * HOUR, now - 2 * HOUR, now - HOUR)
    alone = german(CHICAGO)
    found = refusal(alone, dial_context(CAPS_ONLY, now), log)
    assert found is not None and found.retry_at == at("2026-12-02 00:00", CHICAGO)
    assert refused_by(alone, dial_context(CAPS_ONLY, found.retry_at - 1), log) == "attempts_day"
    assert refusal(alone, dial_context(CAPS_ONLY, found.retry_at), log) is None
    # With two zones the retry is the later midnight, and the cap allows the dial there.
    both = german(NEW_YORK, CHICAGO)
    found = refusal(both, dial_context(CAPS_ONLY, now), log)
    assert found is not None and found.retry_at == at("2026-12-02 00:00", CHICAGO)
    assert refusal(both, dial_context(CAPS_ONLY, found.retry_at), log) is None


def test_the_day_cap_retry_is_the_first_moment_the_cap_allows() -> None:
    now = at("2026-12-01 20:00", CHICAGO)
    log = log_of(GERMAN, at("2026-11-30 23:30", CHICAGO), now - 2 * HOUR, now - HOUR)
    both = german(NEW_YORK, CHICAGO)
    assert refusal(both, dial_context(CAPS_ONLY, at("2026-12-01 23:00", CHICAGO)), log) is None
    found = refusal(both, dial_context(CAPS_ONLY, now), log)
    assert found is not None and found.retry_at == at("2026-12-01 23:00", CHICAGO)


def test_the_callees_day_on_the_short_spring_day_in_london() -> None:
    # Sunday 2026-03-29 has 23 hours in London: from 00:00 GMT to 00:00 BST (23:00 UTC).
    now = at("2026-03-29 20:00", LONDON)
    dials = [at("2026-03-28 23:59", LONDON), at("2026-03-29 00:01", LONDON), now - 60]
    assert refusal(german(LONDON), dial_context(CAPS_ONLY, now), log_of(GERMAN, *dials)) is None
    dials.append(now - 30)
    found = refusal(german(LONDON), dial_context(CAPS_ONLY, now), log_of(GERMAN, *dials))
    assert found is not None and found.rule == "attempts_day"
    assert found.retry_at == at("2026-03-29 23:00")


def test_a_custom_day_cap_applies_in_the_us_too() -> None:
    house = custom_rule_set("us-house", "US house rules", "us", {"attempts_per_day": 2})
    now = at("2026-12-01 12:00", NEW_YORK)
    log = log_of(GERMAN, now - 3 * HOUR, now - HOUR)
    camp = campaign(rule_set_id="us-house")
    found = refusal(german(NEW_YORK), dial_context(house, now, camp=camp), log)
    assert found is not None and found.rule == "attempts_day"
    assert found.detail == "us-house: 2 dials to +4930123456 today (callee's day), at most 2"


# --- attempts_week ----------------------------------------------------------------------


def spread(now: float, count: int, first_days_ago: float) -> list[float]:
    """`count` dials, three a day an hour apart, the first `first_days_ago` days ago."""
    dials = [now - first_days_ago * DAY + (i // 3) * DAY + (i % 3) * HOUR for i in range(count)]
    assert dials[-1] < now
    return dials


def test_fifteen_dials_in_seven_days_and_the_retry_is_when_the_oldest_ages_out() -> None:
    now = at("2026-12-08 15:00", BERLIN)
    dials = spread(now, 15, 6.9)
    found = refusal(german(), dial_context(WEEK_ONLY, now), log_of(GERMAN, *dials))
    assert found == Refusal(
        "attempts_week",
        "de: 15 dials to +4930123456 in 7 days, at most 15",
        dials[0] + WEEK_S,
    )
    log = log_of(GERMAN, *dials)
    assert refused_by(german(), dial_context(WEEK_ONLY, dials[0] + WEEK_S - 1), log)
    assert refusal(german(), dial_context(WEEK_ONLY, dials[0] + WEEK_S), log) is None


def test_a_dial_exactly_seven_times_24_hours_ago_no_longer_counts() -> None:
    now = at("2026-12-08 15:00", BERLIN)
    dials = [now - WEEK_S, *spread(now, 14, 6.5)]
    assert refusal(german(), dial_context(WEEK_ONLY, now), log_of(GERMAN, *dials)) is None


def test_over_the_cap_the_retry_waits_until_enough_dials_aged_out() -> None:
    # 17 loaded from the records: 3 must age out before a 16th in a week is allowed.
    now = at("2026-12-08 15:00", BERLIN)
    dials = spread(now, 17, 6.9)
    log = log_of(GERMAN, *dials)
    found = refusal(german(), dial_context(WEEK_ONLY, now), log)
    assert found is not None and found.rule == "attempts_week"
    assert found.retry_at == dials[2] + WEEK_S
    assert found.detail == "de: 17 dials to +4930123456 in 7 days, at most 15"
    assert refusal(german(), dial_context(WEEK_ONLY, found.retry_at), log) is None


def test_the_week_counts_every_campaigns_dials_to_the_number() -> None:
    # The log is per number: a second contact row with the same number shares it.
    now = at("2026-12-08 15:00", BERLIN)
    log = log_of(GERMAN, *spread(now, 15, 6.0))
    other_row = dataclasses.replace(german(), id="c2", list_id="l2")
    assert refused_by(other_row, dial_context(WEEK_ONLY, now), log) == "attempts_week"


# --- attempts_campaign ------------------------------------------------------------------


def test_thirty_dials_in_a_campaign_end_the_contact_there() -> None:
    progress = Progress("c1", "sales", attempts=30)
    found = refusal(german(), de_context(), progress=progress)
    assert found == Refusal("attempts_campaign", "de: 30 dials in this campaign, at most 30", None)
    assert found.final
    assert refusal(german(), de_context(), progress=Progress("c1", "sales", attempts=29)) is None


def test_without_a_campaign_cap_attempts_are_not_counted() -> None:
    assert refusal(person(), dial_context(), progress=Progress("c1", "sales", attempts=999)) is None


# --- abandon_lockout --------------------------------------------------------------------


def test_uk_no_predictive_call_within_72_hours_of_an_abandoned_one() -> None:
    log = log_of("+447946000001", abandoned=TUESDAY - 71 * HOUR)
    found = refusal(person(), dial_context(), log)
    assert found == Refusal(
        "abandon_lockout",
        "uk: a call to +447946000001 was abandoned 71.0 h ago",
        TUESDAY + HOUR,
    )
    assert not found.final


@pytest.mark.parametrize("mode", [DialMode.PROGRESSIVE, DialMode.PREVIEW])
def test_a_dial_with_an_agent_kept_for_it_may_go_within_the_lockout(mode: DialMode) -> None:
    log = log_of("+447946000001", abandoned=TUESDAY - HOUR)
    assert refusal(person(), dial_context(mode=mode), log) is None


def test_the_lockout_ends_72_hours_after_the_abandon_to_the_second() -> None:
    abandoned = TUESDAY - 72 * HOUR
    log = log_of("+447946000001", abandoned=abandoned)
    assert refusal(person(), dial_context(now=TUESDAY), log) is None
    found = refusal(person(), dial_context(now=TUESDAY - 1), log)
    assert found is not None and found.retry_at == TUESDAY


def test_the_latest_abandon_counts() -> None:
    log = log_of("+447946000001", abandoned=TUESDAY - 2 * HOUR)
    log.abandoned("+447946000001", TUESDAY - 70 * HOUR)  # an older one, loaded late
    found = refusal(person(), dial_context(), log)
    assert found is not None and found.retry_at == TUESDAY - 2 * HOUR + 72 * HOUR


@pytest.mark.parametrize("rules", [US, DE], ids=["us", "de"])
def test_us_and_germany_have_no_lockout(rules: RuleSet) -> None:
    zone = NEW_YORK if rules is US else BERLIN
    now = at("2026-12-01 10:00", zone)
    log = log_of(GERMAN, abandoned=now - 60)
    assert refusal(german(zone), dial_context(rules, now), log) is None


# --- the order of the rules -------------------------------------------------------------

# A rule set with every rule switched on (a lab's, made directly, not via custom_rule_set).
EVERYTHING = dataclasses.replace(
    DE,
    id="lab",
    registers={"tps": 28},
    lockout_after_abandon_s=72 * HOUR,
    consent={Purpose.MARKETING: LineConsent(frozenset({Basis.EXPRESS}), frozenset())},
)


State = tuple[Contact, Progress, DialLog, DialContext]


def failing_everything() -> State:
    now = at("2026-12-01 15:00", BERLIN)
    camp = campaign(purpose=Purpose.MARKETING, rule_set_id="lab", ring_s=50.0)
    object.__setattr__(camp, "caller_id", "anonymous")
    who = person(("Pacific/Auckland",), LineType.MOBILE, number=GERMAN)  # 04:00 there
    log = log_of(GERMAN, *spread(now, 12, 6.0), now - 3 * HOUR, now - 2 * HOUR, now - HOUR)
    log.abandoned(GERMAN, now - HOUR)
    ctx = DialContext(camp, EVERYTHING, now, DialMode.PREDICTIVE, "objection", {})
    return who, Progress("c1", "sales", attempts=30), log, ctx


def fix(step: str, state: State) -> State:
    """The state with the rule named `step` satisfied, the others as they were."""
    who, progress, log, ctx = state
    if step == "suppressed":
        ctx = dataclasses.replace(ctx, suppressed_by=None)
    elif step == "register_stale":
        ctx = dataclasses.replace(ctx, screened_at={"tps": ctx.now})
    elif step == "no_consent":
        who = dataclasses.replace(who, consents={Purpose.MARKETING: Consent(Basis.EXPRESS)})
    elif step == "consent_proof":
        proven = Consent(Basis.EXPRESS, ctx.now - DAY, "signed form")
        who = dataclasses.replace(who, consents={Purpose.MARKETING: proven})
    elif step == "caller_id":
        object.__setattr__(ctx.campaign, "caller_id", "+4930999999")
    elif step == "ring_time":
        ctx = dataclasses.replace(ctx, campaign=dataclasses.replace(ctx.campaign, ring_s=20.0))
    elif step == "calling_hours":
        who = dataclasses.replace(who, time_zones=(BERLIN,))
    elif step == "attempts_day":
        ctx = dataclasses.replace(ctx, rules=dataclasses.replace(ctx.rules, attempts_per_day=None))
    elif step == "attempts_week":
        ctx = dataclasses.replace(ctx, rules=dataclasses.replace(ctx.rules, attempts_per_week=None))
    elif step == "attempts_campaign":
        progress = dataclasses.replace(progress, attempts=0)
    elif step == "abandon_lockout":
        ctx = dataclasses.replace(ctx, mode=DialMode.PROGRESSIVE)
    return who, progress, log, ctx


def test_the_rules_are_asked_in_their_documented_order() -> None:
    state = failing_everything()
    seen = []
    for step in RULES:
        found = check(*state)
        assert found is not None, f"nothing refused before fixing {step}"
        seen.append(found.rule)
        state = fix(step, state)
    assert seen == list(RULES)
    assert check(*state) is None


@pytest.mark.parametrize(
    ("rule", "final"),
    [
        ("suppressed", True),
        ("register_stale", False),
        ("no_consent", True),
        ("consent_proof", True),
        ("caller_id", False),
        ("ring_time", False),
        ("calling_hours", False),
        ("attempts_day", False),
        ("attempts_week", False),
        ("attempts_campaign", True),
        ("abandon_lockout", False),
    ],
)
def test_which_refusals_are_final_and_which_say_when_to_try_again(rule: str, final: bool) -> None:
    state = failing_everything()
    for step in RULES[: RULES.index(rule)]:
        state = fix(step, state)
    found = check(*state)
    assert found is not None and found.rule == rule
    assert found.final is final
    if not final:
        assert found.retry_at is not None and found.retry_at > state[3].now


def test_the_check_changes_nothing() -> None:
    who, progress, log, ctx = failing_everything()
    before = (log.dial_times(GERMAN), log.last_abandon(GERMAN), len(log))
    for _ in range(3):
        assert check(who, progress, log, ctx) == check(who, progress, log, ctx)
    assert (log.dial_times(GERMAN), log.last_abandon(GERMAN), len(log)) == before


# --- what the check reads: contacts and the dial log ------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": "07946000001"}, "must be in E.164 form"),
        ({"time_zones": ()}, f"a contact has 1-{MAX_ZONES} time zones"),
        ({"time_zones": (LONDON,) * (MAX_ZONES + 1)}, f"a contact has 1-{MAX_ZONES} time zones"),
        ({"time_zones": ("Mars/Olympus",)}, "unknown time zone"),
        ({"region": "gb"}, "two-letter country code"),
        ({"priority": 101}, "priority is -100 to 100"),
        ({"priority": True}, "priority is -100 to 100"),
        ({"fields": {"Bad Name": "x"}}, "field name"),
        ({"fields": {"note": "a\x00b"}}, "no control characters"),
    ],
)
def test_a_malformed_contact_is_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        dataclasses.replace(person(), **changes)  # type: ignore[arg-type]


def test_a_consents_source_is_plain_text() -> None:
    with pytest.raises(InvalidValue, match="source is at most 200"):
        Consent(Basis.EXPRESS, source="x" * 201)


def test_the_dial_log_keeps_dials_sorted_and_the_latest_abandon() -> None:
    log = DialLog()
    log.load([("+441", 30.0, False), ("+441", 10.0, True), ("+441", 20.0, False)])
    assert log.dial_times("+441") == [10.0, 20.0, 30.0]
    assert log.dials_since("+441", 20.0) == 2  # from `since` on, inclusive
    assert log.last_abandon("+441") == 10.0
    assert log.dials_since("+449", 0.0) == 0 and log.last_abandon("+449") is None


def test_the_dial_log_forgets_old_dials_and_old_abandons() -> None:
    log = DialLog()
    log.load([("+441", 10.0, True), ("+441", 50.0, False), ("+442", 5.0, False)])
    log.forget_before(cutoff=20.0, keep_abandons_after=5.0)
    assert log.dial_times("+441") == [50.0] and log.last_abandon("+441") == 10.0
    assert len(log) == 1  # +442 is gone altogether
    log.forget_before(cutoff=60.0, keep_abandons_after=11.0)
    assert len(log) == 0
