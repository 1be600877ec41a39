"""Campaigns: what a campaign's own settings must be, what they must meet under each
preset, retries and dispositions, and the start / pause / stop transitions."""

from __future__ import annotations

import dataclasses
import re

import pytest

from ccgateway.domain.calendar import Hours
from ccgateway.domain.errors import InvalidTransition, InvalidValue
from ccgateway.domain.outbound.campaigns import (
    DEFAULT_DISPOSITIONS,
    DEFAULT_RETRIES,
    MAX_DISPOSITIONS,
    RETRYABLE,
    TRANSITIONS,
    Amd,
    Blend,
    CampaignState,
    DialOutcome,
    Disposition,
    MachineAction,
    Retry,
    next_state,
)
from ccgateway.domain.outbound.rules import DE, PRESETS, UK, US, Purpose, RuleSet, custom_rule_set
from tests.domain.outbound.helpers import NOON, campaign

State = CampaignState
DAY = 86400.0


# --- a campaign's own settings ----------------------------------------------------------


def test_the_default_campaign_is_valid_and_carries_the_default_retries() -> None:
    camp = campaign()
    assert dict(camp.retries) == dict(DEFAULT_RETRIES)
    assert camp.dispositions == DEFAULT_DISPOSITIONS
    assert camp.ring_s == 20.0 and camp.live_priority == 100


@pytest.mark.parametrize(
    "caller_id",
    ["", "442071234567", "+0442071234567", "+44 20 7123 4567", "+44207", "+1234567890123456"],
)
def test_the_caller_id_is_a_number_in_e164(caller_id: str) -> None:
    with pytest.raises(InvalidValue, match=r"caller ID .* must be in E\.164 form"):
        campaign(caller_id=caller_id)


@pytest.mark.parametrize("caller_id", ["+4420712", "+442071234567", "+123456789012345"])
def test_e164_caller_ids_of_7_to_15_digits_are_accepted(caller_id: str) -> None:
    assert campaign(caller_id=caller_id).caller_id == caller_id


@pytest.mark.parametrize(
    "sound", ["", "../etc/passwd", "a b", "hello;Hangup()", "x" * 101, "a&" * 10 + "a"]
)
def test_the_abandon_message_is_a_plain_sound_name(sound: str) -> None:
    with pytest.raises(InvalidValue, match=r"sound .* must be file names"):
        campaign(abandon_message=sound)


def test_a_sound_list_is_a_valid_abandon_message() -> None:
    assert campaign(abandon_message="custom/sorry&custom/optout").abandon_message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "Sales"}, "campaign id"),
        # The dialplan takes the id as an extension: no one-letter ones (h, s, t), no dots,
        # and not the originate's "failed".
        ({"id": "h"}, "2-64 of a-z, 0-9, '_', '-', and not 'failed'"),
        ({"id": "spring.sale"}, "2-64 of a-z"),
        ({"id": "failed"}, "and not 'failed'"),
        ({"rule_set_id": ""}, "rule set id"),
        ({"queue_id": "out queue"}, "queue id"),
        ({"pbx": "Asterisk"}, "pbx id"),
        ({"name": ""}, "name is 1-100 characters"),
        ({"name": "n" * 101}, "name is 1-100 characters"),
        ({"caller_name": "ACME <script>"}, "caller_name is at most 40"),
        ({"caller_name": "a" * 41}, "caller_name is at most 40"),
        ({"ring_s": 4.9}, "ring_s is 5-180 seconds"),
        ({"ring_s": 181.0}, "ring_s is 5-180 seconds"),
        ({"abandon_target": -0.01}, "abandon_target is a share between 0 and 0.5"),
        ({"abandon_target": 0.51}, "abandon_target is a share between 0 and 0.5"),
        ({"max_lines": 0}, "max_lines is 1-5000"),
        ({"max_lines": 5001}, "max_lines is 1-5000"),
        ({"preview_timeout_s": 4.0}, "preview_timeout_s is 5-3600"),
        ({"starts_at": NOON, "ends_at": NOON}, "a campaign ends after it starts"),
        ({"dispositions": ()}, f"1-{MAX_DISPOSITIONS} dispositions"),
        (
            {"dispositions": tuple(Disposition(f"d{i}", "D") for i in range(61))},
            f"1-{MAX_DISPOSITIONS} dispositions",
        ),
        (
            {"dispositions": (Disposition("sale", "Sale"), Disposition("sale", "Sold"))},
            "disposition codes must be distinct",
        ),
        ({"retries": {DialOutcome.CONNECTED: Retry(600.0, 1)}}, "no retry for connected"),
        (
            {
                "retries": {
                    DialOutcome.SKIPPED: Retry(600.0, 1),
                    DialOutcome.CONNECTED: Retry(60, 1),
                }
            },
            "no retry for connected, skipped",
        ),
        ({"blend": Blend(("out",))}, "the campaign's own queue is not an inbound queue"),
    ],
)
def test_a_campaign_with_a_bad_setting_is_refused_saying_which(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)):
        campaign(**changes)


def test_a_campaigns_retries_override_the_defaults_one_outcome_at_a_time() -> None:
    camp = campaign(retries={DialOutcome.BUSY: Retry(120.0, 1)})
    assert camp.retries[DialOutcome.BUSY] == Retry(120.0, 1)
    assert camp.retries[DialOutcome.NO_ANSWER] == DEFAULT_RETRIES[DialOutcome.NO_ANSWER]
    assert set(camp.retries) == set(RETRYABLE)
    with pytest.raises(TypeError):
        camp.retries[DialOutcome.BUSY] = Retry(60.0, 0)  # type: ignore[index]


def test_the_default_retries_wait_72_hours_after_an_abandoned_call() -> None:
    assert DEFAULT_RETRIES[DialOutcome.ABANDONED].after_s == 72 * 3600.0
    assert DialOutcome.CONNECTED not in RETRYABLE and DialOutcome.SKIPPED not in RETRYABLE


@pytest.mark.parametrize(
    ("after_s", "times", "message"),
    [
        (59.0, 1, "60 s to 30 days"),
        (30 * DAY + 1, 1, "60 s to 30 days"),
        (600.0, -1, "0-50 times"),
        (600.0, 51, "0-50 times"),
        (600.0, True, "0-50 times"),
    ],
)
def test_a_retry_is_60_s_to_30_days_later_0_to_50_times(
    after_s: float, times: int, message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        Retry(after_s, times)


def test_a_retry_on_its_bounds_is_accepted() -> None:
    assert Retry(60.0, 0) and Retry(30 * DAY, 50)


# --- dispositions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "Sale!"}, "disposition id"),
        ({"label": ""}, "its label is 1-100 characters"),
        ({"label": "l" * 101}, "its label is 1-100 characters"),
        ({"retry_after_s": 3600.0}, "a final one is neither retried nor called back"),
        ({"callback": True}, "a final one is neither retried nor called back"),
        ({"final": False, "retry_after_s": 59.0}, "retry_after_s is 60 s to 90 days"),
        ({"final": False, "retry_after_s": 90 * DAY + 1}, "retry_after_s is 60 s to 90 days"),
        ({"final": False, "do_not_call": True}, "do-not-call is final"),
    ],
)
def test_a_bad_disposition_is_refused(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"code": "done", "label": "Done", **changes}
    with pytest.raises(InvalidValue, match=re.escape(message)):
        Disposition(**fields)  # type: ignore[arg-type]


def test_the_default_dispositions_are_consistent() -> None:
    by_code = {d.code: d for d in DEFAULT_DISPOSITIONS}
    assert len(by_code) == len(DEFAULT_DISPOSITIONS)
    assert by_code["do_not_call"].do_not_call and by_code["do_not_call"].final
    assert not by_code["callback"].final and by_code["callback"].callback
    assert by_code["call_later"].retry_after_s == DAY and not by_code["call_later"].final
    assert all(d.final for d in DEFAULT_DISPOSITIONS if d.retry_after_s is None and not d.callback)


def test_a_disposition_is_found_by_its_code_or_refused_listing_them() -> None:
    camp = campaign()
    assert camp.disposition("sale").label == "Sale / success"
    with pytest.raises(InvalidValue, match="campaign sales has no disposition 'won'; it has sale,"):
        camp.disposition("won")


# --- answering-machine detection and blending -------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"false_positive_share": -0.1}, "amd.false_positive_share is a share between 0 and 0.5"),
        ({"false_positive_share": 0.6}, "amd.false_positive_share"),
        ({"machine_message": "../x"}, "must be file names"),
        ({"machine_action": MachineAction.MESSAGE}, "needs amd.machine_message"),
    ],
)
def test_bad_amd_settings_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)):
        Amd(**changes)  # type: ignore[arg-type]


def test_amd_may_leave_a_message_on_a_machine() -> None:
    amd = Amd(True, MachineAction.MESSAGE, "custom/please-call-back", 0.02)
    assert campaign(amd=amd).amd.machine_message == "custom/please-call-back"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"inbound_queue_ids": ()}, "blend names the inbound queues"),
        ({"inbound_queue_ids": ("Sales Queue",)}, "queue id"),
        ({"min_reserve": 5, "max_reserve": 4}, "0 <= min_reserve <= max_reserve <= 500"),
        ({"min_reserve": -1}, "0 <= min_reserve"),
        ({"max_reserve": 501}, "max_reserve <= 500"),
        ({"inbound_wait_goal_s": 0.5}, "inbound_wait_goal_s is 1-3600"),
        ({"inbound_wait_goal_s": 3601.0}, "inbound_wait_goal_s is 1-3600"),
    ],
)
def test_bad_blend_settings_are_refused(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"inbound_queue_ids": ("support",), **changes}
    with pytest.raises(InvalidValue, match=re.escape(message)):
        Blend(**fields)  # type: ignore[arg-type]


def test_a_blended_campaign_names_other_queues() -> None:
    assert campaign(blend=Blend(("support", "billing"), 0, 3)).blend is not None


# --- check_against: what the law asks of the campaign's own settings --------------------


@pytest.mark.parametrize("rules", [UK, US, DE], ids=["uk", "us", "de"])
def test_the_default_campaign_meets_every_preset(rules: RuleSet) -> None:
    for purpose in Purpose:
        campaign(purpose=purpose, rule_set_id=rules.id).check_against(rules)


@pytest.mark.parametrize(
    ("rules", "ring", "message"),
    [
        (UK, 14.0, "uk: ring at least 15 s, not 14"),
        (US, 10.0, "us: ring at least 15 s, not 10"),
        (DE, 14.5, "de: ring at least 15 s, not 14.5"),
        (DE, 41.0, "de: ring at most 40 s, not 41"),
    ],
)
def test_the_ring_must_meet_the_presets_bounds(rules: RuleSet, ring: float, message: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(message)):
        campaign(ring_s=ring).check_against(rules)


@pytest.mark.parametrize(
    ("rules", "ring"), [(UK, 15.0), (UK, 180.0), (US, 15.0), (DE, 15.0), (DE, 40.0)]
)
def test_a_ring_on_the_presets_bounds_is_accepted(rules: RuleSet, ring: float) -> None:
    campaign(ring_s=ring).check_against(rules)


@pytest.mark.parametrize("rules", [UK, US, DE], ids=["uk", "us", "de"])
def test_the_abandon_target_may_not_exceed_the_laws_3_percent(rules: RuleSet) -> None:
    campaign(abandon_target=0.03).check_against(rules)
    campaign(abandon_target=0.0).check_against(rules)
    with pytest.raises(InvalidValue, match=f"{rules.id}: abandon_target 0.031 is above the law's"):
        campaign(abandon_target=0.031).check_against(rules)


def test_without_a_statutory_cap_any_target_passes() -> None:
    free = dataclasses.replace(US, id="lab", abandon_limit=None)
    campaign(abandon_target=0.2).check_against(free)


def test_a_purpose_the_rule_set_does_not_allow_is_refused() -> None:
    service = {Purpose.SERVICE: UK.consent[Purpose.SERVICE]}
    only_service = custom_rule_set("service-only", "Service only", "uk", {"consent": service})
    campaign(purpose=Purpose.SERVICE).check_against(only_service)
    with pytest.raises(InvalidValue, match="service-only allows no marketing calls"):
        campaign(purpose=Purpose.MARKETING).check_against(only_service)


def test_a_custom_rule_sets_longer_ring_binds_the_campaign() -> None:
    house = custom_rule_set("house", "House", "de", {"min_ring_s": 25.0})
    with pytest.raises(InvalidValue, match="house: ring at least 25 s, not 20"):
        campaign().check_against(house)


@pytest.mark.parametrize(
    ("target", "rules", "expected"),
    [(0.01, UK, 0.01), (None, UK, 0.03), (None, DE, 0.03)],
)
def test_the_pacers_target_is_the_campaigns_else_the_laws(
    target: float | None, rules: RuleSet, expected: float
) -> None:
    assert campaign(abandon_target=target).target(rules) == expected


def test_without_either_the_target_is_3_percent() -> None:
    free = dataclasses.replace(US, id="lab", abandon_limit=None)
    assert campaign().target(free) == 0.03
    assert set(PRESETS) == {"uk", "us", "de"}


# --- the schedule -----------------------------------------------------------------------


def test_a_campaign_dials_within_its_dates_and_hours() -> None:
    tuesdays = Hours("Europe/London", {"tue": ("09:00-17:00",)})
    camp = campaign(starts_at=NOON - DAY, ends_at=NOON + DAY, hours=tuesdays)
    assert camp.in_schedule(NOON)  # Tuesday 12:00 in London
    assert not camp.in_schedule(NOON - DAY - 1)  # before it starts
    assert not camp.in_schedule(NOON + DAY)  # the end is not included
    assert not camp.in_schedule(NOON + 6 * 3600)  # Tuesday 18:00
    assert campaign().in_schedule(0.0)


# --- start, pause, stop -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        (State.STOPPED, "start", State.RUNNING),
        (State.PAUSED, "start", State.RUNNING),
        (State.RUNNING, "start", State.RUNNING),
        (State.RUNNING, "pause", State.PAUSED),
        (State.PAUSED, "pause", State.PAUSED),
        (State.RUNNING, "stop", State.STOPPED),
        (State.PAUSED, "stop", State.STOPPED),
        (State.STOPPED, "stop", State.STOPPED),
    ],
)
def test_a_campaign_starts_pauses_and_stops(state: State, action: str, after: State) -> None:
    assert next_state(state, action) is after


def test_a_stopped_campaign_cannot_pause() -> None:
    with pytest.raises(InvalidTransition, match="a stopped campaign cannot pause"):
        next_state(State.STOPPED, "pause")


@pytest.mark.parametrize("action", ["resume", "START", "", "delete"])
def test_an_unknown_action_is_an_invalid_value(action: str) -> None:
    with pytest.raises(InvalidValue, match="a campaign is started, paused or stopped, not"):
        next_state(State.RUNNING, action)


def test_every_state_and_action_is_either_a_transition_or_refused() -> None:
    for state in State:
        for action in ("start", "pause", "stop"):
            if (action, state) in TRANSITIONS:
                assert next_state(state, action) is TRANSITIONS[(action, state)]
            else:
                with pytest.raises(InvalidTransition):
                    next_state(state, action)
    assert len(TRANSITIONS) == 8
