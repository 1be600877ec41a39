"""On the real sandbox Asterisk: what the controller's login subscribes to, and how a
voicemail the PBX cannot take is reported (dialplans/asterisk/ccgateway.conf ccgw-voicemail).

A customer is played by a Local channel into ccgw-voicemail (its ;2 half runs the context,
the ;1 half waits); the controller's own client, logged in as it always is, watches.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator

import pytest

from ccgateway.domain.events import VoicemailEnded
from ccgateway.pbx.asterisk import translate
from ccgateway.pbx.asterisk.ami import AmiMessage
from ccgateway.pbx.asterisk.client import EVENTS, AmiClient
from ccgateway.sandbox import Sandbox
from ccgateway.sandbox.asterisk_config import OBSERVER

pytestmark = [pytest.mark.asterisk]
CLASSES_ASKED = set(EVENTS.split(","))  # call, user, dialplan
ids = itertools.count(1)


@contextlib.asynccontextmanager
async def watching(
    sandbox: Sandbox, user: str = "ccgateway"
) -> AsyncIterator[tuple[AmiClient, list[AmiMessage]]]:
    """The controller's AMI client, logged in as `user` (the sandbox's controller user is
    filtered as README advises; its `observer` user has every class and event)."""
    seen: list[AmiMessage] = []

    async def resynced() -> None:
        return None

    client = AmiClient("127.0.0.1", 5038, user, sandbox.ami_secret(), seen.append, resynced, print)
    task = asyncio.create_task(client.run_forever())
    try:
        await asyncio.wait_for(client.link.connected.wait(), 10)
        yield client, seen
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def voicemail_of(client: AmiClient, seen: list[AmiMessage], mailbox: str) -> AmiMessage:
    """A Local-channel caller sent to ccgw-voicemail; its CCGWVoicemailEnded."""
    await client.send(
        {
            "Action": "Originate",
            "Channel": "Local/s@ccgw-voicemail",
            "Application": "Wait",
            "Data": "3",
            "Async": "true",
            "ActionID": f"vm-{next(ids)}",
            "Variable": f"__CCGW_MAILBOX={mailbox}",
        }
    )
    for _ in range(200):
        ended = [
            e
            for e in seen
            if e.get("UserEvent") == "CCGWVoicemailEnded" and e.get("Mailbox") == mailbox
        ]
        if ended:
            return ended[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no CCGWVoicemailEnded; saw {[e.get('Event') for e in seen][-20:]}")


async def test_the_login_gets_only_the_classes_it_asks_and_a_refused_mailbox_fails(
    asterisk_sandbox: Sandbox,
) -> None:
    # a user that may read every class and event: the Login's mask and the client's drop
    async with watching(asterisk_sandbox, OBSERVER) as (client, seen):
        ended = await voicemail_of(client, seen, "999@nowhere")
        await asyncio.sleep(0.5)  # the rest of the call's events
    event = translate.to_event(ended)
    assert isinstance(event, VoicemailEnded)
    assert event.failure == "VoiceMail() took no message for mailbox 999@nowhere", ended
    names = {e.get("Event") for e in seen}
    assert "Hangup" in names and "Newchannel" in names  # call class: there
    assert not names & {"VarSet", "FullyBooted"}  # VarSet dropped unread; system: not asked
    ours = [e for e in seen if e.get("Event") == "Newexten" and e["Context"].startswith("ccgw-")]
    assert ours == []  # Newexten in our own contexts is dropped before it is parsed
    for e in seen:
        classes = set(e.get("Privilege", "").split(",")) - {"all"}
        assert classes & CLASSES_ASKED, e


async def test_the_controllers_user_gets_only_the_events_it_reads(
    asterisk_sandbox: Sandbox,
) -> None:
    """README's manager.conf filters (the sandbox's controller user has them): the same call
    brings only the events translate reads, and the voicemail's end still comes; of the
    originates, only a failure's OriginateResponse comes (a filter on a header: Asterisk
    reads it as test_event_filters.py does)."""
    async with watching(asterisk_sandbox) as (client, seen):
        ended = await voicemail_of(client, seen, "998@nowhere")
        await client.send(
            {
                "Action": "Originate",
                "Channel": "PJSIP/ccgw-test-nobody",
                "Application": "Wait",
                "Data": "1",
                "Async": "true",
                "ActionID": "ccgw-refused-1",
            }
        )
        for _ in range(100):
            if any(e.get("Event") == "OriginateResponse" for e in seen):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
    assert isinstance(translate.to_event(ended), VoicemailEnded)
    names = {e.get("Event") for e in seen}
    assert {"UserEvent", "Hangup"} <= names
    assert names <= set(translate.READ_EVENTS), names - set(translate.READ_EVENTS)
    answers = [e for e in seen if e.get("Event") == "OriginateResponse"]
    assert [(e.get("ActionID"), e.get("Response")) for e in answers] == [
        ("ccgw-refused-1", "Failure")
    ]  # the voicemail caller's successful originate stayed in Asterisk
    for e in seen:  # nothing came that the client would have dropped itself
        raw = "\r\n".join(f"{k}: {v}" for k, v in e.items()).encode()
        assert not translate.unwanted(raw), e


async def test_no_voicemail_application_is_reported_as_a_failure(
    asterisk_sandbox: Sandbox,
) -> None:
    """As on stock Debian when app_voicemail_odbc takes the application away."""
    unloaded = asterisk_sandbox.asterisk_cli("module unload app_voicemail.so")
    try:
        assert "VoiceMail" not in asterisk_sandbox.asterisk_cli(
            "core show applications like Voice"
        ), unloaded
        async with watching(asterisk_sandbox) as (client, seen):
            ended = await voicemail_of(client, seen, "200@ccgw")
    finally:
        asterisk_sandbox.asterisk_cli("module load app_voicemail.so")
    event = translate.to_event(ended)
    assert isinstance(event, VoicemailEnded)
    assert event.failure.startswith("no VoiceMail application"), ended
