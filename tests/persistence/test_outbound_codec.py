"""The dialer's JSON codec: every field back exactly as written (hypothesis builds valid
campaigns and rule sets), readable JSON, and a corrupt row refused with InvalidValue."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.domain.calendar import DAYS, Hours
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.campaigns import (
    RETRYABLE,
    Amd,
    Blend,
    Campaign,
    DialMode,
    DialOutcome,
    Disposition,
    MachineAction,
    Retry,
)
from ccgateway.domain.outbound.contacts import (
    Consent,
    Contact,
    ContactList,
    ContactState,
    Progress,
)
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.domain.outbound.rules import (
    DE,
    UK,
    US,
    AbandonWindow,
    Basis,
    LineConsent,
    LineType,
    Purpose,
    RuleSet,
    custom_rule_set,
)
from ccgateway.domain.outbound.scripts import Question, QuestionKind, Script
from ccgateway.persistence import outbound_rows
from ccgateway.persistence.outbound_codec import (
    CAMPAIGN_FIELDS,
    RULE_SET_FIELDS,
    answers_from_json,
    answers_to_json,
    campaign_from_json,
    campaign_to_json,
    consents_from_json,
    consents_to_json,
    rule_set_from_json,
    rule_set_to_json,
)
from ccgateway.persistence.outbound_rows import progress_values
from ccgateway.persistence.tables import ContactRow

# --- strategies: valid values only --------------------------------------------------------------

ids = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,15}", fullmatch=True)
# A campaign's id is an extension in the dialplan too: 2-64 characters, no '.', not "failed".
campaign_ids = st.from_regex(r"[a-z0-9][a-z0-9_-]{1,15}", fullmatch=True).filter(
    lambda i: i != "failed"
)
question_ids = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
# Plain text: no control characters (the domain refuses them) and no lone surrogates.
text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30)
sounds = st.from_regex(r"[A-Za-z0-9_/-]{1,20}(&[A-Za-z0-9_/-]{1,20}){0,2}", fullmatch=True)
e164 = st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True)
zones = st.sampled_from(["Europe/London", "Europe/Berlin", "America/New_York", "UTC"])
times = st.floats(0.0, 4e9)  # epoch seconds to 2096


def between(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def hours(draw: st.DrawFn) -> Hours:
    weekly = {}
    for day in draw(st.sets(st.sampled_from(DAYS))):
        points = sorted(draw(st.sets(st.integers(0, 24), max_size=4)))
        pairs = list(zip(points[::2], points[1::2], strict=False))
        weekly[day] = tuple(f"{a:02d}:00-{b:02d}:00" for a, b in pairs)
    holidays = draw(st.sets(st.dates().map(lambda d: d.isoformat()), max_size=3))
    return Hours(draw(zones), weekly, tuple(holidays))


@st.composite
def questions(draw: st.DrawFn, question_id: str) -> Question:
    kind = draw(st.sampled_from(QuestionKind))
    options: tuple[str, ...] = ()
    low = high = None
    if kind is QuestionKind.CHOICE:
        options = tuple(draw(st.lists(text, min_size=2, max_size=5, unique=True)))
    elif kind is QuestionKind.NUMBER:
        start = draw(between(-1e6, 1e6))
        low, high = start, draw(between(start, 2e6).filter(lambda h: h > start))
    elif kind is QuestionKind.SCALE:
        low = float(draw(st.integers(-10, 10)))
        high = low + draw(st.integers(1, 100))
    return Question(question_id, draw(text), kind, options, low, high, draw(st.booleans()))


@st.composite
def scripts(draw: st.DrawFn) -> Script:
    names = draw(st.lists(question_ids, max_size=4, unique=True))
    body = st.text(st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from("\t\n\r"))
    return Script(draw(body), tuple(draw(questions(n)) for n in names))


@st.composite
def amds(draw: st.DrawFn) -> Amd:
    message = draw(optional(sounds))
    actions = [MachineAction.HANG_UP] if message is None else list(MachineAction)
    return Amd(
        draw(st.booleans()), draw(st.sampled_from(actions)), message, draw(between(0.0, 0.5))
    )


@st.composite
def dispositions(draw: st.DrawFn, code: str) -> Disposition:
    label = draw(text)
    if draw(st.booleans()):
        return Disposition(code, label, final=True, do_not_call=draw(st.booleans()))
    retry = draw(optional(between(60.0, 90 * 86400.0)))
    return Disposition(code, label, final=False, retry_after_s=retry, callback=draw(st.booleans()))


retries = st.dictionaries(
    st.sampled_from(RETRYABLE),
    st.builds(Retry, between(60.0, 30 * 86400.0), st.integers(0, 50)),
)


@st.composite
def blends(draw: st.DrawFn, queue_id: str) -> Blend:
    inbound = draw(st.lists(ids.filter(lambda q: q != queue_id), min_size=1, max_size=3))
    low = draw(st.integers(0, 500))
    return Blend(tuple(inbound), low, draw(st.integers(low, 500)), draw(between(1.0, 3600.0)))


@st.composite
def campaigns(draw: st.DrawFn) -> Campaign:
    queue_id = draw(ids)
    starts = draw(optional(times))
    ends = draw(optional(times.filter(lambda t: starts is None or t > starts)))
    codes = draw(st.lists(ids, min_size=1, max_size=5, unique=True))
    return Campaign(
        id=draw(campaign_ids),
        name=draw(text),
        purpose=draw(st.sampled_from(Purpose)),
        rule_set_id=draw(ids),
        mode=draw(st.sampled_from(DialMode)),
        queue_id=queue_id,
        caller_id=draw(e164),
        abandon_message=draw(sounds),
        caller_name=draw(st.from_regex(r"[A-Za-z0-9 .'&-]{0,40}", fullmatch=True)),
        ring_s=draw(between(5.0, 180.0)),
        abandon_target=draw(optional(between(0.0, 0.5))),
        amd=draw(amds()),
        retries=draw(retries),
        dispositions=tuple(draw(dispositions(c)) for c in codes),
        script=draw(scripts()),
        hours=draw(optional(hours())),
        starts_at=starts,
        ends_at=ends,
        max_lines=draw(optional(st.integers(1, 5000))),
        live_priority=draw(st.integers(0, 100)),
        preview_timeout_s=draw(between(5.0, 3600.0)),
        blend=draw(optional(blends(queue_id))),
        pbx=draw(ids),
    )


bases = st.frozensets(st.sampled_from(Basis))


@st.composite
def rule_sets(draw: st.DrawFn) -> RuleSet:
    min_ring = draw(between(5.0, 120.0))
    caps = optional(st.integers(1, 1000))
    return RuleSet(
        id=draw(ids),
        name=draw(text),
        abandon_limit=draw(optional(between(0.0, 0.5))),
        abandon_window=draw(st.sampled_from(AbandonWindow)),
        count_amd_false_positives=draw(st.booleans()),
        ledger_timezone=draw(zones),
        grace_s=draw(between(0.5, 10.0)),
        grace_counts_amd=draw(st.booleans()),
        min_ring_s=min_ring,
        max_ring_s=draw(optional(between(min_ring, 180.0))),
        calling_hours=draw(optional(hours())),
        attempts_per_day=draw(caps),
        attempts_per_week=draw(caps),
        attempts_per_campaign=draw(caps),
        lockout_after_abandon_s=draw(optional(between(0.0, 30 * 86400.0))),
        consent=draw(
            st.dictionaries(st.sampled_from(Purpose), st.builds(LineConsent, bases, bases))
        ),
        consent_proof_required=draw(st.booleans()),
        business_presumed_consent=draw(st.booleans()),
        registers=draw(st.dictionaries(ids, st.integers(1, 365), max_size=3)),
        caller_id_required=draw(st.booleans()),
        description=draw(st.text(max_size=40)),
    )


# --- round trips -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(campaigns())
def test_every_campaign_reads_back_exactly_as_written(campaign: Campaign) -> None:
    text = campaign_to_json(campaign)
    loaded = campaign_from_json(campaign.id, text)
    assert loaded == campaign
    assert campaign_to_json(loaded) == text  # and writes the same text again


@settings(max_examples=200, deadline=None)
@given(rule_sets())
def test_every_rule_set_reads_back_exactly_as_written(rules: RuleSet) -> None:
    text = rule_set_to_json(rules)
    loaded = rule_set_from_json(rules.id, text)
    assert loaded == rules
    assert rule_set_to_json(loaded) == text


@pytest.mark.parametrize("rules", [UK, US, DE], ids=lambda r: r.id)
def test_the_presets_and_a_custom_rule_set_round_trip(rules: RuleSet) -> None:
    custom = custom_rule_set(f"house-{rules.id}", "House", rules.id, {"grace_s": 1.5})
    for value in (rules, custom):
        assert rule_set_from_json(value.id, rule_set_to_json(value)) == value


FULL = Campaign(
    id="survey",
    name="Customer survey",
    purpose=Purpose.RESEARCH,
    rule_set_id="house-de",
    mode=DialMode.PROGRESSIVE,
    queue_id="out",
    caller_id="+4930123456",
    abandon_message="ccgw/abandon&ccgw/goodbye",
    caller_name="Acme & Co",
    ring_s=25.5,
    abandon_target=0.02,
    amd=Amd(True, MachineAction.MESSAGE, "ccgw/machine", 0.04),
    retries={DialOutcome.BUSY: Retry(900.0, 3), DialOutcome.MACHINE: Retry(7200.0, 0)},
    dispositions=(
        Disposition("done", "Survey done"),
        Disposition("later", "Later", final=False, retry_after_s=3600.0, callback=True),
        Disposition("stop", "Do not call", do_not_call=True),
    ),
    script=Script(
        "Hello {name}, about your order {order}",
        (
            Question("happy", "Happy?", QuestionKind.YES_NO, required=True),
            Question("score", "Score 0-10", QuestionKind.SCALE, minimum=0, maximum=10),
            Question("spend", "Spend", QuestionKind.NUMBER, minimum=0.5, maximum=1e4),
            Question("why", "Why?", QuestionKind.CHOICE, options=("price", "service")),
            Question("note", "Anything else?", QuestionKind.TEXT),
        ),
    ),
    hours=Hours("Europe/Berlin", {"mon": ("09:00-12:00", "13:00-18:00")}, ("2026-12-24",)),
    starts_at=1_790_000_000.25,
    ends_at=1_800_000_000.5,
    max_lines=40,
    live_priority=90,
    preview_timeout_s=45.0,
    blend=Blend(("support", "billing"), 2, 10, 30.0),
    pbx="asterisk-2",
)


def test_a_campaign_with_every_setting_reads_back_and_its_json_is_plain() -> None:
    text = campaign_to_json(FULL)
    assert campaign_from_json("survey", text) == FULL
    raw = json.loads(text)
    assert "id" not in raw  # the row's key
    assert raw["mode"] == "progressive" and raw["purpose"] == "research"
    assert raw["retries"]["busy"] == {"after_s": 900.0, "times": 3}
    assert raw["amd"]["machine_action"] == "message"
    assert raw["script"]["questions"][0] == {
        "id": "happy",
        "text": "Happy?",
        "kind": "yes_no",
        "options": [],
        "minimum": None,
        "maximum": None,
        "required": True,
    }
    assert raw["hours"]["weekly"] == {"mon": ["09:00-12:00", "13:00-18:00"]}
    consent = json.loads(rule_set_to_json(DE))["consent"]["marketing"]
    assert consent == {
        "fixed": ["express", "express_written"],
        "mobile": ["express", "express_written"],
    }


def names(kind: type[Any], *but: str) -> set[str]:
    return {f.name for f in dataclasses.fields(kind) if f.init} - set(but)


def test_the_json_names_every_field_of_every_record() -> None:
    """A field added to a domain record and forgotten here fails this test."""
    assert set(CAMPAIGN_FIELDS) == names(Campaign, "id")
    assert set(RULE_SET_FIELDS) == names(RuleSet, "id")
    raw = json.loads(campaign_to_json(FULL))
    assert set(raw) == names(Campaign, "id")
    assert set(raw["amd"]) == names(Amd)
    assert set(raw["retries"]["busy"]) == names(Retry)
    assert set(raw["dispositions"][0]) == names(Disposition)
    assert set(raw["script"]) == names(Script)
    assert set(raw["script"]["questions"][0]) == names(Question)
    assert set(raw["hours"]) == names(Hours)
    assert set(raw["blend"]) == names(Blend)
    rules = json.loads(rule_set_to_json(UK))
    assert set(rules["consent"]["marketing"]) == names(LineConsent)
    assert set(rules["calling_hours"]) == names(Hours)
    consents = json.loads(consents_to_json({Purpose.SERVICE: Consent(Basis.CONTRACT)}))
    assert set(consents["service"]) == names(Consent)


def test_a_missing_key_takes_the_default_so_old_rows_still_read() -> None:
    raw = json.loads(campaign_to_json(FULL))
    del raw["pbx"], raw["blend"], raw["retries"]
    loaded = campaign_from_json("survey", json.dumps(raw))
    assert loaded == dataclasses.replace(FULL, pbx="asterisk", blend=None, retries={})


def test_consents_and_answers_round_trip() -> None:
    consents = {
        Purpose.MARKETING: Consent(Basis.EXPRESS_WRITTEN, 1_700_000_000.5, "form 12"),
        Purpose.SERVICE: Consent(Basis.CONTRACT),
    }
    assert consents_from_json(consents_to_json(consents)) == consents
    answers: dict[str, str | float | bool] = {"happy": True, "score": 7.0, "why": "price"}
    loaded = answers_from_json(answers_to_json(answers))
    assert loaded == answers
    assert [type(v) for v in loaded.values()] == [bool, float, str]


# --- corrupt rows ------------------------------------------------------------------------------


def edited(**changes: Any) -> str:
    raw = json.loads(campaign_to_json(FULL))
    for path, value in changes.items():
        target = raw
        *parents, last = path.split("__")
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value
    return json.dumps(raw)


@pytest.mark.parametrize(
    "text",
    [
        "{",  # not JSON
        "[]",  # not an object
        "{}",  # no name, purpose, ...
        edited(colour="red"),  # a field Campaign does not have
        edited(ring_s="twenty"),  # a JSON type the field cannot be
        edited(ring_s=True),
        edited(live_priority=9.5),
        edited(mode="turbo"),  # not a dial mode
        edited(ring_s=2.0),  # a rule of the domain
        edited(caller_id="0301234"),
        edited(amd__machine_message=None),  # message without a message
        edited(retries={"connected": {"after_s": 600, "times": 1}}),  # not retried
        edited(retries={"busy": {"after_s": 600}}),  # no times
        edited(dispositions=[]),
        edited(dispositions__0__final="yes"),
        edited(script__questions__1__maximum=500),  # a scale of 500 points
        edited(hours__timezone="Mars/Olympus"),
        edited(hours__weekly={"mon": "09:00-12:00"}),  # text, not a list
        edited(blend__inbound_queue_ids=["out"]),  # the campaign's own queue
    ],
)
def test_a_corrupt_campaign_row_is_refused_with_invalid_value(text: str) -> None:
    with pytest.raises(InvalidValue, match="stored campaign survey"):
        campaign_from_json("survey", text)


def edited_rules(**changes: Any) -> str:
    raw = json.loads(rule_set_to_json(UK))
    raw.update(changes)
    return json.dumps(raw)


@pytest.mark.parametrize(
    "text",
    [
        "null",
        edited_rules(grace_s=30),
        edited_rules(registers={"tps": "28"}),
        edited_rules(consent={"marketing": {"mobile": ["signed"], "fixed": []}}),
        edited_rules(consent={"selling": {"mobile": [], "fixed": []}}),
        edited_rules(consent={"marketing": {"mobile": []}}),
        edited_rules(abandon_window="weekly"),
        edited_rules(calling_hours={"timezone": "UTC", "weekly": {"xyz": []}}),
    ],
)
def test_a_corrupt_rule_set_row_is_refused_with_invalid_value(text: str) -> None:
    with pytest.raises(InvalidValue, match="stored rule set uk"):
        rule_set_from_json("uk", text)


def test_corrupt_consents_and_answers_are_refused_with_invalid_value() -> None:
    for bad in ('{"marketing": {"basis": "maybe"}}', '{"sales": {"basis": "express"}}', "[1]"):
        with pytest.raises(InvalidValue):
            consents_from_json(bad)
    for bad in ('{"q": null}', '{"q": [1]}', "7"):
        with pytest.raises(InvalidValue):
            answers_from_json(bad)


DIAL = DialRecord(
    id="ccgw-1",
    campaign_id="survey",
    contact_id="c1",
    number="+442079460000",
    rule_set_id="uk",
    mode=DialMode.PREDICTIVE,
    caller_id="+442079460999",
    dialled_at=100.0,
    ended_at=160.0,
    outcome=DialOutcome.CONNECTED,
    answered_at=112.0,
    live_at=113.5,
    connected_at=114.0,
    agent_id="a1",
    amd="human",
    at_risk=True,
    detail="ok",
)
CONTACT = Contact(
    id="c1",
    list_id="l1",
    number="+442079460000",
    time_zones=("Europe/London",),
    line_type=LineType.MOBILE,
    region="GB",
    name="Ann",
    consents={Purpose.RESEARCH: Consent(Basis.EXPRESS, 50.0, "web")},
    fields={"order": "42"},
    priority=3,
)


def test_rows_and_domain_values_map_both_ways_field_for_field() -> None:
    progress = Progress("c1", "survey", ContactState.SCHEDULED, 2, 500.0, "busy", {"busy": 2})
    row = ContactRow(**outbound_rows.contact_values("survey", CONTACT, progress_values(progress)))
    assert outbound_rows.entry(row) == (CONTACT, progress)
    assert outbound_rows.dial(outbound_rows.dial_row(DIAL)) == DIAL
    answered = DispositionRecord("ccgw-1", "survey", "c1", "a1", "done", 170.0, {"happy": True})
    assert outbound_rows.disposition(outbound_rows.disposition_row(answered)) == answered
    refused = RefusalRecord("survey", "c1", "+442079460000", "tps", "listed", 90.0, None)
    assert outbound_rows.refusal(outbound_rows.refusal_row(refused)) == refused
    listed = ContactList("l1", "survey", "List", 10.0, 5, 1, "list.csv")
    assert outbound_rows.contact_list(outbound_rows.list_row(listed)) == listed


def test_a_stored_value_that_is_no_enum_member_is_refused_with_invalid_value() -> None:
    row = outbound_rows.dial_row(DIAL)
    row.outcome = "exploded"
    with pytest.raises(InvalidValue, match="stored dial ccgw-1: outcome 'exploded'"):
        outbound_rows.dial(row)
    values = outbound_rows.contact_values("survey", CONTACT, progress_values(Progress("c1", "s")))
    with pytest.raises(InvalidValue, match="stored contact c1: state 'gone'"):
        outbound_rows.progress(ContactRow(**(values | {"state": "gone"})))
    with pytest.raises(InvalidValue, match="stored contact c1: line type 'fax'"):
        outbound_rows.contact(ContactRow(**(values | {"line_type": "fax"})))
