"""Everything the API stores can be read back: text that UTF-8 (or PostgreSQL) cannot hold is
refused, numbers that reach SQL are bounded, files and bodies have limits applied before
they are read, and nobody's body is read before we know who sent it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from ccgateway.api.intake import MAX_JSON_BYTES
from tests.api.dialer_helpers import CAMPAIGN, csv_of, number, send
from tests.services.stack import ADMIN, Stack

LONE = "\\ud800"  # as JSON writes it: a high surrogate with no low one after it


async def post_raw(stack: Stack, method: str, path: str, raw: str, key: str | None = ADMIN) -> Any:
    """A JSON body written by hand (httpx would not send a lone surrogate): (status, body)."""
    assert stack.client is not None
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    response = await stack.client.request(method, path, content=raw.encode(), headers=headers)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("method", "path", "raw", "field"),
    [
        (
            "POST",
            "/v1/agents",
            '{"id": "x1", "name": "X", "device": "PJSIP/x1", "attributes": {"team": "%s"}}',
            "body.attributes.team",
        ),
        (
            "POST",
            "/v1/agents",
            '{"id": "x1", "name": "X", "device": "PJSIP/x1", "attributes": {"t%s": "vip"}}',
            "body.attributes.t?",
        ),
        ("PATCH", "/v1/agents/a1", '{"name": "A%s"}', "body.name"),
        (
            "POST",
            "/v1/tasks",
            '{"queue_id": "german", "channel": "chat", "title": "hi", "data": {"crm": "%s"}}',
            "body.data.crm",
        ),
        ("POST", "/v1/tasks", '{"queue_id": "german", "channel": "chat", "title": "%s"}', "title"),
        ("POST", "/v1/skills", '{"id": "fr", "name": "French %s"}', "body.name"),
        (
            "POST",
            "/v1/users",
            '{"username": "sue", "password": "a long enough password 1", "role": "supervisor",'
            ' "display_name": "Sue %s"}',
            "body.display_name",
        ),
        ("POST", "/v1/notes", '{"number": "+442079460001", "text": "x%s"}', "body.text"),
        ("POST", "/v1/dnc", '{"numbers": ["+442079460001"], "reason": "%s"}', "body.reason"),
    ],
)
async def test_a_lone_surrogate_anywhere_is_refused_and_every_list_still_reads(
    stack: Stack, method: str, path: str, raw: str, field: str
) -> None:
    status, body = await post_raw(stack, method, path, raw % LONE)
    assert (status, body["error_id"]) == (422, "invalid-value"), body
    assert field in body["message"] and "surrogate (\\ud800)" in body["message"], body
    for listing in ("/v1/agents", "/v1/tasks", "/v1/skills", "/v1/users"):
        assert (await stack.call("GET", listing))[0] == 200, listing


async def test_a_pair_of_surrogates_is_text_and_reads_back(stack: Stack) -> None:
    raw = '{"id": "x1", "name": "X \\ud83d\\ude00", "device": "PJSIP/x1"}'
    status, body = await post_raw(stack, "POST", "/v1/agents", raw)
    assert (status, body["name"]) == (201, "X \U0001f600"), body
    assert (await stack.ok("GET", "/v1/agents/x1"))["name"] == "X \U0001f600"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"id": "x1", "name": "X", "device": "PJSIP/x1", "attributes": {"a": "b\\u0000"}}', "NUL"),
        ('{"id": "x1", "name": "X", "device": "PJSIP/x1", "skills": {"de": NaN}}', "NaN"),
        ('{"id": "x1", "name": "X", "device": "PJSIP/x1", "skills": {"de": -Infinity}}', "Inf"),
        ("[" * 5000 + "]" * 5000, ""),  # too deep for Python's json: refused, not a 500
    ],
)
async def test_nul_nan_infinity_and_deep_nesting_are_refused(
    stack: Stack, raw: str, problem: str
) -> None:
    status, body = await post_raw(stack, "POST", "/v1/agents", raw)
    assert 400 <= status < 500 and problem in body["message"], (status, body)
    assert (await stack.error("GET", "/v1/agents/x1"))[:2] == (404, "not-found")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/interactions?offset=9223372036854775808",
        "/v1/interactions?limit=9223372036854775808",
        "/v1/campaigns/renewals/contacts?offset=9223372036854775808",
        "/v1/campaigns/renewals/dials?offset=99999999999999999999",
    ],
)
async def test_paging_past_what_sql_holds_is_422(stack: Stack, path: str) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    status, error_id, message = await stack.error("GET", path)
    assert (status, error_id) == (422, "invalid-request") and "less than or equal" in message


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/callbacks", {"queue_id": "german", "number": "+442079460001"}),
        ("/v1/campaigns/renewals/contacts/l1-2/callback", {}),
    ],
)
async def test_a_moment_past_the_year_9999_in_utc_is_refused(
    stack: Stack, path: str, body: dict[str, Any]
) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    await send(stack, "POST", "/v1/campaigns/renewals/lists?list_id=l1&name=L", csv_of(number(1)))
    late = "9999-12-31T23:00:00-05:00"  # a valid datetime: 04:00 on 10000-01-01 in UTC
    sent = {**body, "not_before": late} if "callbacks" in path else {"at": late}
    status, error_id, message = await stack.error("POST", path, sent)
    assert (status, error_id) == (422, "invalid-request") and "9999" in message
    assert (await stack.call("GET", "/v1/callbacks"))[0] == 200


async def test_a_csv_cell_over_the_csv_modules_limit_is_422_with_its_line(stack: Stack) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    data = csv_of(f"{number(1)},Ann", f"{number(2)},{'x' * 131_073}", f"{number(3)},Cy")
    path = "/v1/campaigns/renewals/lists?list_id=l1&name=L"
    status, body = await send(stack, "POST", path, data)
    assert (status, body["error_id"]) == (422, "invalid-value"), body
    assert "line 3" in body["message"] and "131,072" in body["message"], body
    assert await stack.ok("GET", "/v1/campaigns/renewals/lists") == []  # nothing half-written


async def test_a_consent_dated_in_the_future_is_refused(stack: Stack) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    data = csv_of(
        f"{number(1)},express,2999-01-01T00:00:00Z,web form",
        f"{number(2)},express,32503680000,web form",  # epoch seconds of 3000-01-01
        f"{number(3)},express,2024-05-01,web form",
        f"{number(4)},express,1969-12-31T23:59:59Z,web form",
        header="number,consent,consent_at,consent_source",
    )
    path = "/v1/campaigns/renewals/lists?list_id=l1&name=L"
    status, report = await send(stack, "POST", path, data)
    assert status == 201, report
    assert report["imported"] == 1, report
    reasons = {r["line"]: " ".join(r["reasons"]) for r in report["rejected"]}
    assert "in the future" in reasons[2] and "in the future" in reasons[3], reasons
    assert "before 1970" in reasons[5], reasons
    consents = (await stack.ok("GET", "/v1/campaigns/renewals/contacts/l1-4"))["consents"]
    assert consents["service"]["given_at"] == "2024-05-01T00:00:00Z"


# --- the body: its size and who sent it, before it is read ---------------------------------


class Body:
    """A request body that counts how many of its chunks the server pulled."""

    def __init__(self, chunks: int, size: int = 64 * 1024) -> None:
        self.chunks, self.size, self.pulled = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b" " * self.size


async def stream(
    stack: Stack, path: str, body: Body, headers: dict[str, str], method: str = "POST"
) -> tuple[int, Any]:
    assert stack.client is not None
    response = await stack.client.request(method, path, content=body, headers=headers)
    return response.status_code, response.json()


JSON = {"Content-Type": "application/json"}
AUTH = {"Authorization": f"Bearer {ADMIN}"}


async def test_an_unknown_callers_body_is_never_read(stack: Stack) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-key"}):
        body = Body(chunks=100)
        status, answer = await stream(stack, "/v1/agents", body, headers | JSON)
        assert (status, answer["error_id"]) == (401, "unauthenticated"), answer
        assert body.pulled == 0
    # The same with a Content-Length far over the limit: still 401, still unread.
    body = Body(chunks=100)
    length = {"Content-Length": str(300 * MAX_JSON_BYTES)}
    status, answer = await stream(stack, "/v1/agents", body, length | JSON)
    assert (status, body.pulled) == (401, 0)


async def test_a_json_body_over_the_limit_is_413_before_it_is_read(stack: Stack) -> None:
    # Declared: refused before a byte is pulled.
    body = Body(chunks=40)
    length = {"Content-Length": str(40 * 64 * 1024)}
    status, answer = await stream(stack, "/v1/agents", body, AUTH | JSON | length)
    assert (status, answer["error_id"], body.pulled) == (413, "too-large", 0), answer
    assert "limit of 1 MB" in answer["message"]
    # Streamed without a length: refused once the count passes the limit.
    body = Body(chunks=100)
    status, answer = await stream(stack, "/v1/agents", body, AUTH | JSON)
    assert (status, answer["error_id"]) == (413, "too-large"), answer
    assert body.pulled == MAX_JSON_BYTES // (64 * 1024) + 1
    # The login (no caller yet) is bounded too.
    body = Body(chunks=100)
    status, answer = await stream(stack, "/v1/session", body, JSON)
    assert (status, answer["error_id"]) == (413, "too-large"), answer


async def test_a_file_route_allows_more_than_a_json_body(stack: Stack) -> None:
    await stack.ok("POST", "/v1/campaigns", CAMPAIGN)
    long_cell = "x" * 100_000  # over the domain's field limit: those rows are refused
    rows = [f"{number(n)},{long_cell}" for n in range(1, 12)]
    data = csv_of(f"{number(20)},short", *rows, header="number,notes")
    assert len(data) > MAX_JSON_BYTES
    path = "/v1/campaigns/renewals/lists?list_id=l1&name=L"
    status, report = await send(stack, "POST", path, data)
    assert status == 201 and (report["rows"], report["imported"]) == (12, 1), report


async def test_no_operation_reads_an_unknown_callers_body(stack: Stack) -> None:
    operations = [
        (method.upper(), path.replace("{", "").replace("}", ""))
        for path, item in stack.api.openapi()["paths"].items()
        for method in item
        if method in ("post", "put", "patch", "delete") and path != "/v1/session"
    ]
    assert len(operations) > 40
    for method, path in operations:
        body = Body(chunks=4)
        status, answer = await stream(stack, path, body, JSON, method)
        assert (status, answer["error_id"], body.pulled) == (401, "unauthenticated", 0), path


# --- keys die with their agent -------------------------------------------------------------


async def test_a_deleted_agents_key_stays_dead_for_a_new_agent_of_the_same_id(
    stack: Stack,
) -> None:
    body = {"name": "desk", "role": "agent", "agent_id": "a3"}
    key = (await stack.ok("POST", "/v1/keys", body))["key"]
    assert (await stack.call("GET", "/v1/agents/a3", key=key))[0] == 200
    await stack.ok("POST", "/v1/agents/a3/state", {"state": "logged_out"})
    assert (await stack.call("DELETE", "/v1/agents/a3"))[0] == 204
    again = {"id": "a3", "name": "New A3", "device": "PJSIP/agent3"}
    await stack.ok("POST", "/v1/agents", again)
    assert (await stack.error("GET", "/v1/agents/a3", key=key))[:2] == (401, "unauthenticated")
    status, error_id, _ = await stack.error(
        "POST", "/v1/agents/a3/state", {"state": "available"}, key=key
    )
    assert (status, error_id) == (401, "unauthenticated")
    assert all(k["agent_id"] != "a3" for k in await stack.ok("GET", "/v1/keys"))
