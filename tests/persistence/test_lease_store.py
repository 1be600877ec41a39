"""The pair's lease and the fence on every write, on a real PostgreSQL server: taking,
renewing, expiry and the epoch; a stale write refused; a taker waiting for a write in
flight; a frozen writer holding a taker back no longer than the idle limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from ccgateway.domain.model import Skill
from ccgateway.persistence import SqlConfigStore, open_database
from ccgateway.persistence.lease_store import (
    Fence,
    SqlLeaseStore,
    StaleEpoch,
    ToolFence,
    lease_engine,
)
from ccgateway.ports import DatabaseUnavailable, LeaseHolder

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
