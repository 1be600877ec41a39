"""Erasure in the database: after a person is erased, no column of any table holds their
number (or their name, notes or answers), on SQLite and on PostgreSQL; the records the
ledgers count are still there with the same times and outcomes; the number stays
suppressed, only as a keyed hash. A person found by an e-mail address or an external id
held by their contacts is erased (and exported) under every number found, in one
transaction. The controller is the real one (the composition root);
the data is written through its own stores, then erased through its API."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, String, Text, func, select, text

from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.outbound.campaigns import CampaignState
from ccgateway.domain.outbound.records import DialRecord
from ccgateway.domain.privacy import field_key, pseudonym
from ccgateway.domain.queue_log import QueueLogLine
from ccgateway.domain.recording import Recording
from ccgateway.domain.records import Callback, Task
from ccgateway.domain.webhooks import Delivery, Subscription
from ccgateway.persistence import SqlCallbackStore, SqlInteractionStore, SqlTaskStore, privacy_store
from ccgateway.persistence.database import open_database
from ccgateway.persistence.notes import SqlNoteStore
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.persistence.privacy_store import SqlPrivacyStore
from ccgateway.persistence.queue_log_tables import SqlQueueLogStore
from ccgateway.persistence.recording_store import SqlRecordingStore
from ccgateway.persistence.tables import SCHEMA_VERSION, Base
from ccgateway.persistence.webhook_store import SqlWebhookStore
from ccgateway.ports import Note
from ccgateway.settings import PrivacySettings, RecordingSettings
from ccgateway.testing import ManualClock, build_harness, hermetic_settings
from ccgateway.testing.harness import Harness
from tests.harness_api import request
from tests.persistence import test_stores
from tests.persistence.before_alembic import as_before_alembic
from tests.persistence.test_outbound_store import (
    NOW,
    a_list,
    campaign,
    contact,
    dial,
    disposition,
    refusal,
)

url = test_stores.url  # the fixture: each test runs on SQLite and on PostgreSQL

KEY = "privacy-key-for-the-erasure-tests-0123456789"
ANN = contact(1, name="Ann O'Brien", fields={"email": "ann@example.org", "order": "A-1"})
BOB = contact(2)  # another person, whose data stays
# Ann's mobile, on a third list: found by her e-mail address (in another case) or CRM id.
ANN_MOBILE = contact(
    9,
    "l3",
    id="w9",
    name="Ann O'Brien",
    fields={"email": "Ann@Example.ORG", "external_id": "CRM-7"},
)
# Someone else, whose fields come near Ann's: another field with her address, an address
# that ends like hers, an id that LIKE's wildcard '_' would confuse with hers.
NEAR = contact(
    8,
    "l3",
    id="w8",
    fields={"referrer": "ann@example.org", "email": "xann@example.org", "external_id": "CRM_7"},
)


def seed(engine: Engine) -> None:
    """Ann and Bob in every table that can hold a person."""
    outbound = SqlOutboundStore(engine)
    outbound.put_campaign(campaign(), CampaignState.PAUSED)
    outbound.put_campaign(campaign("winback"), CampaignState.PAUSED)
    outbound.import_contacts(a_list(size=2), [ANN, BOB])
    outbound.import_contacts(
        a_list("l2", "winback", size=1), [dataclasses.replace(ANN, id="w1", list_id="l2")]
    )
    for person, n in ((ANN, 1), (BOB, 2)):
        at = NOW + n * 1000
        outbound.add_dial(dial(f"d{n}", at, contact_id=person.id, number=person.number))
        outbound.add_disposition(disposition(f"d{n}", at + 70, contact_id=person.id))
        outbound.add_refusal(refusal(at + 5, contact_id=person.id, number=person.number))
        SqlInteractionStore(engine).add(
            Interaction(
                f"call-{n}", "out", "ann", person.number, Outcome.ANSWERED,
                at, at + 3, at + 90, 3.0, 87.0, 1, detail=f"callback to {person.number}",
            )
        )  # fmt: skip
        SqlCallbackStore(engine).save(
            Callback(f"cb{n}", "out", person.number, person.name, 0, at, at)
        )
        SqlNoteStore(engine).add(
            Note(f"n{n}", at, "ann", None, person.number, None, f"d{n}", f"{person.name}: no")
        )
        SqlTaskStore(engine).save(
            Task(f"t{n}", "email", "out", 0, at, f"mail from {person.number}", {"from": "x"})
        )
        name = "rec-" + person.name.split()[0].lower()
        recording = Recording(
            name, f"call-{n}", "x", "out", "ann", person.number, at, f"{name}.wav"
        )
        SqlRecordingStore(engine).save(recording)
    outbound.suppress("internal", [ANN.number, BOB.number], "objection", NOW)
    outbound.suppress("tps", [ANN.number], "", NOW)
    seed_integrations(engine)


def seed_integrations(engine: Engine) -> None:
    """A webhook delivery and the queue_log's ENTERQUEUE line for each of their calls."""
    webhooks = SqlWebhookStore(engine)
    webhooks.add_subscription(Subscription("crm", "https://crm.example.net/h", ("*",), "s" * 20))
    for person, n in ((ANN, 1), (BOB, 2)):
        caller = {"caller_number": person.number, "caller_name": person.name}
        body = json.dumps({"type": "call.ended", "data": {"call_id": f"call-{n}", **caller}})
        delivery = Delivery(f"w{n}", "crm", n, f"e{n}", "call.ended", f"call-{n}", body, NOW)
        webhooks.add_deliveries([delivery], 100, NOW)
        line = QueueLogLine(
            NOW + n, f"call-{n}", "out", "NONE", "ENTERQUEUE", ("", person.number, "1", person.name)
        )
        SqlQueueLogStore(engine).write([line])


def seed_found_by_fields(engine: Engine) -> None:
    """Ann's mobile and her near miss, on a third list."""
    SqlOutboundStore(engine).import_contacts(a_list("l3", "winback", size=2), [ANN_MOBILE, NEAR])


def cells_with(engine: Engine, needle: str) -> list[tuple[str, str]]:
    """Every (table, column) of text whose value anywhere contains `needle`."""
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text):
                    continue
                where = column.contains(needle, autoescape=True)
                count = connection.scalar(select(func.count()).select_from(table).where(where))
                if count:
                    found.append((table.name, column.name))
    return found


def ledger(engine: Engine) -> list[tuple[Any, ...]]:
    """What the abandon-rate ledgers and the reports count: every dial's campaign, times and
    outcome, and every disposition's code."""
    outbound = SqlOutboundStore(engine)
    dials: list[DialRecord] = outbound.dials(None, None, 1000)
    counted: list[tuple[Any, ...]] = [
        (d.id, d.campaign_id, d.dialled_at, d.ended_at, d.outcome, d.answered_at) for d in dials
    ]
    counted += [(d.live_at, d.connected_at, d.agent_id, d.amd, d.at_risk) for d in dials]
    counted += [(d.dial_id, d.code, d.at) for d in outbound.dispositions_of([d.id for d in dials])]
    return counted


@pytest.fixture
async def harness(url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    engine = open_database(url)
    seed(engine)
    engine.dispose()
    settings = hermetic_settings(url)
    settings.privacy = PrivacySettings(key=SecretStr(KEY))
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name in ("rec-ann.wav", "rec-bob.wav"):
        (folder / name).write_bytes(b"RIFF")
    settings.recordings = RecordingSettings(directory=folder)
    built = build_harness(settings, clock=ManualClock(NOW + 10_000))
    async with built.running():
        yield built


api = request  # (harness, method, path, body=None): as the admin


async def test_an_erased_person_is_in_no_column_of_any_table(harness: Harness) -> None:
    engine = harness.controller.engine
    before = ledger(engine)
    needles = (ANN.number, ANN.number[-10:], "Ann O'Brien", "ann@example.org")
    assert cells_with(engine, ANN.number)  # the seed put the number in many places

    response = await api(harness, "POST", "/v1/privacy/erasures", {"number": ANN.number})
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["subject"] == pseudonym(KEY.encode(), ANN.number)
    assert receipt["erased"] == {
        "contacts": 2,  # in both campaigns' lists
        "callbacks": 1,
        "notes": 1,
        "tasks": 1,
        "interactions": 1,
        "dial_records": 1,
        "dispositions": 1,
        "refusals": 1,
        "recordings": 1,
        "webhook_deliveries": 1,
        "queue_log": 1,  # the line stays, without the number and name
        "suppressions": 2,  # the objection and the register's listing
    }
    assert receipt["recording_files"] == 1
    assert sorted(p.name for p in harness.controller.settings.recordings.directory.iterdir()) == [
        "rec-bob.wav"
    ]
    assert {k["what"] for k in receipt["kept"]} >= {"do-not-call", "the audit log"}

    for needle in needles:
        assert cells_with(engine, needle) == [], needle
    # Bob is untouched.
    assert ("contacts", "number") in cells_with(engine, BOB.number)
    assert ("dial_records", "number") in cells_with(engine, BOB.number)
    # The ledgers count the same dials with the same times and outcomes.
    assert ledger(engine) == before
    # The lists' counts follow.
    with engine.connect() as connection:
        counts = connection.execute(text("SELECT id, contacts FROM contact_lists ORDER BY id"))
        assert counts.all() == [("l1", 1), ("l2", 0)]

    # Still suppressed: a list that brings the number back finds it on the forgotten list,
    # by its keyed hash; the key itself is not in the database.
    outbound = SqlOutboundStore(engine, pseudonym=lambda n: pseudonym(KEY.encode(), n))
    assert outbound.suppressed([ANN.number, BOB.number]) == {
        ANN.number: "forgotten",
        BOB.number: "internal",
    }
    assert cells_with(engine, KEY) == []
    assert SqlOutboundStore(engine).suppressed([ANN.number]) == {}  # without the key: nothing

    # The audit log has the erasure, under the pseudonym, with the counts.
    [entry] = (await api(harness, "GET", "/v1/privacy/audit")).json()
    assert (entry["action"], entry["actor"], entry["subject"]) == (
        "erase",
        "key:config",
        receipt["subject"],
    )
    assert json.loads(entry["detail"]) == receipt["erased"]

    # Erasing again finds nothing more, and the records are not erased twice.
    again = (await api(harness, "POST", "/v1/privacy/erasures", {"number": ANN.number})).json()
    assert set(again["erased"].values()) == {0}
    assert ledger(engine) == before


async def test_the_record_tables_allow_an_erasure_once_and_nothing_else(url: str) -> None:
    engine = open_database(url)
    seed(engine)
    personal = "number = 'erased', contact_id = 'erased', detail = ''"
    allowed = f"UPDATE dial_records SET {personal}, erased_at = 1 WHERE id = 'd1'"
    for refused in (
        "UPDATE dial_records SET number = 'x' WHERE id = 'd1'",  # not as an erasure
        f"UPDATE dial_records SET {personal}, erased_at = 1, outcome = 'x' WHERE id = 'd1'",
        f"UPDATE dial_records SET {personal}, erased_at = 1, dialled_at = 0 WHERE id = 'd1'",
        "UPDATE dispositions SET code = 'x', erased_at = 1",
        "UPDATE refusals SET rule = 'x', erased_at = 1",
        "DELETE FROM dial_records WHERE id = 'd1'",
    ):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(refused))
    with engine.begin() as connection:
        assert connection.execute(text(allowed)).rowcount == 1
    with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE dial_records SET erased_at = 2 WHERE id = 'd1'"))
    engine.dispose()


def test_a_new_sqlite_database_and_its_folder_are_its_owners_alone(tmp_path: Any) -> None:
    path = tmp_path / "new" / "ccgateway.db"
    open_database(f"sqlite:///{path}").dispose()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_a_version_7_database_gets_erasable_records(url: str) -> None:
    engine = open_database(url)
    seed(engine)
    with engine.begin() as connection:  # what version 7 had: no erased_at, no audit log
        for table in ("dial_records", "dispositions", "refusals"):
            for trigger in (f"{table}_no_update", f"{table}_no_delete"):
                if engine.dialect.name == "sqlite":
                    connection.execute(text(f"DROP TRIGGER {trigger}"))
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN erased_at"))
        connection.execute(text("DROP TABLE audit_log"))
        connection.execute(text("DELETE FROM schema_version"))
        connection.execute(text("INSERT INTO schema_version (version) VALUES (7)"))
        as_before_alembic(connection)  # before Alembic
    engine.dispose()
    upgraded = open_database(url)
    assert test_stores.versions(upgraded) == list(range(7, SCHEMA_VERSION + 1))
    before = ledger(upgraded)
    erased = SqlPrivacyStore(upgraded).erase(ANN.number, "h:x", NOW, "key:test")
    assert (erased["dial_records"], erased["dispositions"], erased["refusals"]) == (1, 1, 1)
    assert ledger(upgraded) == before
    assert cells_with(upgraded, ANN.number) == []
    with pytest.raises(Exception, match="append-only"), upgraded.begin() as connection:
        connection.execute(text("DELETE FROM dispositions"))
    upgraded.dispose()


def test_contacts_are_found_by_a_field_exactly_in_every_list(url: str) -> None:
    engine = open_database(url)
    seed(engine)
    seed_found_by_fields(engine)
    store = SqlPrivacyStore(engine)
    for (name, value), found in [
        (("email", "ann@example.org"), [("sales", "c1"), ("winback", "w1"), ("winback", "w9")]),
        (("email", "ANN@example.org"), [("sales", "c1"), ("winback", "w1"), ("winback", "w9")]),
        (("external_id", "CRM-7"), [("winback", "w9")]),
        (("external_id", "CRM_7"), [("winback", "w8")]),  # '_' is no wildcard here
        (("external_id", "crm-7"), []),  # an id is exact
        (("order", "A-1"), [("sales", "c1"), ("winback", "w1")]),
        (("note", "ünïcode ok"), [("sales", "c2")]),
        (("referrer", "ann@example.org"), [("winback", "w8")]),
        (("email", "nobody@example.org"), []),
    ]:
        held = store.contacts_holding(field_key(name, value))
        assert [(c, i) for c, i, _ in held] == found, (name, value)
    [(_, _, number)] = store.contacts_holding(field_key("external_id", "CRM-7"))
    assert number == ANN_MOBILE.number
    engine.dispose()


def test_an_erasure_of_several_numbers_is_one_transaction(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = open_database(url)
    seed(engine)
    seed_found_by_fields(engine)
    real = privacy_store._erase_person
    done: list[str] = []

    def failing_on_the_second(session: Any, number: str, hashed: str, at: float) -> Any:
        if done:
            raise RuntimeError("the disk is full")
        done.append(number)
        return real(session, number, hashed, at)

    monkeypatch.setattr(privacy_store, "_erase_person", failing_on_the_second)
    numbers = {ANN.number: "h:ann", ANN_MOBILE.number: "h:mobile"}
    with pytest.raises(RuntimeError, match="disk is full"):
        SqlPrivacyStore(engine).erase_found(numbers, "field:email", "h:email", NOW, "key:test")
    assert done == [min(numbers)]  # the first was erased, then rolled back with the rest
    assert ("contacts", "number") in cells_with(engine, ANN.number)
    assert ("dial_records", "number") in cells_with(engine, ANN.number)
    assert SqlPrivacyStore(engine).audit(10) == []
    engine.dispose()


async def test_a_person_found_by_email_is_erased_under_every_number(harness: Harness) -> None:
    engine = harness.controller.engine
    seed_found_by_fields(engine)
    before = ledger(engine)
    numbers = (ANN.number, ANN_MOBILE.number)
    hashed = {pseudonym(KEY.encode(), n): n for n in numbers}

    response = await api(harness, "POST", "/v1/privacy/erasures", {"email": "ANN@example.org"})
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["subject"] == pseudonym(KEY.encode(), "email:ann@example.org")
    assert receipt["found_by"] == "field:email"
    by_number = {n["subject"]: n["erased"] for n in receipt["numbers"]}
    assert set(by_number) == set(hashed)  # keyed hashes, never the numbers
    assert by_number[pseudonym(KEY.encode(), ANN_MOBILE.number)]["contacts"] == 1
    assert by_number[pseudonym(KEY.encode(), ANN.number)]["contacts"] == 2
    assert receipt["erased"]["contacts"] == 3 and receipt["erased"]["dial_records"] == 1
    assert all(n not in response.text for n in numbers)
    assert receipt["recording_files"] == 1

    with engine.connect() as connection:
        left = connection.execute(text("SELECT campaign_id, id FROM contacts ORDER BY 1, 2"))
        assert left.all() == [("sales", "c2"), ("winback", "w8")]  # Bob, and the near miss
    for needle in (*numbers, "O'Brien", "CRM-7"):  # (the near miss holds her address)
        assert cells_with(engine, needle) == [], needle
    assert ledger(engine) == before
    outbound = SqlOutboundStore(engine, pseudonym=lambda n: pseudonym(KEY.encode(), n))
    assert outbound.suppressed(list(numbers)) == dict.fromkeys(numbers, "forgotten")

    # One audit entry, under the address's keyed hash, with each number's hash and counts.
    [entry] = (await api(harness, "GET", "/v1/privacy/audit")).json()
    assert (entry["action"], entry["subject"]) == ("erase", receipt["subject"])
    assert json.loads(entry["detail"]) == {"found_by": "field:email", "numbers": by_number}
    assert "example.org" not in entry["detail"]

    # Asked again: nobody is found any more, and the answer says so.
    again = await api(harness, "POST", "/v1/privacy/erasures", {"email": "ann@example.org"})
    assert (again.json()["numbers"], set(again.json()["erased"].values())) == ([], {0})


async def test_the_receipt_says_for_each_store_what_went_and_what_was_kept(
    harness: Harness,
) -> None:
    response = await api(harness, "POST", "/v1/privacy/erasures", {"number": ANN.number})
    receipt = response.json()
    stores = {s["store"]: s for s in receipt["stores"]}
    assert set(stores) == set(receipt["erased"]) | {"recording_files", "events"}
    for name, rows in receipt["erased"].items():
        assert stores[name]["rows"] == rows, name
    assert stores["recording_files"]["rows"] == 1
    assert {stores[k]["action"] for k in ("contacts", "callbacks", "notes", "tasks")} == {"deleted"}
    assert {stores[k]["action"] for k in ("interactions", "dial_records", "refusals")} == {
        "kept without the person"
    }
    assert stores["suppressions"]["action"] == "replaced by the keyed hash"
    assert all(s["what"] for s in receipt["stores"])
    kept = {k["what"]: k for k in receipt["kept"]}
    assert set(kept) >= {
        "do-not-call",
        "finished calls, dials, dispositions and refusals",
        "the audit log",
        "backups and the PBX's own logs",
        "copies handed out before",
    }
    assert all(k["form"] and k["why"] for k in receipt["kept"])
    assert (receipt["found_by"], [n["subject"] for n in receipt["numbers"]]) == (
        "number",
        [receipt["subject"]],
    )


async def test_an_export_by_email_or_external_id_has_every_number_objections_and_recordings(
    harness: Harness,
) -> None:
    seed_found_by_fields(harness.controller.engine)
    response = await api(harness, "GET", "/v1/privacy/export?email=ann%40example.org")
    assert response.status_code == 200, response.text
    found = response.json()
    assert (found["number"], found["found_by"]) == (None, "field:email")
    assert found["numbers"] == [ANN.number, ANN_MOBILE.number]
    data = found["data"]
    assert sorted(c["id"] for c in data["contacts"]) == ["c1", "w1", "w9"]
    assert [d["id"] for d in data["dial_records"]] == ["d1"]
    assert [(o["number"], o["reason"]) for o in found["objections"]] == [(ANN.number, "objection")]
    [recording] = found["recordings"]
    assert (recording["id"], recording["call_id"], recording["audio"]) == (
        "rec-ann",
        "call-1",
        "/v1/recordings/rec-ann/audio",
    )
    assert [r["id"] for r in data["recordings"]] == ["rec-ann"]
    assert [d["id"] for d in data["webhook_deliveries"]] == ["w1"]
    assert [(q["callid"], q["event"]) for q in data["queue_log"]] == [("call-1", "ENTERQUEUE")]
    assert BOB.number not in response.text and "w8" not in response.text

    by_id = (await api(harness, "GET", "/v1/privacy/export?external_id=CRM-7")).json()
    assert (by_id["numbers"], [c["id"] for c in by_id["data"]["contacts"]]) == (
        [ANN_MOBILE.number],
        ["w9"],
    )
    assert by_id["objections"] == [] and by_id["recordings"] == []

    audit = (await api(harness, "GET", "/v1/privacy/audit")).json()
    assert [(e["action"], e["subject"]) for e in audit] == [
        ("export", pseudonym(KEY.encode(), "external_id:CRM-7")),
        ("export", pseudonym(KEY.encode(), "email:ann@example.org")),
    ]
    assert audit[1]["detail"].endswith("rows of 2 numbers found by field:email")


async def test_nothing_is_erased_when_any_contact_found_is_under_a_legal_hold(
    harness: Harness,
) -> None:
    engine = harness.controller.engine
    seed_found_by_fields(engine)
    hold = {"kind": "contact", "value": "winback:w9", "reason": "complaint 7"}
    assert (await api(harness, "POST", "/v1/retention/holds", hold)).status_code == 201
    held = await api(harness, "POST", "/v1/privacy/erasures", {"external_id": "CRM-7"})
    assert (held.status_code, held.json()["error_id"]) == (409, "conflict")
    by_email = await api(harness, "POST", "/v1/privacy/erasures", {"email": "ann@example.org"})
    assert by_email.status_code == 409  # Ann's other number is not erased without this one
    assert ("contacts", "number") in cells_with(engine, ANN.number)
    assert ("contacts", "number") in cells_with(engine, ANN_MOBILE.number)
    actions = [e["action"] for e in (await api(harness, "GET", "/v1/privacy/audit")).json()]
    assert actions == ["hold"]
