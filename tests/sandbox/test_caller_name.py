"""A sandbox caller's display name (`Sandbox.call(name=...)`, `sandbox call --name`):
whatever a stranger may put there (markup, quotes, ampersands, slashes) reaches Asterisk
as the caller's name, in Asterisk's own words on a raw AMI connection; a `;` or a line
break, which would break sipp's callers file, is refused before anything starts.

What Asterisk 22 reports, seen here: CALLERID(name) is the From header's quoted-string as
sent, its `\\"` and `\\\\` escapes kept (pjsip does not undo them); AMI then C-escapes
CallerIDName on top (`\\` `"` `'` `?` and control characters get a backslash). The adapter
undoes both (ccgateway.pbx.asterisk.translate: `ami_unescape`, then `sip_unquote`, in
`caller_name`); here it reads Asterisk's own events and channel list.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ccgateway.domain.events import CallWaiting
from ccgateway.pbx.asterisk.translate import ami_unescape, sip_unquote, to_event, to_snapshot
from ccgateway.sandbox import Sandbox, SandboxError
from ccgateway.sandbox.cli import add_sandbox_commands
from ccgateway.sandbox.phones import check_name, quoted_display
from tests.sandbox.ami import AmiSession

HOSTILE = (
    "<img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    'O\'Brien & Sons / "Ltd" \\ [field0]',
)


def test_a_quote_or_backslash_is_escaped_inside_the_quoted_display_name() -> None:
    assert quoted_display("<img src=x onerror=alert(1)>") == "<img src=x onerror=alert(1)>"
    assert quoted_display('"><script>') == '\\"><script>'
    assert quoted_display("a\\b") == "a\\\\b"
    for name in HOSTILE:
        assert sip_unquote(quoted_display(name)) == name
    assert ami_unescape("O\\'Brien\\? \\\\\\\"x") == "O'Brien? \\\"x"


@pytest.mark.parametrize("bad", ["a;b", "a\nb", "a\rb", "tab\there", "", "x" * 65, "nul\0"])
def test_names_that_would_break_the_callers_file_are_refused(bad: str) -> None:
    with pytest.raises(SandboxError, match="name"):
        check_name(bad)
    # before anything starts: not even "the sandbox is not running"
    with pytest.raises(SandboxError, match="name"):
        Sandbox(state_dir=Path("/nonexistent/ccgw-test")).call("900", name=bad)


def test_the_cli_takes_a_name() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_sandbox_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sandbox", "call", "200", "--name", HOSTILE[1]])
    assert args.name == HOSTILE[1]


@pytest.fixture
async def ami(asterisk_sandbox: Sandbox) -> AsyncIterator[AmiSession]:
    session = AmiSession()
    reply = await session.login(asterisk_sandbox.ami_secret())
    assert reply["Response"] == "Success", reply
    yield session
    await session.close()


@pytest.mark.asterisk
async def test_hostile_display_names_reach_asterisk_as_the_callers_name(
    asterisk_sandbox: Sandbox, ami: AmiSession
) -> None:
    callers = {f"+4938{secrets.randbelow(9_000_000) + 1_000_000}": name for name in HOSTILE}
    batches = [
        asterisk_sandbox.call("907", hangup_after=3, caller=number, name=name)
        for number, name in callers.items()
    ]
    for number, name in callers.items():
        waiting = await ami.wait_for(
            lambda e, n=number: e.get("UserEvent") == "CCGWWaiting" and e.get("CallerIDNum") == n
        )
        reported = waiting["CallerIDName"]
        # Asterisk holds the display name as it came in the From header (escapes and all)
        assert ami_unescape(reported) == quoted_display(name), (number, reported)
        assert sip_unquote(ami_unescape(reported)) == name
        # and the adapter gives the core the name as the caller wrote it
        event = to_event(waiting)
        assert isinstance(event, CallWaiting), waiting
        assert (event.caller_number, event.caller_name) == (number, name)
        held = await ami.send(
            {"Action": "Getvar", "Channel": waiting["Channel"], "Variable": "CALLERID(name)"}
        )
        assert held["Value"] == quoted_display(name)
        new = ami.seen(
            lambda e, n=number: e.get("Event") == "Newchannel" and e.get("CallerIDNum") == n
        )
        assert new and new[0]["CallerIDName"] == reported
        if not set(name) & set("\\\"'?"):
            assert reported == name  # markup, & and / come through untouched
    # A resync reads the same names from the channel list (CoreShowChannels).
    channels = await ami.list_action({"Action": "CoreShowChannels"}, "CoreShowChannelsComplete")
    resynced = {c.caller_number: c.caller_name for c in to_snapshot(channels, []).callers}
    assert {n: resynced.get(n) for n in callers} == callers
    for batch in batches:
        outcome = batch.wait(timeout_s=15)
        assert (outcome.completed, outcome.failed) == (1, 0)


@pytest.mark.asterisk
async def test_a_caller_without_a_name_is_still_customer_n(
    asterisk_sandbox: Sandbox, ami: AmiSession
) -> None:
    number = f"+4938{secrets.randbelow(9_000_000) + 1_000_000}"
    batch = asterisk_sandbox.call("907", hangup_after=1, caller=number)
    waiting = await ami.wait_for(
        lambda e: e.get("UserEvent") == "CCGWWaiting" and e.get("CallerIDNum") == number
    )
    assert waiting["CallerIDName"] == "Customer 1"
    assert batch.wait(timeout_s=15).failed == 0
