"""Skills, agents, queues and keys over HTTP: round trips, and every documented 4xx."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ccgateway.api.errors import ERRORS
from ccgateway.domain.errors import DomainError
from ccgateway.domain.events import CallWaiting, PbxResynced
from tests.services.stack import Stack


async def test_skills_round_trip(stack: Stack) -> None:
    skill = {"id": "fr", "name": "French"}
    assert await stack.ok("POST", "/v1/skills", skill) == skill
    assert await stack.ok("GET", "/v1/skills/fr") == skill
    assert [s["id"] for s in await stack.ok("GET", "/v1/skills")] == ["de", "en", "fr"]
    assert await stack.ok("PATCH", "/v1/skills/fr", {"name": "Français"}) == {
        "id": "fr",
        "name": "Français",
    }
    assert (await stack.call("DELETE", "/v1/skills/fr")) == (204, None)
    assert (await stack.error("GET", "/v1/skills/fr"))[:2] == (404, "not-found")


async def test_agents_round_trip_with_live_state(stack: Stack) -> None:
    body = {"id": "a9", "name": "Nine", "device": "PJSIP/agent9", "skills": {"de": 3}}
    created = await stack.ok("POST", "/v1/agents", body)
    assert {k: created[k] for k in body} == body
    assert (created["state"], created["reason"], created["call_id"], created["calls_answered"]) == (
        "logged_out",
        None,
        None,
        0,
    )
    assert created["since"] == stack.clock.now() and created["pbx"] == "asterisk"
    changed = await stack.ok("PATCH", "/v1/agents/a9", {"skills": {"en": 2, "de": 6}})
    assert changed["skills"] == {"en": 2, "de": 6} and changed["name"] == "Nine"
    paused = await stack.ok("POST", "/v1/agents/a9/state", {"state": "paused", "reason": "coffee"})
    assert (paused["state"], paused["reason"]) == ("paused", "coffee")
    assert (await stack.ok("GET", "/v1/agents/a9"))["reason"] == "coffee"
    assert [a["id"] for a in await stack.ok("GET", "/v1/agents")] == ["a1", "a2", "a3", "a9"]
    assert (await stack.call("DELETE", "/v1/agents/a9")) == (204, None)
    assert (await stack.error("GET", "/v1/agents/a9"))[:2] == (404, "not-found")
    assert [a.id for a in stack.config.load()[1]] == ["a1", "a2", "a3"]  # gone from the store


async def test_queues_round_trip(stack: Stack) -> None:
    body = {
        "id": "english",
        "name": "English",
        "extension": "300",
        "requires": {"en": 5},
        "ring_timeout_s": 20.0,
        "wrapup_s": 0.0,
    }
    defaults = {
        "pbx": "asterisk",
        "requirement": "",
        "effective_requirement": "en >= 5",
        "strategy": "longest_idle",
        "weight": 1.0,
        "priority": 0,
        "relaxation": [],
        "last_agent_wait_s": 0.0,
        "last_agent_within_s": 86400.0,
        "limits": {
            "max_wait_s": None,
            "on_max_wait": {"kind": "fallback", "target": None},
            "max_waiting": None,
            "on_full": {"kind": "fallback", "target": None},
            "on_no_agents": None,
            "on_closed": {"kind": "message", "target": "im-sorry&please-try-call-later"},
        },
        "hours": None,
        "announce": {
            "position": False,
            "wait_time": False,
            "comfort": None,
            "first_s": 30.0,
            "every_s": 60.0,
            "offer_callback": False,
        },
        "callback": {"attempts": 3, "retry_s": 300.0, "ring_s": 30.0, "caller_id": None},
        "recording": {
            "mode": "never",
            "share": 1.0,
            "notice": None,
            "refuse_key": None,
            "stereo": False,
        },
        "trunked_pbxes": [],
    }
    assert await stack.ok("POST", "/v1/queues", body) == {**body, **defaults}
    changed = await stack.ok("PATCH", "/v1/queues/english", {"extension": "301"})
    assert (changed["extension"], changed["requires"]) == ("301", {"en": 5})
    assert await stack.ok("GET", "/v1/queues/english") == changed
    assert await stack.ok("GET", "/v1/queues/english/status") == {
        "queue_id": "english",
        "waiting": 0,
        "longest_wait_s": 0.0,
        "offering": 0,
        "connected": 0,
        "agents_qualified": 2,
        "agents_logged_in": 2,
        "agents_available": 2,
        "occupancy": 0.0,
    }
    assert (await stack.call("DELETE", "/v1/queues/english")) == (204, None)
    assert [q["id"] for q in await stack.ok("GET", "/v1/queues")] == ["german"]


async def test_concurrent_patches_of_different_fields_both_stay(stack: Stack) -> None:
    await asyncio.gather(
        stack.ok("PATCH", "/v1/agents/a3", {"name": "Three"}),
        stack.ok("PATCH", "/v1/agents/a3", {"device": "PJSIP/desk3"}),
        stack.ok("PATCH", "/v1/agents/a3", {"skills": {"en": 4}}),
    )
    agent = await stack.ok("GET", "/v1/agents/a3")
    assert (agent["name"], agent["device"], agent["skills"]) == ("Three", "PJSIP/desk3", {"en": 4})


AGENT = {"id": "a9", "name": "A", "device": "PJSIP/agent9"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error_id", "says"),
    [
        ("POST", "/v1/skills", {"id": "de", "name": "again"}, 409, "conflict", "already exists"),
        ("POST", "/v1/skills", {"id": "Bad Id", "name": "x"}, 422, "invalid-value", "skill id"),
        (
            "POST",
            "/v1/skills",
            {"id": "x", "name": "x", "extra": 1},
            422,
            "invalid-request",
            "extra: Extra inputs are not permitted",
        ),
        ("POST", "/v1/skills", {"name": "x"}, 422, "invalid-request", "body.id: Field required"),
        ("POST", "/v1/skills", "{not json", 422, "invalid-request", "JSON"),
        (
            "POST",
            "/v1/agents",
            {**AGENT, "skills": {"fr": 3}},
            422,
            "invalid-value",
            "unknown skill(s): fr",
        ),
        (
            "POST",
            "/v1/agents",
            {**AGENT, "skills": {"de": 11}},
            422,
            "invalid-value",
            "it must be 1-10",
        ),
        (
            "POST",
            "/v1/agents",
            {**AGENT, "skills": {"de": "5"}},
            422,
            "invalid-request",
            "body.skills.de",
        ),
        ("POST", "/v1/agents", {**AGENT, "id": "a1"}, 409, "conflict", "agent 'a1' already"),
        (
            "POST",
            "/v1/agents",
            {**AGENT, "device": "PJSIP/agent1"},
            409,
            "conflict",
            "device PJSIP/agent1 on asterisk already belongs to agent a1",
        ),
        ("POST", "/v1/agents", {**AGENT, "device": "x\r\ny"}, 422, "invalid-value", "device"),
        (
            "POST",
            "/v1/agents",
            {**AGENT, "pbx": "freeswitch"},
            422,
            "invalid-value",
            "not one this controller drives (asterisk)",
        ),
        (
            "PATCH",
            "/v1/agents/a1",
            {"name": None},
            422,
            "invalid-request",
            "body.name: Value error, cannot be null",
        ),
        ("PATCH", "/v1/agents/a1", {"id": "a7"}, 422, "invalid-request", "body.id: Extra"),
        ("PATCH", "/v1/agents/nobody", {"name": "x"}, 404, "not-found", "no agent 'nobody'"),
        (
            "POST",
            "/v1/queues",
            {"id": "q2", "name": "Q", "extension": "200"},
            409,
            "conflict",
            "extension 200 on asterisk already belongs to queue german",
        ),
        (
            "POST",
            "/v1/queues",
            {"id": "q2", "name": "Q", "extension": "2OO"},
            422,
            "invalid-value",
            "1-20 digits",
        ),
        (
            "PATCH",
            "/v1/queues/german",
            {"ring_timeout_s": 1},
            422,
            "invalid-value",
            "ring_timeout_s must be between 5 and 120",
        ),
        ("PATCH", "/v1/queues/german", {"requires": {"de": 0}}, 422, "invalid-value", "1-10"),
        (
            "PATCH",
            "/v1/queues/german",
            {"recording": {"mode": "always", "refuse_key": "9"}},
            422,
            "invalid-value",
            "a refusal key needs a notice",
        ),
        (
            "PATCH",
            "/v1/queues/german",
            {"recording": {"mode": "always", "notice": "x&../../etc/passwd"}},
            422,
            "invalid-value",
            "sound",
        ),
        (
            "PATCH",
            "/v1/queues/german",
            {"recording": {"mode": "always", "notice": "n", "refuse_key": "99"}},
            422,
            "invalid-value",
            "0-9 and *",
        ),
        ("GET", "/v1/agents/nobody", None, 404, "not-found", "nobody"),
        ("GET", "/v1/queues/nobody/status", None, 404, "not-found", "no queue 'nobody'"),
        ("POST", "/v1/agents/a1/state", {"state": "on_call"}, 422, "invalid-request", "state"),
        ("POST", "/v1/agents/nobody/state", {"state": "paused"}, 404, "not-found", "nobody"),
        ("DELETE", "/v1/skills/de", None, 409, "conflict", "still used by: a1, a2, german"),
        ("DELETE", "/v1/keys/nosuch", None, 404, "not-found", "no key 'nosuch'"),
        (
            "POST",
            "/v1/keys",
            {"name": "k", "role": "agent"},
            422,
            "invalid-value",
            "needs agent_id",
        ),
        (
            "POST",
            "/v1/keys",
            {"name": "k", "role": "agent", "agent_id": "nobody"},
            422,
            "invalid-value",
            "no agent 'nobody'",
        ),
        (
            "POST",
            "/v1/keys",
            {"name": "k", "role": "supervisor", "agent_id": "a1"},
            422,
            "invalid-value",
            "only keys with role agent",
        ),
        ("POST", "/v1/keys", {"name": "k", "role": "root"}, 422, "invalid-request", "role"),
        ("GET", "/v1/interactions?since=yesterday", None, 422, "invalid-request", "since"),
        ("GET", "/v1/interactions?limit=0", None, 422, "invalid-request", "limit"),
        ("GET", "/v1/nothing-here", None, 404, "not-found", "Not Found"),
        ("PUT", "/v1/skills/de", {"name": "x"}, 405, "method-not-allowed", "Method Not Allowed"),
    ],
)
async def test_bad_input_gets_a_4xx_that_says_what_was_wrong(
    stack: Stack, method: str, path: str, body: Any, status: int, error_id: str, says: str
) -> None:
    assert stack.client is not None
    headers = {"Authorization": "Bearer test-admin-key-0123456789"}
    if isinstance(body, str):
        headers["Content-Type"] = "application/json"
        response = await stack.client.request(method, path, content=body, headers=headers)
    else:
        response = await stack.client.request(method, path, json=body, headers=headers)
    payload = response.json()
    assert (response.status_code, payload["error_id"]) == (status, error_id), payload
    assert says in payload["message"], payload
    if error_id == "invalid-request":
        assert payload["details"] and all(
            {"field", "problem"} <= set(d) for d in payload["details"]
        )


async def test_live_state_refuses_what_it_cannot_do(stack: Stack) -> None:
    await stack.emit(PbxResynced(), CallWaiting("c1", "200"))  # a1 is now ringing
    assert await stack.error("POST", "/v1/agents/a1/state", {"state": "paused"}) == (
        409,
        "invalid-transition",
        "an agent who is reserved cannot pause",
    )
    assert (await stack.error("DELETE", "/v1/queues/german"))[:2] == (409, "conflict")
    # a refused change leaves nothing behind: the queue is still stored and live
    assert [q.id for q in stack.config.load()[2]] == ["german"]


def test_every_domain_error_has_its_row_in_the_table() -> None:
    def subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
        return {cls, *(s for c in cls.__subclasses__() for s in subclasses(c))}

    assert subclasses(DomainError) - {DomainError} <= set(ERRORS)


async def test_the_docs_are_public_and_describe_the_bearer_key(stack: Stack) -> None:
    assert stack.client is not None
    docs = await stack.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    status, spec = await stack.call("GET", "/openapi.json", key=None)
    assert status == 200
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    skill_id = spec["components"]["schemas"]["SkillIn"]["properties"]["id"]
    assert "chosen by the client" in skill_id["description"]
