"""The agent phones' states on FreeSWITCH, and the resync's picture, on what a real 1.10.12 sent.

recorded/devices_resync_voicemail_guard.jsonl (2026-12-06, the FreeSWITCH sandbox: users
1001 and 1002 registered, 1003's phone off; `ctl` is a connection subscribed as the adapter
is and sending what it sends, `obs` a second one watching the voicemail): a resync while
idle; a direct call to 1001 (`originate user/1001`, not the controller's); a customer parked
in ccgw-inbound and a controller-style agent leg to 1002 bridged to it; a second resync with
those three channels (each `uuid_dump`ed); the direct call killed and the customer gone;
1001's phone placing its own call (sipp, From user 1001); a trunk caller sent to
ccgw-voicemail; a caller ended by the hold timeout (the sandbox's 8 s) with music playing.

Before the fix only sofia::register / unregister / expire reached the controller, and the
resync said nothing of the phones: a busy phone was offered calls, and after a restart
every phone was `unknown`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ccgateway.domain.agents import AgentState
from ccgateway.domain.events import (
    ChannelHungUp,
    DeviceState,
    DeviceStateChanged,
    PbxEvent,
    PbxResynced,
)
from ccgateway.pbx.freeswitch import devices, esl, translate
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.pbx.freeswitch.client import EventHeaders
from tests.fixtures.esl import transcript
from tests.pbx.freeswitch.scripted import ScriptedServer, Turn, recorded_turns
from tests.pbx.freeswitch.test_routing_scenario import CALLER, Scenario, scenario

__all__ = ["scenario"]  # the fixture, used by name below

RECORDED = Path(__file__).parent / "recorded" / "devices_resync_voicemail_guard.jsonl"
IN_USE, AVAILABLE, UNAVAILABLE = DeviceState.IN_USE, DeviceState.AVAILABLE, DeviceState.UNAVAILABLE

PHONE = ("freeswitch", "user/1001")  # the centre keeps phones by (PBX, device)


def turns() -> list[Turn]:
    return recorded_turns(RECORDED, "ctl")


def turn(prefix: str, nth: int = 0) -> Turn:
    return [t for t in turns() if t[0].startswith(prefix)][nth]


def body(raw: str) -> str:
    [frame] = esl.EslParser().feed(raw.encode())
    return frame.body


def answer(prefix: str, nth: int = 0) -> str:
    """The api/response body FreeSWITCH gave the nth command starting with `prefix`."""
    return body(turn(prefix, nth)[1][0])


def events(conn: str = "ctl") -> list[EventHeaders]:
    found = []
    for line in RECORDED.read_text().splitlines():
        record = json.loads(line)
        if record["conn"] == conn and record["dir"] == "S->C":
            for frame in esl.EslParser().feed(record["raw"].encode()):
                event = esl.parse_event(frame)
                if event is not None and event.get("Event-Name") != "HEARTBEAT":
                    found.append(event)
    return found


def idle_book() -> tuple[devices.DeviceBook, tuple[DeviceStateChanged, ...]]:
    book = devices.DeviceBook()
    phones = book.reset(
        devices.directory_users(answer("api list_users")),
        devices.registered_users(answer("api sofia xmlstatus profile")),
        {},
    )
    return book, phones


def test_the_idle_resync_knows_every_phone() -> None:
    assert devices.profiles(answer("api sofia xmlstatus")) == ["ccgw-sandbox"]
    _, phones = idle_book()
    states = {p.device: p.state for p in phones}
    assert (states["user/1001"], states["user/1002"]) == (AVAILABLE, AVAILABLE)
    assert states["user/1003"] is UNAVAILABLE  # in the directory, its phone off
    assert "user/+OK" not in states  # list_users' closing line is not a user


def test_a_phone_is_in_use_while_it_has_a_call_of_any_kind() -> None:
    book, _ = idle_book()
    changes = [c for e in events() if (c := book.on_event(e)) is not None]
    assert changes == [
        DeviceStateChanged("user/1001", IN_USE),  # the direct call rings it
        DeviceStateChanged("user/1002", IN_USE),  # the controller's leg: one channel
        DeviceStateChanged("user/1001", AVAILABLE),  # the direct call killed
        DeviceStateChanged("user/1002", AVAILABLE),  # the customer hung up: the leg too
        # then a call "From 1001" sent from another port than 1001 registered from (the
        # recording's sipp, not the phone): anyone can write a From, so it is not the phone's
    ]
    # what the controller heard before: none of it (only registrations were devices)
    calls = [e for e in events() if e["Event-Name"].startswith("CHANNEL_")]
    assert not [e for e in calls if isinstance(translate.to_event(e), DeviceStateChanged)]


def test_an_unchallenged_call_is_the_phone_s_only_from_where_it_registered() -> None:
    """A trunk caller who writes an agent's user name in the From must not make that phone
    look busy; the phone's own call (from its registered address) does."""
    book, _ = idle_book()
    own = [
        e
        for e in events()
        if e["Event-Name"] in ("CHANNEL_CREATE", "CHANNEL_HANGUP")
        and e.get("Caller-Username") == "1001"
        and e.get("Call-Direction") == "inbound"
    ]
    assert {e["variable_sip_network_port"] for e in own} != {"5201"}
    assert [book.on_event(e) for e in own] == [None] * len(own)
    # the same frames as sent from the socket 1001 registered from (127.0.0.1:5201)
    from_phone = [{**e, "variable_sip_network_port": "5201"} for e in own]
    assert [book.on_event(e) for e in from_phone] == [
        DeviceStateChanged("user/1001", IN_USE),
        DeviceStateChanged("user/1001", AVAILABLE),
    ]


def test_a_blind_registration_names_the_phone_by_its_from_user() -> None:
    """Without a challenge (accept-blind-reg) FreeSWITCH says `username: unknown`; the phone
    is `from-user` (before: the device `user/unknown`)."""
    [gone] = [e for e in events() if e.get("Event-Subclass") == "sofia::unregister"]
    assert (gone["username"], gone["from-user"]) == ("unknown", "1003")
    assert translate.to_event(gone) == DeviceStateChanged("user/1003", UNAVAILABLE)


def test_customers_never_become_devices() -> None:
    book, _ = idle_book()
    for event in events():
        change = book.on_event(event)
        assert change is None or change.device in ("user/1001", "user/1002")


def test_a_re_register_mid_call_keeps_the_phone_in_use() -> None:
    """Phones refresh their registration all the time; sofia::register (the real frame of
    transcript 14, user 1001) must not make a phone on a call available."""
    register = next(
        e
        for e in _transcript_events("14_agent_register_originate_bridge")
        if e.get("Event-Subclass") == "sofia::register"
    )
    book, _ = idle_book()
    direct = next(e for e in events() if e["Event-Name"] == "CHANNEL_CREATE")
    assert book.on_event(direct) == DeviceStateChanged("user/1001", IN_USE)
    assert book.on_event(register) is None
    assert book.state("1001") is IN_USE


def test_an_event_during_the_resync_is_applied_on_top_of_it() -> None:
    book, _ = idle_book()
    book.begin_resync()
    [create, *_] = [e for e in events() if e["Event-Name"] == "CHANNEL_CREATE"]
    assert book.on_event(create) is None  # held: the snapshot reports it
    phones = book.reset(
        {"1001", "1002"}, {"1001": ("127.0.0.1", "5201"), "1002": ("127.0.0.1", "5202")}, {}
    )
    assert DeviceStateChanged("user/1001", IN_USE) in phones


def test_the_resync_snapshot_has_sub_second_times_from_freeswitch() -> None:
    rows = answer("api show channels as json", 1)
    dumps = {
        uuid: translate.channel_dump(answer(f"api uuid_dump {uuid}"))
        for uuid in devices.channel_uuids(rows)
    }
    raw = {uuid: json.loads(answer(f"api uuid_dump {uuid}")) for uuid in dumps}
    snapshot = translate.to_snapshot(rows, dumps={u: d for u, d in dumps.items() if d})
    [caller] = snapshot.callers
    [leg] = snapshot.agent_legs
    mine, its = raw[caller.call_id], raw[leg.leg_id]

    def s(micros: str) -> float:
        return int(micros) / 1e6

    now = s(mine["Event-Date-Timestamp"])
    assert caller.age_s == pytest.approx(now - s(mine["Caller-Channel-Created-Time"]))
    assert leg.age_s == pytest.approx(now - s(its["Caller-Channel-Answered-Time"]))
    waited = s(its["Caller-Channel-Answered-Time"]) - s(mine["Caller-Channel-Created-Time"])
    # the adopted call's wait is up to the agent's answer, as the live CHANNEL_ANSWER gives
    # it (the bridge follows the controller's uuid_bridge); before, it was 0.0 (whole seconds)
    assert caller.age_s - leg.age_s == pytest.approx(waited)
    assert waited > 0 and waited != round(waited)
    assert (leg.device, leg.caller_id, leg.answered) == ("user/1002", caller.call_id, True)


# --- the adapter itself, against a server answering with the recorded messages -----------


async def _connected(resync_nth: int) -> tuple[ScriptedServer, FreeSwitchPbx, list[PbxEvent]]:
    recorded = turns()
    server = ScriptedServer(greeting=recorded[0][1])
    server.answer("auth ", turn("auth "))
    subscribe = turn("event plain")
    server.answer("event plain", (subscribe[0], subscribe[1][:1]))
    server.answer("api show channels", turn("api show channels", resync_nth))
    for uuid in devices.channel_uuids(answer("api show channels", resync_nth)):
        server.answer(f"api uuid_dump {uuid}", turn(f"api uuid_dump {uuid}"))
    server.answer("api list_users", turn("api list_users", resync_nth))
    server.answer("api sofia xmlstatus", turn("api sofia xmlstatus", 2 * resync_nth))
    server.answer("api sofia xmlstatus profile", turn("api sofia xmlstatus profile", resync_nth))
    port = await server.start()
    pbx = FreeSwitchPbx(port=port, password="ClueCon", hold_music=None)
    told: list[PbxEvent] = []
    return server, pbx, told


@pytest.fixture
async def running() -> AsyncIterator[Callable[[int], Any]]:
    started: list[tuple[ScriptedServer, FreeSwitchPbx, asyncio.Task[None]]] = []

    async def start(resync_nth: int) -> tuple[ScriptedServer, list[PbxEvent]]:
        server, pbx, told = await _connected(resync_nth)
        started.append((server, pbx, asyncio.create_task(pbx.run(told.append))))
        await _until(lambda: [e for e in told if isinstance(e, PbxResynced)])
        return server, told

    yield start
    for server, pbx, task in started:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pbx.close()
        await server.stop()


async def test_the_adapter_s_resync_reports_the_phones_in_use_and_unregistered(
    running: Callable[[int], Any],
) -> None:
    server, told = await running(1)
    [snapshot] = [e for e in told if isinstance(e, PbxResynced)]
    states = {d.device: d.state for d in snapshot.devices}
    assert states["user/1001"] is IN_USE  # on the direct call
    assert states["user/1002"] is IN_USE  # on the controller's leg
    assert states["user/1003"] is UNAVAILABLE  # not registered: never offered a call
    assert [leg.age_s for leg in snapshot.agent_legs] != [0.0]
    assert not server.unanswered, server.unanswered


async def test_the_adapter_reports_a_busy_phone_and_its_hang_up(
    running: Callable[[int], Any],
) -> None:
    server, told = await running(0)
    direct = [
        f
        for f in turns()[7][1] + turns()[8][1]  # after the direct originate and the next
        if "CHANNEL_CREATE" in f and "direct-call-1001" in f
    ]
    server.push(direct)
    await _until(lambda: DeviceStateChanged("user/1001", IN_USE) in told)
    kill = turn("api uuid_kill direct-call-1001")[1]
    server.push([f for f in kill if "CHANNEL_HANGUP" in f and "direct-call-1001" in f])
    await _until(lambda: DeviceStateChanged("user/1001", AVAILABLE) in told)
    # the hang-up is still a hang-up for the calls, and the phone's state comes after it
    hung = [i for i, e in enumerate(told) if isinstance(e, ChannelHungUp)]
    freed = told.index(DeviceStateChanged("user/1001", AVAILABLE))
    assert hung and hung[0] < freed


async def _until(check: Callable[[], Any], timeout_s: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not (result := check()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)
    return result


def _transcript_events(name: str) -> list[EventHeaders]:
    found = []
    for line in transcript(name).read_text().splitlines():
        record = json.loads(line)
        if record["dir"] == "S->C":
            for frame in esl.EslParser().feed(record["raw"].encode()):
                event = esl.parse_event(frame)
                if event is not None:
                    found.append(event)
    return found


# --- voicemail and the guard, from the same recording ------------------------------------


def test_a_trunk_caller_leaves_a_voicemail_in_the_switch_s_domain() -> None:
    """The caller is not a directory user: its channel has no domain_name, so the old
    `voicemail default ${domain_name} 200` named no domain. `$${domain}` is the switch's."""
    [run] = [e for e in events("obs") if e.get("Application") == "voicemail"]
    assert "variable_domain_name" not in run and "variable_user_name" not in run
    assert run["Application-Data"] == "default 127.0.0.1 200"
    [left] = [e for e in events("obs") if e.get("VM-Action") == "leave-message"]
    assert (left["Unique-ID"], left["VM-User"], left["VM-Domain"]) == (
        run["Unique-ID"],
        "200",
        "127.0.0.1",
    )
    assert left["VM-Caller-ID-Number"] == run["Caller-Username"]
    assert left["VM-File-Path"].endswith(".wav")


def test_the_guard_takes_the_deployment_s_hold_timeout() -> None:
    """The sandbox set ccgw_hold_timeout=8 (vars.xml); music played; no controller."""
    parks = [e for e in events() if e["Event-Name"] == "CHANNEL_PARK"]
    [park] = [e for e in parks if e.get("variable_ccgw_queue") == "302"]
    assert park["variable_ccgw_hold_s"] == park["variable_playback_timeout_sec"]
    hold_s = int(park["variable_ccgw_hold_s"])
    [ended] = [
        e
        for e in events()
        if e["Event-Name"] == "CHANNEL_HANGUP" and e["Unique-ID"] == park["Unique-ID"]
    ]
    held = (int(ended["Event-Date-Timestamp"]) - int(park["Event-Date-Timestamp"])) / 1e6
    assert ended["Hangup-Cause"] == "ALLOTTED_TIMEOUT"
    assert hold_s <= held <= hold_s + 1.5
    assert translate.to_event(ended) == ChannelHungUp(
        park["Unique-ID"], translate.CAUSES["ALLOTTED_TIMEOUT"], "ALLOTTED_TIMEOUT"
    )


# --- through the real dispatcher and centre (test_routing_scenario's controller) ----------


async def test_the_centre_offers_a_busy_phone_nothing_until_its_own_call_ends(
    scenario: tuple[Scenario, dict[str, list[Any]]],
) -> None:
    """fs2 (user/1001) is the only agent free; its phone is on a direct call (the recorded
    CHANNEL_CREATE); the caller of transcript 14 parks (its events re-register 1001 on the
    way): nothing is rung until the direct call's CHANNEL_HANGUP, then 1001 is."""
    s, script = scenario
    await s.controller.service.set_agent_state("fs1", AgentState.PAUSED, "away")
    s.server.answer("bgapi originate", script["t14_bgapi"][0])
    await s.until("the resync", lambda: s.center.pbx_ready)
    assert s.center.devices[PHONE] is AVAILABLE  # the idle resync's registrations
    [create, *_] = [e for e in turns()[7][1] if "CHANNEL_CREATE" in e and "direct-call" in e]
    s.server.push([create])
    await s.until("the phone in use", lambda: s.center.devices[PHONE] is IN_USE)
    s.server.push(script["register_and_caller_parks"])
    await s.until("the caller waiting", lambda: s.center.calls.get(CALLER))
    await asyncio.sleep(0.3)
    assert not [c for c in s.server.received if c.startswith("bgapi originate")]
    assert s.center.devices[PHONE] is IN_USE  # the re-register changed nothing
    kill = turn("api uuid_kill direct-call-1001")[1]
    s.server.push([f for f in kill if "CHANNEL_HANGUP" in f and "direct-call-1001" in f])
    originate = await s.until(
        "the offer", lambda: [c for c in s.server.received if c.startswith("bgapi originate")]
    )
    assert "}user/1001 &park()" in originate[0] and f"ccgw_caller={CALLER}" in originate[0]


def test_without_a_valid_hold_timeout_the_guard_is_900_s() -> None:
    """recorded/hold_timeout_default.esl: three callers parked in ccgw-inbound on a real
    1.10.12 after `global_setvar ccgw_hold_timeout=` (unset), `=abc` and `=45`."""
    frames = esl.EslParser().feed((RECORDED.parent / "hold_timeout_default.esl").read_bytes())
    parks = [e for f in frames if (e := esl.parse_event(f)) is not None]
    got = {
        e["Caller-Caller-ID-Number"]: (
            e["variable_ccgw_hold_s"],
            e["variable_playback_timeout_sec"],
        )
        for e in parks
    }
    assert got == {
        "+4930199001": ("900", "900"),  # unset
        "+4930199002": ("900", "900"),  # not a number of seconds
        "+4930199003": ("45", "45"),
    }
