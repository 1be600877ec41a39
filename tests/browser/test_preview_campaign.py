"""A preview campaign worked from the agent desktop in Chromium: the preview card shows the
contact, the agent dials it, the sandbox's outside phone (callee mode: a person who answers
after 1 s and hangs up 6 s later) talks to the agent's phone, and the script's answers and
the disposition saved on the desktop are in the API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ccgateway.sandbox import Sandbox
from tests.browser.conftest import People, Served, axe_serious, button_of, until
from tests.e2e.test_outbound_dialer import daytime_zone

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

AGENT, USER, CAMPAIGN_ID = "agent4", "desk4", "browser-preview"
# callee.xml: the last six digits K RR TTT: a person (1), ringing 01 s, hanging up after 060
# tenths of a second. A London number, valid for phonenumbers.
PERSON = "+442079101060"
CAMPAIGN: dict[str, Any] = {
    "id": CAMPAIGN_ID,
    "name": "Browser preview",
    "purpose": "service",
    "rule_set_id": "uk",
    "mode": "preview",
    "queue_id": "out",
    "caller_id": "+442071234567",
    "abandon_message": "all-circuits-busy-now",
    "ring_s": 15,
    "amd": {"enabled": False},
    "preview_timeout_s": 120,
    "dispositions": [
        {"code": "sale", "label": "Sale"},
        {"code": "not_interested", "label": "Not interested"},
    ],
    "script": {
        "text": "Hello {name}, about your renewal",
        "questions": [
            {"id": "happy", "text": "Happy with us?", "kind": "yes_no"},
            {
                "id": "score",
                "text": "How likely to recommend, 0-10?",
                "kind": "scale",
                "minimum": 0,
                "maximum": 10,
            },
        ],
    },
}


@pytest.fixture
def callee(asterisk_sandbox: Sandbox) -> Iterator[None]:
    asterisk_sandbox.set_outside("callee")
    try:
        yield
    finally:
        asterisk_sandbox.set_outside("answer")


async def answer(page: Any, question: str, value: str) -> None:
    """Answer a script question whatever the widget: a select, a checkbox, radio buttons
    or a text/number field (found by data-testid answer-<id>, or a name of that id)."""
    target = page.locator(f'[data-testid="answer-{question}"], [name="{question}"]').first
    tag = await target.evaluate("(e) => e.tagName.toLowerCase()")
    kind = await target.evaluate("(e) => (e.type || '').toLowerCase()")
    if tag == "select":
        options = await target.locator("option").evaluate_all(
            "(os) => os.map((o) => [o.value, o.textContent.trim()])"
        )
        for option_value, label in options:
            if re.fullmatch(value, option_value, re.I) or re.fullmatch(value, label, re.I):
                await target.select_option(option_value)
                return
        raise AssertionError(f"no option {value!r} for {question}: {options}")
    if kind == "checkbox":
        await target.check()
    elif tag in ("input", "textarea"):
        await target.fill(value.split("|")[0])
    else:  # a group: the radio labelled like the value
        await target.get_by_label(re.compile(f"^({value})$", re.I)).first.check()


async def test_a_preview_campaign_is_worked_from_the_desktop(
    people: People, served: Served, asterisk_sandbox: Sandbox, callee: None
) -> None:
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "paused", "reason": "break"})
    await served.aadmin("POST", "/v1/campaigns", CAMPAIGN)
    listed = f"id,number,name,timezone\np1,{PERSON},Pat Preview,{daytime_zone()}\n"
    async with served.client() as client:
        response = await client.put(
            "/v1/dnc/registers/tps",
            content="+442079999999\n",
            headers={"Content-Type": "text/plain"},
        )
        assert response.status_code < 300, response.text
        response = await client.post(
            f"/v1/campaigns/{CAMPAIGN_ID}/lists?list_id=l1&name=l1&region=GB",
            content=listed,
            headers={"Content-Type": "text/csv"},
        )
        assert response.status_code == 201, response.text
    await served.aadmin("POST", f"/v1/campaigns/{CAMPAIGN_ID}/start")

    desk = await people.tab(USER)
    page = desk.page
    await page.goto("/ui/agent")
    await button_of(page, "go-available", "available").click()

    card = page.get_by_test_id("preview-card")
    await card.filter(has_text="Pat Preview").wait_for(timeout=20_000)
    assert "2079101060" in re.sub(r"\D", "", await card.inner_text())
    await desk.shot("agent-desktop-preview-card")
    assert await axe_serious(page, "agent-preview-card") == []
    await button_of(page, "preview-dial", "dial").click()

    async def connected() -> dict[str, Any] | None:
        for dial in await served.aadmin("GET", f"/v1/campaigns/{CAMPAIGN_ID}/dials"):
            if dial["contact_id"] == "p1":
                return dict(dial)
        return None

    script = page.get_by_test_id("script")
    await script.filter(has_text="Pat Preview").wait_for(timeout=20_000)  # {name} filled in
    await answer(page, "happy", "yes|true")
    await answer(page, "score", "9")
    await desk.shot("agent-desktop-script")
    assert await axe_serious(page, "agent-script") == []
    dial = await until("the dial recorded (the callee hung up)", connected, 30)
    assert dial["outcome"] == "connected" and dial["agent_id"] == AGENT, dial
    await page.get_by_test_id("disposition-code").select_option("sale")
    await page.get_by_test_id("disposition-save").click(timeout=20_000)

    async def disposed() -> list[dict[str, Any]]:
        return list(await served.aadmin("GET", f"/v1/campaigns/{CAMPAIGN_ID}/dispositions"))

    [record] = await until("the disposition in the API", disposed, 10)
    assert record["code"] == "sale" and record["agent_id"] == AGENT
    assert record["answers"] == {"happy": True, "score": 9}, record
    await desk.shot("agent-desktop-disposed")
    await served.aadmin("POST", f"/v1/campaigns/{CAMPAIGN_ID}/stop")
    await asyncio.sleep(0)
    assert desk.dialogs == [] and desk.errors == []
