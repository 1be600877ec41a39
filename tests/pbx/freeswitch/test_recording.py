"""Recordings and the recording notice on FreeSWITCH: the words sent, and the answers and
events of a real FreeSWITCH 1.10.12 (recorded on the sandbox, 2026-12-05).

- recorded/recording_sandbox.esl: event frames a raw Event Socket listener kept during
  tests/sandbox/test_freeswitch_recording.py (CCGW_ESL_CAPTURE=<file>): the callers' parks,
  the BACKGROUND_JOB answers of `uuid_record <leg> mask|unmask|start <path>` sent by the
  controller, and CUSTOM ccgw::consent of a caller who heard the notice (Refused: 0) and of
  one who pressed 9 (Refused: 1), each followed by the caller's park in ccgw-inbound;
- recorded/consent_and_refused_record.jsonl: one Event Socket connection, both directions
  (the transcripts' format): `uuid_setvar_multi` and `uuid_transfer ... XML ccgw-consent` on
  a parked caller who pressed 9, the CUSTOM event and the park that followed, and `bgapi
  uuid_record` of a leg that does not exist (`-ERR Cannot locate session!`);
- recorded/recording_key.esl: the same listener's frames of an agent phone that pressed *0
  twice (sipp, SIP INFO; 2026-12-05): the leg's CHANNEL_EXECUTE of bind_meta_app on its
  answer, the two CUSTOM ccgw::recording_toggle events fired on the leg, and the answers of
  the `uuid_record <leg> mask|unmask <path>` the controller sent for them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from itertools import count
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from ccgateway.app import build_controller
from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import RingAgent
from ccgateway.domain.events import ConsentHeard, RecordingToggled
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.domain.recording import RecordingMode, RecordingPolicy
from ccgateway.pbx.freeswitch import commands, esl, translate
from ccgateway.pbx.freeswitch.adapter import FreeSwitchPbx
from ccgateway.pbx.freeswitch.client import EventHeaders
from ccgateway.ports import InvalidWireValue
from ccgateway.settings import Settings
from tests.pbx.freeswitch.scripted import Turn, recorded_turns
from tests.pbx.freeswitch.test_routing_scenario import CALLER, Scenario, server_for_scenario

RECORDED = Path(__file__).parent / "recorded"
SANDBOX = RECORDED / "recording_sandbox.esl"
CONSENT = RECORDED / "consent_and_refused_record.jsonl"
KEY = RECORDED / "recording_key.esl"
FOLDER = "/srv/recordings"
ADMIN = "recording-admin-key-0123"


def frames(path: Path) -> list[tuple[str, EventHeaders]]:
    """(raw frame, event) for each event frame of a recorded stream."""
    found = []
    for frame in esl.EslParser().feed(path.read_bytes()):
        event = esl.parse_event(frame)
        assert event is not None
        length = len(frame.body.encode())
        raw = f"Content-Length: {length}\nContent-Type: text/event-plain\n\n{frame.body}"
        found.append((raw, event))
    return found


def recorded_jobs() -> list[tuple[str, EventHeaders]]:
    return [(raw, e) for raw, e in frames(SANDBOX) if e.get("Job-Command") == "uuid_record"]


# --- the words -----------------------------------------------------------------------------


def ring(record_file: str = "") -> RingAgent:
    return RingAgent("ccgw-leg-1", "caller-1", "a1", "user/1001", 15, record_file=record_file)


def test_a_recorded_leg_records_itself_from_its_answer_while_bridged() -> None:
    _, variables, _ = commands.originate_agent(ring("rec-abc.wav"), FOLDER)
    assert variables.startswith("{origination_uuid=ccgw-leg-1,ccgw_caller=caller-1,")
    assert variables.endswith(
        ",RECORD_BRIDGE_REQ=true,execute_on_answer=record_session:/srv/recordings/rec-abc.wav"
        "}user/1001"
    )
    _, plain, _ = commands.originate_agent(ring(), FOLDER)
    assert "record_session" not in plain and "RECORD_BRIDGE_REQ=true" in plain
    stereo = RingAgent(
        "ccgw-leg-1", "c1", "a1", "user/1001", 15, record_file="r.wav", record_stereo=True
    )
    _, both, _ = commands.originate_agent(stereo, FOLDER)
    assert both.endswith(",RECORD_STEREO=true}user/1001")


@pytest.mark.parametrize(
    "file", ["../etc/passwd.wav", "a b.wav", "a,b.wav", "x.wav}", "rec.mp3", ".wav", "a:b.wav"]
)
def test_a_file_name_is_checked_again_at_the_wire(file: str) -> None:
    with pytest.raises(InvalidWireValue):
        commands.originate_agent(ring(file), FOLDER)
    with pytest.raises(InvalidWireValue):
        commands.recording_path(FOLDER, file)


@pytest.mark.parametrize("folder", ["recordings", "/srv/rec ords", "/srv/../etc", "/a:b", "/a,b"])
def test_the_folder_is_an_absolute_plain_path(folder: str) -> None:
    with pytest.raises(InvalidWireValue):
        FreeSwitchPbx(recordings=folder)


def test_uuid_record_words() -> None:
    path = commands.recording_path(FOLDER + "/", "rec-1.wav")
    assert path == "/srv/recordings/rec-1.wav"
    assert commands.record("ccgw-leg-1", path) == ("uuid_record", "ccgw-leg-1", "start", path)
    assert commands.mask_recording("ccgw-leg-1", path, True)[2] == "mask"
    assert commands.mask_recording("ccgw-leg-1", path, False)[2] == "unmask"
    with pytest.raises(InvalidWireValue):
        commands.record("leg 1", path)


def test_the_consent_words() -> None:
    words = commands.consent_variables("c-1", "file_string://a.wav!b.wav", "#", "ccgw-inbound")
    assert words == (
        "uuid_setvar_multi",
        "c-1",
        "ccgw_sound=file_string://a.wav!b.wav;ccgw_refuse_key=#;ccgw_hold_context=ccgw-inbound",
    )
    # no key: the variable is unset (uuid_setvar_multi sets an empty value as none)
    assert commands.consent_variables("c-1", "a.wav", None, "x")[2].split(";")[1] == (
        "ccgw_refuse_key="
    )
    assert commands.consent("c-1", "200") == ("uuid_transfer", "c-1", "200", "XML", "ccgw-consent")
    bad: list[tuple[str, str | None]] = [
        ("a;b.wav", None),
        ("a=b.wav", None),
        ("a.wav", "99"),
        ("a.wav", ";"),
    ]
    for sound, key in bad:
        with pytest.raises(InvalidWireValue):
            commands.consent_variables("c-1", sound, key, "ccgw-inbound")
    with pytest.raises(InvalidWireValue):
        commands.consent("c-1", "s")


def test_every_agent_leg_binds_star_0_from_its_answer() -> None:
    """The binding's spaces travel as `\\s` and its comma as `\\,`; the recorded leg shows
    FreeSWITCH read them back into the variable and ran bind_meta_app with that data."""
    for command in (ring(), ring("rec-abc.wav")):
        _, variables, _ = commands.originate_agent(command, FOLDER)
        assert (
            ",execute_on_answer_ccgw_key=bind_meta_app:0\\sa\\ss\\sevent::Event-Name=CUSTOM"
            "\\,Event-Subclass=ccgw::recording_toggle," in variables
        )
    [bound] = [e for _, e in frames(KEY) if e.get("Application") == "bind_meta_app"]
    assert bound["variable_execute_on_answer_ccgw_key"] == commands.RECORDING_KEY_BINDING
    app, _, data = commands.RECORDING_KEY_BINDING.partition(":")
    assert (bound["Application"], bound["Application-Data"]) == (app, data)
    assert bound["Unique-ID"].startswith(translate.LEG_PREFIX)
    with pytest.raises(InvalidWireValue):
        commands._spaced("a\\sb c")


def test_recorded_star_0_events_become_recording_toggled() -> None:
    events = [e for _, e in frames(KEY)]
    [leg] = {e["Unique-ID"] for e in events if e.get("Application") == "bind_meta_app"}
    toggles = [e for e in events if e.get("Event-Subclass") == "ccgw::recording_toggle"]
    assert [translate.to_event(e) for e in toggles] == [RecordingToggled(leg)] * 2
    # fired on a channel that is not one of our agent legs: not ours to act on
    assert translate.to_event(toggles[0] | {"Unique-ID": "a1b2c3"}) is None
    assert b" ccgw::recording_toggle" in esl.subscribe(translate.SUBSCRIBED, translate.CUSTOM)


# --- the recorded events -------------------------------------------------------------------


def test_recorded_consent_events_become_consent_heard() -> None:
    events = [e for _, e in frames(SANDBOX)] + [
        e for _, e in frames_of_transcript() if e.get("Event-Name") == "CUSTOM"
    ]
    heard = [d for e in events if isinstance(d := translate.to_event(e), ConsentHeard)]
    consent = [e for e in events if e.get("Event-Subclass") == "ccgw::consent"]
    assert heard == [ConsentHeard(e["Unique-ID"], e["Refused"] == "1") for e in consent]
    assert [h.refused for h in heard] == [False, True, True]
    assert "ccgw::consent" in translate.CUSTOM
    assert b"CUSTOM" in esl.subscribe(translate.SUBSCRIBED, translate.CUSTOM)
    assert b" ccgw::consent" in esl.subscribe(translate.SUBSCRIBED, translate.CUSTOM)


def test_after_the_notice_the_caller_parks_again_as_a_waiting_caller() -> None:
    """The same queue, in the inbound context: the repeat CallWaiting is one the centre
    already knows (and the adapter starts the hold music again on it)."""
    events = [e for _, e in frames(SANDBOX)]
    for i, event in enumerate(events):
        if event.get("Event-Subclass") != "ccgw::consent":
            continue
        park = events[i + 1]
        assert (park["Event-Name"], park["Unique-ID"]) == ("CHANNEL_PARK", event["Unique-ID"])
        waiting = translate.to_event(park)
        assert waiting is not None and waiting.extension == "311"  # type: ignore[union-attr]
        assert park["Caller-Context"] == "ccgw-inbound"


def test_uuid_record_answers_as_recorded() -> None:
    answers = [(e["Job-Command-Arg"].split(" ")[1], e["_body"].strip()) for _, e in recorded_jobs()]
    assert answers == [("mask", "+OK Success"), ("unmask", "+OK Success"), ("start", "+OK Success")]
    [refused] = [e for _, e in frames_of_transcript() if e.get("Event-Name") == "BACKGROUND_JOB"]
    assert refused["_body"].strip() == "-ERR Cannot locate session!"
    assert translate.to_event(refused) is None  # the adapter's waiter takes it, not the centre


def frames_of_transcript() -> list[tuple[str, EventHeaders]]:
    found = []
    for line in CONSENT.read_text().splitlines():
        record = json.loads(line)
        if record["dir"] == "S->C":
            for frame in esl.EslParser().feed(record["raw"].encode()):
                event = esl.parse_event(frame)
                if event is not None:
                    found.append((record["raw"], event))
    return found


# --- through the real controller, against recorded answers --------------------------------


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[tuple[Scenario, httpx.AsyncClient]]:
    server, script = server_for_scenario()
    server.answer("bgapi originate", cast(Turn, script["t14_bgapi"][0]))
    server.answer("api uuid_bridge", cast(Turn, script["t14_bridge"][0]))
    port = await server.start()
    pbx = FreeSwitchPbx(
        port=port,
        password="ClueCon",
        inbound_context="default",
        hold_music=None,
        recordings=FOLDER,
        resync_settle_s=0,  # a replayed transcript: no channel table lagging behind
    )
    settings = Settings(database_url=f"sqlite:///{tmp_path}/db.sqlite", admin_key=ADMIN)
    controller = build_controller(settings, [pbx])
    legs = count(1)
    controller.dispatcher.center.floor.new_id = lambda: f"ccgw-leg-{next(legs)}"
    task = asyncio.create_task(controller.dispatcher.run())
    await controller.service.create_skill(Skill("support", "Support"))
    await controller.service.create_agent(
        Agent("fs1", "fs1", "user/1004", {"support": 7}, pbx="freeswitch")
    )
    await controller.service.set_agent_state("fs1", AgentState.AVAILABLE, None)
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=controller.api),
        base_url="http://ccgw",
        headers={"Authorization": f"Bearer {ADMIN}"},
    )
    yield Scenario(controller, server, task), api
    await api.aclose()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await server.stop()
    controller.engine.dispose()


async def queue(s: Scenario, policy: RecordingPolicy) -> None:
    await s.controller.service.create_queue(
        Queue("q", "Q", "5000", {"support": 5}, pbx="freeswitch", recording=policy)
    )


async def connected(s: Scenario) -> None:
    await s.until("the resync", lambda: s.center.pbx_ready)
    s.server.push(SCRIPT["register_and_caller_parks"])
    await s.until(
        "connected",
        lambda: s.center.calls.get(CALLER) and s.center.calls[CALLER].state == "connected",
    )


SCRIPT = server_for_scenario()[1]


def job_turn(raw_event: str, event: EventHeaders) -> Turn:
    """A bgapi turn: FreeSWITCH's recorded `+OK Job-UUID` reply (from the transcript) and
    the recorded BACKGROUND_JOB, under the job's own recorded uuid (the server puts the
    client's in its place)."""
    job = event["Job-UUID"]
    [(command, replies)] = [t for t in recorded_turns(CONSENT, "ctl") if t[0].startswith("bgapi")]
    recorded_job = command.split("Job-UUID: ")[1].strip()
    reply = replies[0].replace(recorded_job, job)
    return (f"bgapi {event['Job-Command']}\nJob-UUID: {job}\n\n", [reply, raw_event])


async def recordings(api: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await api.get("/v1/recordings")
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_queue_that_records_rings_the_leg_with_its_file_and_pauses_by_mask(
    scenario: tuple[Scenario, httpx.AsyncClient],
) -> None:
    s, api = scenario
    await queue(s, RecordingPolicy(RecordingMode.ALWAYS))
    (mask_raw, mask), (unmask_raw, unmask), _ = recorded_jobs()
    leg, _, path = mask["Job-Command-Arg"].split(" ")
    s.server.ids[leg] = "ccgw-leg-1"
    s.server.ids[path.rsplit("/", 1)[0]] = FOLDER
    s.server.answer("bgapi uuid_record", job_turn(mask_raw, mask))
    await connected(s)
    [live] = await recordings(api)
    file = f"{FOLDER}/{live['id']}.wav"
    s.server.ids[path.rsplit("/", 1)[1]] = f"{live['id']}.wav"
    [originate] = [c for c in s.server.received if c.startswith("bgapi originate")]
    assert f",RECORD_BRIDGE_REQ=true,execute_on_answer=record_session:{file}}}user/" in originate

    response = await api.post(f"/v1/calls/{CALLER}/recording", json={"action": "pause"})
    assert response.status_code == 200, response.text
    await s.until("the mask", lambda: [c for c in s.server.received if " mask " in c])
    [sent] = [c for c in s.server.received if c.startswith("bgapi uuid_record")]
    assert sent.startswith(f"bgapi uuid_record ccgw-leg-1 mask {file}\nJob-UUID: ")

    s.server.answer("bgapi uuid_record", job_turn(unmask_raw, unmask))
    response = await api.post(f"/v1/calls/{CALLER}/recording", json={"action": "resume"})
    assert response.status_code == 200, response.text
    await s.until("the unmask", lambda: [c for c in s.server.received if " unmask " in c])
    [record] = await recordings(api)
    assert record["state"] == "recording" and len(record["pauses"]) == 1
    assert not record["failure"] and s.server.unanswered == []


async def test_the_agent_s_star_0_masks_then_unmasks_the_recording(
    scenario: tuple[Scenario, httpx.AsyncClient],
) -> None:
    """The recorded CUSTOM events of the agent's two *0 presses, pushed as FreeSWITCH sent
    them: the controller masks, then unmasks, the leg's recording, answered as recorded."""
    s, api = scenario
    await queue(s, RecordingPolicy(RecordingMode.ALWAYS))
    recorded = frames(KEY)
    toggles = [raw for raw, e in recorded if e.get("Event-Subclass") == "ccgw::recording_toggle"]
    [(mask_raw, mask), (unmask_raw, unmask)] = [
        (raw, e) for raw, e in recorded if e.get("Job-Command") == "uuid_record"
    ]
    leg, _, path = mask["Job-Command-Arg"].split(" ")
    s.server.ids[leg] = "ccgw-leg-1"
    s.server.ids[path.rsplit("/", 1)[0]] = FOLDER
    s.server.answer("bgapi uuid_record", job_turn(mask_raw, mask))
    s.server.answer("bgapi uuid_record", job_turn(unmask_raw, unmask))
    await connected(s)
    [live] = await recordings(api)
    file = f"{FOLDER}/{live['id']}.wav"
    s.server.ids[path.rsplit("/", 1)[1]] = f"{live['id']}.wav"

    s.server.push(toggles[:1])
    await s.until("the mask", lambda: [c for c in s.server.received if " mask " in c])
    s.server.push(toggles[1:])
    await s.until("the unmask", lambda: [c for c in s.server.received if " unmask " in c])
    sent = [c.split("\n")[0] for c in s.server.received if c.startswith("bgapi uuid_record")]
    assert sent == [
        f"bgapi uuid_record ccgw-leg-1 mask {file}",
        f"bgapi uuid_record ccgw-leg-1 unmask {file}",
    ]
    for _ in range(200):  # the unmask is sent before the record is saved
        [record] = await recordings(api)
        if record["pauses"] and record["pauses"][-1]["resumed_at"]:
            break
        await asyncio.sleep(0.02)
    assert len(record["pauses"]) == 1 and record["pauses"][0]["resumed_at"], record
    assert record["state"] == "recording" and not record["failure"]
    assert s.server.unanswered == []


async def test_a_start_freeswitch_refuses_is_the_recordings_failure(
    scenario: tuple[Scenario, httpx.AsyncClient],
) -> None:
    s, api = scenario
    await queue(s, RecordingPolicy(RecordingMode.ON_DEMAND))
    turns = recorded_turns(CONSENT, "ctl")
    [refused] = [t for t in turns if t[0].startswith("bgapi uuid_record")]
    s.server.ids["ccgw-0000000000000000000000nosuch"] = "ccgw-leg-1"
    await connected(s)
    [originate] = [c for c in s.server.received if c.startswith("bgapi originate")]
    assert "record_session" not in originate  # on demand: nothing until asked
    s.server.answer("bgapi uuid_record", refused)
    response = await api.post(f"/v1/calls/{CALLER}/recording", json={"action": "start"})
    assert response.status_code < 300, response.text
    record = None
    for _ in range(200):
        found = await recordings(api)
        if found and found[0]["failure"]:
            record = found[0]
            break
        await asyncio.sleep(0.02)
    assert record is not None, "no failure on the record"
    assert "-ERR Cannot locate session!" in record["failure"]
    [sent] = [c for c in s.server.received if c.startswith("bgapi uuid_record")]
    assert sent.startswith(f"bgapi uuid_record ccgw-leg-1 start {FOLDER}/{record['id']}.wav\n")


async def test_a_caller_who_refuses_in_ccgw_consent_is_rung_through_unrecorded(
    scenario: tuple[Scenario, httpx.AsyncClient],
) -> None:
    s, api = scenario
    await queue(
        s, RecordingPolicy(RecordingMode.ALWAYS, notice="conf-now-recording", refuse_key="9")
    )
    turns = recorded_turns(CONSENT, "ctl")
    [setvar] = [t for t in turns if t[0].startswith("api uuid_setvar_multi")]
    [transfer] = [t for t in turns if t[0].startswith("api uuid_transfer")]
    recorded_caller = setvar[0].split(" ")[2]
    s.server.ids[recorded_caller] = CALLER
    s.server.answer("api uuid_setvar_multi", setvar)
    s.server.answer("api uuid_transfer", (transfer[0], transfer[1][:1]))  # its +OK
    await s.until("the resync", lambda: s.center.pbx_ready)
    s.server.push(SCRIPT["register_and_caller_parks"])
    await s.until("the notice", lambda: [c for c in s.server.received if "ccgw-consent" in c])
    assert s.server.received[-2] == (
        f"api uuid_setvar_multi {CALLER} ccgw_sound=conference/conf-being_recorded.wav;"
        "ccgw_refuse_key=9;ccgw_hold_context=default"
    )
    assert s.server.received[-1] == f"api uuid_transfer {CALLER} 5000 XML ccgw-consent"
    assert not [c for c in s.server.received if c.startswith("bgapi originate")]

    # what FreeSWITCH sent next: the CUSTOM event (Refused: 1) and the caller's park again
    after = transfer[1][1:]
    assert any("ccgw%3A%3Aconsent" in r for r in after) and any("CHANNEL_PARK" in r for r in after)
    s.server.push(after)
    await s.until(
        "connected",
        lambda: s.center.calls.get(CALLER) and s.center.calls[CALLER].state == "connected",
    )
    [originate] = [c for c in s.server.received if c.startswith("bgapi originate")]
    assert "record_session" not in originate
    [record] = await recordings(api)
    assert (record["consent"], record["state"]) == ("refused", "refused")
    assert s.server.unanswered == []
