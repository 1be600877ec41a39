"""The stores on SQLite and on a real PostgreSQL server: one suite, both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Interaction, Outcome
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.persistence import SqlConfigStore, SqlInteractionStore, SqlKeyStore, open_database
from ccgateway.ports import InteractionQuery


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/nested/ccgateway.db"
        return
    base: str = request.getfixturevalue("postgres_url")
    engine = open_database(base)
    with engine.begin() as connection:  # a clean schema for every test
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    yield base


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = open_database(url)
    yield engine
    engine.dispose()


def seed(config: SqlConfigStore) -> None:
    config.put_skill(Skill("de", "German"))
    config.put_skill(Skill("billing", "Billing"))
    config.put_agent(Agent("ann", "Ann", "PJSIP/agent1", {"de": 7, "billing": 2}))
    config.put_queue(Queue("german", "German", "200", {"de": 5}, 20, 5))


def record(call: str, arrived: float, queue: str = "german", agent: str | None = "ann",
           outcome: Outcome = Outcome.ANSWERED) -> Interaction:
    return Interaction(call, queue, agent, "+4930", outcome, arrived, arrived + 3,
                       arrived + 60, 3.0, 57.0, 1)


def test_configuration_round_trips_and_survives_a_restart(url: str) -> None:
    engine = open_database(url)
    seed(SqlConfigStore(engine))
    SqlConfigStore(engine).save_presence("ann", AgentState.PAUSED, "lunch")
    engine.dispose()
    reopened = open_database(url)
    config = SqlConfigStore(reopened)
    skills, agents, queues = config.load()
    assert {s.id for s in skills} == {"de", "billing"}
    assert agents == [Agent("ann", "Ann", "PJSIP/agent1", {"de": 7, "billing": 2})]
    assert queues == [Queue("german", "German", "200", {"de": 5}, 20, 5)]
    assert config.load_presence() == {"ann": (AgentState.PAUSED, "lunch")}
    reopened.dispose()


def test_changing_an_agent_replaces_its_skills_in_one_transaction(engine: Engine) -> None:
    config = SqlConfigStore(engine)
    seed(config)
    config.put_agent(Agent("ann", "Ann B", "PJSIP/agent9", {"billing": 9}))
    assert config.load()[1] == [Agent("ann", "Ann B", "PJSIP/agent9", {"billing": 9})]
    with pytest.raises(IntegrityError):  # a skill that does not exist: nothing is written
        config.put_agent(Agent("bob", "Bob", "PJSIP/agent2", {"nosuch": 1}))
    assert [a.id for a in config.load()[1]] == ["ann"]


def test_deleting_an_agent_takes_its_presence_and_skills(engine: Engine) -> None:
    config = SqlConfigStore(engine)
    seed(config)
    config.save_presence("ann", AgentState.AVAILABLE, None)
    config.delete_agent("ann")
    assert config.load()[1] == [] and config.load_presence() == {}
    config.delete_queue("german")
    config.delete_skill("de")
    assert [s.id for s in config.load()[0]] == ["billing"]


def test_interactions_are_added_once_and_filtered_oldest_first(engine: Engine) -> None:
    store = SqlInteractionStore(engine)
    for i, arrived in enumerate([300.0, 100.0, 200.0]):
        store.add(record(f"c{i}", arrived))
    store.add(record("c1", 100.0))  # the same record again
    store.add(record("c9", 150.0, queue="billing", agent=None, outcome=Outcome.ABANDONED))
    everything = store.query(InteractionQuery())
    assert [i.call_id for i in everything] == ["c1", "c9", "c2", "c0"]
    assert everything[0] == record("c1", 100.0)
    assert [i.call_id for i in store.query(InteractionQuery(queue_id="billing"))] == ["c9"]
    assert [i.call_id for i in store.query(InteractionQuery(agent_id="ann"))] == ["c1", "c2",
                                                                                 "c0"]
    window = InteractionQuery(since=150.0, until=300.0)
    assert [i.call_id for i in store.query(window)] == ["c9", "c2"]
    assert [i.call_id for i in store.query(InteractionQuery(limit=2, offset=1))] == ["c9", "c2"]


def test_keys_are_stored_as_hashes_and_found_by_the_key(engine: Engine) -> None:
    keys = SqlKeyStore(engine)
    info, plaintext = keys.create("desk 1", "agent", "ann")
    assert keys.find(plaintext) == info
    assert keys.find(plaintext + "x") is None
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT key_hash FROM api_keys")).scalar_one()
    assert plaintext not in stored
    assert [k.id for k in keys.list()] == [info.id]
    assert keys.delete(info.id) and not keys.delete(info.id)
    assert keys.find(plaintext) is None
