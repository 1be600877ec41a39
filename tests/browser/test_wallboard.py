"""The wallboard in Chromium, signed in as a read-only wallboard user: it follows the floor
live, and survives a controller crash: `ccgateway serve` is killed (SIGKILL) and started
again on the same database and port; meanwhile the page says it is stale, afterwards the
banner goes and the figures move again, with no reload. (Last in this package: it restarts
the controller the other tests share.)"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from tests.browser.conftest import People, Served, until

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

AGENT = "agent5"


async def shows_the_floor(page: Any, served: Served) -> bool:
    """The board's count of available agents is the API's (other tests' agents may still
    be changing state: compare with the API at the moment, including `AGENT`'s change)."""
    text = await page.get_by_test_id("agents-available").first.inner_text()
    digits = re.findall(r"\d+", text)
    agents = await served.aadmin("GET", "/v1/agents")
    return bool(digits) and int(digits[0]) == sum(a["state"] == "available" for a in agents)


async def agent_is(served: Served, state: str) -> bool:
    return bool((await served.aadmin("GET", f"/v1/agents/{AGENT}"))["state"] == state)


async def test_the_wallboard_updates_live_and_survives_a_controller_restart(
    people: People, served: Served
) -> None:
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "paused", "reason": "break"})
    board = await people.tab("wall1")
    page = board.page
    await page.goto("/ui/wallboard")
    available = page.get_by_test_id("agents-available")
    await available.first.wait_for(timeout=10_000)
    await until("the board to show the floor", lambda: shows_the_floor(page, served), 10)
    await page.evaluate("window.__not_reloaded = true")

    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "available"})
    await until("the board to count agent5 available", lambda: shows_the_floor(page, served), 5)
    await board.shot("wallboard-live")

    stale = page.get_by_test_id("wallboard-stale")
    assert not await stale.is_visible(), "stale while the controller runs"
    killed = time.monotonic()
    await asyncio.to_thread(served.stop, True)  # a crash: SIGKILL
    await stale.wait_for(state="visible", timeout=15_000)
    print(f"stale banner after {time.monotonic() - killed:.1f} s")
    await board.shot("wallboard-stale")

    await asyncio.to_thread(served.start)
    restarted = time.monotonic()
    await stale.wait_for(state="hidden", timeout=30_000)
    print(f"live again {time.monotonic() - restarted:.1f} s after the controller was ready")
    # and the figures move again without a reload
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "paused", "reason": "break"})
    assert await agent_is(served, "paused")
    await until("the board to count agent5 paused", lambda: shows_the_floor(page, served), 10)
    assert await page.evaluate("window.__not_reloaded === true"), "the wallboard reloaded"
    await board.shot("wallboard-after-restart")
    assert board.dialogs == []
