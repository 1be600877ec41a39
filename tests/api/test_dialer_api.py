"""The dialer's API over the real services and SQLite stores (a fake PBX of our own port):
rule sets, campaigns, contact lists, callbacks, do-not-call lists, a campaign that dials,
previews and dispositions; and the 4xx for bad input."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest

from ccgateway.api import dialer_record_schemas as records
from ccgateway.api import dialer_schemas as schemas
from ccgateway.api.routes import contact_lists
from ccgateway.app import build_controller
from ccgateway.domain.commands import DialCallback, RingAgent
from ccgateway.domain.events import (
    AgentLegAnswered,
    CallbackAnswered,
    ChannelHungUp,
    OutboundAnswered,
    OutboundLive,
    PbxResynced,
)
from ccgateway.domain.outbound.campaigns import (
    RETRYABLE,
    Campaign,
    CampaignState,
    DialMode,
    MachineAction,
)
from ccgateway.domain.outbound.commands import DialCustomer
from ccgateway.domain.outbound.contacts import ContactState
from ccgateway.domain.outbound.rules import CHANGEABLE, AbandonWindow, Basis, Purpose
from ccgateway.domain.outbound.runs import Stage
from ccgateway.domain.outbound.scripts import QuestionKind
from ccgateway.settings import Settings
from ccgateway.testing import FakePbx, ManualClock
from tests.api.conftest import seed
from tests.api.dialer_helpers import (
    CAMPAIGN,
    NOON,
    agent_key,
    csv_of,
    import_list,
    number,
    send,
)
from tests.services.stack import ADMIN, Stack


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Stack]:
    """The seeded centre at noon (UTC) on a Tuesday: the UK's calling window is open."""
    started = await Stack.start(tmp_path / "ccgateway.db", ManualClock(NOON))
    await seed(started)
    yield started
    await started.stop()


# --- the schemas keep to the domain ----------------------------------------------------------


@pytest.mark.parametrize(
    ("names", "values"),
    [
        (schemas.PurposeName, {p.value for p in Purpose}),
        (schemas.ModeName, {m.value for m in DialMode}),
        (schemas.MachineActionName, {a.value for a in MachineAction}),
        (schemas.RetryOutcomeName, {o.value for o in RETRYABLE}),
        (schemas.QuestionKindName, {k.value for k in QuestionKind}),
        (schemas.BasisName, {b.value for b in Basis}),
        (schemas.WindowName, {w.value for w in AbandonWindow}),
        (schemas.StateName, {s.value for s in CampaignState}),
        (records.ContactStateName, {s.value for s in ContactState}),
    ],
)
def test_the_api_names_every_value_of_the_domain_enums(names: Any, values: set[str]) -> None:
    assert set(get_args(names)) == values


def test_a_campaign_body_with_only_the_required_fields_is_the_domain_default() -> None:
    required = {k: v for k, v in CAMPAIGN.items() if k != "id"}
    made = schemas.CampaignSettings.model_validate(required).to_domain("renewals")
    assert made == Campaign(
        **{**required, "purpose": Purpose.SERVICE, "mode": DialMode.PROGRESSIVE}, id="renewals"
    )


def test_a_rule_set_may_change_exactly_the_fields_the_domain_lets_change() -> None:
    assert set(schemas.RuleChangesIn.model_fields) == CHANGEABLE


# --- rule sets -------------------------------------------------------------------------------


async def test_rule_sets_presets_and_a_custom_one_that_is_only_stricter(stack: Stack) -> None:
    presets = await stack.ok("GET", "/v1/rule-sets")
    assert [(r["id"], r["preset"]) for r in presets] == [("de", True), ("uk", True), ("us", True)]
    uk = await stack.ok("GET", "/v1/rule-sets/uk")
    assert (uk["abandon_limit"], uk["abandon_window"], uk["registers"]) == (
        0.03,
        "calendar_day",
        {"tps": 28},
    )
    assert uk["calling_hours"]["weekly"]["mon"] == ["08:00-21:00"]
    assert uk["consent"]["marketing"] == {"mobile": [], "fixed": []}
    changes = {
        "grace_s": 1.5,
        "min_ring_s": 20,
        "attempts_per_day": 2,
        "calling_hours": {"timezone": "Europe/London", "weekly": {"mon": ["09:00-17:00"]}},
    }
    house = {"name": "House rules", "base": "uk", "changes": changes}
    made = await stack.ok("PUT", "/v1/rule-sets/house", house)
    assert (made["id"], made["preset"], made["description"]) == ("house", False, "custom, from uk")
    assert (made["grace_s"], made["min_ring_s"], made["attempts_per_day"]) == (1.5, 20.0, 2)
    assert made["calling_hours"]["weekly"] == {"mon": ["09:00-17:00"]}
    assert made["lockout_after_abandon_s"] == uk["lockout_after_abandon_s"]  # kept from uk
    assert await stack.ok("GET", "/v1/rule-sets/house") == made
    assert [r.id for r in stack.outbound.load_config()[0]] == ["house"]  # stored
    for bad, (status, error_id, text) in [
        ({**house, "changes": {"grace_s": 3}}, (422, "invalid-value", "grace_s must be at most")),
        ({**house, "changes": {"calling_hours": None}}, (422, "invalid-value", "calling hours")),
        ({**house, "changes": {"speed": 1}}, (422, "invalid-request", "changes.speed")),
        ({**house, "changes": {"abandon_window": "weekly"}}, (422, "invalid-request", "window")),
        ({**house, "base": "fr"}, (422, "invalid-value", "starts from one of")),
        ({"name": "x"}, (422, "invalid-request", "base")),
    ]:
        got = await stack.error("PUT", "/v1/rule-sets/house", bad)
        assert got[:2] == (status, error_id) and text in got[2], (bad, got)
    got = await stack.error("PUT", "/v1/rule-sets/uk", house)
    assert got[:2] == (422, "invalid-value") and "preset" in got[2]
    assert (await stack.error("DELETE", "/v1/rule-sets/uk"))[:2] == (409, "conflict")
    assert (await stack.error("DELETE", "/v1/rule-sets/nope"))[:2] == (404, "not-found")
    assert (await stack.error("GET", "/v1/rule-sets/nope"))[:2] == (404, "not-found")
    await stack.ok("POST", "/v1/campaigns", {**CAMPAIGN, "rule_set_id": "house", "ring_s": 20})
    status, error_id, text = await stack.error("DELETE", "/v1/rule-sets/house")
    assert (status, error_id) == (409, "conflict") and "used by renewals" in text
    stricter = {**house, "changes": {**changes, "min_ring_s": 25}}
    status, error_id, text = await stack.error("PUT", "/v1/rule-sets/house", stricter)
    assert (status, error_id) == (422, "invalid-value") and "ring at least 25" in text
    await stack.call("DELETE", "/v1/campaigns/renewals")
    assert await stack.call("DELETE", "/v1/rule-sets/house") == (204, None)
    assert (await stack.error("GET", "/v1/rule-sets/house"))[:2] == (404, "not-found")
    assert stack.outbound.load_config() == ([], [])


# --- campaigns -------------------------------------------------------------------------------


async def test_a_campaign_round_trip_with_every_part(stack: Stack) -> None:
    english = {"id": "english", "name": "English", "extension": "300", "requires": {"en": 5}}
    await stack.ok("POST", "/v1/queues", english)
    made = await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    assert {k: made[k] for k in CAMPAIGN} == CAMPAIGN
    assert (made["state"], made["why_idle"], made["lines"], made["contacts"]) == (
        "stopped",
        "stopped",
        0,
        dict.fromkeys(("new", "scheduled", "dialing", "done", "suppressed"), 0),
    )
    assert set(made["retries"]) == {o.value for o in RETRYABLE}  # the defaults, all named
    assert [d["code"] for d in made["dispositions"]][:2] == ["sale", "not_interested"]
    assert made["amd"] == {
        "enabled": False,
        "machine_action": "hang_up",
        "machine_message": None,
        "false_positive_share": 0.03,
    }
    settings = {
        **{k: v for k, v in CAMPAIGN.items() if k != "id"},
        "name": "Renewals 2",
        "mode": "predictive",
        "caller_name": "Acme Ltd",
        "ring_s": 25.0,
        "abandon_target": 0.02,
        "amd": {
            "enabled": True,
            "machine_action": "message",
            "machine_message": "ccgw-please-call",
            "false_positive_share": 0.05,
        },
        "retries": {"busy": {"after_s": 900.0, "times": 2}},
        "dispositions": [
            {"code": "sale", "label": "Sale"},
            {"code": "later", "label": "Later", "final": False, "retry_after_s": 3600.0},
            {"code": "cb", "label": "Call back", "final": False, "callback": True},
            {"code": "dnc", "label": "Do not call", "do_not_call": True},
        ],
        "script": {
            "text": "Hello {name}",
            "questions": [
                {"id": "rating", "text": "How happy?", "kind": "scale", "minimum": 1, "maximum": 5},
                {"id": "plan", "text": "Which plan?", "kind": "choice", "options": ["a", "b"]},
            ],
        },
        "hours": {"timezone": "Europe/London", "weekly": {"tue": ["09:00-17:00"]}, "holidays": []},
        "starts_at": "2026-12-01T09:00:00+01:00",
        "ends_at": "2026-12-24T00:00:00Z",
        "max_lines": 10,
        "live_priority": 90,
        "preview_timeout_s": 30.0,
        "blend": {"inbound_queue_ids": ["english"], "min_reserve": 0, "max_reserve": 3},
    }
    changed = await stack.ok("PUT", "/v1/campaigns/renewals", settings)
    assert changed["retries"]["busy"] == {"after_s": 900.0, "times": 2}
    assert changed["retries"]["no_answer"] == made["retries"]["no_answer"]  # a default kept
    assert (changed["starts_at"], changed["ends_at"]) == (
        "2026-12-01T08:00:00Z",
        "2026-12-24T00:00:00Z",
    )
    assert changed["dispositions"][1] == {
        "code": "later",
        "label": "Later",
        "final": False,
        "retry_after_s": 3600.0,
        "do_not_call": False,
        "callback": False,
    }
    assert changed["script"]["questions"][0]["minimum"] == 1.0
    assert changed["script"]["questions"][1]["options"] == ["a", "b"]
    assert changed["blend"] == {
        "inbound_queue_ids": ["english"],
        "min_reserve": 0,
        "max_reserve": 3,
        "inbound_wait_goal_s": 20.0,
    }
    same = {"hours", "amd", "mode", "name", "caller_name", "max_lines", "live_priority"}
    assert {k: changed[k] for k in same} == {k: settings[k] for k in same}
    assert await stack.ok("GET", "/v1/campaigns/renewals") == changed
    assert [c["id"] for c in await stack.ok("GET", "/v1/campaigns")] == ["renewals"]
    [(stored, state)] = stack.outbound.load_config()[1]
    assert (stored.name, stored.amd.machine_message, state) == (
        "Renewals 2",
        "ccgw-please-call",
        CampaignState.STOPPED,
    )
    status, error_id, _ = await stack.error("POST", "/v1/campaigns", CAMPAIGN)
    assert (status, error_id) == (409, "conflict")
    assert (await stack.error("PUT", "/v1/campaigns/nope", settings))[:2] == (404, "not-found")
    assert (await stack.error("GET", "/v1/campaigns/nope"))[:2] == (404, "not-found")


BAD_CAMPAIGNS: list[tuple[dict[str, Any], int, str, str]] = [
    ({"ring_s": 10}, 422, "invalid-value", "uk: ring at least 15"),
    ({"queue_id": "nowhere"}, 422, "invalid-value", "no queue 'nowhere'"),
    ({"rule_set_id": "nope"}, 422, "invalid-value", "no rule set 'nope'"),
    ({"caller_id": "02079460999"}, 422, "invalid-value", "E.164"),
    ({"abandon_message": "x\r\nAction: Hangup"}, 422, "invalid-value", "sound"),
    ({"abandon_target": 0.05}, 422, "invalid-value", "above the law's 0.03"),
    ({"amd": {"machine_action": "message"}}, 422, "invalid-value", "machine_message"),
    ({"dispositions": [{"code": "a", "label": "A"}] * 2}, 422, "invalid-value", "distinct"),
    (
        {"dispositions": [{"code": "a", "label": "A", "callback": True}]},
        422,
        "invalid-value",
        "final",
    ),
    ({"blend": {"inbound_queue_ids": ["gone"]}}, 422, "invalid-value", "no inbound queue"),
    ({"id": "Bad Id"}, 422, "invalid-value", "campaign"),
    ({"mode": "robot"}, 422, "invalid-request", "mode"),
    ({"ring_s": "20"}, 422, "invalid-request", "ring_s"),
    (
        {"retries": {"connected": {"after_s": 60, "times": 1}}},
        422,
        "invalid-request",
        "retries",
    ),
    ({"starts_at": "2026-12-01T09:00:00"}, 422, "invalid-request", "timezone"),
    ({"speed": 11}, 422, "invalid-request", "speed"),
]


async def test_a_bad_campaign_is_refused_with_the_reason(stack: Stack) -> None:
    for change, status, error_id, text in BAD_CAMPAIGNS:
        got = await stack.error("POST", "/v1/campaigns", {**CAMPAIGN, **change})
        assert got[:2] == (status, error_id) and text in got[2], (change, got)
    assert await stack.ok("GET", "/v1/campaigns") == []


async def test_a_campaign_is_started_paused_stopped_and_deleted(stack: Stack) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    status, error_id, text = await stack.error("POST", "/v1/campaigns/renewals/pause")
    assert (status, error_id) == (409, "invalid-transition") and "stopped" in text
    running = await stack.ok("POST", "/v1/campaigns/renewals/start")
    assert running["state"] == "running"
    assert running["why_idle"] == "PBX asterisk is not connected"  # no PBX picture yet
    assert stack.outbound.load_config()[1][0][1] is CampaignState.RUNNING  # a restart resumes
    status, error_id, text = await stack.error("DELETE", "/v1/campaigns/renewals")
    assert (status, error_id) == (409, "conflict") and "stop it first" in text
    assert (await stack.ok("POST", "/v1/campaigns/renewals/pause"))["state"] == "paused"
    assert (await stack.ok("POST", "/v1/campaigns/renewals/stop"))["state"] == "stopped"
    assert await stack.call("DELETE", "/v1/campaigns/renewals") == (204, None)
    assert (await stack.error("GET", "/v1/campaigns/renewals"))[:2] == (404, "not-found")
    assert (await stack.error("POST", "/v1/campaigns/renewals/start"))[:2] == (404, "not-found")
    assert (await stack.error("DELETE", "/v1/campaigns/renewals"))[:2] == (404, "not-found")
    assert stack.outbound.load_config() == ([], [])


# --- lists and contacts --------------------------------------------------------------------


async def test_a_list_is_imported_with_its_bad_rows_reported(stack: Stack) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    data = csv_of(
        f"{number(1)},Ann,5,A-1",
        "+447700900000,Bob,,B-2",  # a fictional mobile: not a valid number
        f"{number(3)},Cy,high,C-3",
        "",
        f"{number(1)},Ann again,,A-9",
        "020 7946 0004,Di,,D-4",  # national, for the region GB
        header="number,name,priority,account",
    )
    path = "/v1/campaigns/renewals/lists?list_id=l1&name=November&source=nov.csv"
    status, report = await send(stack, "POST", path, data)
    assert status == 201, report
    assert (report["rows"], report["imported"], report["rejected_count"]) == (5, 2, 3)
    assert report["contact_list"] == {
        "id": "l1",
        "campaign_id": "renewals",
        "name": "November",
        "created_at": "2023-11-14T22:13:20Z",
        "contacts": 2,
        "rejected": 3,
        "source": "nov.csv",
    }
    rejected = {r["line"]: r for r in report["rejected"]}
    assert sorted(rejected) == [3, 4, 6]
    assert "not a valid number" in rejected[3]["reasons"][0] and rejected[3]["number"]
    assert "priority 'high'" in rejected[4]["reasons"][0]
    assert rejected[6]["reasons"] == ["number already on line 2"]
    assert [c["contacts"] for c in await stack.ok("GET", "/v1/campaigns/renewals/lists")] == [2]
    contacts = await stack.ok("GET", "/v1/campaigns/renewals/contacts")
    assert [(c["id"], c["number"]) for c in contacts] == [("l1-2", number(1)), ("l1-7", number(4))]
    ann = await stack.ok("GET", "/v1/campaigns/renewals/contacts/l1-2")
    assert (ann["name"], ann["priority"], ann["fields"], ann["line_type"]) == (
        "Ann",
        5,
        {"account": "A-1"},
        "fixed",
    )
    assert (ann["time_zones"], ann["region"], ann["consents"]) == (["Europe/London"], "GB", {})
    assert ann["progress"] == {
        "contact_id": "l1-2",
        "campaign_id": "renewals",
        "state": "new",
        "attempts": 0,
        "next_at": None,
        "last_outcome": "",
        "outcomes": {},
        "callback_at": None,
        "callback_agent_id": None,
        "dial_id": None,
        "updated_at": "1970-01-01T00:00:00Z",
    }
    assert (await stack.ok("GET", "/v1/campaigns/renewals"))["contacts"]["new"] == 2
    assert await stack.ok("GET", "/v1/campaigns/renewals/contacts?state=done") == []
    page = await stack.ok("GET", "/v1/campaigns/renewals/contacts?limit=1&offset=1")
    assert [c["id"] for c in page] == ["l1-7"]
    for path, (status, error_id) in [
        ("/v1/campaigns/renewals/contacts?state=gone", (422, "invalid-request")),
        ("/v1/campaigns/renewals/contacts?limit=0", (422, "invalid-request")),
        ("/v1/campaigns/renewals/contacts/nobody", (404, "not-found")),
        ("/v1/campaigns/nope/contacts", (404, "not-found")),
        ("/v1/campaigns/nope/lists", (404, "not-found")),
    ]:
        assert (await stack.error("GET", path))[:2] == (status, error_id), path


async def test_an_import_is_all_or_nothing(stack: Stack) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    await import_list(stack, "renewals", "l1", csv_of(f"{number(1)},Ann", f"{number(2)},Bo"))
    # Good rows, but one contact id is taken in the campaign: nothing of l2 is stored.
    clash = csv_of(f"x1,{number(5)},Eve", f"l1-2,{number(6)},Fay", header="id,number,name")
    status, body = await send(
        stack, "POST", "/v1/campaigns/renewals/lists?list_id=l2&name=L2", clash
    )
    assert (status, body["error_id"]) == (409, "conflict"), body
    assert [c["id"] for c in await stack.ok("GET", "/v1/campaigns/renewals/lists")] == ["l1"]
    assert len(await stack.ok("GET", "/v1/campaigns/renewals/contacts")) == 2
    status, body = await send(
        stack, "POST", "/v1/campaigns/renewals/lists?list_id=l1&name=Again", csv_of(number(7))
    )
    assert (status, body["error_id"]) == (409, "conflict")  # the list id is taken
    assert len(await stack.ok("GET", "/v1/campaigns/renewals/contacts")) == 2


BAD_FILES: list[tuple[str, bytes, str, int, str, str]] = [
    (
        "list_id=l1&name=L",
        csv_of("+447700900000", "junk"),
        "text/csv",
        422,
        "invalid-value",
        "no row of the file could be imported (2 rejected)",
    ),
    ("list_id=l1&name=L", b"name\r\nAnn\r\n", "text/csv", 422, "invalid-value", "no number"),
    ("list_id=l1&name=L", b"", "text/csv", 422, "invalid-value", "empty"),
    (
        "list_id=l1&name=L",
        b"number\r\n\xff\xfe\r\n",
        "text/csv",
        422,
        "invalid-value",
        "not UTF-8",
    ),
    (
        "list_id=l1&name=L",
        b'{"number": 1}',
        "application/json",
        415,
        "unsupported-media-type",
        "Content-Type text/csv",
    ),
    ("list_id=L 1&name=L", csv_of(number(1)), "text/csv", 422, "invalid-value", "list id"),
    (
        "list_id=l1&name=L&region=XX",
        csv_of(number(1)),
        "text/csv",
        422,
        "invalid-value",
        "region",
    ),
    ("name=L", csv_of(number(1)), "text/csv", 422, "invalid-request", "list_id"),
]


async def test_a_bad_file_is_refused_with_the_reason(stack: Stack) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    for query, content, content_type, status, error_id, text in BAD_FILES:
        path = f"/v1/campaigns/renewals/lists?{query}"
        got, body = await send(stack, "POST", path, content, content_type)
        assert (got, body["error_id"]) == (status, error_id), (query, content, body)
        assert text in body["message"], (query, content, body)
    assert await stack.ok("GET", "/v1/campaigns/renewals/lists") == []


async def test_a_file_over_the_limit_is_413_and_an_unknown_campaign_404(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    monkeypatch.setattr(contact_lists, "MAX_CSV_BYTES", 100)
    big = csv_of(*(number(n) for n in range(10)))
    status, body = await send(stack, "POST", "/v1/campaigns/renewals/lists?list_id=l&name=L", big)
    assert status == 413 and "limit" in body["message"], body
    status, body = await send(stack, "POST", "/v1/campaigns/nope/lists?list_id=l&name=L", b"x")
    assert (status, body["error_id"]) == (404, "not-found")


async def test_a_contact_is_scheduled_for_a_callback(stack: Stack) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    await import_list(stack, "renewals", "l1", csv_of(f"{number(1)},Ann"))
    path = "/v1/campaigns/renewals/contacts/l1-2/callback"
    moved = await stack.ok("POST", path, {"at": "2023-11-15T10:00:00+01:00", "agent_id": "a1"})
    assert (moved["state"], moved["callback_at"], moved["next_at"]) == (
        "scheduled",
        "2023-11-15T09:00:00Z",
        "2023-11-15T09:00:00Z",
    )
    assert (moved["callback_agent_id"], moved["last_outcome"]) == ("a1", "callback scheduled")
    stored = await stack.ok("GET", "/v1/campaigns/renewals/contacts/l1-2")
    assert stored["progress"] == moved
    for body, (status, error_id, text) in [
        ({"at": "2023-11-14T10:00:00Z"}, (422, "invalid-value", "within the next 90 days")),
        ({"at": "2024-06-01T10:00:00Z"}, (422, "invalid-value", "within the next 90 days")),
        ({"at": "2023-11-15T10:00:00"}, (422, "invalid-request", "timezone")),
        ({"at": "tomorrow"}, (422, "invalid-request", "at")),
        ({"at": "2023-11-15T10:00:00Z", "agent_id": "nobody"}, (404, "not-found", "nobody")),
        ({}, (422, "invalid-request", "at")),
    ]:
        got = await stack.error("POST", path, body)
        assert got[:2] == (status, error_id) and text in got[2], (body, got)
    at = {"at": "2023-11-15T10:00:00Z"}
    got = await stack.error("POST", "/v1/campaigns/renewals/contacts/nobody/callback", at)
    assert got[:2] == (404, "not-found")


# --- do-not-call ---------------------------------------------------------------------------


async def test_do_not_call_lists_internal_and_registers(stack: Stack) -> None:
    body = {"numbers": [number(1), number(1), number(2)], "reason": "asked on the phone"}
    assert await stack.ok("POST", "/v1/dnc", body) == {"added": 2}
    assert await stack.ok("POST", "/v1/dnc", body) == {"added": 0}  # already listed
    assert stack.outbound.suppressed([number(1)]) == {number(1): "internal"}
    for bad, (status, error_id, text) in [
        ({**body, "numbers": ["0207946"]}, (422, "invalid-value", "E.164")),
        ({**body, "numbers": []}, (422, "invalid-request", "numbers")),
        ({**body, "reason": ""}, (422, "invalid-request", "reason")),
        ({"numbers": [number(1)]}, (422, "invalid-request", "reason")),
    ]:
        got = await stack.error("POST", "/v1/dnc", bad)
        assert got[:2] == (status, error_id) and text in got[2], (bad, got)
    assert await stack.ok("GET", "/v1/dnc/registers") == []
    tps = f"{number(3)}\n\n  {number(4)}\r\n{number(3)}\n".encode()
    status, replaced = await send(stack, "PUT", "/v1/dnc/registers/tps", tps, "text/plain")
    assert (status, replaced) == (200, {"name": "tps", "numbers": 2})
    assert await stack.ok("GET", "/v1/dnc/registers") == [
        {"name": "tps", "screened_at": "2023-11-14T22:13:20Z"}
    ]
    status, replaced = await send(stack, "PUT", "/v1/dnc/registers/tps", number(5).encode(), None)
    assert (status, replaced["numbers"]) == (200, 1)  # replaced whole
    assert stack.outbound.suppressed([number(3), number(5)]) == {number(5): "tps"}
    for register, content, content_type, (status, error_id, text) in [
        ("internal", number(1).encode(), "text/plain", (422, "invalid-value", "added to")),
        ("tps", b"+4420 7946 0001\n", "text/plain", (422, "invalid-value", "E.164")),
        ("tps", b"\n\n", "text/plain", (422, "invalid-value", "at least one number")),
        ("TPS list", number(1).encode(), "text/plain", (422, "invalid-value", "register")),
        ("tps", b"[]", "application/json", (415, "unsupported-media-type", "text/plain")),
    ]:
        code, answer = await send(
            stack, "PUT", f"/v1/dnc/registers/{register}", content, content_type
        )
        assert (code, answer["error_id"]) == (status, error_id), answer
        assert text in answer["message"], answer
    assert stack.outbound.suppressed([number(5)]) == {number(5): "tps"}  # nothing changed


# --- a campaign at work ----------------------------------------------------------------------


async def test_a_started_campaign_dials_and_the_agent_disposes_of_the_call(day: Stack) -> None:
    stack = day
    await stack.emit(PbxResynced())  # the PBX's picture: the dialer may dial
    await stack.ok("POST", "/v1/agents/a2/state", {"state": "paused", "reason": "x"})
    screened = await send(stack, "PUT", "/v1/dnc/registers/tps", number(90).encode(), None)
    assert screened[0] == 200  # the UK rule set needs a TPS screening within 28 days
    script = {
        "questions": [
            {
                "id": "rating",
                "text": "How happy?",
                "kind": "scale",
                "minimum": 1,
                "maximum": 5,
                "required": True,
            },
            {"id": "plan", "text": "Which plan?", "kind": "choice", "options": ["a", "b"]},
        ]
    }
    await stack.ok("POST", "/v1/campaigns", {**CAMPAIGN, "script": script})
    await import_list(stack, "renewals", "l1", csv_of(f"{number(1)},Ann", f"{number(2)},Bo"))
    assert await stack.ok("POST", "/v1/dnc", {"numbers": [number(1)], "reason": "objected"})
    started = await stack.ok("POST", "/v1/campaigns/renewals/start")
    assert started["state"] == "running"
    [dial] = await stack.until(lambda: stack.pbx.sent(DialCustomer))
    assert (dial.number, dial.caller_id, dial.campaign_id) == (
        number(2),
        "+442079460999",
        "renewals",
    )
    await stack.settle()
    figures = await stack.ok("GET", "/v1/campaigns/renewals/figures")
    assert (figures["dials"], figures["lines_now"], figures["refusals"]) == (
        1,
        1,
        {"suppressed": 1},
    )
    assert figures["ledger"]["window"] == "calendar_day" and figures["ledger"]["limit"] == 0.03
    campaign = await stack.ok("GET", "/v1/campaigns/renewals")
    assert (campaign["lines"], campaign["why_idle"]) == (1, "")
    assert {k: n for k, n in campaign["contacts"].items() if n} == {"dialing": 1, "suppressed": 1}
    [refusal] = await stack.ok("GET", "/v1/campaigns/renewals/refusals")
    assert (refusal["contact_id"], refusal["rule"], refusal["number"]) == (
        "l1-2",
        "suppressed",
        number(1),
    )
    # The customer answers, a1 takes the call, they talk a minute.
    await stack.emit(OutboundAnswered(dial.dial_id), OutboundLive(dial.dial_id, "human"))
    [ring] = [r for r in stack.pbx.sent(RingAgent) if r.call_id == dial.dial_id]
    await stack.emit(AgentLegAnswered(ring.leg_id))
    await stack.advance(60)
    await stack.emit(ChannelHungUp(dial.dial_id))
    [record] = await stack.ok("GET", "/v1/campaigns/renewals/dials")
    assert (record["id"], record["outcome"], record["agent_id"], record["talk_s"]) == (
        dial.dial_id,
        "connected",
        "a1",
        60.0,
    )
    assert record["dialled_at"] == "2026-12-01T12:00:00Z" and record["mode"] == "progressive"
    assert await stack.ok("GET", "/v1/campaigns/renewals/dials?since=2026-12-01T13:00:00Z") == []
    assert await stack.ok("GET", "/v1/campaigns/renewals/dials?offset=1") == []
    # The disposition: only the agent who took the call, with answers the script accepts.
    a1, a2 = await agent_key(stack, "a1"), await agent_key(stack, "a2")
    path = f"/v1/dials/{dial.dial_id}/disposition"
    good = {"code": "sale", "answers": {"rating": 4, "plan": "b"}, "note": "happy"}
    for body, key, (status, error_id, text) in [
        (good, a2, (409, "conflict", "taken by a1, not a2")),
        ({**good, "agent_id": "a1"}, a2, (403, "forbidden", "a2")),
        (good, ADMIN, (403, "forbidden", "give agent_id")),
        ({**good, "answers": {"rating": 9}}, a1, (422, "invalid-value", "between 1 and 5")),
        ({**good, "answers": {"plan": "a"}}, a1, (422, "invalid-value", "rating")),
        ({**good, "answers": {"rating": 4, "age": 3}}, a1, (422, "invalid-value", "age")),
        ({**good, "answers": {"rating": [4]}}, a1, (422, "invalid-request", "answers.rating")),
        ({**good, "code": "won"}, a1, (422, "invalid-value", "no disposition 'won'")),
        ({**good, "callback_at": "2026-12-02T10:00:00Z"}, a1, (422, "invalid-value", "callback")),
    ]:
        got = await stack.error("POST", path, body, key)
        assert got[:2] == (status, error_id) and text in got[2], (body, got)
    assert (await stack.error("POST", "/v1/dials/ob-nope/disposition", good, a1))[:2] == (
        404,
        "not-found",
    )
    done = await stack.ok("POST", path, good, a1)
    assert (done["agent_id"], done["code"], done["answers"], done["note"]) == (
        "a1",
        "sale",
        {"rating": 4.0, "plan": "b"},
        "happy",
    )
    assert (await stack.error("POST", path, good, a1))[:2] == (409, "conflict")  # once
    assert await stack.ok("GET", "/v1/campaigns/renewals/dispositions") == [done]
    answers = await stack.ok("GET", "/v1/campaigns/renewals/answers")
    rating, plan = answers["questions"]
    assert (rating["question_id"], rating["answered"], rating["mean"]) == ("rating", 1, 4.0)
    assert rating["counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert (plan["counts"], plan["shares"]) == ({"a": 0, "b": 1}, {"a": 0.0, "b": 1.0})
    later = await stack.ok("GET", "/v1/campaigns/renewals/answers?since=2026-12-02T00:00:00Z")
    assert later["since"] == "2026-12-02T00:00:00Z" and later["questions"][0]["answered"] == 0
    bo = await stack.ok("GET", "/v1/campaigns/renewals/contacts/l1-3")
    assert (bo["progress"]["state"], bo["progress"]["last_outcome"]) == (
        "done",
        "disposition: sale",
    )
    for path in ("figures", "refusals", "dispositions", "answers"):
        got = await stack.error("GET", f"/v1/campaigns/nope/{path}")
        assert got[:2] == (404, "not-found"), path


async def test_a_preview_is_skipped_or_dialled_by_its_agent(day: Stack) -> None:
    stack = day
    await stack.emit(PbxResynced())
    await stack.ok("POST", "/v1/agents/a2/state", {"state": "paused", "reason": "x"})
    await send(stack, "PUT", "/v1/dnc/registers/tps", number(90).encode(), None)
    await stack.ok("POST", "/v1/campaigns", {**CAMPAIGN, "mode": "preview"})
    await import_list(stack, "renewals", "l1", csv_of(f"{number(1)},Ann", f"{number(2)},Bo"))
    await stack.ok("POST", "/v1/campaigns/renewals/start")

    def preview() -> str | None:
        offered = [d for d in stack.center.outbound.dials.values() if d.stage is Stage.PREVIEW]
        return offered[0].id if offered else None

    first = await stack.until(preview)
    a1, a2 = await agent_key(stack, "a1"), await agent_key(stack, "a2")
    for path, body, key, (status, error_id) in [
        ("/v1/agents/a1/preview", {"dial_id": first, "action": "dial"}, a2, (403, "forbidden")),
        ("/v1/agents/a2/preview", {"dial_id": first, "action": "dial"}, a2, (409, "conflict")),
        ("/v1/agents/a1/preview", {"dial_id": "ob-nope", "action": "dial"}, a1, (404, "not-found")),
        (
            "/v1/agents/a1/preview",
            {"dial_id": first, "action": "maybe"},
            a1,
            (422, "invalid-request"),
        ),
        (
            "/v1/agents/nobody/preview",
            {"dial_id": first, "action": "dial"},
            ADMIN,
            (404, "not-found"),
        ),
    ]:
        assert (await stack.error("POST", path, body, key))[:2] == (status, error_id), (path, body)
    skip = {"dial_id": first, "action": "skip"}
    assert await stack.call("POST", "/v1/agents/a1/preview", skip, a1) == (204, None)
    second = await stack.until(lambda: (p := preview()) != first and p)
    dial = {"dial_id": second, "action": "dial"}
    assert await stack.call("POST", "/v1/agents/a1/preview", dial, a1) == (204, None)
    [ring] = await stack.until(lambda: stack.pbx.sent(DialCallback))
    assert (ring.agent_id, ring.callback_id) == ("a1", second)  # the agent's phone first
    await stack.emit(AgentLegAnswered(ring.leg_id), CallbackAnswered(ring.leg_id))
    await stack.advance(30)
    await stack.emit(ChannelHungUp(ring.leg_id))
    skipped = [c for c in await stack.ok("GET", "/v1/campaigns/renewals/contacts?state=scheduled")]
    assert [c["progress"]["last_outcome"] for c in skipped] == ["skipped"]
    [record] = await stack.ok("GET", "/v1/campaigns/renewals/dials")
    assert (record["id"], record["mode"], record["outcome"]) == (second, "preview", "connected")
    figures = await stack.ok("GET", "/v1/campaigns/renewals/figures")
    assert figures["outcomes"] == {"skipped": 1, "connected": 1}


# --- the composition root ----------------------------------------------------------------------


async def test_the_controller_serves_the_dialer_and_a_restart_resumes_its_campaigns(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite", admin_key=ADMIN)
    auth = {"Authorization": f"Bearer {ADMIN}"}
    for life in ("first", "second"):
        pbx = FakePbx()
        controller = build_controller(settings, [pbx])
        task = asyncio.create_task(controller.dispatcher.run())
        await pbx.running.wait()
        transport = httpx.ASGITransport(app=controller.api)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            if life == "first":
                await client.post("/v1/skills", json={"id": "de", "name": "German"}, headers=auth)
                queue = {"id": "german", "name": "German", "extension": "200"}
                assert (await client.post("/v1/queues", json=queue, headers=auth)).is_success
                made = await client.post("/v1/campaigns", json=CAMPAIGN, headers=auth)
                assert made.status_code == 201, made.json()
                started = await client.post("/v1/campaigns/renewals/start", headers=auth)
                assert started.json()["state"] == "running"
            else:
                found = await client.get("/v1/campaigns/renewals", headers=auth)
                assert found.json()["state"] == "running"  # loaded at start, as it was left
        await controller.dispatcher.drain_writes()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        controller.engine.dispose()
