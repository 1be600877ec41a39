"""The compliance rules of time at dial time: calling windows in the callee's zones (daylight
saving, zones without it, several zones at once), the attempt caps per day, week and
campaign, and the 72 h lockout after an abandoned call."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.calendar import Hours
from ccgateway.domain.outbound.campaigns import DialMode
from ccgateway.domain.outbound.compliance import (
    NO_WINDOW_RETRY_S,
    Refusal,
)
from ccgateway.domain.outbound.contacts import (
    WEEK_S,
    Contact,
    Progress,
)
from ccgateway.domain.outbound.rules import (
    DE,
    UK,
    US,
    LineType,
    RuleSet,
    custom_rule_set,
)
from tests.domain.outbound.compliance_helpers import (
    BERLIN,
    CHICAGO,
    DAY,
    DENVER,
    GERMAN,
    HOUR,
    LONDON,
    NEW_YORK,
    PHOENIX,
    TUESDAY,
    at,
    de_context,
    dial_context,
    german,
    log_of,
    person,
    refusal,
    refused_by,
    spread,
)
from tests.domain.outbound.helpers import campaign

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
