"""The dialplan's end marks as Asterisk 22 lists them (DBGetTree), and the Local channel
that drops them (domain/gap.py)."""

from __future__ import annotations

import pytest

from ccgateway.domain.events import EndMark, LegEndMark
from ccgateway.pbx.asterisk import actions
from ccgateway.pbx.asterisk.translate import to_end_marks
from ccgateway.ports import InvalidWireValue


def entry(key: str, value: str) -> dict[str, str]:
    return {"Event": "DBGetTreeResponse", "Key": key, "Val": value, "ActionID": "ccgw-3"}


CALLER = "1796000000.12"
LEG = "ccgw-9f1c2e"


def test_callers_and_agent_legs_marks_are_read_with_their_times() -> None:
    callers, legs = to_end_marks(
        [
            {"Response": "Success", "EventList": "start", "Message": "Result will follow"},
            entry(
                f"/ccgw_end/{CALLER}/caller", f"1|1796000000.104233|1796000031.5|400|+4930|{LEG}|"
            ),
            entry(
                f"/ccgw_end/{CALLER}/{LEG}", "1|1796000004.25|1796000031.51|PJSIP/agent1-0000002a"
            ),
            entry("/ccgw_end/1796000001.13/caller", "1|1796000001.5|1796000900.5|400|||1"),
            {"Event": "DBGetTreeComplete", "EventList": "Complete", "ListItems": "3"},
        ]
    )
    assert callers == [
        EndMark(CALLER, "400", "+4930", 1796000000.104233, 1796000031.5, LEG, False),
        EndMark("1796000001.13", "400", "", 1796000001.5, 1796000900.5, "", True),
    ]
    assert legs == [LegEndMark(LEG, CALLER, "PJSIP/agent1", 1796000004.25, 1796000031.51)]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("/ccgw_end/1.2/caller", "1|1.5|2.5|400|+49 30|||"),  # a number the dialplan filters
        ("/ccgw_end/1.2/caller", "1|1.5|2.5|400|+4930|||x|y"),  # a field too many
        ("/ccgw_end/1.2/caller", "2|1.5|2.5|400|+4930|||"),  # a version not known
        ("/ccgw_end/1.2/caller", "1||2.5|400|+4930|||"),  # no arrival (a half-written mark)
        ("/ccgw_end/1.2/caller", "1|1.5|2.5|400|+4930|SIP/x||"),  # not one of our legs
        ("/ccgw_end/1.2/other-leg", "1|1.5|2.5|PJSIP/a"),  # a leg id not ours
        ("/ccgw_end/1.2/caller/extra", "1|1.5|2.5|400|+4930|||"),  # deeper than we write
        ("/other/1.2/caller", "1|1.5|2.5|400|+4930|||"),
    ],
)
def test_anything_not_exactly_a_mark_is_skipped(key: str, value: str) -> None:
    assert to_end_marks([entry(key, value)]) == ([], [])


def test_marks_are_dropped_by_a_local_channel_in_batches_with_checked_ids() -> None:
    ids = [f"17960000{n:02d}.{n}" for n in range(30)]
    batches = actions.forget_end_marks(ids)
    assert [a["Variable"] for a in batches] == [
        "CCGW_FORGET=" + "&".join(ids[:25]),
        "CCGW_FORGET=" + "&".join(ids[25:]),
    ]
    assert {a["Channel"] for a in batches} == {"Local/forget@ccgw-end-mark/n"}
    with pytest.raises(InvalidWireValue):
        actions.forget_end_marks(["1.2&x"])
    with pytest.raises(InvalidWireValue):
        actions.forget_end_marks(["1.2,CCGW_X=1"])
