"""The journal file: every write the centre makes is kept and read back equal, a record cut
short by a crash ends the file, damage elsewhere and a file naming anything but the domain's
values are refused (nothing it names is run), and so is a file others could have written.
Replayed into the real stores (SQLite and PostgreSQL), every write is kept once, those the
database had taken before the crash included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import (
    Interaction,
    Outcome,
    RecordInteraction,
    SaveCallback,
    SavePresence,
    SaveRecording,
    SaveTask,
)
from ccgateway.domain.model import Agent
from ccgateway.domain.outbound.campaigns import CampaignState
from ccgateway.domain.outbound.commands import (
    RecordDial,
    RecordDisposition,
    RecordRefusal,
    SaveProgress,
    SuppressNumber,
)
from ccgateway.domain.outbound.contacts import ContactState, Progress
from ccgateway.domain.recording import Recording
from ccgateway.domain.records import Callback, Task
from ccgateway.pair import pair_problem
from ccgateway.persistence import (
    SqlCallbackStore,
    SqlConfigStore,
    SqlInteractionStore,
    SqlTaskStore,
    open_database,
)
from ccgateway.persistence import tables as t
from ccgateway.persistence.journal_file import MAGIC, JournalFile, JournalFileError
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.persistence.recording_store import SqlRecordingStore
from ccgateway.services.store_writes import DurableWrite, StoreWriter
from ccgateway.settings import Settings
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

url = test_stores.url  # the fixture: the replay runs on SQLite and on PostgreSQL


def every_kind() -> list[DurableWrite]:
    """One of each write the dispatcher queues for the database, with a read-only mapping,
    enums, tuples and None among their values."""
    call = Interaction(
        "call-1", "sales", "a1", "+4930123456", Outcome.ANSWERED,
        NOW, NOW + 3, NOW + 90, 3.0, 87.0, 1, detail="queue <b>x</b>",
    )  # fmt: skip
    return [
        RecordInteraction(call),
        SavePresence("a1", AgentState.PAUSED, "lunch"),
        SaveCallback(Callback("cb1", "sales", "+4930123456", "Ann", 0, NOW, NOW)),
        SaveTask(Task("t1", "email", "sales", 0, NOW, "a mail", {"from": "ann@example.org"})),
        SaveRecording(
            Recording("rec-1", "call-1", "asterisk", "sales", "a1", "+4930123456", NOW, "r.wav")
        ),
        SaveProgress(Progress("c1", "sales", ContactState.SCHEDULED, 1, NOW + 60, "busy")),
        RecordDial(dial("d1", NOW)),
        RecordDisposition(disposition("d1", NOW + 70)),
        RecordRefusal(refusal(NOW + 5)),
        SuppressNumber("+447946000001", "objection", NOW + 80),
    ]


def test_every_write_the_centre_makes_is_kept_and_read_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "state" / "journal"
    journal = JournalFile(path)
    writes = every_kind()
    for seq, write in enumerate(writes, 1):
        journal.keep(seq, write)
    journal.sync()
    assert JournalFile(path).kept() == writes  # another process's view: what a restart reads
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(path.parent).st_mode & 0o777 == 0o700
    journal.written(3)
    assert JournalFile(path).kept() == writes[3:]
    journal.keep(len(writes) + 1, writes[0])  # kept after the marker: still to write
    assert JournalFile(path).kept() == [*writes[3:], writes[0]]
    journal.clear()
    assert JournalFile(path).kept() == []
    assert path.read_bytes() == MAGIC


def test_a_record_cut_short_by_a_crash_ends_the_file_and_damage_elsewhere_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal"
    journal = JournalFile(path)
    writes = every_kind()[:3]
    for seq, write in enumerate(writes, 1):
        journal.keep(seq, write)
    whole = path.read_bytes()
    for cut in (1, 5, 20):  # the last record's tail never reached the file
        path.write_bytes(whole[:-cut])
        assert JournalFile(path).kept() == writes[:2]
    damaged = bytearray(whole)
    damaged[len(MAGIC) + 20] ^= 0xFF  # inside the first record
    path.write_bytes(bytes(damaged))
    with pytest.raises(JournalFileError, match="damaged at byte"):
        JournalFile(path).kept()
    path.write_bytes(b"something else\n")
    with pytest.raises(JournalFileError, match="header"):
        JournalFile(path).kept()


class Intruder:
    """What a pickle from anyone else could hold: a call of anything, here a file made."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.marker), "w")


def test_a_file_naming_anything_but_the_domains_values_is_refused_and_nothing_is_run(
    tmp_path: Path,
) -> None:
    path, marker = tmp_path / "journal", tmp_path / "made-by-the-file"
    journal = JournalFile(path)
    journal.keep(1, SuppressNumber("+447946000001", "objection", NOW))
    journal.keep(2, Intruder(marker))
    with pytest.raises(JournalFileError, match=r"io\.open, which is not ours"):
        JournalFile(path).kept()
    assert not marker.exists()


def test_a_file_others_could_write_or_another_user_owns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal"
    JournalFile(path).keep(1, SuppressNumber("+447946000001", "objection", NOW))
    path.chmod(0o620)
    with pytest.raises(JournalFileError, match=r"open to others \(mode 620\): chmod 600"):
        JournalFile(path)
    path.chmod(0o600)
    if os.geteuid() == 0:  # root can give it away
        os.chown(path, 65534, 65534)
        with pytest.raises(JournalFileError, match="belongs to another user"):
            JournalFile(path)


@pytest.fixture
def engine(url: str) -> Engine:
    engine = open_database(url)
    outbound = SqlOutboundStore(engine)
    outbound.put_campaign(campaign(), CampaignState.PAUSED)
    outbound.import_contacts(a_list(size=1), [contact(1)])
    SqlConfigStore(engine).put_agent(Agent("a1", "Ann", "PJSIP/a1"))
    return engine


def test_replayed_writes_are_each_kept_once_those_written_before_the_crash_included(
    engine: Engine,
) -> None:
    stores = StoreWriter(
        SqlConfigStore(engine),
        SqlInteractionStore(engine),
        SqlCallbackStore(engine),
        SqlTaskStore(engine),
        SqlRecordingStore(engine),
        SqlOutboundStore(engine),
    )
    writes = every_kind()
    for write in writes[:7]:  # the database took these before the controller died
        stores.write(write)
    assert stores.replay(writes) == len(writes)  # all of them were still in the file
    with engine.connect() as connection:
        for table in (
            t.InteractionRow, t.CallbackRow, t.TaskRow, t.RecordingRow, t.DialRecordRow,
            t.DispositionRow, t.RefusalRow, t.SuppressionRow, t.PresenceRow,
        ):  # fmt: skip
            count = connection.scalar(select(func.count()).select_from(table))
            assert count == 1, table.__name__
    assert SqlConfigStore(engine).load_presence() == {"a1": (AgentState.PAUSED, "lunch")}
    [(_, progress)] = SqlOutboundStore(engine).contacts("sales", None, 10, 0)
    assert progress.state == ContactState.SCHEDULED and progress.attempts == 1


def test_a_pair_keeps_no_journal_file_and_says_why() -> None:
    """A write kept by an active whose lease is lost must not be replayed over the next
    active's: a pair refuses the setting at its start (exit status 2, as for SQLite)."""
    pair = {"mode": "pair", "advertise_url": "http://cc1.example:8080"}
    settings = Settings(database_url="postgresql://cc@db.example/cc", ha=pair)
    assert pair_problem(settings) is None
    kept = Settings(database_url=settings.database_url, ha=pair, database_journal_file="/j")
    assert 'ha.mode = "pair" keeps no database_journal_file' in str(pair_problem(kept))
