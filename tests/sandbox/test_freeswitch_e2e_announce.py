"""Announcements on a real FreeSWITCH (the sandbox): a sipp caller waiting in a queue that
announces hears its position, the expected wait, a comfort sound and the callback offer
(FreeSWITCH's own CHANNEL_EXECUTE and CHANNEL_EXECUTE_COMPLETE events on a raw Event Socket
connection show each playback and saying), stays parked meanwhile (a resync's picture still
has them waiting on their queue), goes back to the hold music, and a caller who presses 1
(SIP INFO from sipp) is a CallbackRequested: a queued callback in the API.

Queued callbacks are dialled by another part of issue 15 (DialCallback on FreeSWITCH): until
FreeSwitchPbx.features names "callback", the centre does not offer "press 1" there, so this
test's adapter names it. Only the request and the confirmation are exercised here; no
agent is free to call the customer back.

CCGW_ESL_CAPTURE=<path> saves the frames tests/pbx/freeswitch/test_announce.py replays.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from ccgateway.domain.commands import Announce
from ccgateway.pbx.freeswitch import translate
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.sandbox.freeswitch import FreeSwitchSandbox
from ccgateway.sandbox.freeswitch_config import ESL_PORT
from tests.e2e.harness import Centre, records, set_states
from tests.sandbox.freeswitch_e2e import (
    MARKS,
    agent,
    freeswitch_centre,
    freeswitch_sandbox,
    queue,
)

pytestmark = [*MARKS, pytest.mark.asyncio(loop_scope="module")]

ANNOUNCE = {
    "position": True,
    "wait_time": True,
    "comfort": "queue-thankyou",
    "offer_callback": True,
    "first_s": 5,
    "every_s": 30,
}


class CallbacksToo(FreeSwitchPbx):
    """The adapter with "callback" among its features (see the module's docstring)."""

    features = FreeSwitchPbx.features | {"callback"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FreeSwitchSandbox]:
    with freeswitch_sandbox(tmp_path_factory.mktemp("fs-e2e-announce"), 1) as sandbox:
        yield sandbox


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def centre(
    sandbox: FreeSwitchSandbox, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Centre]:
    db = Path(tmp_path_factory.mktemp("fs-e2e-announce-db")) / "ccgateway.db"
    pbx = CallbacksToo(port=ESL_PORT, password=sandbox.esl_password())
    async with freeswitch_centre(sandbox, db, pbx) as centre:
        body = queue(id="told", name="Told", extension="250", wrapup_s=0, announce=ANNOUNCE)
        await centre.call("POST", "/v1/queues", body)
        await centre.call("POST", "/v1/agents", agent(1))
        await set_states(centre, {1: "paused"})
        try:
            yield centre
        finally:
            if os.environ.get("CCGW_ESL_CAPTURE"):  # how recorded/announce.esl was made
                observer = centre.observer
                pressed = {e["Unique-ID"] for e in observer.named("CUSTOM")}
                kept = [
                    raw
                    for raw, e in zip(observer.frames, observer.events, strict=True)
                    if e.get("Unique-ID") in pressed
                    and e.get("Event-Name") in ("CHANNEL_EXECUTE", "CUSTOM", "CHANNEL_PARK")
                ]
                Path(os.environ["CCGW_ESL_CAPTURE"]).write_bytes(b"".join(kept))


async def test_a_waiting_caller_hears_position_wait_and_comfort_while_parked(
    centre: Centre, sandbox: FreeSwitchSandbox
) -> None:
    await centre.place("250", "+4930250001", hangup_after=26)
    caller = await centre.until("the caller waiting", lambda: _waiting(centre, "+4930250001"), 10)
    said = await centre.until(
        "the position said", lambda: _ran(centre, caller, "say", "en number pronounced 1"), 15
    )
    assert said
    # Meanwhile the caller is still parked on their queue: a resync's picture has them.
    snapshot = translate.to_snapshot(sandbox.api("show channels as json"))
    assert [(c.call_id, c.extension) for c in snapshot.callers] == [(caller, "250")]
    offered = await centre.until(
        "the callback offer", lambda: _ran(centre, caller, "play_and_get_digits"), 20
    )
    assert "ivr/ivr-if_you_would_like_us_to_call_back.wav!digits/1.wav" in offered[0]
    await centre.until(
        "the hold music again", lambda: _ran(centre, caller, "playback", "local_stream://moh"), 10
    )
    played = _completed(centre, caller)
    # the hold music, cut short by the announcement (uuid_break), is not part of it
    assert played[0] == "local_stream://moh", played
    played = played[1:]
    assert played[:3] == [
        "ivr/ivr-you_are_number.wav",
        "ivr/ivr-in_line.wav",
        "ivr/ivr-thank_you_for_holding.wav",
    ] or played[:5] == [
        "ivr/ivr-you_are_number.wav",
        "ivr/ivr-in_line.wav",
        "ivr/ivr-estimated_hold_time.wav",
        "time/minutes.wav",
        "ivr/ivr-thank_you_for_holding.wav",
    ], played
    # The expected wait, said in minutes: the centre has no estimate yet (nobody was
    # served), so the adapter is given one here, as the centre gives it.
    command = Announce(caller, "250", 2, 130.0, None, pbx="freeswitch")
    await centre.controller.dispatcher.pbx.execute(command)
    await centre.until(
        "the wait said", lambda: _completed(centre, caller).count("time/minutes.wav"), 15
    )
    sayings = _ran(centre, caller, "say")
    assert sayings[-2:] == ["en number pronounced 2", "en number pronounced 2"], sayings
    assert _completed(centre, caller)[-3:] == [
        "ivr/ivr-in_line.wav",
        "ivr/ivr-estimated_hold_time.wav",
        "time/minutes.wav",
    ]
    # Never out of park: one CHANNEL_PARK, from the arrival, and the same park guard.
    assert len(centre.observer.named("CHANNEL_PARK", **{"Unique-ID": caller})) == 1
    [record] = await centre.until(
        "the caller's record", lambda: records(centre, caller_number="+4930250001"), 15
    )
    assert record["outcome"] == "abandoned", record


async def test_an_agent_who_answers_mid_announcement_gets_the_caller_without_music(
    centre: Centre,
) -> None:
    """The announcement's hold music is queued behind it; FreeSWITCH would run it inside
    the bridge (unbridging the caller to play it) unless the adapter drops it first. (Before
    the key-1 test: the callback it queues would take the agent.)"""
    await centre.place("250", "+4930250003", hangup_after=12)
    caller = await centre.until("the caller waiting", lambda: _waiting(centre, "+4930250003"), 10)
    await centre.until("the announcement", lambda: _ran(centre, caller, "say"), 15)
    await set_states(centre, {1: "available"})
    try:
        bridge = await centre.until(
            "the caller bridged", lambda: centre.observer.bridges_of(caller), 15
        )
        assert bridge
        [record] = await centre.until(
            "the call's record", lambda: records(centre, caller_number="+4930250003"), 25
        )
    finally:
        await set_states(centre, {1: "paused"})
    assert (record["agent_id"], record["outcome"]) == ("agent1", "answered"), record
    ran = [
        (e.get("Application"), e.get("Application-Data"))
        for e in centre.observer.named("CHANNEL_EXECUTE", **{"Unique-ID": caller})
    ]
    after = ran[ran.index(("say", "en number pronounced 1")) :]
    assert ("playback", "local_stream://moh") not in after, after
    # bridged once, never taken out of the bridge to hear anything
    unbridged = centre.observer.named("CHANNEL_UNBRIDGE", **{"Unique-ID": caller})
    assert len(unbridged) <= 1, unbridged


async def test_key_1_during_the_announcement_is_a_queued_callback(centre: Centre) -> None:
    await centre.place("250", "+4930250002", hangup_after=40, key="1")
    [left] = await centre.until(
        "the caller leaving for a callback",
        lambda: records(centre, caller_number="+4930250002", outcome="callback"),
        30,
    )
    assert left["queue_id"] == "told" and left["wait_s"] >= 4.0
    [custom] = centre.observer.named("CUSTOM", **{"Unique-ID": left["call_id"]})
    assert custom["Event-Subclass"] == "ccgw::callback" and custom["ccgw_queue"] == "250"
    hangup = await centre.until(  # after the confirmation (ccgw-message)
        "the caller hung up by FreeSWITCH", lambda: centre.observer.hung_up(left["call_id"]), 15
    )
    assert hangup["Caller-Context"] == "ccgw-message", hangup
    [callback] = await centre.call("GET", "/v1/callbacks")
    assert (callback["number"], callback["state"], callback["origin_call_id"]) == (
        "+4930250002",
        "waiting",
        left["call_id"],
    )


async def _waiting(centre: Centre, number: str) -> str | None:
    for call in await centre.call("GET", "/v1/calls"):
        if call["caller_number"] == number:
            return str(call["call_id"])
    return None


def _ran(centre: Centre, uuid: str, app: str, data: str | None = None) -> list[str]:
    """The data of each run of `app` on the channel (only `data`'s, if given)."""
    ran = [
        e.get("Application-Data", "")
        for e in centre.observer.named("CHANNEL_EXECUTE", **{"Unique-ID": uuid})
        if e.get("Application") == app
    ]
    return [d for d in ran if data is None or d == data]


def _completed(centre: Centre, uuid: str) -> list[str]:
    """The sounds FreeSWITCH played whole on the channel (FILE PLAYED), in order; not the
    announcement's leading silence (silence_stream://)."""
    return [
        e.get("Application-Data", "")
        for e in centre.observer.named("CHANNEL_EXECUTE_COMPLETE", **{"Unique-ID": uuid})
        if e.get("Application") == "playback"
        and e.get("Application-Response") == "FILE PLAYED"
        and not e.get("Application-Data", "").startswith("silence_stream://")
    ]
