"""The one task that owns the live centre.

PBX events and API requests go into one inbox; the dispatcher takes them one at a time, lets
the pure core decide, and carries out the commands it returns. Nothing else writes to the
`Center`, so the core needs no locks and the API never races the PBX.

PBX commands run as tasks of their own (a slow PBX must not stall routing), owned by the
dispatcher's TaskGroup; a command that fails comes back into the inbox as an event, so the
core always learns what really happened.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from ccgateway.domain import administration
from ccgateway.domain.agents import AgentState
from ccgateway.domain.center import Center
from ccgateway.domain.commands import (
    PBX_COMMANDS,
    CloseGap,
    Command,
    DialCallback,
    Fact,
    ForgetEndMarks,
    Notify,
    PbxCommand,
    PlayConsent,
    RecordInteraction,
    RingAgent,
    RingConsult,
    SaveCallback,
    SavePresence,
    SaveRecording,
    SaveTask,
    StartRecording,
)
from ccgateway.domain.errors import DomainError
from ccgateway.domain.events import (
    AgentLegFailed,
    ConsentHeard,
    LegFailure,
    OutboundFailed,
    PbxEvent,
    RecordingFailed,
)
from ccgateway.domain.figures import Figures
from ccgateway.domain.outbound.commands import (
    DialCustomer,
    LoadContacts,
    RecordDial,
    RecordDisposition,
    RecordRefusal,
    SaveProgress,
    SuppressNumber,
)
from ccgateway.domain.outbound.runs import Entry
from ccgateway.domain.privacy import Redactions
from ccgateway.domain.recording import Recording
from ccgateway.ports import (
    CallbackStore,
    Clock,
    CommandTap,
    ConfigStore,
    DueQuery,
    InteractionStore,
    OutboundStore,
    Pbx,
    PbxError,
    PbxUnavailable,
    RecordingFileStore,
    RecordingStore,
    TaskStore,
    UnreadableRecording,
)
from ccgateway.services import log_context
from ccgateway.services.event_hub import EventHub
from ccgateway.services.instruments import Instruments
from ccgateway.services.journal import WriteJournal
from ccgateway.services.store_writes import DurableWrite, StoreWriter

log = logging.getLogger(__name__)
T = TypeVar("T")
Operation = Callable[[Center, float], Awaitable[tuple[T, list[Command]]]]


@dataclass(slots=True)
class _Request:
    operation: Operation[Any]
    done: asyncio.Future[Any] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


# A recording's file is measured this long after its call's end, and again if it is not
# there yet (a PBX on another host may copy it late).
MEASURE_AFTER_S = 2.0
MEASURE_TRIES = 5
# Commands to a PBX that wait for the writes queued before them (`_carry_out`): the end
# marks are dropped once their records are written, a dial once its progress is saved.
_AFTER_WRITES = (ForgetEndMarks, DialCustomer, DialCallback)
# A dial whose saved progress the database took longer than this to write is not placed.
DIAL_LATE_S = 5.0


class Dispatcher:
    def __init__(
        self,
        center: Center,
        pbx: Pbx,
        config: ConfigStore,
        interactions: InteractionStore,
        clock: Clock,
        hub: EventHub,
        others: Sequence[Pbx] = (),
        figures: Figures | None = None,
        callbacks: CallbackStore | None = None,
        tasks: TaskStore | None = None,
        outbound: OutboundStore | None = None,
        recordings: RecordingStore | None = None,
        recording_files: RecordingFileStore | None = None,
        unmeasured: Sequence[Recording] = (),
        taps: Sequence[CommandTap] = (),
        instruments: Instruments | None = None,
        journal: WriteJournal | None = None,
    ) -> None:
        """`pbx` is the main PBX; `others` are driven at the same time (each by its name);
        `unmeasured`: recordings whose files a restart left unmeasured, measured once running;
        `taps` see every command carried out (webhooks, queue_log, reports); `instruments`
        are told each step's time and each event's lag (none by default: unregistered);
        `journal`: the database writer (its limit)."""
        self.center = center
        self.pbx = pbx
        self.pbxes = {p.name: p for p in (pbx, *others)}
        if len(self.pbxes) != 1 + len(others):
            raise ValueError("every PBX needs a name of its own")
        for name, driven in self.pbxes.items():
            center.drive_pbx(name, driven.features)
        self.clock = clock
        self.hub = hub
        # Today's figures (UTC day); only the dispatcher adds to them, at each finished call.
        self.figures = figures or Figures()
        self._figures_day = utc_day(clock.now())
        self._interactions = interactions
        self._outbound = outbound
        self._recordings = recordings
        self._stores = StoreWriter(config, interactions, callbacks, tasks, recordings, outbound)
        self._recording_files = recording_files
        self._unmeasured = list(unmeasured)
        self.taps = list(taps)
        self.instruments = instruments or Instruments()
        self._loop: asyncio.AbstractEventLoop | None = None  # set when it runs
        self._inbox: asyncio.Queue[_Input] = asyncio.Queue()
        self._writes = journal or WriteJournal()
        self._tasks: asyncio.TaskGroup | None = None
        # What the store holds of each agent's presence, as far as this run has written it:
        # a change that leaves it as it is writes nothing.
        self._saved_presence: dict[str, tuple[AgentState, str | None]] = {}
        # What the store held of each agent's presence when this controller started (set by
        # whoever loads the centre): a presence left by a controller that lost the lease is
        # taken in only for an agent whose presence has not changed here since (take_in).
        self.presence_at_start: dict[str, tuple[AgentState, str | None]] = {}
        # Live work of people erased meanwhile: its records are written without them.
        self.redactions = Redactions()
        # Calls whose records from the PBX's end marks are on their way (domain/gap.py).
        self._closing: set[str] = set()
        self.started = asyncio.Event()
        # Asked before every command to a PBX: a pair's active controller past its lease's
        # deadline commands nothing (services/lease.py); a single controller always may.
        self.may_command: Callable[[], bool] = lambda: True

    # --- inputs --------------------------------------------------------------------------

    def post_event(self, event: PbxEvent, pbx: str | None = None) -> None:
        """The PBX adapter's `emit` (for the main PBX unless named): never blocks or fails.
        Stamped with its arrival, for the lag to its handling."""
        self._inbox.put_nowait((pbx or self.pbx.name, event, time.monotonic()))

    def _emitter(self, pbx: str) -> Callable[[PbxEvent], None]:
        return lambda event: self.post_event(event, pbx)

    async def perform(self, operation: Operation[T]) -> T:
        """Run `operation` inside the dispatcher, between two events, and return its result.

        The operation may await (a database write) and raise a DomainError, which reaches the
        caller unchanged; the commands it returns are carried out like any other.
        """
        request = _Request(operation)
        self._inbox.put_nowait(request)
        result: T = await request.done
        return result

    # --- the loop --------------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            tasks.create_task(self._writes.run(), name="db-writer")
            for name, pbx in self.pbxes.items():
                tasks.create_task(pbx.run(self._emitter(name)), name=f"pbx-{name}")
            for recording in self._unmeasured:  # as any ended call's, a moment from now
                self._measure_later(recording.id, recording.file, 1)
            self.started.set()
            while True:
                item = await self._next_item()
                now = self.clock.now()
                commands: list[Command] = []
                if isinstance(item, _Request):  # its own work may await the database
                    commands = await self._perform(item, now)
                started = time.perf_counter()
                if isinstance(item, _Later):
                    commands = item.step(self.center, now)
                elif isinstance(item, tuple):
                    pbx_name, event, arrived = item
                    self.instruments.event_handled(pbx_name, time.monotonic() - arrived)
                    log_context.about(event)  # log lines name the call, agent... it is about
                    commands = self.center.handle(event, now, pbx_name)
                if not isinstance(item, tuple) or self._due(now):
                    # an event's step settles the centre itself: tick again only when a
                    # timer or a relaxation step is due (a second settle found nothing)
                    commands += self.center.tick(now)
                self.instruments.step_taken(_cause(item), time.perf_counter() - started)
                self._roll_day(now)
                commands = self._redacted(commands)
                if self._start_pbx_commands(commands):
                    # their tasks write to the PBX now, before the turn's taps, event stream
                    # and queued writes: a ringing agent waits for nothing of ours
                    await asyncio.sleep(0)
                self._carry_out(commands, now)

    def _roll_day(self, now: float) -> None:
        """At the first moment of a new UTC day, today's figures and occupancy start again."""
        if utc_day(now) != self._figures_day:
            self.figures = Figures(self.figures.rules)
            self._figures_day = utc_day(now)
            self.center.reset_day(now)

    def _due(self, now: float) -> bool:
        deadline = self.center.next_deadline()
        return deadline is not None and deadline <= now

    async def _next_item(self) -> _Input | None:
        if not self._inbox.empty():  # no timer to arm for an item that is there
            return self._inbox.get_nowait()
        deadline = self.center.next_deadline()
        if deadline is None:
            return await self._inbox.get()
        # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the item when a cancel
        # comes as it arrives, and the cancel is lost (the stop then waits forever; gh-86296)
        try:
            async with asyncio.timeout(max(0.0, deadline - self.clock.now())):
                return await self._inbox.get()
        except TimeoutError:
            return None

    async def _perform(self, request: _Request, now: float) -> list[Command]:
        try:
            result, commands = await request.operation(self.center, now)
        except Exception as exc:  # handed to the caller, who knows what it means
            if not request.done.cancelled():
                request.done.set_exception(exc)
            return []
        if not request.done.cancelled():
            request.done.set_result(result)
        return commands

    # --- outputs -------------------------------------------------------------------------

    def _redacted(self, commands: list[Command]) -> list[Command]:
        """The commands as carried out: live work of people erased meanwhile without them."""
        if not self.redactions:
            return commands
        return [c for c in map(self.redactions.apply, commands) if c is not None]

    def _start_pbx_commands(self, commands: list[Command]) -> bool:
        """A task for each command to a PBX, in order (dials wait for their writes:
        `_carry_out`); whether there was one."""
        assert self._tasks is not None
        started = False
        for command in commands:
            if isinstance(command, PBX_COMMANDS) and not isinstance(command, _AFTER_WRITES):
                log_context.about(command)  # the task copies it with the context
                self._tasks.create_task(self._execute(command))
                started = True
        return started

    def _carry_out(self, commands: list[Command], now: float) -> None:
        """Every command of a turn, in order, past the taps; the PBX's are running already
        (`_start_pbx_commands`)."""
        for command in commands:
            log_context.about(command)
            self._tap(command, now)
            if isinstance(command, ForgetEndMarks):  # once the records before it are written
                self._writes.put(partial(self._after_writes, command))
                continue
            if isinstance(command, DialCustomer | DialCallback):
                # Dialling a customer waits for the writes before it (the contact saved as
                # being dialled, with the dial's id): a crash can then never make a
                # restarted controller dial the same person again.
                queued = time.monotonic()
                if not self._writes.put(partial(self._when_written, command, queued)):
                    self._not_dialled(command, "the database journal is full")
                continue
            if isinstance(command, PBX_COMMANDS):
                continue
            match command:
                case RecordInteraction(interaction=interaction):
                    self._store(command)
                    self._roll_day(now)
                    self.figures.add(interaction)
                case CloseGap(records=records):
                    # A call whose marks are read twice before the first read's records are
                    # written (a resync during a sweep) is closed by the first read only.
                    fresh = tuple(r for r in records if r.call_id not in self._closing)
                    self._closing.update(r.call_id for r in fresh)
                    gap = replace(command, records=fresh)
                    self._writes.put(partial(self._close_gap, gap))
                case SaveRecording(recording=recording) if self._recordings is not None:
                    self._store(command)
                    if recording.ended_at is not None and not recording.failure:
                        self._measure_later(recording.id, recording.file, MEASURE_TRIES)
                case LoadContacts():
                    self._writes.put(partial(self._load_contacts, command))
                case SaveCallback() | SaveTask() | SaveProgress() | RecordDial():
                    self._store(command)
                case RecordDisposition() | RecordRefusal() | SuppressNumber():
                    self._store(command)
                case Notify(topic=topic, data=data):
                    self.hub.publish(now, topic, data)
                    if topic == "agent.state":
                        self._save_presence(data)
                case Fact():  # the centre hands facts on to its parts; one here is a bug
                    raise AssertionError(f"a fact reached the shell: {command!r}")
        log_context.clear()

    def _tap(self, command: Command, now: float) -> None:
        """Every tap sees the command; one that fails is logged, never stops routing."""
        for tap in self.taps:
            try:
                tap.observe(command, now)
            except Exception:
                log.exception("%s failed on %s", type(tap).__name__, type(command).__name__)

    def _measure_later(self, recording_id: str, file: str, tries: int) -> None:
        """The size and checksum of a recording's file, once the PBX has closed it (a
        moment after the call's end), then the file sealed where a key is set; tried a few
        times, then left unknown (and the file plain)."""
        if self._recording_files is None or self._loop is None:
            return
        self._loop.call_later(
            MEASURE_AFTER_S,
            lambda: self._writes.put(partial(self._measure, recording_id, file, tries)),
        )

    def _measure(self, recording_id: str, file: str, tries: int) -> None:
        """In the writer's thread: the file measured (and sealed, where a key is set)."""
        assert self._recording_files is not None and self._recordings is not None
        try:
            facts = self._recording_files.measure(recording_id, file)
        except (OSError, UnreadableRecording) as exc:
            log.error(
                "recording %s: its file %s not measured or sealed: %s", recording_id, file, exc
            )
            return
        if facts is not None:
            self._recordings.set_file(recording_id, *facts)
        elif tries > 1 and self._loop is not None:
            self._loop.call_soon_threadsafe(self._measure_later, recording_id, file, tries - 1)
        else:
            log.warning("recording %s: no file %s in the recordings folder", recording_id, file)

    def _save_presence(self, data: dict[str, object]) -> None:
        """Store the agent's presence if what is stored of it changes: the state (busy
        states are stored as available: they come back from the PBX) and its reason."""
        agent_id, state = str(data["agent_id"]), AgentState(str(data["state"]))
        reason = data.get("reason")
        if state not in (AgentState.PAUSED, AgentState.LOGGED_OUT):
            state, reason = AgentState.AVAILABLE, None
        presence = (state, None if reason is None else str(reason))
        if self._saved_presence.get(agent_id) == presence:
            return
        self._saved_presence[agent_id] = presence
        log.info("agent %s: %s%s", agent_id, state.value, f" ({reason})" if reason else "")
        self._store(SavePresence(agent_id, *presence))

    def _store(self, write: DurableWrite) -> None:
        """A write of the centre's to its store, in the writer's order; kept on disk while
        the database is away, where the journal has a file."""
        self._writes.put(partial(self._stores.write, write), durable=write)

    def forget_presence(self, agent_id: str) -> None:
        """The agent's stored presence is gone (the agent was removed): the next is written."""
        self._saved_presence.pop(agent_id, None)

    async def _execute(self, command: PbxCommand) -> None:
        """Hand one command to its PBX. A leg that could not be rung comes back as
        AgentLegFailed, so the core learns what really happened; any other failure is
        logged (the PBX's own events say how the call stands)."""
        if not self.may_command():
            log.error("%s on %s not sent: the lease is lost", type(command).__name__, command.pbx)
            return
        try:
            await self.pbxes[command.pbx].execute(command)
        except (PbxError, KeyError) as exc:
            log.warning("%s on %s failed: %s", type(command).__name__, command.pbx, exc)
            failure = LegFailure.ERROR if _reached_pbx(exc) else LegFailure.NOT_SENT
            if isinstance(command, RingAgent | DialCallback | RingConsult):
                self.post_event(AgentLegFailed(command.leg_id, failure, str(exc)), command.pbx)
            elif isinstance(command, DialCustomer):
                self.post_event(OutboundFailed(command.dial_id, failure, str(exc)), command.pbx)
            elif isinstance(command, StartRecording):
                self.post_event(RecordingFailed(command.call_id, str(exc)), command.pbx)
            elif isinstance(command, PlayConsent):  # the caller waits no longer for it
                self.post_event(ConsentHeard(command.call_id, played=False), command.pbx)

    def _close_gap(self, command: CloseGap) -> None:
        """In the writer's thread: which of the calls the PBX's end marks tell of the store
        already has (the controller recorded them itself); the others' records go back to
        the dispatcher to be recorded like any (figures, taps), then the marks are dropped
        once those writes are done (domain/gap.py)."""
        try:
            known = self._interactions.recorded([r.call_id for r in command.records])
        except Exception:  # the marks stay in the PBX for the next read
            log.exception(
                "reading which of %d ended calls are recorded failed", len(command.records)
            )
            ids = [r.call_id for r in command.records]
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._closing.difference_update, ids)
            return
        new = [r for r in command.records if r.call_id not in known]
        if new:
            log.info("recording %d calls that ended while no controller ran", len(new))

        def step(center: Center, now: float) -> list[Command]:
            self._closing.difference_update(r.call_id for r in command.records)
            out: list[Command] = [RecordInteraction(record) for record in new]
            return [*out, ForgetEndMarks(command.forget, command.pbx)]

        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._inbox.put_nowait, _Later(step))

    def _after_writes(self, command: ForgetEndMarks) -> None:
        """In the writer's thread, the records written: the PBX's end marks may go."""
        assert self._loop is not None and self._tasks is not None
        tasks = self._tasks
        self._loop.call_soon_threadsafe(lambda: tasks.create_task(self._execute(command)))

    def _when_written(self, command: DialCustomer | DialCallback, queued: float) -> None:
        """In the writer's thread, every earlier write done: hand the dial to its PBX, unless
        the database kept it waiting (an outage): a dial checked against the law and paced
        for agents free seconds ago is not placed late, it fails and is retried."""
        assert self._loop is not None and self._tasks is not None
        tasks = self._tasks
        if time.monotonic() - queued > DIAL_LATE_S:
            late = "not dialled: the database kept it waiting too long"
            self._loop.call_soon_threadsafe(self._not_dialled, command, late)
            return
        self._loop.call_soon_threadsafe(lambda: tasks.create_task(self._execute(command)))

    def _not_dialled(self, command: DialCustomer | DialCallback, why: str) -> None:
        log.warning("%s %s", type(command).__name__, why)
        if isinstance(command, DialCustomer):
            self.post_event(OutboundFailed(command.dial_id, LegFailure.NOT_SENT, why), command.pbx)
        else:
            self.post_event(AgentLegFailed(command.leg_id, LegFailure.NOT_SENT, why), command.pbx)

    def _load_contacts(self, command: LoadContacts) -> None:
        """In the writer's thread, after every write the centre made before asking (so a
        contact just moved on is not handed out again): the due contacts, their numbers'
        do-not-call listings and the registers' screenings, handed back to the centre."""
        store = self._outbound
        if store is None:
            return
        query = DueQuery(
            command.campaign_id,
            command.now,
            command.count,
            command.exclude,
            command.owned_callbacks,
        )
        try:
            due = store.due(query)
            listed = store.suppressed([contact.number for contact, _ in due])
            entries = [Entry(c, p, listed.get(c.number)) for c, p in due]
            screened: dict[str, float | None] = dict(store.screened())
        except Exception:  # the dialer must hear back, or it never asks again
            log.exception("loading contacts for campaign %s failed", command.campaign_id)
            entries, screened = [], {}

        def step(center: Center, now: float) -> list[Command]:
            return center.contacts_loaded(
                command.campaign_id, entries, command.count, screened, now
            )

        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._inbox.put_nowait, _Later(step))

    async def write(self, write: Callable[[], T]) -> T:
        """Run `write` in the database writer's thread, after every write queued before it,
        and return its result (or raise its error; DatabaseUnavailable while the database
        is away). The centre goes on routing meanwhile: a long job written in parts lets the
        writes the centre makes go between them."""
        return await self._writes.call(write)

    async def take_in(self, writes: Sequence[DurableWrite]) -> None:
        """Writes a controller that lost the lease left for this one (services/handover.py),
        written in the writer's order under this controller's epoch, each as the store
        writer's `take_in` judges it; a number put on the do-not-call list there is put on
        the live lists first, in a turn of the centre, as the API's is. An agent's presence
        is asked of the centre instead (after any call in hand), and only where it has not
        changed here since this controller started: a change made here is newer. Returns
        once they are written (DatabaseUnavailable if the database went away first)."""
        kept: list[DurableWrite] = []
        presences: dict[str, SavePresence] = {}  # the last left of each agent's
        for write in writes:
            if isinstance(write, SavePresence):  # nobody's personal data
                presences[write.agent_id] = write
                continue
            redacted = self.redactions.apply(write)
            if redacted is not None:
                assert isinstance(redacted, DurableWrite)
                kept.append(redacted)
        numbers = [(w.number, w.reason) for w in kept if isinstance(w, SuppressNumber)]
        asked = [p for p in presences.values() if self._presence_unchanged(p.agent_id)]

        async def take(center: Center, now: float) -> tuple[None, list[Command]]:
            for number, reason in numbers:
                administration.suppress_numbers(center, [number], reason)
            out: list[Command] = []
            for p in asked:
                try:
                    out += center.set_agent_state(p.agent_id, p.state, p.reason, now, True)
                except DomainError as exc:  # (an agent removed since, a reason retired)
                    log.warning("agent %s's presence left for this controller: %s", p.agent_id,
                                exc)  # fmt: skip
            return None, out

        if numbers or asked:
            await self.perform(take)
        for write in kept:
            self._writes.put(partial(self._stores.take_in, write), durable=write)
        await self._writes.drain()

    def _presence_unchanged(self, agent_id: str) -> bool:
        """Whether the agent's stored presence is as it was when this controller started."""
        start = self.presence_at_start.get(agent_id)
        return self._saved_presence.get(agent_id, start) == start

    def unwritten(self, until: float = float("inf")) -> list[object]:
        """The durable writes queued up to `until` (monotonic) that are not written yet
        (kept by a pair's journal: `WriteJournal(keep_unwritten=True)`)."""
        return self._writes.unwritten(until)

    async def drain_writes(self) -> None:
        """Wait until every write queued so far is done (reads that must see them: the
        history); DatabaseUnavailable while the database is away."""
        await self._writes.drain()

    @property
    def pending_writes(self) -> int:
        """Writes queued for the writer and not yet started (the metrics' writer queue)."""
        return self._writes.pending

    @property
    def database_available(self) -> bool:
        """False while the writer keeps writes in its journal, the database away."""
        return self._writes.available

    @property
    def refused_writes(self) -> int:
        """Writes refused since the start because the journal was full."""
        return self._writes.refused

    @property
    def pending_inputs(self) -> int:
        """Events and requests waiting for the dispatcher's turn."""
        return self._inbox.qsize()


@dataclass(frozen=True, slots=True)
class _Later:
    """A step for the centre handed in from another thread (a store's answer)."""

    step: Callable[[Center, float], list[Command]]


_Input = tuple[str, PbxEvent, float] | _Request | _Later  # (PBX, event, arrival) or a step


def _cause(item: _Input | None) -> str:
    """What a step of the dispatcher was for, as `ccgw_routing_decision_seconds` labels it."""
    if item is None:
        return "timer"
    if isinstance(item, _Request):
        return "request"
    return "store" if isinstance(item, _Later) else "pbx_event"


def utc_day(epoch: float) -> int:
    """The day number since 1970 (UTC): figures are per day."""
    return int(epoch // 86_400)


def _reached_pbx(exc: Exception) -> bool:
    """A refused value is the agent's device's problem (ERROR); a down link is nobody's."""
    return not isinstance(exc, PbxUnavailable)
