"""The compliance check at dial time: one test (or table) per rule, its refusal, its detail,
when the contact may be tried again, and the order in which the rules are asked."""

from __future__ import annotations

import dataclasses

import pytest

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound import compliance
from ccgateway.domain.outbound.campaigns import DialMode
from ccgateway.domain.outbound.compliance import (
    RULES,
    STALE_RETRY_S,
    DialContext,
    Refusal,
    check,
)
from ccgateway.domain.outbound.contacts import (
    MAX_ZONES,
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
from tests.domain.outbound.compliance_helpers import (
    BERLIN,
    DAY,
    GERMAN,
    HOUR,
    LONDON,
    NEW_YORK,
    PROVEN,
    TUESDAY,
    at,
    de_context,
    dial_context,
    log_of,
    person,
    refusal,
    refused_by,
    spread,
)
from tests.domain.outbound.helpers import campaign


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
