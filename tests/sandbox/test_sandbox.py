"""The sandbox itself, on the real Asterisk: what the rest of the suite relies on."""

from __future__ import annotations

import asyncio
import time

import pytest

from ccgateway.sandbox import Sandbox, SandboxError
from ccgateway.sandbox.asterisk_config import SandboxConfig, render
from tests.e2e.ami_observer import AmiObserver


def test_generated_config_has_every_agent_and_keeps_the_secret_out_of_the_dialplan() -> None:
    files = render(SandboxConfig(agents=3, ami_secret="s3cret", module_dir="/m"), "; plan")
    assert "[agent3]" in files["pjsip.conf"] and "[agent4]" not in files["pjsip.conf"]
    assert "contact = sip:agent3@127.0.0.1:5073" in files["pjsip.conf"]
    assert "secret = s3cret" in files["manager.conf"]
    assert "bindaddr = 127.0.0.1" in files["manager.conf"]
    assert all("s3cret" not in text for name, text in files.items() if name != "manager.conf")


@pytest.mark.asterisk
def test_sandbox_runs_asterisk_22_with_phones(asterisk_sandbox: Sandbox) -> None:
    status = asterisk_sandbox.status()
    assert status["running"] is True
    assert "Asterisk 22." in str(status["asterisk"])
    phones = status["phones"]
    assert isinstance(phones, dict) and len(phones) == 6
    assert all(p["alive"] for p in phones.values())
    with pytest.raises(SandboxError, match="phone mode"):
        asterisk_sandbox.set_phone(1, "sometimes")


@pytest.mark.asterisk
async def test_a_customer_call_waits_on_hold_and_is_announced(asterisk_sandbox: Sandbox) -> None:
    observer = AmiObserver(secret=asterisk_sandbox.ami_secret())
    await observer.start()
    try:
        asterisk_sandbox.call("209", count=1, hangup_after=3, caller="+4930999")
        deadline = time.monotonic() + 10
        waiting: list[dict[str, str]] = []
        while time.monotonic() < deadline and not waiting:
            await asyncio.sleep(0.1)
            waiting = [e for e in observer.events if e.get("UserEvent") == "CCGWWaiting"]
        assert waiting, "no CCGWWaiting event"
        event = waiting[0]
        assert (event["Queue"], event["CallerIDNum"]) == ("209", "+4930999")
        holding = [e for e in observer.events if e.get("Event") == "BridgeEnter"
                   and e.get("Uniqueid") == event["Uniqueid"]]
        assert holding and holding[0]["BridgeTechnology"] == "holding_bridge"
        while time.monotonic() < deadline + 5:
            await asyncio.sleep(0.1)
            if any(e.get("Event") == "Hangup" and e.get("Uniqueid") == event["Uniqueid"]
                   for e in observer.events):
                break
        else:
            raise AssertionError("the caller did not hang up after 3 s")
    finally:
        await observer.stop()
