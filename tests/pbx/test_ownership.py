"""The owner mark's rules (pbx/ownership.py) and the keeper that runs them (mark_keeper.py),
on a PBX that is a dictionary with a clock: no PBX needed."""

from __future__ import annotations

import asyncio
import time

import pytest

from ccgateway.app import configured_pbxes
from ccgateway.pbx.mark_keeper import MarkKeeper
from ccgateway.pbx.ownership import Mark, check_node, judge, parse_mark
from ccgateway.ports import Owner, PbxUnavailable
from ccgateway.settings import Settings

DEAD = 3.5
ME = Owner("host-a/1111", 0)


@pytest.mark.parametrize(
    ("found", "me", "last_other", "take"),
    [
        (None, ME, None, True),  # nobody holds it
        (Mark("host-b/2222", 0, 97.0), ME, None, False),  # another live owner
        (Mark("host-b/2222", 0, 96.5), ME, None, False),  # live up to dead-after
        (Mark("host-b/2222", 0, 96.4), ME, None, True),  # stale: older than dead-after
        (Mark("host-a/1111", 0, 99.0), ME, None, True),  # my own: a restart
        (Mark("host-a/1111", 3, 99.0), Owner("host-a/1111", 1), None, True),  # my node
        (Mark("host-b/2222", 1, 99.0), Owner("host-a/1111", 2), None, True),  # newer lease
        (Mark("host-b/2222", 2, 99.0), Owner("host-a/1111", 2), None, False),  # equal epoch
        (Mark("host-b/2222", 5, 99.0), Owner("host-a/1111", 2), None, False),  # fenced
        (None, ME, 98.0, False),  # a live mark vanished (a reload): wait until it would be stale
        (None, ME, 96.0, True),  # vanished long enough ago
    ],
)
def test_judge(found: Mark | None, me: Owner, last_other: float | None, take: bool) -> None:
    verdict = judge(found, me, 100.0, DEAD, last_other)
    assert verdict.take is take
    if not take and found is not None:
        assert verdict.holder == found


def test_marks_round_trip_and_garbage_is_no_mark() -> None:
    mark = Mark("pbx-host/ab12cd34", 7, 1796536949.025)
    assert parse_mark(mark.encode()) == mark
    for text in (None, "", "x", "a b", "a b c", "a 1 2 3", "a one 2"):
        assert parse_mark(text) is None
    with pytest.raises(ValueError):
        check_node("two words")
    with pytest.raises(ValueError):
        check_node("a=b")


class Pbx:
    """One global variable and a clock the test moves; each read and write is a round trip
    (the task yields to the others once before the PBX answers), as over AMI."""

    def __init__(self) -> None:
        self.value: str | None = None
        self.now = 1000.0
        self.writes: list[str] = []

    async def read(self) -> tuple[str | None, float]:
        await asyncio.sleep(0)
        return self.value, self.now

    async def write(self, text: str) -> None:
        await asyncio.sleep(0)
        self.value = text
        self.writes.append(text)


def keeper(
    pbx: Pbx,
    owner: Owner,
    resyncs: list[str],
    fenced: list[str],
    hold_s: float = 0.0,
    tick_s: float = 0.0,
) -> MarkKeeper:
    async def take_over() -> None:
        resyncs.append(owner.node)

    return MarkKeeper(
        "PBX test",
        owner,
        pbx.read,
        pbx.write,
        take_over,
        fenced.append,
        dead_after_s=DEAD,
        every_s=1.0,
        settle_s=0.01,
        hold_s=hold_s,
        tick_s=tick_s,
    )


async def test_a_second_controller_stays_passive_until_the_first_goes_stale() -> None:
    pbx, resyncs, fenced = Pbx(), [], []
    first = keeper(pbx, Owner("a", 0), resyncs, fenced)
    second = keeper(pbx, Owner("b", 0), resyncs, fenced)
    await first.claim()
    assert first.commanding and resyncs == ["a"]
    for _ in range(3):  # the first refreshes every second; the second keeps looking
        pbx.now += 1.0
        await first.claim()
        await second.claim()
    assert not second.commanding and resyncs == ["a"]
    assert second.passive_to == "a (epoch 0)"
    with pytest.raises(PbxUnavailable, match="owned by a \\(epoch 0\\)"):
        second.check_commanding("Originate")
    pbx.now += DEAD  # the first died: its mark is still live at exactly dead-after
    await second.claim()
    assert not second.commanding
    pbx.now += 0.1
    await second.claim()
    assert second.commanding and resyncs == ["a", "b"] and second.passive_to is None
    second.check_commanding("Originate")


async def test_an_owner_that_finds_a_newer_epoch_is_fenced_at_once() -> None:
    pbx, resyncs, fenced = Pbx(), [], []
    old = keeper(pbx, Owner("a", 1), resyncs, fenced)
    new = keeper(pbx, Owner("b", 2), resyncs, fenced)
    await old.claim()
    pbx.now += 0.5
    await new.claim()  # the lease's newer holder takes a live mark of a lower epoch
    assert new.commanding
    pbx.now += 0.5
    await old.claim()
    assert not old.commanding and fenced == ["fenced: b (epoch 2) owns the PBX"]
    assert old.passive_to == "b (epoch 2)"


async def test_a_new_lease_holder_waits_out_the_old_holder_s_ride_before_it_commands() -> None:
    """The old holder may be riding on its mark (the database away from it): it confirmed
    it no later than the mark's stamp, so the new one waits `hold_s` from that stamp."""
    pbx, resyncs, fenced = Pbx(), [], []
    old = keeper(pbx, Owner("a", 1), resyncs, fenced)
    before = time.monotonic()
    await old.claim()
    assert old.confirmed_at >= before  # each round that finds the mark its own says so
    pbx.now += 1.0
    await old.claim()
    assert old.confirmed_at > before and old.commanding
    new = keeper(pbx, Owner("b", 2), resyncs, fenced, hold_s=0.3)
    pbx.now += 0.1  # the old mark is 0.1 s old, in the PBX's time, when the new one reads it
    started = time.monotonic()
    claiming = asyncio.create_task(new.claim())
    await asyncio.sleep(0.1)
    assert not new.commanding and resyncs == ["a"]  # holding off
    await claiming
    assert time.monotonic() - started >= 0.2 - 0.01  # hold_s less the mark's age
    assert new.commanding and resyncs == ["a", "b"] and pbx.value.startswith("b 2 ")
    pbx.now += 0.5
    await old.claim()
    assert not old.commanding and fenced == ["fenced: b (epoch 2) owns the PBX"]
    # A mark older than the hold, or a restart of the same node, is taken at once.
    later = keeper(pbx, Owner("c", 3), resyncs, fenced, hold_s=0.3)
    pbx.now += 0.4
    started = time.monotonic()
    await later.claim()
    assert later.commanding and time.monotonic() - started < 0.2


async def test_on_a_pbx_clock_of_whole_ticks_the_new_holder_waits_a_tick_more() -> None:
    """FreeSWITCH's time comes in whole seconds: a mark stamped at 10.99 (read as 10) and
    read at 11.01 (as 11) seems a second old and is not. The new holder cannot tell, so it
    waits `hold_s` from the stamp plus one tick: never less than `hold_s` of true time."""
    pbx, resyncs, fenced = Pbx(), [], []
    old = keeper(pbx, Owner("a", 1), resyncs, fenced, tick_s=0.2)
    await old.claim()
    pbx.now += 0.2  # one tick on, which may be a moment later in truth
    new = keeper(pbx, Owner("b", 2), resyncs, fenced, hold_s=0.3, tick_s=0.2)
    started = time.monotonic()
    await new.claim()
    assert time.monotonic() - started >= 0.3 - 0.01  # hold_s whole, not hold_s less a tick
    assert new.commanding and resyncs == ["a", "b"]


async def test_a_holder_riding_on_its_mark_keeps_it_but_never_takes_one() -> None:
    """Past its lease's deadline (may_command false) it may refresh its own mark, but a
    mark gone (a PBX restart clears it) is not taken back until the lease is renewed."""
    pbx, resyncs, fenced = Pbx(), [], []
    lease = [True]
    k = keeper(pbx, Owner("a", 2, may_command=lambda: lease[0]), resyncs, fenced)
    await k.claim()
    lease[0] = False  # riding
    confirmed = k.confirmed_at
    pbx.now += 1.0
    await k.claim()
    assert k.commanding and k.confirmed_at > confirmed and pbx.value.startswith("a 2 1001")
    pbx.value = None
    pbx.now += 1.0
    await k.claim()
    assert (
        not k.commanding
        and pbx.value is None
        and fenced == ["fenced: another controller owns the PBX"]
    )
    lease[0] = True  # renewed: the lease lets it take the PBX again
    pbx.now += 1.0
    await k.claim()
    assert k.commanding and resyncs == ["a", "a"] and pbx.value.startswith("a 2 ")


async def test_a_later_holder_that_finds_no_mark_waits_before_it_first_commands() -> None:
    """The PBX restarted (its marks cleared) while the lease changed hands: when an older
    holder last confirmed its mark is unknown, so the new one waits all of hold_s, once."""
    pbx, resyncs, fenced = Pbx(), [], []
    k = keeper(pbx, Owner("b", 3), resyncs, fenced, hold_s=0.2)
    started = time.monotonic()
    await k.claim()
    assert k.commanding and time.monotonic() - started >= 0.2
    k.lost()  # a dropped link; then the PBX restarted and its mark is gone
    pbx.value = None
    started = time.monotonic()
    await k.claim()
    assert k.commanding and time.monotonic() - started < 0.15  # it commanded it before
    first = keeper(Pbx(), Owner("c", 1), resyncs, fenced, hold_s=0.2)
    started = time.monotonic()
    await first.claim()  # epoch 1: nobody held the lease before it
    assert first.commanding and time.monotonic() - started < 0.15


async def test_a_failed_resync_leaves_nothing_half_done() -> None:
    pbx, fenced = Pbx(), []
    attempts = 0

    async def take_over() -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise PbxUnavailable("link lost in the snapshot")

    k = MarkKeeper(
        "PBX test",
        ME,
        pbx.read,
        pbx.write,
        take_over,
        fenced.append,
        dead_after_s=DEAD,
        every_s=1,
        settle_s=0.01,
    )
    with pytest.raises(PbxUnavailable):
        await k.claim()
    assert not k.commanding  # no snapshot was emitted: nothing may be commanded
    pbx.now += 1.0
    await k.claim()  # the mark is ours: the next round resyncs again
    assert k.commanding and attempts == 2


async def test_a_dropped_link_stops_commanding_until_the_next_claim() -> None:
    pbx, resyncs, fenced = Pbx(), [], []
    k = keeper(pbx, ME, resyncs, fenced)
    await k.claim()
    k.lost()
    with pytest.raises(PbxUnavailable):
        k.check_commanding("Redirect")
    connected = asyncio.Event()
    connected.set()
    k.every_s = 0.01
    task = asyncio.create_task(k.keep_forever(connected))
    while not k.commanding:
        await asyncio.sleep(0.01)
    task.cancel()
    assert resyncs == [ME.node, ME.node]


def test_both_adapters_carry_this_controllers_mark_or_the_lease_holders() -> None:
    settings = Settings(
        database_url="sqlite:////tmp/a.db",
        asterisk={"secret": "s"},
        freeswitch={"enabled": True, "password": "p"},
    )
    built = configured_pbxes(settings)
    owners = {pbx.name: pbx.keeper.owner for pbx in built}  # type: ignore[attr-defined]
    assert owners == {"asterisk": Owner(settings.node_id(), 0), "freeswitch": owners["asterisk"]}
    other = Settings(database_url="sqlite:////tmp/b.db", asterisk={"secret": "s"})
    assert configured_pbxes(other)[0].keeper.owner != owners["asterisk"]  # type: ignore[attr-defined]
    leased = configured_pbxes(settings, owner=Owner("pair-1", 7))
    assert {pbx.keeper.owner for pbx in leased} == {Owner("pair-1", 7)}  # type: ignore[attr-defined]


async def test_a_clean_stop_releases_the_mark_to_a_successor_at_once() -> None:
    pbx, resyncs, fenced = Pbx(), [], []
    first = keeper(pbx, Owner("a", 0), resyncs, fenced)
    second = keeper(pbx, Owner("b", 0), resyncs, fenced)
    await first.claim()
    await second.claim()
    assert not second.commanding
    await first.release()
    with pytest.raises(PbxUnavailable):
        first.check_commanding("Originate")  # it stops commanding before the mark goes
    pbx.now += 0.1  # well within dead-after
    await second.claim()
    assert second.commanding and resyncs == ["a", "b"]


async def test_two_controllers_that_find_a_free_pbx_in_the_same_moment_one_takes_it() -> None:
    """Both read no mark before either writes (the round trips interleave), both write: the
    PBX keeps the last mark, and only its writer starts commanding; the other stays passive
    to it from its next round, and nothing is ever commanded by both."""
    pbx, resyncs, fenced = Pbx(), [], []
    first = keeper(pbx, Owner("a", 0), resyncs, fenced)
    second = keeper(pbx, Owner("b", 0), resyncs, fenced)
    await asyncio.gather(first.claim(), second.claim())
    assert [w.split()[0] for w in pbx.writes] == ["a", "b"]  # both wrote: the race happened
    assert resyncs == ["b"] and second.commanding and not first.commanding
    pbx.now += 1.0
    await asyncio.gather(first.claim(), second.claim())
    assert resyncs == ["b"] and not first.commanding and first.passive_to == "b (epoch 0)"
    assert fenced == []  # the first never commanded, so it had nothing to stop
