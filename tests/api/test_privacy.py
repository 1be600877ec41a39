"""A person's rights through the API, on the real controller (the composition root) with the
fake PBX: erasure while the person is on a live call, with a queued callback and a task,
the export (JSON and CSV), erasure and export by the e-mail address or external id of
contacts imported from CSV, objections, the audit log, who may ask, and the privacy key's
home."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import String, Text, func, select

from ccgateway.app import privacy_key
from ccgateway.domain.events import AgentLegAnswered, CallWaiting, ChannelHungUp, PbxResynced
from ccgateway.persistence.tables import Base
from ccgateway.settings import PrivacySettings, Settings
from ccgateway.testing import build_harness
from ccgateway.testing.harness import Harness
from tests.api.dialer_helpers import CAMPAIGN, csv_of, number
from tests.api.test_history import published
from tests.harness_api import ADMIN_KEY, request

ANN = "+4930111222"
BOB = "+4930333444"


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    built = build_harness()
    async with built.running():
        await built.emit(PbxResynced())
        for method, path, body in [
            ("POST", "/v1/skills", {"id": "de", "name": "German"}),
            ("POST", "/v1/queues", {"id": "german", "name": "German", "extension": "200",
                                    "requires": {"de": 5}, "ring_timeout_s": 10, "wrapup_s": 5}),
            ("POST", "/v1/agents", {"id": "a1", "name": "A1", "device": "PJSIP/agent1",
                                    "skills": {"de": 8}}),
            ("POST", "/v1/agents/a1/state", {"state": "available"}),
        ]:  # fmt: skip
            response = await call(built, method, path, body)
            assert response.status_code < 300, response.text
        yield built


call = request  # (harness, method, path, body=None, key=admin)


async def ok(harness: Harness, method: str, path: str, body: Any = None) -> Any:
    response = await call(harness, method, path, body)
    assert response.status_code < 300, response.text
    return response.json()


def stored_anywhere(harness: Harness, needle: str) -> list[str]:
    found = []
    with harness.controller.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String | Text):
                    where = column.contains(needle, autoescape=True)
                    if connection.scalar(select(func.count()).select_from(table).where(where)):
                        found.append(f"{table.name}.{column.name}")
    return found


async def in_event_history(harness: Harness, needle: str) -> bool:
    """Whether an event a client could still resume from carries `needle`."""
    return needle in json.dumps(
        [p.data for p in await published(harness.controller.dispatcher.hub)]
    )


async def test_a_person_erased_on_a_live_call_leaves_nothing_when_it_ends(
    harness: Harness,
) -> None:
    await harness.emit(CallWaiting("c1", "200", ANN, "Ann <b>O'Brien</b>"))
    [ring] = harness.pbx.rings()
    await harness.emit(AgentLegAnswered(ring.leg_id))
    later = harness.clock.now() + 86400
    callback = {"queue_id": "german", "number": ANN, "name": "Ann", "not_before": later}
    await ok(harness, "POST", "/v1/callbacks", callback)
    task = {"queue_id": "german", "channel": "email", "title": f"mail from {ANN}", "data": {}}
    await ok(harness, "POST", "/v1/tasks", task)
    await ok(harness, "POST", "/v1/notes", {"number": ANN, "text": "prefers mornings"})
    assert await in_event_history(harness, ANN)

    receipt = await ok(harness, "POST", "/v1/privacy/erasures", {"number": ANN})
    assert receipt["live"] == {
        "contacts": 0,
        "callbacks": 1,
        "calls": 1,
        "dials": 0,
        "tasks": 1,
        "events": receipt["live"]["events"],
    }
    assert receipt["live"]["events"] >= 2  # the call's notices, at least
    assert receipt["erased"]["callbacks"] == 1 and receipt["erased"]["notes"] == 1
    assert await ok(harness, "GET", "/v1/callbacks") == []  # withdrawn
    assert not await in_event_history(harness, ANN)
    assert (await ok(harness, "GET", "/v1/calls/c1"))["state"] == "connected"  # not cut off

    # The call ends after the erasure: its record and notices are without Ann.
    await harness.advance(30)
    await harness.emit(ChannelHungUp("c1", 16))
    [record] = await ok(harness, "GET", "/v1/interactions")
    assert (record["call_id"], record["caller_number"], record["talk_s"]) == ("c1", "erased", 30)
    assert not await in_event_history(harness, ANN)
    assert not await in_event_history(harness, "O'Brien")
    assert stored_anywhere(harness, ANN) == []
    assert stored_anywhere(harness, "mornings") == []

    # Ann calls again: a new call is new data, kept as any other.
    await harness.emit(CallWaiting("c2", "200", ANN, "Ann"))
    await harness.advance(5)
    await harness.emit(ChannelHungUp("c2", 16))
    records = await ok(harness, "GET", "/v1/interactions")
    assert [(r["call_id"], r["caller_number"]) for r in records] == [
        ("c1", "erased"),
        ("c2", ANN),
    ]


async def test_an_export_holds_everything_about_the_person_and_is_audited(
    harness: Harness,
) -> None:
    await harness.emit(CallWaiting("c1", "200", BOB, "Bob"))
    await harness.advance(4)
    await harness.emit(ChannelHungUp("c1", 16))  # abandoned while ringing
    await ok(harness, "POST", "/v1/notes", {"number": BOB, "text": "=cmd|' /C calc'!A0"})
    await ok(harness, "POST", "/v1/dnc", {"numbers": [BOB], "reason": "asked on the phone"})

    found = await ok(harness, "GET", f"/v1/privacy/export?number={BOB.replace('+', '%2B')}")
    assert found["number"] == BOB
    data = found["data"]
    assert [i["call_id"] for i in data["interactions"]] == ["c1"]
    assert [n["text"] for n in data["notes"]] == ["=cmd|' /C calc'!A0"]
    assert [(s["register"], s["reason"]) for s in data["suppressions"]] == [
        ("internal", "asked on the phone")
    ]  # the objection, where the person sees it
    assert data["contacts"] == data["dial_records"] == data["tasks"] == []

    response = await call(harness, "GET", "/v1/privacy/export?format=csv&number=%2B4930333444")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["kind", "row", "column", "value"]
    assert ["interactions", "1", "caller_number", BOB] in rows  # a number stays a number
    assert ["notes", "1", "text", "'=cmd|' /C calc'!A0"] in rows  # a formula is defused

    audit = await ok(harness, "GET", "/v1/privacy/audit")
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("export", "key:config"),
        ("export", "key:config"),
    ]
    assert all(BOB not in json.dumps(e) for e in audit)  # a pseudonym, never the number


async def test_only_admins_may_and_bad_subjects_are_refused(harness: Harness) -> None:
    keys = {}
    for role in ("supervisor", "wallboard"):
        keys[role] = (await ok(harness, "POST", "/v1/keys", {"name": role, "role": role}))["key"]
    agent = {"name": "desk", "role": "agent", "agent_id": "a1"}
    keys["agent"] = (await ok(harness, "POST", "/v1/keys", agent))["key"]
    for role, key in keys.items():
        for method, path, body in [
            ("POST", "/v1/privacy/erasures", {"number": ANN}),
            ("GET", "/v1/privacy/export?number=123", None),
            ("GET", "/v1/privacy/audit", None),
            ("POST", "/v1/privacy/erasures", {"email": "ann@example.org"}),
            ("GET", "/v1/privacy/export?external_id=CRM-1", None),
            ("POST", "/v1/privacy/objections", {"number": ANN}),
            ("GET", "/v1/privacy/objections", None),
        ]:
            response = await call(harness, method, path, body, key)
            assert (response.status_code, response.json()["error_id"]) == (403, "forbidden"), role
    for body, (status, error_id) in [
        ({}, (422, "invalid-value")),
        ({"number": "030 111"}, (422, "invalid-value")),
        ({"number": ANN, "campaign_id": "c", "contact_id": "x"}, (422, "invalid-value")),
        ({"campaign_id": "c"}, (422, "invalid-value")),
        ({"campaign_id": "nope", "contact_id": "x"}, (404, "not-found")),
        ({"number": ANN, "extra": 1}, (422, "invalid-request")),
        ({"number": "1" * 65}, (422, "invalid-request")),
    ]:
        response = await call(harness, "POST", "/v1/privacy/erasures", body)
        assert (response.status_code, response.json()["error_id"]) == (status, error_id), body
    for body, message in [
        ({}, "give whom it is about"),
        ({"number": ANN, "email": "ann@example.org"}, "not number and email"),
        ({"email": "a@example.org", "external_id": "X"}, "not email and external_id"),
        ({"campaign_id": "c", "contact_id": "x", "field": "f"}, "campaign_id/contact_id and"),
        ({"external_id": "X", "value": "y"}, "not external_id and field"),
        ({"email": "ann"}, "must be an e-mail address"),
        ({"email": "ann@example.org "}, None),  # spaces around an address are no error
        ({"external_id": "   "}, "not only spaces"),
        ({"external_id": "a\tb"}, "no control characters"),
        ({"field": "email"}, "give a field (a contact list's custom column) with its value"),
        ({"value": "ann@example.org"}, "with its value"),
        ({"field": "E-Mail", "value": "x"}, "custom column"),
    ]:
        response = await call(harness, "POST", "/v1/privacy/erasures", body)
        if message is None:
            assert response.status_code == 200, response.text
            continue
        assert (response.status_code, response.json()["error_id"]) == (422, "invalid-value")
        assert message in response.json()["message"], (body, response.json())
        query = "&".join(f"{k}={v}" for k, v in body.items()).replace("\t", "%09")
        response = await call(harness, "GET", f"/v1/privacy/export?{query}")
        assert (response.status_code, response.json()["error_id"]) == (422, "invalid-value")
    for body in ({"email": ""}, {"field": "x" * 41, "value": "y"}, {"external_id": "x" * 501}):
        response = await call(harness, "POST", "/v1/privacy/erasures", body)
        assert (response.status_code, response.json()["error_id"]) == (422, "invalid-request")
    actions = [e["action"] for e in await ok(harness, "GET", "/v1/privacy/audit")]
    assert actions == ["erase"]  # only the one that was asked right (and found nobody)


def test_the_privacy_key_is_given_kept_beside_sqlite_or_missing(tmp_path: Path) -> None:
    def settings(url: str, **privacy: Any) -> Settings:
        return Settings.model_construct(database_url=url, privacy=PrivacySettings(**privacy))

    assert privacy_key(settings("sqlite://", key=SecretStr("given"))) == b"given"
    memory = privacy_key(settings("sqlite://"))
    assert memory is not None and memory != privacy_key(settings("sqlite://"))
    beside = privacy_key(settings(f"sqlite:///{tmp_path}/db/ccgateway.db"))
    path = tmp_path / "db" / "privacy-key"
    assert beside == path.read_text().strip().encode() and len(beside) == 64
    assert path.stat().st_mode & 0o777 == 0o600
    assert privacy_key(settings(f"sqlite:///{tmp_path}/db/ccgateway.db")) == beside  # kept
    named = tmp_path / "keys" / "privacy"
    assert privacy_key(settings("postgresql://db/x", key_file=named)) == named.read_bytes().strip()
    assert os.stat(named.parent).st_mode & 0o777 == 0o700
    assert privacy_key(settings("postgresql://db/x")) is None  # erasure answers 503


async def test_the_retention_policy_and_legal_holds(harness: Harness) -> None:
    policy = await ok(harness, "GET", "/v1/retention")
    assert (policy["default"], policy["queues"]) == ({}, {})  # kept for ever
    floors = {(f["rule_set"], f["kind"]): f["days"] for f in policy["floors"]}
    assert floors[("us", "dial_records")] == 31 and floors[("de", "contacts")] == 1827
    for body, (status, error_id) in [
        ({"queues": {"german": {"dial_records": 5}}}, (422, "invalid-value")),
        ({"default": {"interactions": 0}}, (422, "invalid-value")),
        ({"default": {"interactions": 36501}}, (422, "invalid-value")),
        ({"default": {"recordings_of_mars": 5}}, (422, "invalid-request")),
        ({"default": {"interactions": 5.5}}, (422, "invalid-request")),
    ]:
        response = await call(harness, "PUT", "/v1/retention", body)
        assert (response.status_code, response.json()["error_id"]) == (status, error_id), body
    wanted = {"default": {"interactions": 90, "audit": None}, "queues": {"german": {"tasks": 7}}}
    changed = await ok(harness, "PUT", "/v1/retention", wanted)
    assert (changed["default"], changed["queues"]) == (wanted["default"], wanted["queues"])
    assert (await ok(harness, "GET", "/v1/retention"))["default"] == wanted["default"]

    # A person under a legal hold cannot be erased until the hold is released.
    hold = {"kind": "number", "value": ANN, "reason": "complaint 42"}
    placed = await ok(harness, "POST", "/v1/retention/holds", hold)
    assert (placed["kind"], placed["value"], placed["reason"]) == ("number", ANN, "complaint 42")
    assert await ok(harness, "POST", "/v1/retention/holds", {**hold, "reason": "again"}) == placed
    refused = await call(harness, "POST", "/v1/privacy/erasures", {"number": ANN})
    assert (refused.status_code, refused.json()["error_id"]) == (409, "conflict")
    path = f"/v1/retention/holds/number/{ANN.replace('+', '%2B')}"
    assert (await call(harness, "DELETE", path)).status_code == 204
    assert (await call(harness, "DELETE", path)).status_code == 404
    assert (await call(harness, "POST", "/v1/privacy/erasures", {"number": ANN})).is_success
    bad = {"kind": "contact", "value": "no-colon", "reason": "x"}
    assert (await call(harness, "POST", "/v1/retention/holds", bad)).status_code == 422
    actions = [e["action"] for e in await ok(harness, "GET", "/v1/privacy/audit")]
    assert actions == ["erase", "release", "hold", "retention policy"]

    supervisor = await ok(harness, "POST", "/v1/keys", {"name": "s", "role": "supervisor"})
    for method, path, body in [
        ("GET", "/v1/retention", None),
        ("PUT", "/v1/retention", {}),
        ("POST", "/v1/retention/holds", hold),
        ("GET", "/v1/retention/holds", None),
        ("POST", "/v1/retention/purge", None),
    ]:
        response = await call(harness, method, path, body, supervisor["key"])
        assert response.status_code == 403, path


async def send_csv(harness: Harness, path: str, content: bytes) -> Any:
    transport = httpx.ASGITransport(app=harness.controller.api)
    async with httpx.AsyncClient(transport=transport, base_url="http://ccgw") as client:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "text/csv"}
        response = await client.post(path, content=content, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_contacts_imported_with_email_and_external_id_are_found_by_either(
    harness: Harness,
) -> None:
    await ok(harness, "POST", "/v1/campaigns", CAMPAIGN)
    header = "number,name,email,external_id"
    lists = {
        "spring": csv_of(
            f"{number(1)},Ann,Ann@Example.org,CRM-1", f"{number(2)},Bob,bob@example.org,CRM-2",
            header=header,
        ),
        "autumn": csv_of(f"{number(3)},Ann,ann@example.org,CRM-9", header=header),
    }  # fmt: skip
    for list_id, content in lists.items():
        path = f"/v1/campaigns/renewals/lists?list_id={list_id}&name={list_id}"
        await send_csv(harness, path, content)

    found = await ok(harness, "GET", "/v1/privacy/export?email=ANN%40example.org&format=json")
    # In the contacts' order (campaign, id: "<list>-<line>" by default).
    assert (found["numbers"], found["found_by"]) == ([number(3), number(1)], "field:email")
    assert [c["id"] for c in found["data"]["contacts"]] == ["autumn-2", "spring-2"]
    assert json.loads(found["data"]["contacts"][1]["fields"]) == {
        "email": "Ann@Example.org",
        "external_id": "CRM-1",
    }
    response = await call(harness, "GET", "/v1/privacy/export?external_id=CRM-9&format=csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert ["contacts", "1", "number", number(3)] in rows

    receipt = await ok(harness, "POST", "/v1/privacy/erasures", {"email": "ann@example.org"})
    assert (receipt["found_by"], len(receipt["numbers"]), receipt["erased"]["contacts"]) == (
        "field:email",
        2,
        2,
    )
    for gone in (number(1), number(3), "CRM-1", "CRM-9", "Ann@Example.org"):
        assert stored_anywhere(harness, gone) == [], gone
    assert "contacts.number" in stored_anywhere(harness, number(2))  # Bob stays
    lists_now = await ok(harness, "GET", "/v1/campaigns/renewals/lists")
    assert sorted((x["id"], x["contacts"]) for x in lists_now) == [("autumn", 0), ("spring", 1)]


async def test_an_objection_is_on_the_do_not_call_list_audited_listed_and_exported(
    harness: Harness,
) -> None:
    uk = "+447946000123"
    made = await ok(harness, "POST", "/v1/privacy/objections", {"number": uk, "reason": "phone"})
    assert (made["number"], made["reason"], made["new"]) == (uk, "phone", True)
    again = await ok(harness, "POST", "/v1/privacy/objections", {"number": uk, "reason": "mail"})
    assert (again["reason"], again["at_epoch"], again["new"]) == ("phone", made["at_epoch"], False)
    await harness.advance(60)
    other = await ok(harness, "POST", "/v1/privacy/objections", {"number": number(7)})
    assert other["reason"] == "objection (GDPR art. 21)"
    # The same list as POST /v1/dnc's, which the live dialer refuses to dial.
    await harness.advance(60)
    await ok(harness, "POST", "/v1/dnc", {"numbers": [number(8)], "reason": "by a supervisor"})
    assert set(harness.controller.dispatcher.center.outbound.suppressed) >= {
        uk,
        number(7),
        number(8),
    }

    listed = await ok(harness, "GET", "/v1/privacy/objections")
    assert [(o["number"], o["reason"]) for o in listed] == [
        (number(8), "by a supervisor"),
        (number(7), "objection (GDPR art. 21)"),
        (uk, "phone"),
    ]  # newest first
    page = await ok(harness, "GET", "/v1/privacy/objections?limit=1&offset=1")
    assert [o["number"] for o in page] == [number(7)]
    one = await ok(harness, "GET", f"/v1/privacy/objections?number={uk.replace('+', '%2B')}")
    assert [o["number"] for o in one] == [uk]

    found = await ok(harness, "GET", f"/v1/privacy/export?number={uk.replace('+', '%2B')}")
    assert [(o["number"], o["reason"]) for o in found["objections"]] == [(uk, "phone")]
    assert [s["register"] for s in found["data"]["suppressions"]] == ["internal"]

    audit = await ok(harness, "GET", "/v1/privacy/audit")
    assert [(e["action"], e["detail"]) for e in audit] == [
        ("export", "1 rows"),
        ("objection", "internal do-not-call list"),
        ("objection", "internal do-not-call list (listed already)"),
        ("objection", "internal do-not-call list"),
    ]
    assert uk not in json.dumps(audit) and "phone" not in json.dumps(audit)
    assert audit[-1]["subject"] == audit[0]["subject"]  # the same keyed hash

    for body, error_id in [
        ({"number": "0207 946 0000"}, "invalid-value"),  # not E.164
        ({"number": uk, "reason": ""}, "invalid-request"),
        ({"number": uk, "reason": "x" * 201}, "invalid-request"),
        ({}, "invalid-request"),
    ]:
        response = await call(harness, "POST", "/v1/privacy/objections", body)
        assert (response.status_code, response.json()["error_id"]) == (422, error_id), body
    assert len(await ok(harness, "GET", "/v1/privacy/objections")) == 3
