"""Retention periods: which one applies, the law's floors under them, and the purge's plan."""

from __future__ import annotations

import pytest

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.rules import PRESETS
from ccgateway.domain.retention import DAY_S, Kind, RetentionPolicy, floors, purge_plan

NOW = 1_796_126_400.0
UK, US, DE = PRESETS["uk"], PRESETS["us"], PRESETS["de"]


def test_the_campaigns_period_wins_over_its_rule_sets_which_wins_over_the_default() -> None:
    policy = RetentionPolicy(
        default={Kind.DIAL_RECORDS: 100, Kind.INTERACTIONS: 30},
        queues={"vip": {Kind.INTERACTIONS: 365}},
        campaigns={"sales": {Kind.DIAL_RECORDS: 50}},
        rule_sets={"uk": {Kind.DIAL_RECORDS: 70}},
    )
    assert policy.days(Kind.DIAL_RECORDS) == 100
    assert policy.days(Kind.DIAL_RECORDS, rules=UK) == 70
    assert policy.days(Kind.DIAL_RECORDS, campaign_id="sales", rules=UK) == 50
    assert policy.days(Kind.INTERACTIONS, queue_id="vip") == 365
    assert policy.days(Kind.INTERACTIONS, queue_id="other") == 30
    assert policy.days(Kind.NOTES) is None  # no period: kept for ever


def test_no_period_is_shorter_than_the_laws_floor() -> None:
    short = RetentionPolicy(default={Kind.DIAL_RECORDS: 1, Kind.CONTACTS: 1})
    assert short.days(Kind.DIAL_RECORDS, rules=UK) == 2  # the day's ledger, and a day
    assert short.days(Kind.DIAL_RECORDS, rules=US) == 31  # 30 days' ledger
    assert short.days(Kind.DIAL_RECORDS, rules=DE) == 1827  # proof of consent: 5 years
    assert short.days(Kind.CONTACTS, rules=DE) == 1827
    assert short.days(Kind.CONTACTS, rules=UK) == 1
    assert all(f.why for r in (UK, US, DE) for f in floors(r))


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"queues": {"q": {Kind.DIAL_RECORDS: 5}}}, "no period there"),
        ({"campaigns": {"c": {Kind.INTERACTIONS: 5}}}, "no period there"),
        ({"default": {Kind.NOTES: 0}}, "1-36500 days"),
        ({"default": {Kind.NOTES: True}}, "1-36500 days"),
    ],
)
def test_a_policy_out_of_bounds_is_refused(policy: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        RetentionPolicy(**policy)  # type: ignore[arg-type]


def test_the_plan_keeps_a_campaign_with_an_unknown_rule_set_to_the_strictest_floor() -> None:
    policy = RetentionPolicy(default={Kind.DIAL_RECORDS: 10, Kind.AUDIT: 365})
    rule_sets = {"uk": UK, "de": DE}
    plan = purge_plan(policy, NOW, {"sales": "uk", "gone": "house", "berlin": "de"}, rule_sets)
    dials = plan[Kind.DIAL_RECORDS]
    assert dials.cutoffs == {
        "sales": NOW - 10 * DAY_S,
        "gone": NOW - 1827 * DAY_S,
        "berlin": NOW - 1827 * DAY_S,
    }
    assert dials.default == NOW - 1827 * DAY_S
    assert plan[Kind.AUDIT].default == NOW - 365 * DAY_S
    assert plan[Kind.INTERACTIONS].default is None  # kept for ever
