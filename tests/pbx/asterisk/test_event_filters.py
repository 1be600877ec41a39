"""What the controller's AMI user is spared: manager.conf's filters and the client's own drop
agree, and neither takes away anything that becomes a domain event.

The filters (`translate.manager_filters`) run inside Asterisk; the same choice is made on the
bytes by `translate.unwanted` where a deployment has not set them. Both are checked here on
every message of every recording of a real Asterisk (tests/fixtures/ami), the filters with
Asterisk's rule for its advanced filters (main/manager.c: a message passes when it matches
one `include` line, if there are any, and no `exclude` line). Whether Asterisk 22 reads the
lines as this test does is shown on the real sandbox by test_login_and_voicemail_real.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ccgateway.domain.events import PbxEvent
from ccgateway.pbx.asterisk import translate
from ccgateway.pbx.asterisk.ami import AmiMessage, AmiParser
from ccgateway.pbx.asterisk.whereabouts import Whereabouts

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ami"
RECORDINGS = sorted(FIXTURES.glob("*.ami"))
LINE = re.compile(
    r"eventfilter\(action\((include|exclude)\),name\((\w+)\)"
    r"(?:,header\((\w+)\),method\((exact|starts_with)\))?\) =(?: (.*))?$"
)


def passes(filters: list[str], message: AmiMessage) -> bool:
    """Asterisk's verdict on `message` under the advanced filter lines `filters`."""
    rules = []
    for text in filters:
        match = LINE.match(text)
        assert match is not None, f"a filter line this test cannot read: {text}"
        rules.append(match.groups())

    def hits(name: str, header: str | None, method: str | None, value: str | None) -> bool:
        if message.get("Event") != name:
            return False
        if header is None:
            return True
        got = message.get(header, "")
        return got == value if method == "exact" else got.startswith(value or "")

    includes = [r[1:] for r in rules if r[0] == "include"]
    excludes = [r[1:] for r in rules if r[0] == "exclude"]
    return (not includes or any(hits(*r) for r in includes)) and not any(hits(*r) for r in excludes)


def raw_events(path: Path) -> list[bytes]:
    """Each event of a recording as the parser's `drop` sees it: its bytes, without the
    blank line that ends it."""
    kept: list[bytes] = []
    AmiParser(drop=lambda raw: kept.append(raw) is not None).feed(path.read_bytes())
    return [raw for raw in kept if raw.startswith(b"Event: ")]


def domain_events(path: Path, drop: bool) -> list[PbxEvent]:
    parser = AmiParser(drop=translate.unwanted if drop else None)
    where = Whereabouts()
    out = [where.see(m, translate.to_event(m)) for m in parser.feed(path.read_bytes())]
    return [event for event in out if event is not None]


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_the_filters_and_the_clients_drop_agree_on_every_recorded_event(path: Path) -> None:
    filters = translate.manager_filters()
    read = set(translate.READ_EVENTS)
    for raw in raw_events(path):
        [message] = AmiParser().feed(b"Asterisk Call Manager/9.0.0\r\n" + raw + b"\r\n\r\n")
        if message.get("Event") in read:  # of the others, only the class decides
            assert passes(filters, message) is not translate.unwanted(raw), message


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_what_is_dropped_changes_no_domain_event(path: Path) -> None:
    assert domain_events(path, drop=True) == domain_events(path, drop=False)


def test_a_call_brings_only_what_it_needs() -> None:
    """In the recordings: a caller's bridges and a successful originate are dropped; an
    agent leg's bridge and a caller's hang-up steps are kept."""
    dropped = {
        (m.get("Event"), m.get("Uniqueid", "").startswith(translate.LEG_PREFIX))
        for path in RECORDINGS
        for raw in raw_events(path)
        if translate.unwanted(raw)
        for m in AmiParser().feed(b"Asterisk Call Manager/9.0.0\r\n" + raw + b"\r\n\r\n")
    }
    assert ("BridgeEnter", False) in dropped and ("BridgeEnter", True) not in dropped
    assert ("HangupHandlerRun", False) not in dropped
    assert ("HangupRequest", False) not in dropped
    assert ("OriginateResponse", True) in dropped
    assert not {name for name, _ in dropped} & {"Hangup", "UserEvent", "DeviceStateChange"}


def test_an_agent_legs_hang_up_steps_are_dropped_a_callers_kept() -> None:
    for name in translate.NOT_AGENT_LEGS:
        raw = f"Event: {name}\r\nPrivilege: call,all\r\nChannel: PJSIP/agent1-0000002a\r\n"
        assert translate.unwanted((raw + "Uniqueid: ccgw-7\r\nLinkedid: x").encode())
        assert not translate.unwanted((raw + "Uniqueid: 1796536008.0\r\nLinkedid: x").encode())


def test_a_failed_originate_is_kept() -> None:
    raw = (
        b"Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: ccgw-1\r\n"
        b"Response: Failure\r\nChannel: PJSIP/agent1\r\nReason: 5\r\nUniqueid: <null>"
    )
    assert not translate.unwanted(raw)
    assert translate.unwanted(raw.replace(b"Failure", b"Success"))
