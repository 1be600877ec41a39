"""The callback and task stores, and the queue settings codec, on SQLite and on a real
PostgreSQL server (the `url` fixture of test_stores.py)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, text

from ccgateway.domain.calendar import Hours
from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.domain.queue_policy import (
    ActionKind,
    Announcements,
    CallbackPolicy,
    Limits,
    QueueAction,
)
from ccgateway.domain.records import Callback, CallbackState, Task, TaskState
from ccgateway.persistence import SqlCallbackStore, SqlConfigStore, SqlTaskStore
from tests.persistence.test_stores import engine, url  # noqa: F401 (fixtures)


def test_a_callback_is_saved_whole_and_only_live_ones_come_back(engine: Engine) -> None:  # noqa: F811
    store = SqlCallbackStore(engine)
    waiting = Callback("cb-1", "q", "+4930111", "Ann", 5, 10.0, 12.0, not_before=None)
    dialling = dataclasses.replace(
        waiting, id="cb-2", state=CallbackState.DIALING, attempts=1, agent_id="a1", leg_id="l1"
    )
    done = dataclasses.replace(waiting, id="cb-3", state=CallbackState.DONE, answered_at=40.0)
    for callback in (waiting, dialling, done):
        store.save(callback)
    store.save(dataclasses.replace(waiting, name="Ann B.", not_before=99.5))  # replaced whole
    assert [c.id for c in store.live()] == ["cb-1", "cb-2"]
    assert store.get("cb-1") == dataclasses.replace(waiting, name="Ann B.", not_before=99.5)
    assert store.get("cb-2") == dialling and store.get("cb-3") == done
    assert store.get("cb-9") is None


def test_a_task_keeps_its_data_and_ended_ones_stay_as_history(engine: Engine) -> None:  # noqa: F811
    store = SqlTaskStore(engine)
    task = Task("task-1", "chat", "q", 3, 1.0, "Order 42", {"crm": "42", "url": "https://x/y"})
    store.save(task)
    assigned = dataclasses.replace(
        task, state=TaskState.ASSIGNED, agent_id="a1", offered_at=2.0, assigned_at=3.0, offers=1
    )
    store.save(assigned)
    store.save(dataclasses.replace(task, id="task-2", state=TaskState.COMPLETED, ended_at=9.0))
    assert store.live() == [assigned]
    completed = store.get("task-2")
    assert completed is not None and dict(completed.data) == {"crm": "42", "url": "https://x/y"}


def test_a_stored_state_that_is_no_member_is_refused_with_invalid_value(engine: Engine) -> None:  # noqa: F811
    callbacks, tasks = SqlCallbackStore(engine), SqlTaskStore(engine)
    callbacks.save(Callback("cb-1", "q", "+4930111", "Ann", 5, 10.0, 12.0))
    tasks.save(Task("task-1", "chat", "q", 3, 1.0))
    with engine.begin() as connection:
        connection.execute(text("UPDATE callbacks SET state = 'lost'"))
        connection.execute(text("UPDATE tasks SET state = 'lost'"))
    with pytest.raises(InvalidValue, match="stored callback cb-1: state 'lost'"):
        callbacks.get("cb-1")
    with pytest.raises(InvalidValue, match="stored task task-1: state 'lost'"):
        tasks.get("task-1")


def test_a_queue_s_rules_and_an_agent_s_capacity_read_back_as_written(engine: Engine) -> None:  # noqa: F811
    config = SqlConfigStore(engine)
    config.put_skill(Skill("de", "German"))
    config.put_queue(Queue("other", "Other", "201"))
    queue = Queue(
        "rules",
        "Rules",
        "200",
        {"de": 3},
        limits=Limits(
            max_wait_s=120,
            on_max_wait=QueueAction(ActionKind.VOICEMAIL, "200@ccgw"),
            max_waiting=8,
            on_full=QueueAction(ActionKind.QUEUE, "other"),
            on_no_agents=QueueAction(ActionKind.CALLBACK),
        ),
        hours=Hours("Europe/Berlin", {"mon": ("08:00-12:00", "13:00-18:00")}, ("2026-12-24",)),
        announce=Announcements(position=True, wait_time=True, comfort="beep", offer_callback=True),
        callback=CallbackPolicy(attempts=2, retry_s=60, ring_s=25, caller_id="+4930999"),
    )
    config.put_queue(queue)
    config.put_agent(Agent("a1", "A1", "PJSIP/agent1", {"de": 5}, capacity={"chat": 2}))
    _, agents, queues = config.load()
    assert {q.id: q for q in queues}["rules"] == queue
    assert agents[0].capacity == {"chat": 2}


@pytest.mark.parametrize(
    "bad", ['{"limits": {"max_wait_s": 1}}', '{"hours": {"timezone": "X/Y", "weekly": {}}}']
)
def test_a_row_edited_by_hand_cannot_smuggle_in_a_value_the_api_refuses(bad: str) -> None:
    from ccgateway.domain.errors import InvalidValue
    from ccgateway.persistence.codec import queue_settings_from_json

    with pytest.raises(InvalidValue):
        Queue("q", "q", "200", **queue_settings_from_json(bad))
