"""The stores on SQLite and on a real PostgreSQL server: one suite, both databases."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from ccgateway.app import forget_orphan_keys
from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.errors import Conflict
from ccgateway.domain.model import Agent, Queue, RelaxationStep, Skill, Strategy
from ccgateway.domain.recording import RecordingMode, RecordingPolicy
from ccgateway.persistence import (
    SchemaMismatch,
    SqlConfigStore,
    SqlInteractionStore,
    SqlKeyStore,
    open_database,
)
from ccgateway.persistence.lease_store import Fence, SqlLeaseStore, StaleEpoch, lease_engine
from ccgateway.persistence.tables import SCHEMA_VERSION
from ccgateway.ports import InteractionQuery
from tests.persistence.before_alembic import as_before_alembic


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/nested/folder/ccgateway.db"  # the folders do not exist yet
        return
    base: str = request.getfixturevalue("postgres_url")
    # A clean schema for every test, whatever the last one left (even a newer version).
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    yield base


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = open_database(url)
    yield engine
    engine.dispose()


ANN = Agent("ann", "Ann", "PJSIP/agent1", {"de": 7, "billing": 2})
GERMAN = Queue("german", "German", "200", {"de": 5}, 20, 5)


def seed(config: SqlConfigStore) -> None:
    config.put_skill(Skill("de", "German"))
    config.put_skill(Skill("billing", "Billing"))
    config.put_agent(ANN)
    config.put_queue(GERMAN)


def record(
    call: str,
    arrived: float,
    queue: str = "german",
    agent: str | None = "ann",
    outcome: Outcome = Outcome.ANSWERED,
) -> Interaction:
    return Interaction(
        call, queue, agent, "+4930", outcome, arrived, arrived + 3, arrived + 60, 3.0, 57.0, 1
    )


def rows(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        count: int = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        return count


# --- configuration ---------------------------------------------------------------------------


def test_routing_settings_and_attributes_round_trip(url: str) -> None:
    engine = open_database(url)
    config = SqlConfigStore(engine)
    seed(config)
    vip = Agent("vip", "Vip", "PJSIP/agent9", {"de": 3}, attributes={"team": "vip", "site": "b"})
    steps = (
        RelaxationStep(30, requirement="de >= 1", priority_boost=2),
        RelaxationStep(90, overflow_to="german"),
    )
    sales = Queue(
        "sales",
        "Sales",
        "201",
        {"de": 5},
        requirement='team == "vip" or billing >= 3',
        strategy=Strategy.MOST_SKILLED,
        weight=2.5,
        priority=7,
        relaxation=steps,
        recording=RecordingPolicy(RecordingMode.SAMPLED, 0.25, "custom/recorded", "*"),
    )
    config.put_agent(vip)
    config.put_queue(sales)
    _, agents, queues = SqlConfigStore(engine).load()
    [loaded] = [q for q in queues if q.id == "sales"]
    assert loaded == sales and loaded.relaxation[0].compiled == steps[0].compiled
    assert loaded.compiled.source == 'de >= 5 and (team == "vip" or billing >= 3)'
    assert [a for a in agents if a.id == "vip"] == [vip]
    engine.dispose()


def test_configuration_round_trips_and_survives_a_restart(url: str) -> None:
    engine = open_database(url)
    seed(SqlConfigStore(engine))
    SqlConfigStore(engine).save_presence("ann", AgentState.PAUSED, "lunch")
    SqlInteractionStore(engine).add(record("c1", 1_700_000_000.125))
    engine.dispose()

    reopened = open_database(url)
    config = SqlConfigStore(reopened)
    skills, agents, queues = config.load()
    assert sorted(skills, key=lambda s: s.id) == [
        Skill("billing", "Billing"),
        Skill("de", "German"),
    ]
    assert agents == [ANN]
    assert queues == [GERMAN]
    assert config.load_presence() == {"ann": (AgentState.PAUSED, "lunch")}
    assert SqlInteractionStore(reopened).query(InteractionQuery()) == [
        record("c1", 1_700_000_000.125)  # times come back exactly as written
    ]
    reopened.dispose()


def test_changing_an_agent_replaces_its_skills(engine: Engine) -> None:
    config = SqlConfigStore(engine)
    seed(config)
    config.put_agent(Agent("ann", "Ann B", "PJSIP/agent9", {"billing": 9}))
    assert config.load()[1] == [Agent("ann", "Ann B", "PJSIP/agent9", {"billing": 9})]
    assert rows(engine, "agent_skills") == 1
    config.put_queue(Queue("german", "Deutsch", "201", {"de": 3, "billing": 1}))
    assert config.load()[2] == [Queue("german", "Deutsch", "201", {"de": 3, "billing": 1})]


def test_a_failing_write_leaves_nothing_behind(engine: Engine) -> None:
    config = SqlConfigStore(engine)
    seed(config)
    # The agent row is written first, then its skills, the last of which the database refuses.
    with pytest.raises(Conflict, match="agent bob"):
        config.put_agent(Agent("bob", "Bob", "PJSIP/agent2", {"de": 1, "nosuch": 1}))
    assert [a.id for a in config.load()[1]] == ["ann"]
    assert rows(engine, "agent_skills") == 2
    # A change that fails keeps the old agent whole, skills included.
    with pytest.raises(Conflict):
        config.put_agent(Agent("ann", "Ann B", "PJSIP/agent1", {"nosuch": 3}))
    assert config.load()[1] == [ANN]
    with pytest.raises(Conflict):
        config.put_queue(Queue("q2", "Q2", "300", {"de": 1, "nosuch": 1}))
    assert config.load()[2] == [GERMAN]


def test_devices_and_extensions_are_unique_and_skills_in_use_stay(engine: Engine) -> None:
    config = SqlConfigStore(engine)
    seed(config)
    with pytest.raises(Conflict, match="agent bob"):
        config.put_agent(Agent("bob", "Bob", ANN.device))
    with pytest.raises(Conflict, match="queue q2"):
        config.put_queue(Queue("q2", "Q2", GERMAN.extension))
    config.put_queue(Queue("fs", "On FreeSWITCH", GERMAN.extension, pbx="freeswitch"))
    with pytest.raises(Conflict, match="skill de"):
        config.delete_skill("de")
    assert {s.id for s in config.load()[0]} == {"de", "billing"}
    assert [a.id for a in config.load()[1]] == ["ann"]
    assert sorted(q.id for q in config.load()[2]) == ["fs", "german"]


def test_deleting_takes_the_children_and_missing_ids_are_no_ops(engine: Engine) -> None:
    config = SqlConfigStore(engine)
    seed(config)
    config.save_presence("ann", AgentState.AVAILABLE, None)
    config.delete_agent("ann")
    config.delete_agent("ann")
    assert config.load()[1] == [] and config.load_presence() == {}
    assert rows(engine, "agent_skills") == 0
    config.delete_queue("german")
    assert rows(engine, "queue_requirements") == 0
    config.delete_skill("de")
    config.delete_skill("nosuch")
    assert [s.id for s in config.load()[0]] == ["billing"]


def test_presence_is_overwritten_with_its_time_and_ignored_for_unknown_agents(url: str) -> None:
    engine = open_database(url)
    now = [1_700_000_000.0]
    config = SqlConfigStore(engine, now=lambda: now[0])
    seed(config)
    config.save_presence("ann", AgentState.PAUSED, "lunch")
    now[0] += 60
    config.save_presence("ann", AgentState.AVAILABLE, None)
    config.save_presence("ghost", AgentState.PAUSED, "x")  # removed meanwhile: nothing to do
    assert config.load_presence() == {"ann": (AgentState.AVAILABLE, None)}
    with engine.connect() as connection:
        saved = connection.execute(text("SELECT updated_at FROM agent_presence")).scalar_one()
    assert saved == 1_700_000_060.0
    engine.dispose()


# --- interactions ----------------------------------------------------------------------------


def test_interactions_are_added_once_and_filtered_oldest_first(engine: Engine) -> None:
    store = SqlInteractionStore(engine)
    for i, arrived in enumerate([300.0, 100.0, 200.0]):
        store.add(record(f"c{i}", arrived))
    store.add(record("c1", 100.0))  # the same record again
    store.add(record("c9", 150.0, queue="billing", agent=None, outcome=Outcome.ABANDONED))
    assert rows(engine, "interactions") == 4
    everything = store.query(InteractionQuery())
    assert [i.call_id for i in everything] == ["c1", "c9", "c2", "c0"]
    assert everything[0] == record("c1", 100.0)
    assert everything[1].agent_id is None and everything[1].outcome is Outcome.ABANDONED

    def ids(**query: object) -> list[str]:
        return [i.call_id for i in store.query(InteractionQuery(**query))]  # type: ignore[arg-type]

    assert ids(queue_id="billing") == ["c9"]
    assert ids(agent_id="ann") == ["c1", "c2", "c0"]
    assert ids(queue_id="german", agent_id="ann", since=150.0) == ["c2", "c0"]
    assert ids(since=150.0, until=300.0) == ["c9", "c2"]  # since inclusive, until exclusive
    assert ids(limit=2, offset=1) == ["c9", "c2"]
    assert ids(offset=10) == []
    assert ids(queue_id="nosuch") == []
    assert ids(newest_first=True, limit=2) == ["c0", "c2"]


def test_one_call_can_have_two_records(engine: Engine) -> None:
    store = SqlInteractionStore(engine)
    first = record("c1", 100.0, outcome=Outcome.TIMED_OUT)
    second = record("c1", 200.0)  # the same caller sent back to a queue
    for interaction in (first, second, first, second):
        store.add(interaction)
    assert store.query(InteractionQuery()) == [first, second]


def test_on_another_database_the_unique_constraint_keeps_a_record_once(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.dialect, "name", "another")  # no ON CONFLICT known there
    store = SqlInteractionStore(engine)
    monkeypatch.undo()
    for interaction in (record("c1", 100.0), record("c1", 100.0), record("c2", 100.0)):
        store.add(interaction)
    assert [i.call_id for i in store.query(InteractionQuery())] == ["c1", "c2"]


@pytest.mark.postgres
@pytest.mark.parametrize("url", ["postgres"], indirect=True)
def test_a_record_is_written_only_by_the_lease_holder(url: str) -> None:
    """The pair's fence (lease_store.py) holds for the records' Core INSERT too."""
    engine, leases = open_database(url), lease_engine(url, 30)
    fence = Fence(idle_s=5)
    fence.install(engine)
    store = SqlInteractionStore(engine)
    try:
        with pytest.raises(StaleEpoch):  # holding nothing yet
            store.add(record("early", 50.0))
        lease = SqlLeaseStore(leases)
        epoch = lease.claim("a", None, 30, None)
        assert epoch is not None
        fence.hold("a", epoch)
        store.add(record("c1", 100.0))
        lease.release("a", epoch)
        assert lease.claim("b", None, 30, None) == epoch + 1
        with pytest.raises(StaleEpoch):  # a's, after b took over
            store.add(record("stale", 200.0))
        assert [i.call_id for i in store.query(InteractionQuery())] == ["c1"]
    finally:
        engine.dispose()
        leases.dispose()


# --- keys ------------------------------------------------------------------------------------


def test_keys_are_stored_as_hashes_and_found_by_the_key(engine: Engine) -> None:
    keys = SqlKeyStore(engine, now=lambda: 1_700_000_000.0)
    info, plaintext = keys.create("desk 1", "agent", "ann")
    other, other_plaintext = keys.create("boss", "supervisor", None)
    assert len(plaintext) >= 43 and plaintext != other_plaintext  # 32 random bytes
    assert (info.name, info.role, info.agent_id, info.created_at) == (
        "desk 1",
        "agent",
        "ann",
        1_700_000_000.0,
    )
    assert keys.find(plaintext) == info and keys.find(other_plaintext) == other
    assert keys.find(plaintext + "x") is None and keys.find("") is None
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT key_hash FROM api_keys")).scalars().all()
    assert all(len(h) == 64 and plaintext not in h for h in stored)
    assert {k.id for k in keys.list()} == {info.id, other.id}
    assert keys.delete(info.id) and not keys.delete(info.id)
    assert keys.find(plaintext) is None and keys.find(other_plaintext) == other


def test_keys_of_agents_that_no_longer_exist_are_deleted_at_start(engine: Engine) -> None:
    # A stop between deleting an agent and deleting its keys leaves such a key behind.
    keys = SqlKeyStore(engine, now=lambda: 1_700_000_000.0)
    ann, _ = keys.create("desk 1", "agent", "ann")
    gone, gone_plaintext = keys.create("desk 2", "agent", "bob")
    boss, _ = keys.create("boss", "supervisor", None)
    forget_orphan_keys(keys, {"ann"})
    assert {k.id for k in keys.list()} == {ann.id, boss.id}
    assert keys.find(gone_plaintext) is None and gone.id not in {k.id for k in keys.list()}


# --- the database itself ---------------------------------------------------------------------


def versions(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        found = connection.execute(text("SELECT version FROM schema_version ORDER BY 1"))
        return list(found.scalars())


def test_the_schema_version_is_recorded_once(url: str) -> None:
    for _ in range(2):
        engine = open_database(url)
        assert versions(engine) == [SCHEMA_VERSION]
        engine.dispose()


def test_a_version_1_database_is_brought_up_to_date(url: str) -> None:
    engine = open_database(url)
    seed(SqlConfigStore(engine))
    before = SqlConfigStore(engine).load()
    with engine.begin() as connection:  # what version 1 looked like
        connection.execute(text("ALTER TABLE agent_presence DROP COLUMN updated_at"))
        connection.execute(text("ALTER TABLE agents DROP COLUMN attributes"))
        connection.execute(text("ALTER TABLE queues DROP COLUMN routing"))
        connection.execute(text("ALTER TABLE agents DROP COLUMN capacity"))
        for column in ("detail", "kind", "channel"):
            connection.execute(text(f"ALTER TABLE interactions DROP COLUMN {column}"))
        connection.execute(text("DROP TABLE callbacks"))
        connection.execute(text("DROP TABLE tasks"))
        connection.execute(text("DELETE FROM schema_version"))
        connection.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
        as_before_alembic(connection)  # before Alembic
    engine.dispose()
    upgraded = open_database(url)
    assert versions(upgraded) == list(range(1, SCHEMA_VERSION + 1))
    assert SqlConfigStore(upgraded).load() == before  # routing settings at their defaults
    SqlConfigStore(upgraded).save_presence("ann", AgentState.PAUSED, "after the upgrade")
    assert SqlConfigStore(upgraded).load_presence() == {
        "ann": (AgentState.PAUSED, "after the upgrade")
    }
    upgraded.dispose()


def test_a_database_from_a_newer_version_is_refused(url: str) -> None:
    engine = open_database(url)
    with engine.begin() as connection:  # a revision of a newer ccgateway
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_newer'"))
    engine.dispose()
    with pytest.raises(SchemaMismatch, match="revision ffff_newer"):
        open_database(url)


def test_a_database_from_a_newer_version_before_alembic_is_refused(url: str) -> None:
    engine = open_database(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO schema_version (version) VALUES (99)"))
        as_before_alembic(connection)  # as before Alembic
    engine.dispose()
    with pytest.raises(SchemaMismatch, match="version 99"):
        open_database(url)


def test_sqlite_enforces_foreign_keys_and_writes_ahead(tmp_path: Path) -> None:
    """Each commit synced (FULL, 2): a record is on disk before the PBX's end marks of its
    call are dropped."""
    engine = open_database(f"sqlite:///{tmp_path}/a/b.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar_one() == 2
    engine.dispose()


def test_an_in_memory_sqlite_database_is_one_database_for_every_thread() -> None:
    engine = open_database("sqlite://")
    config = SqlConfigStore(engine)
    worker = threading.Thread(target=config.put_skill, args=(Skill("de", "German"),))
    worker.start()
    worker.join()
    assert config.load()[0] == [Skill("de", "German")]
    engine.dispose()
