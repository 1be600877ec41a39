"""The retention purge on SQLite and PostgreSQL, through the real controller: what is past
its period goes, in batches; what a queue's or a campaign's own period, the law's floor, a
legal hold or a running campaign keeps, stays; a second purge finds nothing."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.outbound.campaigns import CampaignState
from ccgateway.domain.recording import Recording
from ccgateway.domain.records import Callback, CallbackState
from ccgateway.persistence import SqlCallbackStore, SqlInteractionStore
from ccgateway.persistence.database import open_database
from ccgateway.persistence.notes import SqlNoteStore
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.persistence.privacy_store import SqlPrivacyStore
from ccgateway.persistence.recording_store import SqlRecordingStore
from ccgateway.ports import AuditEntry, Note
from ccgateway.settings import RecordingSettings, RetentionSettings
from ccgateway.testing import ManualClock, build_harness, hermetic_settings
from ccgateway.testing.harness import Harness
from tests.harness_api import request
from tests.persistence import test_stores
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

DAY = 86400.0
OLD, RECENT = NOW - 400 * DAY, NOW - 5 * DAY
ANN, BOB = "+4930111", "+4930222"


def interaction(call_id: str, queue_id: str, number: str, at: float) -> Interaction:
    return Interaction(
        call_id, queue_id, "a1", number, Outcome.ANSWERED, at, at + 5, at + 60, 5.0, 55.0, 1
    )


def seed(engine: Engine) -> None:
    calls = SqlInteractionStore(engine)
    for call_id, queue_id, number, at in [
        ("old", "german", ANN, OLD),
        ("old-held", "german", BOB, OLD),  # Bob's number is on hold
        ("old-vip", "vip", ANN, OLD),  # the vip queue keeps two years
        ("new", "german", ANN, RECENT),
    ]:
        calls.add(interaction(call_id, queue_id, number, at))
    callbacks = SqlCallbackStore(engine)
    for callback_id, state in (("cb-done", CallbackState.DONE), ("cb-live", "waiting")):
        old = Callback(callback_id, "german", ANN, "Ann", 0, OLD, OLD, CallbackState(state))
        callbacks.save(dataclasses.replace(old, updated_at=OLD))
    SqlNoteStore(engine).add(Note("note-old", OLD, "a1", None, ANN, None, None, "old note"))
    outbound = SqlOutboundStore(engine)
    # sales (uk) is paused, running (uk) runs, german (de: proof of consent) is paused
    for campaign_id, rule_set, state in [
        ("sales", "uk", CampaignState.PAUSED),
        ("running", "uk", CampaignState.RUNNING),
        ("german", "de", CampaignState.PAUSED),
    ]:
        outbound.put_campaign(campaign(campaign_id, rule_set_id=rule_set), state)
        outbound.import_contacts(
            a_list(f"l-{campaign_id}", campaign_id, size=2),
            [contact(1, list_id=f"l-{campaign_id}"), contact(2, list_id=f"l-{campaign_id}")],
        )
        for n, at in ((1, OLD), (2, RECENT)):
            dial_id = f"{campaign_id}-{n}"
            outbound.add_dial(dial(dial_id, at, campaign_id, rule_set_id=rule_set))
            outbound.add_disposition(disposition(dial_id, at + 70, campaign_id=campaign_id))
            outbound.add_refusal(refusal(at, campaign_id=campaign_id))
    with engine.begin() as connection:  # the contacts were last touched: c1 old, c2 recently
        connection.execute(
            text("UPDATE contacts SET updated_at = :at WHERE id = 'c1'"), {"at": OLD}
        )
        connection.execute(
            text("UPDATE contacts SET updated_at = :at WHERE id = 'c2'"), {"at": RECENT}
        )
    SqlPrivacyStore(engine).add_audit(AuditEntry(OLD, "key:x", "export", "h:1"))
    for name, at in (("rec-old", OLD), ("rec-new", RECENT)):
        recording = Recording(
            name, name, "asterisk", "german", "a1", ANN, at, f"{name}.wav", at + 60
        )
        SqlRecordingStore(engine).save(recording)


@pytest.fixture
async def harness(url: str, tmp_path: Path) -> AsyncIterator[Harness]:
    engine = open_database(url)
    seed(engine)
    engine.dispose()
    settings = hermetic_settings(url)
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name in ("rec-old.wav", "rec-new.wav"):
        (folder / name).write_bytes(b"RIFF")
    settings.recordings = RecordingSettings(directory=folder)
    settings.retention = RetentionSettings(batch_rows=2)  # several batches of each kind
    built = build_harness(settings, clock=ManualClock(NOW))
    async with built.running():
        yield built


api = request  # (harness, method, path, body=None): as the admin


def ids(engine: Engine, table: str, column: str = "id") -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT {column} FROM {table} ORDER BY 1"))
        return [str(r[0]) for r in rows]


POLICY = {
    "default": {
        "interactions": 30,
        "callbacks": 30,
        "notes": 30,
        "dial_records": 10,
        "dispositions": 10,
        "refusals": 10,
        "contacts": 30,
        "recordings": 90,
        "audit": 365,
    },
    "queues": {"vip": {"interactions": 730}},
}


async def test_the_purge_removes_what_is_past_its_period_and_keeps_the_rest(
    harness: Harness,
) -> None:
    engine = harness.controller.engine
    nothing = (await api(harness, "POST", "/v1/retention/purge")).json()["removed"]
    assert set(nothing.values()) == {0}  # no policy: everything kept for ever

    assert (await api(harness, "PUT", "/v1/retention", POLICY)).status_code == 200
    hold = {"kind": "number", "value": BOB, "reason": "a court case"}
    assert (await api(harness, "POST", "/v1/retention/holds", hold)).status_code == 201
    report = (await api(harness, "POST", "/v1/retention/purge")).json()

    assert ids(engine, "interactions", "call_id") == ["new", "old-held", "old-vip"]
    assert ids(engine, "callbacks") == ["cb-live"]  # a live callback has no period
    assert ids(engine, "notes") == []
    # sales (uk: the ledger keeps a day) loses its old dial; german (de) keeps 5 years of
    # dials and contacts for the proof of consent; a running campaign keeps its contacts.
    assert ids(engine, "dial_records") == ["german-1", "german-2", "running-2", "sales-2"]
    assert ids(engine, "dispositions", "dial_id") == ["german-2", "running-2", "sales-2"]
    assert ids(engine, "contacts", "campaign_id || ':' || id") == [
        "german:c1",
        "german:c2",
        "running:c1",
        "running:c2",
        "sales:c2",
    ]
    lists = ids(engine, "contact_lists", "id || '=' || contacts")
    assert lists == ["l-german=2", "l-running=2", "l-sales=1"]
    assert report["removed"] == {
        "interactions": 1,
        "callbacks": 1,
        "tasks": 0,
        "notes": 1,
        "dial_records": 2,
        "dispositions": 3,  # german's too: dispositions have no floor
        "refusals": 3,
        "contacts": 1,
        "recordings": 1,
        "audit": 1,
    }
    assert ids(engine, "recordings") == ["rec-new"]
    assert [p.name for p in harness.controller.settings.recordings.directory.iterdir()] == [
        "rec-new.wav"
    ]
    again = (await api(harness, "POST", "/v1/retention/purge")).json()["removed"]
    assert set(again.values()) == {0}
    audit = [
        (e["action"], e["actor"]) for e in (await api(harness, "GET", "/v1/privacy/audit")).json()
    ]
    assert audit[:3] == [("purge", "key:config"), ("purge", "key:config"), ("hold", "key:config")]
