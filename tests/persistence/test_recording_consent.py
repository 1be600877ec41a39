"""A recording's consent (schema version 9): stored and read back, and a version 8 database
(recordings without it) upgraded in place."""

from __future__ import annotations

from sqlalchemy import text

from ccgateway.domain.recording import Consent, Recording
from ccgateway.persistence.database import open_database
from ccgateway.persistence.recording_store import SqlRecordingStore
from ccgateway.persistence.tables import SCHEMA_VERSION
from tests.persistence.before_alembic import as_before_alembic
from tests.persistence.test_stores import url, versions  # noqa: F401 (a fixture)

REFUSED = Recording(
    "rec-1", "c1", "asterisk", "q", "a1", "+4930111", 10.0, "rec-1.wav", 12.0,
    failure="the caller refused to be recorded", consent=Consent.REFUSED, campaign_id="sales",
)  # fmt: skip


def test_the_consent_is_stored_and_read_back(url: str) -> None:  # noqa: F811
    engine = open_database(url)
    store = SqlRecordingStore(engine)
    store.save(REFUSED)
    found = store.get("rec-1").recording  # type: ignore[union-attr]
    assert (found.consent, found.failure) == (Consent.REFUSED, REFUSED.failure)
    assert found.campaign_id == "sales"
    engine.dispose()


def test_a_version_8_database_gets_the_consent_column(url: str) -> None:  # noqa: F811
    engine = open_database(url)
    SqlRecordingStore(engine).save(REFUSED)
    with engine.begin() as connection:  # what version 8 had: no consent
        connection.execute(text("ALTER TABLE recordings DROP COLUMN consent"))
        connection.execute(text("ALTER TABLE recordings DROP COLUMN campaign_id"))
        connection.execute(text("DELETE FROM schema_version"))
        connection.execute(text("INSERT INTO schema_version (version) VALUES (8)"))
        as_before_alembic(connection)  # before Alembic
    engine.dispose()
    upgraded = open_database(url)
    assert versions(upgraded) == list(range(8, SCHEMA_VERSION + 1))
    old = SqlRecordingStore(upgraded).get("rec-1").recording  # type: ignore[union-attr]
    # made before notices existed, and before recordings named their campaign
    assert (old.id, old.consent, old.campaign_id) == ("rec-1", Consent.NONE, None)
    upgraded.dispose()
