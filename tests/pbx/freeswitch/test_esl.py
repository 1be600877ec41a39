"""ESL framing on the real FreeSWITCH 1.10.12 transcripts in tests/fixtures/esl."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.pbx.freeswitch import esl
from ccgateway.ports import InvalidWireValue
from tests.fixtures.esl import transcript, transcripts


def server_side(path: Path) -> dict[str, list[dict[str, object]]]:
    """Each connection's server-to-client messages, in order."""
    conns: dict[str, list[dict[str, object]]] = {}
    for line in path.read_text().splitlines():
        message = json.loads(line)
        if message["dir"] == "S->C":
            conns.setdefault(message["conn"], []).append(message)
    return conns


def frames_of(data: bytes, cuts: list[int]) -> list[esl.Frame]:
    parser, frames, last = esl.EslParser(), [], 0
    for cut in [*sorted(set(cuts)), len(data)]:
        frames += parser.feed(data[last:cut])
        last = cut
    return frames


def test_every_transcript_frames_and_decodes_as_recorded() -> None:
    checked_events = 0
    for path in transcripts():
        for conn, messages in server_side(path).items():
            data = "".join(str(m["raw"]) for m in messages).encode()
            frames = esl.EslParser().feed(data)
            assert len(frames) == len(messages), (path.name, conn)
            for frame, message in zip(frames, messages, strict=True):
                assert dict(frame.headers) == message["headers"], (path.name, message["raw"])
                if "event" in message:
                    assert esl.parse_event(frame) == message["event"], path.name
                    checked_events += 1
    assert checked_events > 400


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_any_split_of_the_bytes_gives_the_same_frames(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(transcripts()))
    messages = next(iter(server_side(path).values()))
    raw = "".join(str(m["raw"]) for m in messages).encode()
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=60))
    assert frames_of(raw, cuts) == esl.EslParser().feed(raw)


def a_real_park_event() -> str:
    for line in transcript("11_sipp_uac_park").read_text().splitlines():
        message = json.loads(line)
        if message.get("event", {}).get("Event-Name") == "CHANNEL_PARK":
            return str(message["raw"]).split("\n\n", 1)[1]
    raise AssertionError("no CHANNEL_PARK in the transcript")


def test_an_encoded_newline_in_a_display_name_cannot_forge_headers() -> None:
    body = a_real_park_event()
    real = esl.parse_plain_event(body)
    hostile = quote("Alice\nUnique-ID: forged\nEvent-Name: HEARTBEAT", safe="")
    line = next(x for x in body.split("\n") if x.startswith("Caller-Caller-ID-Name: "))
    spoofed = body.replace(line, f"Caller-Caller-ID-Name: {hostile}")
    parsed = esl.parse_plain_event(spoofed)
    assert parsed["Unique-ID"] == real["Unique-ID"] != "forged"
    assert parsed["Event-Name"] == "CHANNEL_PARK"
    assert parsed["Caller-Caller-ID-Name"].startswith("Alice\nUnique-ID: forged")
    # The evidence against decoding first (greenswitch 0.0.19's ESLEvent.parse_data):
    naive = dict(x.split(": ", 1) for x in unquote(spoofed).splitlines() if ": " in x)
    assert naive["Unique-ID"] == "forged"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_no_value_whatever_it_holds_creates_or_overwrites_a_header(value: str) -> None:
    body = "Event-Name: CHANNEL_PARK\nUnique-ID: u1\nCaller-Caller-ID-Name: {}\nX: y\n"
    parsed = esl.parse_plain_event(body.format(quote(value, safe="")))
    assert parsed == {
        "Event-Name": "CHANNEL_PARK",
        "Unique-ID": "u1",
        "Caller-Caller-ID-Name": value,
        "X": "y",
    }


def test_commands_are_built_and_checked() -> None:
    assert esl.auth("ClueCon") == b"auth ClueCon\n\n"
    assert esl.bgapi("job-1", "originate", "{a=1}user/1001", "&park()") == (
        b"bgapi originate {a=1}user/1001 &park()\nJob-UUID: job-1\n\n"
    )
    assert esl.subscribe(["CHANNEL_PARK"], ["sofia::register"]) == (
        b"event plain CHANNEL_PARK CUSTOM sofia::register\n\n"
    )
    assert esl.originate_variables({"origination_uuid": "u", "ccgw_caller": "a,b"}) == (
        "{origination_uuid=u,ccgw_caller=a\\,b}"
    )


@pytest.mark.parametrize("bad", ["x\ny", "x\ry", "x\0y"])
def test_line_breaks_and_nul_are_refused_everywhere(bad: str) -> None:
    with pytest.raises(InvalidWireValue):
        esl.api("uuid_kill", bad)
    with pytest.raises(InvalidWireValue):
        esl.bgapi(bad, "status")
    with pytest.raises(InvalidWireValue):
        esl.auth(bad)
    with pytest.raises(InvalidWireValue):
        esl.originate_variables({"v": bad})


@pytest.mark.parametrize("bad", ["a b", "a'b", "a}b", "a{b"])
def test_originate_values_that_would_cut_the_dial_string_are_refused(bad: str) -> None:
    with pytest.raises(InvalidWireValue):
        esl.originate_variables({"v": bad})
