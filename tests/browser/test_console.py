"""The supervisor console in Chromium: a waiting caller and an agent's state changes show
without a reload, and the whisper button makes the PBX spy on the agent's channel (the
supervisor's phone, sandbox phone agent6, answers by itself; ChanSpyStart is read on a raw
AMI connection)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from ccgateway.sandbox import Sandbox
from tests.browser.conftest import QUEUES, SUPERVISOR_DEVICE, People, Served, new_number, until
from tests.e2e.ami_observer import AmiObserver
from tests.sandbox.ami import AmiSession

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

AGENT, QUEUE = "agent2", "floor"
ON_CALL = re.compile(r"on[ _-]?call", re.IGNORECASE)


async def test_the_console_follows_the_floor_live_and_whisper_spies_on_the_agent(
    people: People, served: Served, asterisk_sandbox: Sandbox, observer: AmiObserver
) -> None:
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "paused", "reason": "break"})
    console = await people.tab("super1")
    page = console.page
    await page.goto("/ui/console")
    waiting = page.get_by_test_id(f"queue-waiting-{QUEUE}")
    row = page.get_by_test_id(f"agent-row-{AGENT}")
    await waiting.filter(has_text="0").wait_for(timeout=10_000)
    await row.filter(has_text="paused").wait_for(timeout=5000)
    await page.evaluate("window.__not_reloaded = true")

    # A caller waits: the count goes up on the open page.
    number = new_number("+4933")
    await asyncio.to_thread(
        asterisk_sandbox.call, QUEUES[QUEUE][0], hangup_after=20, caller=number, name="Wanda Wait"
    )
    await waiting.filter(has_text="1").wait_for(timeout=10_000)
    await console.shot("console-caller-waiting")

    # The agent becomes available (from elsewhere: the API) and takes the call.
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "available"})
    await row.filter(has_text=ON_CALL).wait_for(timeout=15_000)
    await waiting.filter(has_text="0").wait_for(timeout=5000)
    assert await page.evaluate("window.__not_reloaded === true"), "the console reloaded"

    # Whisper: the supervisor's phone rings, answers, and ChanSpy joins the agent's channel.
    clicked = time.time()
    await page.get_by_test_id(f"whisper-{AGENT}").click()

    async def spy_started() -> dict[str, str] | None:
        for event in observer.events:
            if (
                event.get("Event") == "ChanSpyStart"
                and event.get("SpyeeChannel", "").startswith(f"PJSIP/{AGENT}-")
                and float(event["_received"]) >= clicked
            ):
                return event
        return None

    spy = await until("ChanSpyStart on the agent's channel", spy_started, 15)
    assert spy["SpyerChannel"].startswith(SUPERVISOR_DEVICE + "-"), spy
    # and it is a whisper (ChanSpy's w option), not a listen or a barge: Asterisk's own list
    ami = AmiSession()
    try:
        await ami.login(asterisk_sandbox.ami_secret())
        channels = await ami.list_action({"Action": "CoreShowChannels"}, "CoreShowChannelsComplete")
    finally:
        await ami.close()
    [spyer] = [c for c in channels if c.get("Channel") == spy["SpyerChannel"]]
    target, _, options = spyer["ApplicationData"].partition(",")
    assert spyer["Application"] == "ChanSpy" and target == spy["SpyeeChannel"], spyer
    assert "w" in options and "B" not in options, spyer
    await console.shot("console-whisper")
    assert console.dialogs == [] and console.errors == []
