"""The AMI framing the client runs (`ami.AmiParser`): any split of the bytes, the recorded
Asterisk 22 traffic of tests/fixtures/ami and a stream with names in several scripts, gives
the messages that feeding it whole gives; a character split across two reads stays whole."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccgateway.pbx.asterisk.ami import (
    AmiMessage,
    AmiParser,
    AmiProtocolError,
    by_panoramisk,
    encode_action,
    parse_message,
)

FIXTURES = Path(__file__).parents[2] / "fixtures/ami"
BANNER = b"Asterisk Call Manager/9.0.0\r\n"
NAMES = ["Zoë Ångström 山田", "Ana Núñez", "Σωκράτης", "Björk 🎵", "plain"]


def _message(headers: list[tuple[str, str]]) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode() + b"\r\n"


def _waiting(n: int, name: str) -> bytes:
    return _message(
        [
            ("Event", "UserEvent"),
            ("Privilege", "user,all"),
            ("Channel", f"PJSIP/trunk-0000000{n}"),
            ("CallerIDNum", f"+4930{n:04d}"),
            ("CallerIDName", name),
            ("Uniqueid", f"1795348694.{n}"),
            ("UserEvent", "CCGWWaiting"),
            ("Queue", "200"),
        ]
    )


# Small messages back to back (several in one read), one spread over many reads (a long
# CoreShowChannel with 60 headers), and names of two- to four-byte characters.
SCRIPTS = (
    BANNER
    + _message([("Response", "Success"), ("ActionID", "1"), ("Message", "Authentication ok")])
    + b"".join(_waiting(n, name) for n, name in enumerate(NAMES))
    + _message(
        [("Event", "CoreShowChannel"), ("ActionID", "2")]
        + [(f"X-Header-{i}", f"value {i} {NAMES[i % len(NAMES)]}") for i in range(60)]
    )
    + _message([("Event", "CoreShowChannelsComplete"), ("ActionID", "2")])
)
STREAMS = {
    "scripts": SCRIPTS,
    **{path.stem: path.read_bytes() for path in sorted(FIXTURES.glob("*.ami"))},
}


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[AmiMessage]:
    parser, out = AmiParser(), []
    for start, end in itertools.pairwise([0, *sorted(set(cuts)), len(data)]):
        out += parser.feed(data[start:end])
    return out


@pytest.mark.parametrize("name", sorted(STREAMS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_split_of_a_stream_gives_the_messages_of_the_whole(
    name: str, data: st.DataObject
) -> None:
    stream = STREAMS[name]
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=60))
    assert feed_in_pieces(stream, cuts) == AmiParser().feed(stream)


def test_the_whole_stream_is_every_message_with_every_name_intact() -> None:
    messages = AmiParser().feed(SCRIPTS)
    assert [m["CallerIDName"] for m in messages if "CallerIDName" in m] == NAMES
    assert len(messages) == 2 + len(NAMES) + 1
    assert messages[-2]["X-Header-59"] == "value 59 " + NAMES[59 % len(NAMES)]


def test_a_name_cut_inside_a_character_arrives_whole_byte_by_byte() -> None:
    inside = SCRIPTS.index("山".encode()) + 1  # between the first and second byte of 山
    parser = AmiParser()
    before = parser.feed(SCRIPTS[:inside])
    after = parser.feed(SCRIPTS[inside:])
    names = [m["CallerIDName"] for m in before + after if "CallerIDName" in m]
    assert names == NAMES
    bytewise = AmiParser()
    one_by_one = [m for i in range(len(SCRIPTS)) for m in bytewise.feed(SCRIPTS[i : i + 1])]
    assert one_by_one == AmiParser().feed(SCRIPTS)


def test_the_banner_comes_first_in_any_split_and_a_stranger_is_refused() -> None:
    parser = AmiParser()
    assert parser.feed(b"Asterisk Call Man") == [] and parser.banner is None
    assert parser.feed(b"ager/9.0.0\r\nEvent: X\r\n\r") == []
    assert parser.banner == "Asterisk Call Manager/9.0.0"
    assert parser.feed(b"\n") == [{"Event": "X"}]
    with pytest.raises(AmiProtocolError, match="not an AMI server"):
        AmiParser().feed(b"SSH-2.0-OpenSSH_9.6\r\n")
    with pytest.raises(AmiProtocolError, match="not an AMI server"):
        AmiParser().feed(b"x" * 2000)  # no line end in sight: not a banner


def test_stray_blank_lines_and_blocks_that_are_no_message_are_skipped() -> None:
    data = BANNER + b"\r\n\r\nFoo: bar\r\n\r\nEvent: Y\r\nA: 1\r\n\r\n"
    assert AmiParser().feed(data) == [{"Event": "Y", "A": "1"}]


def test_an_encoded_action_reads_back_as_sent() -> None:
    action = {"Response": "Success", "ActionID": "7", "CallerIDName": "Zoë Ångström 山田"}
    assert AmiParser().feed(BANNER + encode_action(action)) == [action]


def _blocks(stream: bytes) -> list[str]:
    body = stream.split(b"\r\n", 1)[1]  # after the banner
    return [b.decode("utf-8", errors="replace") for b in body.split(b"\r\n\r\n") if b]


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_every_recorded_message_reads_as_panoramisk_reads_it(name: str) -> None:
    """Events are split by our own code (the hot path); panoramisk's parser is the
    reference: the same dict for every message Asterisk 22 sent in the recordings."""
    blocks = _blocks(STREAMS[name])
    events = [b for b in blocks if b.startswith("Event: ")]
    assert events, "the recording has events"
    for block in blocks:
        assert parse_message(block) == by_panoramisk(block.strip()), block[:200]


@pytest.mark.parametrize(
    "block",
    [
        # a header repeated (channel variables): its first value, as panoramisk keeps it
        "Event: Newchannel\r\nChanVariable: A=1\r\nChanVariable: B=2\r\nUniqueid: 1.1",
        # names that differ only in case are one header to panoramisk: it reads the message
        "Event: X\r\nUniqueid: 1.1\r\nUniqueID: 1.2",
        # an AGI result is unquoted by panoramisk
        "Event: AGIExecEnd\r\nResult: 200%20result%3D1\r\nCommand: ANSWER",
        # the block's trailing blank of an empty last value, as panoramisk strips it
        "Event: Newchannel\r\nAccountCode: ",
        "Event: Odd\r\nno colon here\r\nA:B\r\nC: d: e",
        "Response: Follows\r\nActionID: 3\r\nline one\nline two\r\n--END COMMAND--",
    ],
)
def test_the_edges_of_panoramisks_reading_are_kept(block: str) -> None:
    assert parse_message(block) == by_panoramisk(block.strip())
