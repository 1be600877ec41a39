"""Caller names come from strangers: two sipp customers whose SIP display names are markup
wait in a queue, then reach an agent. The agent desktop, the console and the wallboard show
the names as text, literally as the API gives them, and no page runs any of it (no dialog,
no <img src=x>, no element with an on... attribute, no injected <script>). The wallboard
shows no caller names at all (its principal never receives them)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ccgateway.sandbox import Sandbox
from tests.browser.conftest import (
    QUEUES,
    People,
    Person,
    Served,
    axe_serious,
    in_page,
    new_number,
    until,
)

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

AGENT, QUEUE = "agent3", "hostile"
NAMES = ("<img src=x onerror=alert(1)>", '"><script>alert(1)</script>')

INJECTED = """() => ({
  img: document.querySelectorAll('img[src="x"], img[onerror]').length,
  script: [...document.querySelectorAll("script")].filter(
    (s) => s.textContent.includes("alert(1)")).length,
  handlers: [...document.querySelectorAll("*")].filter(
    (e) => [...e.attributes].some((a) => a.name.startsWith("on"))).length,
})"""


async def assert_inert(person: Person) -> None:
    injected = await person.page.evaluate(INJECTED)
    assert injected == {"img": 0, "script": 0, "handlers": 0}, (person.username, injected)
    assert person.dialogs == [], (person.username, person.dialogs)


async def shown_names(served: Served, numbers: dict[str, str]) -> dict[str, str]:
    """number -> the caller's name as the API gives it (what the pages must show)."""
    calls = await served.aadmin("GET", "/v1/calls")
    found: dict[str, str] = {}
    for call in calls:
        number = call.get("caller_number") or call.get("caller")
        if number in numbers:
            found[number] = call.get("caller_name", "")
    return found


async def test_hostile_caller_names_render_as_text_in_every_page(
    people: People, served: Served, asterisk_sandbox: Sandbox
) -> None:
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "paused", "reason": "break"})
    desk = await people.tab("desk3")
    console = await people.tab("super1")
    wallboard = await people.tab("wall1")
    await desk.page.goto("/ui/agent")
    await console.page.goto("/ui/console")
    await wallboard.page.goto("/ui/wallboard")

    # Each customer's hang-up time counts from the PBX's answer, i.e. from arrival: the
    # first waits ~6 s and talks ~8 s, the second waits for the first, then talks a while.
    numbers = {new_number("+4934"): name for name in NAMES}
    for (number, name), hangup_after in zip(numbers.items(), (14, 24), strict=True):
        await asyncio.to_thread(
            asterisk_sandbox.call,
            QUEUES[QUEUE][0],
            hangup_after=hangup_after,
            caller=number,
            name=name,
        )
        # one after the other: the first to arrive is the first served
        await until("the caller in /v1/calls", lambda n=number: _arrived(served, n), 10, 0.1)
    await (
        console.page.get_by_test_id(f"queue-waiting-{QUEUE}")
        .filter(has_text="2")
        .wait_for(timeout=10_000)
    )
    await (
        wallboard.page.get_by_test_id(f"queue-waiting-{QUEUE}")
        .filter(has_text="2")
        .wait_for(timeout=10_000)
    )
    shown: dict[str, str] = await until(
        "both callers in /v1/calls", lambda: _both(served, numbers), 10
    )
    print("the API's caller names:", shown)
    # The API gives each name exactly as the caller sent it, neither escaped (AMI's C escapes
    # over the SIP quoted-string's, tests/sandbox/test_caller_name.py) nor encoded as HTML.
    assert shown == numbers
    # The console lists the waiting callers: each name as text, exactly as the API has it.
    for text in shown.values():
        await console.page.get_by_text(text, exact=True).first.wait_for(timeout=10_000)
    await console.shot("console-hostile-names")
    assert await axe_serious(console.page, "console-callers-waiting") == []
    board_text = await wallboard.page.locator("body").inner_text()
    assert "alert(1)" not in board_text, "the wallboard shows callers' names"
    await wallboard.shot("wallboard-hostile-names")

    # The agent takes both calls one after the other: each pops with the name as text.
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "available"})
    popped: set[str] = set()
    name_field = desk.page.get_by_test_id("screen-pop").get_by_test_id("caller-name")
    for _ in range(2):
        await in_page(
            desk.page,
            "a screen pop with the next caller's name",
            """([names, done]) => [...document.querySelectorAll(
                   '[data-testid="screen-pop"] [data-testid="caller-name"]')]
                 .some((n) => n.getClientRects().length > 0 &&
                              names.includes(n.textContent.trim()) &&
                              !done.includes(n.textContent.trim()))""",
            [list(shown.values()), sorted(popped)],
            timeout_s=30,
        )
        text = (await name_field.first.text_content() or "").strip()
        popped.add(text)
        await desk.shot(f"agent-desktop-hostile-name-{len(popped)}")
        for person in (desk, console, wallboard):
            await assert_inert(person)
    assert popped == set(shown.values())
    await asyncio.sleep(1.0)  # a late onerror would show now
    for person in (desk, console, wallboard):
        await assert_inert(person)


async def _arrived(served: Served, number: str) -> bool:
    return any(c["caller_number"] == number for c in await served.aadmin("GET", "/v1/calls"))


async def _both(served: Served, numbers: dict[str, str]) -> dict[str, Any] | None:
    found = await shown_names(served, numbers)
    return found if len(found) == len(numbers) else None
