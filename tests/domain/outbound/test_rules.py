"""Rule sets: the presets carry the regulators' figures, and a custom rule set may only be
stricter than the law it starts from."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.calendar import Hours
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.rules import (
    ANY_BASIS,
    DE,
    EXPRESS,
    NO_BASIS_NEEDED,
    PRESETS,
    UK,
    US,
    WRITTEN,
    AbandonWindow,
    Basis,
    LineConsent,
    LineType,
    Purpose,
    RuleSet,
    custom_rule_set,
)

HOUR = 3600.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = (*WEEKDAYS, "sat", "sun")


def weekly(rules: RuleSet) -> dict[str, tuple[str, ...]]:
    assert rules.calling_hours is not None
    return dict(rules.calling_hours.weekly)


# --- the presets ----------------------------------------------------------------------


def test_the_presets_are_uk_us_and_de_by_id() -> None:
    assert dict(PRESETS) == {"uk": UK, "us": US, "de": DE}


@pytest.mark.parametrize(
    ("rules", "figures"),
    [
        (
            UK,
            {
                "abandon_limit": 0.03,
                "abandon_window": AbandonWindow.CALENDAR_DAY,
                "count_amd_false_positives": True,
                "ledger_timezone": "Europe/London",
                "grace_s": 2.0,
                "grace_counts_amd": True,
                "min_ring_s": 15.0,
                "max_ring_s": None,
                "attempts_per_day": None,
                "attempts_per_week": None,
                "attempts_per_campaign": None,
                "lockout_after_abandon_s": 72 * HOUR,
                "consent_proof_required": False,
                "business_presumed_consent": False,
                "caller_id_required": True,
            },
        ),
        (
            US,
            {
                "abandon_limit": 0.03,
                "abandon_window": AbandonWindow.ROLLING_30_DAYS,
                "count_amd_false_positives": False,
                "grace_s": 2.0,
                "grace_counts_amd": False,
                "min_ring_s": 15.0,
                "max_ring_s": None,
                "attempts_per_day": None,
                "attempts_per_week": None,
                "attempts_per_campaign": None,
                "lockout_after_abandon_s": None,
                "consent_proof_required": False,
                "business_presumed_consent": False,
                "caller_id_required": True,
            },
        ),
        (
            DE,
            {
                "abandon_limit": 0.03,
                "abandon_window": AbandonWindow.CALENDAR_DAY,
                "count_amd_false_positives": True,
                "ledger_timezone": "Europe/Berlin",
                "grace_s": 2.0,
                "grace_counts_amd": True,
                "min_ring_s": 15.0,
                "max_ring_s": 40.0,
                "attempts_per_day": 3,
                "attempts_per_week": 15,
                "attempts_per_campaign": 30,
                "lockout_after_abandon_s": None,
                "consent_proof_required": True,
                "business_presumed_consent": True,
                "caller_id_required": True,
            },
        ),
    ],
    ids=["uk", "us", "de"],
)
def test_each_preset_carries_the_regulators_figures(
    rules: RuleSet, figures: dict[str, object]
) -> None:
    assert {name: getattr(rules, name) for name in figures} == figures


def test_the_registers_are_tps_within_28_days_and_the_us_registry_within_31() -> None:
    assert dict(UK.registers) == {"tps": 28}
    assert dict(US.registers) == {"national": 31}
    assert dict(DE.registers) == {}


def test_uk_and_us_call_from_eight_to_nine_every_day() -> None:
    for rules in (UK, US):
        assert weekly(rules) == {day: ("08:00-21:00",) for day in EVERY_DAY}


def test_germany_calls_weekdays_eight_to_eight_saturdays_nine_to_six_never_on_sunday() -> None:
    assert weekly(DE) == {
        **{day: ("08:00-20:00",) for day in WEEKDAYS},
        "sat": ("09:00-18:00",),
    }


@pytest.mark.parametrize(
    ("rules", "purpose", "line", "bases"),
    [
        # UK: live calls need no opt-in (TPS screening and objections do the work).
        *((UK, p, line, NO_BASIS_NEEDED) for p in Purpose for line in LineType),
        # US: written consent for marketing to mobiles, express for the rest; fixed: none.
        (US, Purpose.MARKETING, LineType.MOBILE, WRITTEN),
        (US, Purpose.MARKETING, LineType.UNKNOWN, WRITTEN),
        (US, Purpose.MARKETING, LineType.FIXED, NO_BASIS_NEEDED),
        (US, Purpose.SERVICE, LineType.MOBILE, EXPRESS),
        (US, Purpose.COLLECTIONS, LineType.UNKNOWN, EXPRESS),
        (US, Purpose.RESEARCH, LineType.FIXED, NO_BASIS_NEEDED),
        # DE: express consent for every advertising call, any basis for the rest.
        (DE, Purpose.MARKETING, LineType.MOBILE, EXPRESS),
        (DE, Purpose.MARKETING, LineType.FIXED, EXPRESS),
        (DE, Purpose.SERVICE, LineType.FIXED, ANY_BASIS),
        (DE, Purpose.RESEARCH, LineType.UNKNOWN, ANY_BASIS),
    ],
)
def test_the_bases_a_preset_accepts_by_purpose_and_line(
    rules: RuleSet, purpose: Purpose, line: LineType, bases: frozenset[Basis]
) -> None:
    assert rules.accepted_bases(purpose, line) == bases


def test_an_unknown_line_is_treated_as_a_mobile() -> None:
    for rules in PRESETS.values():
        for purpose in Purpose:
            unknown = rules.accepted_bases(purpose, LineType.UNKNOWN)
            assert unknown == rules.accepted_bases(purpose, LineType.MOBILE)


def test_written_consent_is_express_consent_too() -> None:
    assert WRITTEN < EXPRESS < ANY_BASIS
    assert frozenset({Basis.EXPRESS_WRITTEN}) == WRITTEN


def test_a_purpose_missing_from_the_map_may_not_be_dialled() -> None:
    rules = custom_rule_set("no-research", "No research", "us", {"consent": {}})
    assert rules.accepted_bases(Purpose.RESEARCH, LineType.FIXED) is None


def test_a_rule_sets_maps_are_read_only() -> None:
    with pytest.raises(TypeError):
        UK.registers["tps"] = 60  # type: ignore[index]
    with pytest.raises(TypeError):
        US.consent[Purpose.MARKETING] = LineConsent(ANY_BASIS, ANY_BASIS)  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "Bad Id"}, "rule set id"),
        ({"name": ""}, "name is 1-100"),
        ({"abandon_limit": 0.6}, "abandon_limit is a share"),
        ({"grace_s": 0.1}, "grace_s is 0.5-10"),
        ({"min_ring_s": 4.0}, "min_ring_s is 5-120"),
        ({"max_ring_s": 10.0}, "max_ring_s is at least min_ring_s"),
        ({"attempts_per_day": 0}, "attempts_per_day is 1-1000"),
        ({"attempts_per_week": True}, "attempts_per_week is 1-1000"),
        ({"lockout_after_abandon_s": -1.0}, "lockout_after_abandon_s is 0-30 days"),
        ({"registers": {"tps": 0}}, "register tps: screened within 1-365 days"),
        ({"registers": {"Bad Register": 28}}, "register id"),
        ({"ledger_timezone": "Mars/Olympus"}, "time zone"),
    ],
)
def test_a_rule_set_out_of_range_is_refused(changes: dict[str, object], message: str) -> None:
    fields = {name: getattr(UK, name) for name in RuleSet.__dataclass_fields__}
    with pytest.raises(InvalidValue, match=re.escape(message)):
        RuleSet(**{**fields, **changes})


# --- custom rule sets: stricter only ----------------------------------------------------


def narrower(days: dict[str, tuple[str, ...]]) -> Hours:
    return Hours("Europe/London", days)


@pytest.mark.parametrize(
    ("base", "changes"),
    [
        ("uk", {"abandon_limit": 0.02}),
        ("uk", {"abandon_limit": 0.0}),
        ("uk", {"grace_s": 1.5}),
        ("uk", {"min_ring_s": 20.0, "max_ring_s": 60.0}),
        ("uk", {"lockout_after_abandon_s": 96 * HOUR}),
        ("uk", {"attempts_per_day": 2, "attempts_per_week": 10, "attempts_per_campaign": 12}),
        ("uk", {"registers": {"tps": 14}}),
        ("uk", {"registers": {"tps": 28, "ctps": 28}}),  # another register as well
        ("uk", {"calling_hours": narrower({"mon": ("09:00-17:00",), "sat": ("10:00-12:00",)})}),
        ("uk", {"consent": {Purpose.MARKETING: LineConsent(EXPRESS, WRITTEN)}}),
        ("uk", {"consent_proof_required": True}),
        ("us", {"count_amd_false_positives": True}),
        ("us", {"grace_counts_amd": True}),  # from the answer: a shorter wait for the person
        ("us", {"lockout_after_abandon_s": 72 * HOUR}),
        ("us", {"consent": {Purpose.MARKETING: LineConsent(WRITTEN, WRITTEN)}}),
        ("us", {"consent": {}}),  # no purpose may be dialled at all
        ("de", {"attempts_per_day": 2, "attempts_per_week": 15, "attempts_per_campaign": 30}),
        ("de", {"min_ring_s": 20.0, "max_ring_s": 30.0}),
        ("de", {"business_presumed_consent": False}),
        ("de", {"consent": {Purpose.SERVICE: LineConsent(EXPRESS, EXPRESS)}}),
        ("de", {"abandon_limit": 0.03, "grace_s": 2.0}),  # the law's own figures
    ],
)
def test_a_custom_rule_set_may_be_stricter_than_its_preset(
    base: str, changes: dict[str, object]
) -> None:
    rules = custom_rule_set("house", "House rules", base, changes)
    assert rules.id == "house" and rules.name == "House rules"
    assert rules.description == f"custom, from {base}"
    for name, value in changes.items():
        got = getattr(rules, name)
        assert (dict(got) if name in ("consent", "registers") else got) == value
    untouched = set(RuleSet.__dataclass_fields__) - set(changes) - {"id", "name", "description"}
    for name in untouched:
        assert getattr(rules, name) == getattr(PRESETS[base], name), name


@pytest.mark.parametrize(
    ("base", "changes", "message"),
    [
        ("uk", {"abandon_limit": 0.04}, "abandon_limit must be at most 0.03"),
        ("uk", {"abandon_limit": None}, "abandon_limit must be at most 0.03"),
        ("us", {"grace_s": 2.5}, "grace_s must be at most 2.0"),
        ("uk", {"min_ring_s": 12.0}, "min_ring_s must be at least 15.0"),
        ("de", {"max_ring_s": 45.0}, "max_ring_s must be at most 40.0"),
        ("de", {"max_ring_s": None}, "max_ring_s must be at most 40.0"),
        ("uk", {"lockout_after_abandon_s": 48 * HOUR}, "lockout_after_abandon_s must be at least"),
        ("uk", {"lockout_after_abandon_s": None}, "lockout_after_abandon_s must be at least"),
        ("de", {"attempts_per_day": 4}, "attempts_per_day must be at most 3"),
        ("de", {"attempts_per_day": None}, "attempts_per_day must be at most 3"),
        ("de", {"attempts_per_week": 16}, "attempts_per_week must be at most 15"),
        ("de", {"attempts_per_campaign": 31}, "attempts_per_campaign must be at most 30"),
        ("de", {"attempts_per_campaign": None}, "attempts_per_campaign must be at most 30"),
        (
            "us",
            {"calling_hours": narrower({"mon": ("07:00-21:00",)})},
            "calling hours must lie within the law's",
        ),
        (
            "us",
            {"calling_hours": narrower({"fri": ("08:00-21:30",)})},
            "calling hours must lie within the law's",
        ),
        (
            "de",
            {"calling_hours": narrower({"sun": ("10:00-12:00",)})},
            "calling hours must lie within the law's",
        ),
        (
            "de",
            {"calling_hours": narrower({"sat": ("08:00-12:00",)})},
            "calling hours must lie within the law's",
        ),
        ("us", {"calling_hours": None}, "calling hours must lie within the law's"),
        ("uk", {"count_amd_false_positives": False}, "AMD false positives must be counted"),
        ("de", {"count_amd_false_positives": False}, "AMD false positives must be counted"),
        ("uk", {"grace_counts_amd": False}, "the grace must count AMD's listening time"),
        ("de", {"consent_proof_required": False}, "consent_proof_required must stay on"),
        ("us", {"caller_id_required": False}, "caller_id_required must stay on"),
        (
            "uk",
            {"business_presumed_consent": True},
            "business_presumed_consent cannot be turned on",
        ),
        ("uk", {"registers": {"tps": 29}}, "register tps must be screened within 28 days"),
        ("uk", {"registers": {}}, "register tps must be screened within 28 days"),
        ("us", {"registers": {"national": 60}}, "register national must be screened within 31"),
        (
            "us",
            {"consent": {Purpose.MARKETING: LineConsent(EXPRESS, NO_BASIS_NEEDED)}},
            "marketing to mobile: only",
        ),
        (
            "us",
            {"consent": {Purpose.SERVICE: LineConsent(NO_BASIS_NEEDED, NO_BASIS_NEEDED)}},
            "service to mobile: only",
        ),
        (
            "de",
            {"consent": {Purpose.MARKETING: LineConsent(EXPRESS, ANY_BASIS)}},
            "marketing to fixed: only",
        ),
        (
            "de",
            {"consent": {Purpose.COLLECTIONS: LineConsent(ANY_BASIS, NO_BASIS_NEEDED)}},
            "collections to fixed: only",
        ),
    ],
)
def test_a_custom_rule_set_looser_than_its_preset_is_refused_naming_the_field(
    base: str, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)) as refused:
        custom_rule_set("house", "House rules", base, changes)
    assert str(refused.value).startswith(f"a rule set made from {base} may only be stricter")


def test_every_loosening_is_named_at_once() -> None:
    changes = {"abandon_limit": 0.05, "grace_s": 3.0, "min_ring_s": 10.0}
    with pytest.raises(InvalidValue) as refused:
        custom_rule_set("house", "House rules", "uk", changes)
    text = str(refused.value)
    assert "abandon_limit" in text and "grace_s" in text and "min_ring_s" in text


def test_a_consent_refusal_names_the_bases_in_plain_words() -> None:
    changes = {"consent": {Purpose.MARKETING: LineConsent(EXPRESS, NO_BASIS_NEEDED)}}
    with pytest.raises(InvalidValue) as refused:
        custom_rule_set("house", "House rules", "us", changes)
    assert "<Basis" not in str(refused.value)
    assert "express_written" in str(refused.value)


@pytest.mark.parametrize("base", ["uk", "de"])
def test_a_calendar_day_ledger_cannot_become_a_rolling_one(base: str) -> None:
    with pytest.raises(InvalidValue, match="abandon_window"):
        custom_rule_set("house", "House", base, {"abandon_window": AbandonWindow.ROLLING_30_DAYS})


def test_a_rolling_ledger_may_become_a_calendar_day_one() -> None:
    # 3 % on every day implies 3 % over any 30 of them: stricter.
    changes = {"abandon_window": AbandonWindow.CALENDAR_DAY}
    rules = custom_rule_set("house", "House", "us", changes)
    assert rules.abandon_window is AbandonWindow.CALENDAR_DAY


def test_the_uk_day_is_counted_in_london() -> None:
    with pytest.raises(InvalidValue, match="ledger_timezone"):
        custom_rule_set("house", "House", "uk", {"ledger_timezone": "America/New_York"})


@pytest.mark.parametrize(
    "field", ["id", "name", "description", "colour", "consents", "attempts_per_month"]
)
def test_a_field_a_custom_rule_set_may_not_change_is_refused_by_name(field: str) -> None:
    with pytest.raises(InvalidValue, match=f"rule set fields {field} cannot be changed"):
        custom_rule_set("house", "House", "uk", {field: "x"})


def test_several_unknown_fields_are_named_sorted() -> None:
    with pytest.raises(InvalidValue, match="rule set fields a, b cannot be changed"):
        custom_rule_set("house", "House", "uk", {"b": 1, "a": 2, "grace_s": 1.0})


def test_a_custom_rule_set_starts_from_a_preset() -> None:
    with pytest.raises(InvalidValue, match="starts from one of uk, us, de"):
        custom_rule_set("house", "House", "fr", {})


@pytest.mark.parametrize("preset", ["uk", "us", "de"])
def test_a_custom_rule_set_may_not_take_a_presets_id(preset: str) -> None:
    with pytest.raises(InvalidValue, match="is a preset's"):
        custom_rule_set(preset, "House", "uk", {})


def test_a_value_of_the_wrong_type_is_refused_as_an_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="rule set"):
        custom_rule_set("house", "House", "uk", {"grace_s": "fast"})


def test_a_custom_rule_set_of_no_changes_is_the_preset_under_its_own_name() -> None:
    rules = custom_rule_set("house", "House", "de", {})
    assert rules.id == "house" and rules.abandon_limit == DE.abandon_limit
    assert rules.calling_hours == DE.calling_hours and dict(rules.consent) == dict(DE.consent)


# --- properties: every value on the strict side is accepted, every other one refused -----


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 0.5))
def test_any_abandon_limit_up_to_3_percent_is_accepted_and_any_above_refused(
    limit: float,
) -> None:
    if limit <= 0.03:
        assert custom_rule_set("h", "H", "uk", {"abandon_limit": limit}).abandon_limit == limit
    else:
        with pytest.raises(InvalidValue, match=re.escape("abandon_limit must be at most 0.03")):
            custom_rule_set("h", "H", "uk", {"abandon_limit": limit})


@settings(max_examples=60, deadline=None)
@given(st.floats(0.5, 10.0), st.sampled_from(["uk", "us", "de"]))
def test_any_grace_up_to_2_s_is_accepted_and_any_longer_refused(grace: float, base: str) -> None:
    if grace <= 2.0:
        assert custom_rule_set("h", "H", base, {"grace_s": grace}).grace_s == grace
    else:
        with pytest.raises(InvalidValue, match=re.escape("grace_s must be at most 2.0")):
            custom_rule_set("h", "H", base, {"grace_s": grace})


@settings(max_examples=60, deadline=None)
@given(st.floats(5.0, 40.0))
def test_any_ring_of_at_least_15_s_is_accepted_and_any_shorter_refused(ring: float) -> None:
    if ring >= 15.0:
        assert custom_rule_set("h", "H", "de", {"min_ring_s": ring}).min_ring_s == ring
    else:
        with pytest.raises(InvalidValue, match=re.escape("min_ring_s must be at least 15.0")):
            custom_rule_set("h", "H", "de", {"min_ring_s": ring})


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["attempts_per_day", "attempts_per_week", "attempts_per_campaign"]),
    st.integers(1, 1000),
)
def test_any_attempt_cap_within_germanys_is_accepted_and_any_above_refused(
    field: str, cap: int
) -> None:
    law = getattr(DE, field)
    if cap <= law:
        assert getattr(custom_rule_set("h", "H", "de", {field: cap}), field) == cap
    else:
        with pytest.raises(InvalidValue, match=f"{field} must be at most {law}"):
            custom_rule_set("h", "H", "de", {field: cap})


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 365))
def test_any_tps_screening_within_28_days_is_accepted_and_any_longer_refused(days: int) -> None:
    if days <= 28:
        assert custom_rule_set("h", "H", "uk", {"registers": {"tps": days}}).registers == {
            "tps": days
        }
    else:
        with pytest.raises(InvalidValue, match="register tps must be screened within 28 days"):
            custom_rule_set("h", "H", "uk", {"registers": {"tps": days}})


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(list(Basis))), st.sets(st.sampled_from(list(Basis))))
def test_a_consent_rule_is_accepted_exactly_when_it_asks_for_a_subset_of_the_laws(
    mobile: set[Basis], fixed: set[Basis]
) -> None:
    rule = LineConsent(frozenset(mobile), frozenset(fixed))
    changes = {"consent": {Purpose.MARKETING: rule}}
    # US marketing: written for mobiles, nothing for fixed lines.
    stricter = bool(mobile) and mobile <= WRITTEN
    if stricter:
        assert custom_rule_set("h", "H", "us", changes).consent[Purpose.MARKETING] == rule
    else:
        with pytest.raises(InvalidValue, match="marketing to mobile"):
            custom_rule_set("h", "H", "us", changes)
