"""The agent desktop in Chromium: log in with the form, go available, and a sipp customer's
call pops the screen with the number and its history within 1 s of the agent's phone
starting to ring (Asterisk's word on a raw AMI connection against the page's own clock);
a note typed on the desktop is in the API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from ccgateway.sandbox import Sandbox
from tests.browser.conftest import (
    QUEUES,
    People,
    Served,
    axe_serious,
    button_of,
    in_page,
    new_number,
    until,
)
from tests.e2e.ami_observer import AmiObserver

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

AGENT, USER = "agent1", "desk1"
OTHER = "agent5"  # served the caller's earlier call, in its own queue
POP_LIMIT_S = 1.0

# Records in the page, by the page's own clock (Date.now(), this machine's wall clock), when
# the caller's number first shows in a visible [data-testid=caller-number] and when the
# history first shows an item with it. Nothing polls: a MutationObserver sees every change,
# and only changes after it starts count (an earlier call's pop still on screen does not).
WATCH_POP = """
(digits) => {
  const seen = {number: null, history: null};
  window.__pop = seen;
  const visible = (n) => n.isConnected && n.getClientRects().length > 0;
  const shows = (n) => visible(n) && n.textContent.replace(/\\D/g, "").includes(digits);
  const touches = (node, selector) => {
    const element = node.nodeType === 1 ? node : node.parentElement;
    if (!element) return [];
    const inside = element.closest(selector);
    return inside ? [inside] : [...element.querySelectorAll(selector)];
  };
  new MutationObserver((records) => {
    const now = Date.now();
    const nodes = records.flatMap((r) => [r.target, ...r.addedNodes]);
    if (seen.number === null &&
        nodes.some((n) => touches(n, '[data-testid="caller-number"]').some(shows))) {
      seen.number = now;
    }
    // the history shown with this pop: rendered with the number or after it (the last
    // call's history may still be on show, and be redrawn, before the phone rings)
    if (seen.number !== null && seen.history === null) {
      const items = nodes.flatMap((n) => touches(n, '[data-testid="history-item"]'));
      const shown = items.filter(visible);
      if (shown.length) {
        seen.history = now;
        seen.historyText = shown[0].textContent.slice(0, 200);
      }
    }
  }).observe(document.documentElement,
    {subtree: true, childList: true, characterData: true, attributes: true});
}
"""


async def agent_state(served: Served, agent_id: str = AGENT) -> str:
    return str((await served.aadmin("GET", f"/v1/agents/{agent_id}"))["state"])


async def test_an_agent_logs_in_with_the_form_and_goes_available(
    people: People, served: Served
) -> None:
    desk = await people.login_with_form(USER)
    page = desk.page
    await page.wait_for_url("**/ui/agent*", timeout=10_000)
    await desk.shot("agent-desktop-logged-in")
    await button_of(page, "go-available", "available").click()
    await page.get_by_test_id("agent-state").filter(has_text="available").wait_for(timeout=5000)
    assert await agent_state(served) == "available"
    await desk.shot("agent-desktop-available")
    assert desk.dialogs == [] and desk.errors == []


async def test_a_call_pops_the_screen_with_number_and_history_within_a_second(
    people: People, served: Served, asterisk_sandbox: Sandbox, observer: AmiObserver
) -> None:
    extension = QUEUES["pop"][0]
    number = new_number("+4932")
    desk = await people.tab(USER)
    page = desk.page
    await page.goto("/ui/agent")
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "available"})
    await page.get_by_test_id("agent-state").filter(has_text="available").wait_for(timeout=5000)

    # An earlier call from this number, served by another agent in another queue: the
    # history the screen pop must show (and agent1's desktop has never shown this number).
    await served.aadmin("POST", f"/v1/agents/{OTHER}/state", {"state": "available"})
    await asyncio.to_thread(
        asterisk_sandbox.call, QUEUES["keys"][0], hangup_after=1.5, caller=number, name="Erika"
    )
    await until("the first call recorded", lambda: _interactions(served, number), 30)
    await served.aadmin("POST", f"/v1/agents/{OTHER}/state", {"state": "paused", "reason": "break"})

    await page.evaluate(WATCH_POP, number.lstrip("+"))
    placed = time.time()
    await asyncio.to_thread(
        asterisk_sandbox.call, extension, hangup_after=12, caller=number, name="Erika Muster"
    )
    ring = await until("the agent leg on AMI", lambda: _agent_leg(observer, placed), 20, 0.05)
    ring_at = float(ring["_received"])
    seen = await in_page(
        page, "the caller's number", "() => window.__pop.number !== null && window.__pop", None, 15
    )
    number_delay = seen["number"] / 1000 - ring_at
    print(f"screen pop: number {number_delay * 1000:.0f} ms after the Newchannel of the agent leg")
    pop = page.get_by_test_id("screen-pop")
    assert "Erika Muster" in await pop.get_by_test_id("caller-name").inner_text()
    assert "pop" in await pop.get_by_test_id("call-queue").inner_text()
    assert number_delay <= POP_LIMIT_S, f"number shown {number_delay:.3f} s after the ring"
    try:
        seen = await in_page(
            page, "the history", "() => window.__pop.history !== null && window.__pop", None, 10
        )
    finally:
        await desk.shot("agent-desktop-screen-pop")
    history_delay = seen["history"] / 1000 - ring_at
    print(
        f"screen pop: history {history_delay * 1000:.0f} ms after Asterisk's Newchannel of "
        f"{ring['Channel']} (received on a raw AMI connection)"
    )
    assert history_delay <= POP_LIMIT_S, f"history shown {history_delay:.3f} s after the ring"
    history = await page.get_by_test_id("history").inner_text()
    assert "Ed Five" in history or OTHER in history, history  # who served the earlier call
    assert "keys" in history, history  # in which queue
    assert await axe_serious(page, "agent-screen-pop") == []

    # A note typed on the desktop during the call is in the API, on this number's history.
    text = f"Asked about the invoice {number[-4:]}"
    await page.get_by_test_id("note-text").fill(text)
    await page.get_by_test_id("note-save").click()

    async def noted() -> bool:
        history = await served.aadmin("GET", f"/v1/history?number={number.replace('+', '%2B')}")
        return any(n["text"] == text and n["agent_id"] == AGENT for n in history["notes"])

    await until("the note in /v1/history", noted, 10)
    assert desk.dialogs == [] and desk.errors == []


async def _is(served: Served, state: str) -> bool:
    return await agent_state(served) == state


async def _interactions(served: Served, number: str) -> bool:
    records = await served.aadmin("GET", "/v1/interactions")
    return any(r["caller_number"] == number for r in records)


async def _agent_leg(observer: AmiObserver, after: float) -> dict[str, Any] | None:
    for event in observer.events:
        if (
            event.get("Event") == "Newchannel"
            and event.get("Channel", "").startswith(f"PJSIP/{AGENT}-")
            and float(event["_received"]) >= after
        ):
            return event
    return None
