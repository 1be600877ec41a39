"""The pair's lease and the fence on every write, on a real PostgreSQL server: taking,
renewing, expiry and the epoch; a stale write refused; a taker waiting for a write in
flight; a frozen writer holding a taker back no longer than the idle limit; the writes a
controller that lost the lease leaves through the fence, and the active taking them in."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from ccgateway.domain.commands import RecordInteraction
from ccgateway.domain.model import Skill
from ccgateway.domain.outbound.commands import SuppressNumber
from ccgateway.persistence import SqlConfigStore, SqlInteractionStore, open_database
from ccgateway.persistence.handover_store import SqlHandoverStore
from ccgateway.persistence.lease_store import (
    Fence,
    SqlLeaseStore,
    StaleEpoch,
    ToolFence,
    lease_engine,
)
from ccgateway.persistence.outbound_store import SqlOutboundStore
from ccgateway.ports import DatabaseUnavailable, InteractionQuery, LeaseHolder, WriteFenced
from ccgateway.services.store_writes import StoreWriter
from tests.persistence.test_stores import record

pytestmark = pytest.mark.postgres

LEASE_S = 0.6  # short, so that expiry takes a moment of the test


@pytest.fixture
def url(postgres_url: str) -> Iterator[str]:
    """The throwaway cluster's database, emptied, at the head."""
    clean = create_engine(postgres_url)
    with clean.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    clean.dispose()
    open_database(postgres_url).dispose()
    yield postgres_url


@pytest.fixture
def store(url: str) -> Iterator[SqlLeaseStore]:
    engine = lease_engine(url, LEASE_S)
    yield SqlLeaseStore(engine)
    engine.dispose()


def fenced(url: str, fence: Fence) -> Engine:
    engine = open_database(url)
    fence.install(engine)
    return engine


def skills(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(text("SELECT id FROM skills")))


def test_the_lease_is_taken_renewed_and_taken_over_with_a_higher_epoch(
    store: SqlLeaseStore,
) -> None:
    assert store.holder() is None
    assert store.claim("a", None, LEASE_S, "http://a") == 1
    assert store.claim("b", None, LEASE_S, "http://b") is None  # a's, live
    holder = store.holder()
    assert holder is not None and (holder.node, holder.epoch, holder.url, holder.live) == (
        "a",
        1,
        "http://a",
        True,
    )
    assert store.claim("a", 1, LEASE_S, "http://a") == 1  # renewed, the same epoch
    assert store.claim("a", 0, LEASE_S, "http://a") is None  # not at an epoch it never held
    time.sleep(LEASE_S * 1.5)
    expired = store.holder()
    assert expired is not None and not expired.live
    # Expired, nobody took it since: its holder takes it back at the same epoch (a holder that
    # rode out the database's absence on the PBXs' marks, services/lease.py).
    assert store.claim("a", 1, LEASE_S, "http://a") == 1
    assert store.holder() == LeaseHolder("a", 1, "http://a", live=True)
    time.sleep(LEASE_S * 1.5)
    assert store.claim("b", None, LEASE_S, "http://b") == 2  # taken: one more
    assert store.claim("a", 1, LEASE_S, "http://a") is None  # too late to renew
    assert store.claim("a", None, LEASE_S, "http://a") is None
    time.sleep(LEASE_S * 1.5)
    assert store.claim("a", None, LEASE_S, "http://a") == 3  # a again, later: one more again


def test_a_release_hands_the_lease_on_at_once(store: SqlLeaseStore) -> None:
    assert store.claim("a", None, 30, "http://a") == 1
    store.release("a", 0)  # not its epoch: nothing
    assert store.claim("b", None, 30, "http://b") is None
    store.release("a", 1)
    assert store.claim("b", None, 30, "http://b") == 2


def test_writes_carry_the_epoch_and_a_stale_one_is_refused(url: str, store: SqlLeaseStore) -> None:
    fence = Fence(idle_s=5)
    engine = fenced(url, fence)
    config = SqlConfigStore(engine)
    with pytest.raises(StaleEpoch):  # holding nothing yet, it may not write
        config.put_skill(Skill("early", "early"))
    epoch = store.claim("a", None, LEASE_S, None)
    assert epoch == 1
    fence.hold("a", epoch)
    config.put_skill(Skill("sales", "sales"))  # the holder writes
    assert skills(engine) == {"sales"}  # and reads, unfenced
    time.sleep(LEASE_S * 1.5)
    # Expired, not yet taken: the holder's writes kept while the database was away go in.
    config.put_skill(Skill("late", "late"))
    assert store.claim("b", None, LEASE_S, None) == 2
    with pytest.raises(StaleEpoch):  # a frozen holder come back
        config.put_skill(Skill("stale", "stale"))
    assert skills(engine) == {"sales", "late"}  # rolled back: nothing of the refused write
    other = Fence(idle_s=5)
    other.hold("b", 2)
    taker = fenced(url, other)
    SqlConfigStore(taker).put_skill(Skill("support", "support"))
    assert skills(engine) == {"sales", "late", "support"}
    with pytest.raises(StaleEpoch):
        config.put_skill(Skill("again", "again"))
    engine.dispose()
    taker.dispose()


def test_a_tool_writes_only_while_no_controller_is_active(url: str, store: SqlLeaseStore) -> None:
    """`ccgateway dnc` and the like, writing a pair's database themselves: allowed while no
    lease is live, refused (rolled back) while one is, and a taker waits for a tool's write
    in flight, so the controller taking over loads it."""
    engine = fenced(url, ToolFence(idle_s=5))
    config = SqlConfigStore(engine)
    config.put_skill(Skill("before", "before"))  # nobody ever held the lease
    assert store.claim("a", None, LEASE_S, None) == 1
    with pytest.raises(StaleEpoch, match="became active meanwhile"):
        config.put_skill(Skill("during", "during"))
    time.sleep(LEASE_S * 1.5)  # a's lease ran out: no controller is active
    committed: list[float] = []

    def slow_commit(_connection: object) -> None:  # after the fence's check, before COMMIT
        time.sleep(LEASE_S)
        committed.append(time.monotonic())

    from sqlalchemy import event

    event.listen(engine, "commit", slow_commit)
    writer = threading.Thread(target=config.put_skill, args=(Skill("after", "after"),))
    writer.start()
    time.sleep(LEASE_S / 3)  # the tool holds the row
    assert store.claim("b", None, LEASE_S, None) == 2  # waited for the tool's commit
    took_at = time.monotonic()
    writer.join()
    assert committed and committed[0] <= took_at
    assert skills(engine) == {"before", "after"}
    engine.dispose()


def test_a_taker_waits_for_a_write_in_flight_which_commits_first(
    url: str, store: SqlLeaseStore
) -> None:
    fence = Fence(idle_s=5)
    engine = fenced(url, fence)
    epoch = store.claim("a", None, LEASE_S, None)
    assert epoch is not None
    fence.hold("a", epoch)
    committed: list[float] = []
    slow = threading.Event()

    def slow_commit(_connection: object) -> None:  # after the fence's check, before COMMIT
        if slow.is_set():
            time.sleep(LEASE_S * 2)  # the lease runs out meanwhile
            committed.append(time.monotonic())

    from sqlalchemy import event

    event.listen(engine, "commit", slow_commit)
    slow.set()
    writer = threading.Thread(
        target=SqlConfigStore(engine).put_skill, args=(Skill("inflight", "inflight"),)
    )
    writer.start()
    time.sleep(LEASE_S * 1.5)  # the writer holds the row; the lease has expired
    assert not committed
    taken = store.claim("b", None, LEASE_S, None)  # waits for the writer's commit
    took_at = time.monotonic()
    writer.join()
    assert taken == 2
    assert committed and committed[0] <= took_at  # epoch 1's write before epoch 2 began
    assert skills(engine) == {"inflight"}
    slow.clear()
    with pytest.raises(StaleEpoch):
        SqlConfigStore(engine).put_skill(Skill("after", "after"))
    engine.dispose()


def test_a_frozen_writer_holds_a_taker_back_no_longer_than_the_idle_limit(
    url: str, store: SqlLeaseStore
) -> None:
    idle_s = LEASE_S * 2  # past the lease: the taker comes before the server ends it
    fence = Fence(idle_s=idle_s)
    engine = fenced(url, fence)
    epoch = store.claim("a", None, LEASE_S, None)
    assert epoch is not None
    fence.hold("a", epoch)
    failed: list[BaseException] = []

    def frozen_write() -> None:  # the row held, then the process "frozen" before COMMIT
        try:
            with engine.connect() as connection:
                connection.execute(text("INSERT INTO skills (id, name) VALUES ('x', 'x')"))
                raw = connection.connection.dbapi_connection
                assert raw is not None
                cursor = raw.cursor()
                cursor.execute("SELECT 1 FROM ha_lease FOR SHARE")
                time.sleep(LEASE_S * 4)
                connection.commit()
        except (OperationalError, StaleEpoch, DatabaseUnavailable) as exc:  # the session ended
            failed.append(exc)

    writer = threading.Thread(target=frozen_write)
    writer.start()
    time.sleep(LEASE_S * 1.2)  # expired now, the row still held by the frozen writer
    started = time.monotonic()
    assert store.claim("b", None, LEASE_S, None) == 2
    waited = time.monotonic() - started
    writer.join()
    assert LEASE_S * 0.3 < waited < idle_s  # it waited, until the server ended that session
    assert failed, "the frozen writer's commit went through"
    assert skills(engine) == set()
    engine.dispose()


def test_a_controller_that_lost_the_lease_leaves_its_writes_and_the_active_takes_them_in(
    url: str, store: SqlLeaseStore
) -> None:
    """a's writes are refused once b took the lease (WriteFenced: its journal keeps them);
    a leaves them on the lease's engine, which is not fenced; b reads them back as a left
    them and writes them under its own epoch: the do-not-call number, a record of a call b
    did not record, but not a second record of a call b recorded from the PBX's end marks
    (with the PBX's times); then forgets them. A row that cannot be read comes back as None."""
    assert store.claim("a", None, LEASE_S, None) == 1
    fence_a = Fence(idle_s=LEASE_S)
    fence_a.hold("a", 1)
    engine_a = fenced(url, fence_a)
    time.sleep(LEASE_S * 1.5)
    assert store.claim("b", None, LEASE_S, None) == 2
    fence_b = Fence(idle_s=LEASE_S)
    fence_b.hold("b", 2)
    engine_b = fenced(url, fence_b)
    lease = lease_engine(url, LEASE_S)
    handovers = SqlHandoverStore(lease)
    try:
        only_a_knew = RecordInteraction(record("c-a", 1_700_000_000.25))
        gap = record("c-gap", 1_700_000_100.0)  # b's record of it, from the end marks
        a_s = RecordInteraction(record("c-gap", 1_700_000_099.75))  # a's: its own clock
        objection = SuppressNumber("+447700900777", "asked not to be called", 1_700_000_200.5)
        with pytest.raises(WriteFenced):
            SqlInteractionStore(engine_a).add(only_a_knew.interaction)
        SqlInteractionStore(engine_b).add(gap)

        handovers.leave("a", 1, [only_a_knew, a_s, objection])
        with lease.begin() as connection:  # one no ccgateway can read
            connection.execute(
                text(
                    "INSERT INTO ha_handover (node, epoch, left_at, write)"
                    " VALUES ('a', 1, 0, :junk)"
                ),
                {"junk": b"not a pickle"},
            )
        left = handovers.waiting(10)
        assert [(w.node, w.epoch, w.write) for w in left] == [
            ("a", 1, only_a_knew), ("a", 1, a_s), ("a", 1, objection), ("a", 1, None)
        ]  # fmt: skip
        interactions, outbound = SqlInteractionStore(engine_b), SqlOutboundStore(engine_b)
        writer = StoreWriter(SqlConfigStore(engine_b), interactions, outbound=outbound)
        for w in left:
            if w.write is not None:
                writer.take_in(w.write)  # type: ignore[arg-type]
        handovers.forget([w.id for w in left])

        calls = interactions.query(InteractionQuery())
        assert sorted((c.call_id, c.arrived_at) for c in calls) == [
            ("c-a", 1_700_000_000.25), ("c-gap", 1_700_000_100.0)
        ]  # fmt: skip
        assert outbound.suppressed(["+447700900777"]) == {"+447700900777": "internal"}
        assert handovers.waiting(10) == []
    finally:
        for engine in (engine_a, engine_b, lease):
            engine.dispose()


def test_the_lease_s_engine_bounds_each_statement_by_the_lease(url: str) -> None:
    """A renewal, or a departing controller leaving its writes, never hangs past the lease:
    the lease's engine keeps its statement timeout (the engine's default connect arguments
    once replaced it)."""
    engine = lease_engine(url, LEASE_S)
    try:
        with engine.connect() as connection:
            timeout = connection.execute(text("SHOW statement_timeout")).scalar_one()
        assert timeout == f"{int(LEASE_S * 1000)}ms"
    finally:
        engine.dispose()
