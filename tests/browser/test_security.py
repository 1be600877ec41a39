"""What a signed-in agent's browser must not be made to do, and must not see.

CSRF: a page from another origin (a second local HTTP server, on another port of the same
host: the same *site*, so SameSite cookies alone do not stop it) posts a form and a
credentialed fetch to the controller, and opens the event stream with the agent's cookie:
the agent's state does not change and the stream is refused. An agent cannot open the
history of a contact another agent served: 403 in the page, while that agent can.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.browser.conftest import (
    AGENTS,
    QUEUES,
    People,
    Served,
    agent_user,
    free_tcp_port,
    new_number,
    until,
)

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

AGENT = "agent5"

EVIL_PAGE = """<!doctype html>
<html><head><title>win a prize</title></head><body>
<form id="f" method="POST" enctype="text/plain" action="{target}/v1/agents/{agent}/state">
  <input name='{{"state":"available","x":"' value='"}}'>
</form>
<script>
  const results = {{}};
  window.results = results;
  const ws = new WebSocket("{ws}/v1/events");
  ws.onclose = (e) => {{ results.ws = e.code; }};
  ws.onmessage = () => {{ results.wsMessage = true; }};
  fetch("{target}/v1/agents/{agent}/state", {{
    method: "POST", mode: "no-cors", credentials: "include",
    headers: {{"Content-Type": "text/plain"}},
    body: JSON.stringify({{state: "available"}}),
  }}).then(() => {{ results.fetch = "sent"; }}, () => {{ results.fetch = "failed"; }});
  fetch("{target}/v1/session", {{credentials: "include"}})
    .then((r) => r.text()).then((t) => {{ results.read = t; }},
                                  () => {{ results.read = "blocked"; }});
</script>
</body></html>"""


@pytest.fixture
def evil_site(served: Served) -> Iterator[str]:
    """A second local HTTP server on another port: another origin, the same host."""
    target = served.base_url
    page = EVIL_PAGE.format(
        target=target, ws=target.replace("http://", "ws://"), agent=AGENT
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_tcp_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def agent_state(served: Served) -> str:
    return str((await served.aadmin("GET", f"/v1/agents/{AGENT}"))["state"])


async def test_a_page_from_another_origin_cannot_act_with_the_agents_cookie(
    people: People, served: Served, evil_site: str
) -> None:
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "paused", "reason": "break"})
    victim = await people.tab(agent_user(AGENT))
    page = victim.page
    await page.goto("/ui/agent")  # signed in, the desktop open: then a link is followed
    await page.goto(f"{evil_site}/prize.html")
    await page.wait_for_function(
        "window.results && 'ws' in window.results && 'fetch' in window.results "
        "&& 'read' in window.results",
        timeout=10_000,
    )
    results = await page.evaluate("window.results")
    print("from the other origin:", results)
    assert results["ws"] in (4403, 1006), results  # refused (1006: refused at the handshake)
    assert not results.get("wsMessage"), results
    assert results["read"] == "blocked", "another origin read the session"  # no CORS for it
    # The form: the browser shows what the controller answered (a refusal).
    async with page.expect_navigation(timeout=10_000):
        await page.evaluate("document.getElementById('f').submit()")
    answer = await page.locator("body").inner_text()
    print("the form's answer:", answer[:200])
    assert "csrf-refused" in answer, answer
    await victim.shot("csrf-form-refused")
    assert await agent_state(served) == "paused", "a cross-origin request changed the state"


async def test_an_agent_cannot_open_another_agents_contact(
    people: People, served: Served, asterisk_sandbox: Any
) -> None:
    records = await served.aadmin("GET", "/v1/interactions")
    mine = {r["caller_number"] for r in records if r.get("agent_id") == AGENT}
    served_by_other = [
        r
        for r in records
        if r.get("agent_id") not in (None, AGENT) and r["caller_number"] not in mine
    ]
    if served_by_other:
        other, number = served_by_other[-1]["agent_id"], served_by_other[-1]["caller_number"]
    else:  # run alone: agent1 serves a short call first
        other, number = "agent1", new_number("+4935")
        await served.aadmin("POST", f"/v1/agents/{other}/state", {"state": "available"})
        asterisk_sandbox.call(QUEUES["pop"][0], hangup_after=1, caller=number)

        async def recorded() -> bool:
            found = await served.aadmin("GET", "/v1/interactions")
            return any(r["caller_number"] == number for r in found)

        await until("the other agent's call recorded", recorded, 30)
    assert other in AGENTS
    query = "/v1/history?number=" + number.replace("+", "%2B")

    owner = await people.tab(agent_user(other))
    await owner.page.goto("/ui/agent")
    status, body = await owner.api("GET", query)
    assert status == 200 and body["interactions"], (status, body)

    intruder = await people.tab(agent_user(AGENT))
    await intruder.page.goto("/ui/agent")
    status, body = await intruder.api("GET", query)
    assert status == 403 and body["error_id"] == "forbidden", (status, body)
    assert number not in str(body)

    # A campaign's contact that another agent worked (the preview test's), by contact id.
    dials = await served.aadmin("GET", "/v1/campaigns/browser-preview/dials", ok=False)
    worked = [d for d in dials if isinstance(d, dict) and d.get("agent_id") not in (None, AGENT)]
    if worked:
        query = f"/v1/history?contact_id=browser-preview:{worked[0]['contact_id']}"
        owner = await people.tab(agent_user(worked[0]["agent_id"]))
        await owner.page.goto("/ui/agent")
        status, body = await owner.api("GET", query)
        assert status == 200 and body["dials"], (status, body)
        status, body = await intruder.api("GET", query)
        assert status == 403 and body["error_id"] == "forbidden", (status, body)
