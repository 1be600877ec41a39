"""The agent desktop used with the keyboard only (Tab and Enter to go available, the
page's own shortcut to pause), and every page checked by axe-core (bundled with
axe-playwright-python): no serious or critical violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import People, Person, Served, axe_serious, until

pytestmark = [pytest.mark.browser, pytest.mark.asterisk, pytest.mark.asyncio(loop_scope="session")]

AGENT, USER = "agent5", "desk5"

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const style = getComputedStyle(e);
  return {
    testid: e.getAttribute("data-testid") || "",
    text: (e.innerText || e.value || e.getAttribute("aria-label") || "").trim().slice(0, 60),
    tag: e.tagName.toLowerCase(),
    outline: style.outlineStyle !== "none" && style.outlineWidth !== "0px",
    ring: style.boxShadow !== "none",
  };
}"""


async def tab_to(person: Person, testid: str, name: str, presses: int = 60) -> dict[str, Any]:
    """Press Tab until the element with `testid` (or a text containing `name`) has focus."""
    seen = []
    for _ in range(presses):
        await person.page.keyboard.press("Tab")
        focused = await person.page.evaluate(FOCUSED)
        if focused is None:
            continue
        seen.append(focused["testid"] or focused["text"])
        if focused["testid"] == testid or (
            not focused["testid"] and name.lower() in focused["text"].lower()
        ):
            return dict(focused)
    raise AssertionError(f"Tab never reached {testid!r}; focus went through {seen}")


async def agent_state(served: Served) -> str:
    return str((await served.aadmin("GET", f"/v1/agents/{AGENT}"))["state"])


async def test_the_agent_desktop_works_from_the_keyboard(people: People, served: Served) -> None:
    await served.aadmin("POST", f"/v1/agents/{AGENT}/state", {"state": "paused", "reason": "break"})
    desk = await people.tab(USER)
    page = desk.page
    await page.goto("/ui/agent")
    await page.get_by_test_id("agent-state").filter(has_text="paused").wait_for(timeout=10_000)

    focused = await tab_to(desk, "go-available", "available")
    assert focused["outline"] or focused["ring"], f"no visible focus on {focused}"
    await page.keyboard.press("Enter")
    await until("available by Enter", lambda: _is(served, "available"), 5)
    await page.get_by_test_id("agent-state").filter(has_text="available").wait_for(timeout=5000)

    # Pause by the page's own shortcut, as declared on the button (aria-keyshortcuts).
    pause = page.get_by_test_id("go-pause")
    shortcut = await pause.get_attribute("aria-keyshortcuts") or await pause.get_attribute(
        "data-shortcut"
    )
    assert shortcut, "the pause button declares no keyboard shortcut (aria-keyshortcuts)"
    await page.keyboard.press(shortcut.split()[0])
    if not await _soon(served, "paused"):
        # a pause code to choose first: the focus is on the choice; Enter takes the first
        await page.keyboard.press("Enter")
    await until("paused by the shortcut", lambda: _is(served, "paused"), 5)
    await page.get_by_test_id("agent-state").filter(has_text="paused").wait_for(timeout=5000)
    await desk.shot("agent-desktop-keyboard")
    assert desk.dialogs == [] and desk.errors == []


async def test_every_page_passes_axe_with_no_serious_violation(
    people: People, served: Served
) -> None:
    pages = {
        "login": (None, "/ui/", "login-username"),
        "agent": (USER, "/ui/agent", "agent-state"),
        "console": ("super1", "/ui/console", "queue-waiting-floor"),
        "wallboard": ("wall1", "/ui/wallboard", "queue-waiting-floor"),
    }
    found: dict[str, list[str]] = {}
    for name, (user, path, ready) in pages.items():
        person = await people.tab(user)
        await person.page.goto(path)
        await person.page.get_by_test_id(ready).first.wait_for(timeout=10_000)
        found[name] = await axe_serious(person.page, name)
        await person.shot(f"axe-{name}")
    assert found == {name: [] for name in pages}, found


async def _is(served: Served, state: str) -> bool:
    return await agent_state(served) == state


async def _soon(served: Served, state: str) -> bool:
    try:
        await until(state, lambda: _is(served, state), 1.5, 0.1)
    except AssertionError:
        return False
    return True
