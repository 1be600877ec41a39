"""Recording controls in Chromium, on calls the real sandbox Asterisk records (MixMonitor into
its own folder, which the served controller reads: conftest's [recordings]).

The agent desktop shows REC while its call is taped, still after a reload, and Pause and
Alt+R send the request and turn the indicator to paused and back (the API's record has the
pause); on a queue that never records, Start shows the API's refusal as text; on one that
records on demand, Start starts it. The console lists the recordings (a caller named with
markup shown as text, nothing of it run), and Play points its <audio> element at the audio
route, which loads the WAV (the CSP allows media from the page's own origin) and is audited."""

from __future__ import annotations

import asyncio
import contextlib
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
from tests.browser.test_hostile_names import NAMES, assert_inert

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

AGENT, USER = "agent3", "desk3"  # serves the recording queues (skill "taped") besides its own


async def set_state(served: Served, state: str) -> None:
    body = {"state": state} | ({"reason": "break"} if state == "paused" else {})
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", body)


async def pause_when_free(served: Served) -> None:
    """Leave the agent paused (its calls over), so later tests' calls are not its."""

    async def free() -> bool:
        agent = await served.aadmin("GET", f"/v1/agents/{AGENT}")
        return agent["state"] not in ("on_call", "reserved")

    with contextlib.suppress(AssertionError):
        await until("the agent's calls over", free, 40, 0.5)
    body = {"state": "paused", "reason": "break"}
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", body, ok=False)


async def place(sandbox: Sandbox, queue: str, number: str, **how: Any) -> None:
    await asyncio.to_thread(sandbox.call, QUEUES[queue][0], caller=number, **how)


async def recording_of(served: Served, number: str) -> dict[str, Any] | None:
    found = await served.aadmin("GET", f"/v1/recordings?agent_id={AGENT}&limit=20")
    return next((r for r in found if r["caller_number"] == number), None)


async def shows(person: Person, state: str, timeout_ms: int = 15_000) -> None:
    """The desktop's recording indicator in `state` (recording, paused, none)."""
    indicator = person.page.locator(f'[data-testid="rec-indicator"][data-state="{state}"]')
    await indicator.wait_for(state="visible", timeout=timeout_ms)


async def connected_with(person: Person, number: str) -> None:
    pop = person.page.get_by_test_id("screen-pop")
    await pop.get_by_test_id("caller-number").filter(has_text=number).wait_for(timeout=20_000)
    await pop.get_by_test_id("call-state").filter(has_text="connected").wait_for(timeout=20_000)


async def test_the_desktop_shows_rec_and_pauses_and_resumes_the_recording(
    people: People, served: Served, asterisk_sandbox: Sandbox
) -> None:
    await pause_when_free(served)
    desk = await people.tab(USER)
    page = desk.page
    await page.goto("/ui/agent")
    await page.get_by_test_id("agent-state").filter(has_text="paused").wait_for(timeout=10_000)
    try:
        number = new_number("+4936")
        await place(asterisk_sandbox, "taped", number, hangup_after=30, name="Rita Recorded")
        await set_state(served, "available")
        await connected_with(desk, number)
        await shows(desk, "recording")
        indicator = page.get_by_test_id("rec-indicator")
        assert "REC" in await indicator.inner_text()
        recording = await until("the recording in the API", lambda: recording_of(served, number))
        assert recording["pauses"] == [] and recording["ended_at"] is None
        await desk.shot("agent-desktop-recording")

        # A reload: the stream's replayed history says it again.
        await page.reload()
        await connected_with(desk, number)
        await shows(desk, "recording")

        # Pause (before the card number): the request goes, the indicator turns.
        toggle = page.get_by_test_id("rec-toggle")
        assert (await toggle.inner_text()).strip() == "Pause recording"
        await toggle.click()
        await shows(desk, "paused", 5000)
        assert "paused" in (await indicator.inner_text()).lower()
        assert (await toggle.inner_text()).strip() == "Resume recording"
        paused = await recording_of(served, number)
        assert paused is not None and len(paused["pauses"]) == 1, paused
        assert paused["pauses"][0]["resumed_at"] is None
        await desk.shot("agent-desktop-recording-paused")
        assert await axe_serious(page, "agent-recording-paused") == []

        # Alt+R resumes it (and would pause it again).
        await page.keyboard.press("Alt+KeyR")
        await shows(desk, "recording", 5000)
        resumed = await recording_of(served, number)
        assert resumed is not None and resumed["pauses"][0]["resumed_at"] is not None, resumed

        # The call ends: the controls go with it, and the record is closed.
        await page.get_by_test_id("recording-row").wait_for(state="hidden", timeout=40_000)
        ended = await until(
            "the recording ended",
            lambda: _ended(served, number),
            20,
        )
        assert len(ended["pauses"]) == 1
        assert desk.dialogs == [] and desk.errors == []
    finally:
        await pause_when_free(served)


async def test_start_is_refused_as_text_where_never_recorded_and_starts_on_demand(
    people: People, served: Served, asterisk_sandbox: Sandbox
) -> None:
    await pause_when_free(served)
    desk = await people.tab(USER)
    page = desk.page
    await page.goto("/ui/agent")
    await page.get_by_test_id("agent-state").filter(has_text="paused").wait_for(timeout=10_000)
    try:
        # A queue that never records: not recorded, and Start says why, in the API's words.
        number = new_number("+4937")
        await place(asterisk_sandbox, "untaped", number, hangup_after=12)
        await set_state(served, "available")
        await connected_with(desk, number)
        await shows(desk, "none")
        assert (await page.get_by_test_id("rec-indicator").inner_text()).strip() == "Not recorded"
        assert not await page.get_by_test_id("rec-toggle").is_visible()
        await page.get_by_test_id("rec-start").click()
        message = page.get_by_test_id("rec-message")
        await message.filter(has_text="never records").wait_for(timeout=5000)
        assert "queue untaped never records its calls" in await message.inner_text()
        # Alt+R never starts a recording.
        await page.keyboard.press("Alt+KeyR")
        await shows(desk, "none", 2000)
        await desk.shot("agent-desktop-recording-refused")
        await page.get_by_test_id("recording-row").wait_for(state="hidden", timeout=30_000)
        assert await recording_of(served, number) is None

        # A queue that records on demand: Start starts it. On the sandbox Asterisk the PBX
        # then refuses (AMI's MixMonitor needs the `system` class, which its user lacks:
        # README, "Recordings"), and the desktop says so when the controller does.
        number = new_number("+4937")
        await place(asterisk_sandbox, "ondemand", number, hangup_after=12)
        await connected_with(desk, number)
        await shows(desk, "none")
        assert not await page.get_by_test_id("rec-message").is_visible()
        await page.get_by_test_id("rec-start").click()
        started = await until("the recording in the API", lambda: recording_of(served, number))
        refused = await until("the PBX's answer", lambda: _settled(served, number), 10)
        if refused["failure"]:
            await shows(desk, "failed", 5000)
            assert "failed" in await page.get_by_test_id("rec-indicator").inner_text()
            assert await page.get_by_test_id("rec-start").is_visible()
        else:
            await shows(desk, "recording", 5000)
        print("started on demand:", started["id"], "failure:", refused["failure"] or "none")
        await desk.shot("agent-desktop-recording-on-demand")
        assert desk.dialogs == [] and desk.errors == []
    finally:
        await pause_when_free(served)


async def test_the_console_lists_recordings_as_text_and_plays_one(
    people: People, served: Served, asterisk_sandbox: Sandbox
) -> None:
    await pause_when_free(served)
    console = await people.tab("super1")
    page = console.page
    await page.goto("/ui/console")
    await page.get_by_test_id("recordings").wait_for(timeout=10_000)
    try:
        # A caller named with markup, on a taped queue, who speaks (the file has sound).
        name, number = NAMES[0], new_number("+4938")
        await place(asterisk_sandbox, "taped", number, hangup_after=10, speak_after=0.5, name=name)
        await set_state(served, "available")
        live = await until("the recording in the API", lambda: recording_of(served, number))
        row = page.get_by_test_id(f"recording-row-{live['id']}")
        # Listed without a reload (the recording.state event), the name as text.
        await (
            row.get_by_test_id("recording-state")
            .filter(has_text="recording")
            .wait_for(timeout=10_000)
        )
        assert (await row.get_by_test_id("recording-number").inner_text()).strip() == number
        assert (await row.get_by_test_id("recording-caller-name").inner_text()) == name
        assert "Queue taped" in await row.inner_text()
        assert "Cy Three" in await row.get_by_test_id("recording-agent-name").inner_text()
        await assert_inert(console)
        await console.shot("console-recording-live")

        # Ended and measured: the size shows (the panel reads again until it does).
        done = await until("the recording measured", lambda: _measured(served, number), 40)
        await (
            row.get_by_test_id("recording-state").filter(has_text="ended").wait_for(timeout=10_000)
        )
        size = row.get_by_test_id("recording-size")
        await until("the size on the page", lambda: _not_dash(size), 20)
        assert (await row.get_by_test_id("recording-pauses").inner_text()).strip() == "0"

        # Play: the <audio> element's src is the audio route, and it loads the WAV.
        await page.get_by_test_id(f"recording-play-{done['id']}").click()
        player = page.get_by_test_id("recording-player")
        src = await player.get_attribute("src")
        assert src == f"/v1/recordings/{done['id']}/audio", src
        media = await in_page(
            page,
            "the recording loaded in the player",
            """() => {
                const a = document.querySelector('[data-testid="recording-player"]');
                if (a.error) return {error: a.error.code};
                return a.readyState >= 1 && {src: a.currentSrc, duration: a.duration};
            }""",
            timeout_s=15,
        )
        assert "error" not in media, media
        assert media["src"].endswith(f"/v1/recordings/{done['id']}/audio")
        assert media["duration"] > 3, media
        audit = await served.aadmin("GET", "/v1/privacy/audit")
        heard = [(e["actor"], e["action"]) for e in audit if e["subject"] == done["id"]]
        assert ("user:super1", "playback") in heard, audit[:5]
        await console.shot("console-recording-played")
        await assert_inert(console)
        assert await axe_serious(page, "console-recordings") == []
        assert console.errors == []
    finally:
        await pause_when_free(served)


async def _ended(served: Served, number: str) -> dict[str, Any] | None:
    found = await recording_of(served, number)
    return found if found and found["ended_at"] else None


async def _settled(served: Served, number: str) -> dict[str, Any] | None:
    """The recording once the PBX has started it or refused (a refusal comes within a
    second; a recording still without one after two is taken as started)."""
    found = await recording_of(served, number)
    if found is None:
        return None
    if not found["failure"]:
        await asyncio.sleep(2.0)
        found = await recording_of(served, number)
    return found


async def _measured(served: Served, number: str) -> dict[str, Any] | None:
    found = await recording_of(served, number)
    return found if found and found["size"] else None


async def _not_dash(locator: Any) -> bool:
    return (await locator.inner_text()).strip() not in ("", "\u2013")
