"""A FreeSWITCH restart told apart from a link drop (translate.core_restarted), on what a real
FreeSWITCH 1.10.12 answered to `global_getvar core_uuid` before and after it was killed and
started again (recorded/core_uuid_restart.json, written by
tests/sandbox/test_freeswitch_pbx_restart.py, where the waiting caller it cut off was
recorded cut_off, and abandoned without this)."""

from __future__ import annotations

import json
from pathlib import Path

from ccgateway.domain.center import CallState
from ccgateway.domain.commands import Outcome, RecordInteraction
from ccgateway.domain.events import CallWaiting, PbxResynced
from ccgateway.domain.model import Queue
from ccgateway.pbx.freeswitch import translate
from tests.domain.builders import centre

ANSWERS = json.loads((Path(__file__).parent / "recorded" / "core_uuid_restart.json").read_text())
BEFORE, AFTER = ANSWERS["before"], ANSWERS["after"]


def test_a_new_core_uuid_is_a_restart_the_same_one_a_link_drop() -> None:
    core, restarted = translate.core_restarted(None, BEFORE)
    assert (core, restarted) == (BEFORE.strip(), False)  # the first connection: nothing known
    assert translate.core_restarted(core, BEFORE) == (core, False)  # reconnected, same core
    assert translate.core_restarted(core, AFTER) == (AFTER.strip(), True)  # killed, started


def test_an_answer_that_is_no_uuid_tells_nothing() -> None:
    core = BEFORE.strip()
    for answer in ("-ERR no reply\n", "", "65fa86c4 a4cb", "_undef_"):
        assert translate.core_restarted(core, answer) == (core, False)


def test_the_caller_a_restart_cut_off_is_cut_off_not_abandoned() -> None:
    """What the flag changes for the centre (domain/reconcile.py): a waiting caller the
    restarted FreeSWITCH no longer has."""
    for restarted, outcome in ((True, Outcome.CUT_OFF), (False, Outcome.ABANDONED)):
        c = centre(queues=(Queue("crash", "Crash", "440", wrapup_s=0, pbx="freeswitch"),))
        c.handle(CallWaiting("call-1", "440", "+4930440001"), 10.0, "freeswitch")
        assert c.calls["call-1"].state is CallState.WAITING
        out = c.handle(PbxResynced(restarted=restarted), 20.0, "freeswitch")
        [record] = [x.interaction for x in out if isinstance(x, RecordInteraction)]
        assert record.outcome is outcome
