"""The centre's writes as values, and the one place that turns each into its store's call.

A write the dispatcher queues for the database is a value (`DurableWrite`), not a closure:
while the database is away the journal can then keep it on disk (persistence/journal_file.py),
and a controller started after a crash writes what the last one kept before it reads its
state (`replay`). Every write here is idempotent, since one that was committed just before a
crash is written again: records are kept once, saves replace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ccgateway.domain.commands import (
    RecordInteraction,
    SaveCallback,
    SavePresence,
    SaveRecording,
    SaveTask,
)
from ccgateway.domain.errors import Conflict
from ccgateway.domain.outbound.commands import (
    RecordDial,
    RecordDisposition,
    RecordRefusal,
    SaveProgress,
    SuppressNumber,
)
from ccgateway.ports import (
    CallbackStore,
    ConfigStore,
    DatabaseUnavailable,
    InteractionStore,
    OutboundStore,
    RecordingStore,
    TaskStore,
)

log = logging.getLogger(__name__)


DurableWrite = (
    RecordInteraction
    | SaveCallback
    | SaveTask
    | SaveRecording
    | SaveProgress
    | RecordDial
    | RecordDisposition
    | RecordRefusal
    | SuppressNumber
    | SavePresence
)


class StoreWriter:
    """Each durable write to the store that keeps it; a store left out (a dispatcher built
    for tests of other things) takes nothing."""

    def __init__(
        self,
        config: ConfigStore,
        interactions: InteractionStore,
        callbacks: CallbackStore | None = None,
        tasks: TaskStore | None = None,
        recordings: RecordingStore | None = None,
        outbound: OutboundStore | None = None,
    ) -> None:
        self._config = config
        self._interactions = interactions
        self._callbacks = callbacks
        self._tasks = tasks
        self._recordings = recordings
        self._outbound = outbound

    def write(self, write: DurableWrite) -> None:
        """In the writer's thread: one transaction (DatabaseUnavailable while it is away)."""
        outbound = self._outbound
        match write:
            case RecordInteraction(interaction=interaction):
                self._interactions.add(interaction)
            case SavePresence(agent_id=agent_id, state=state, reason=reason):
                self._config.save_presence(agent_id, state, reason)
            case SaveCallback(callback=callback) if self._callbacks is not None:
                self._callbacks.save(callback)
            case SaveTask(task=task) if self._tasks is not None:
                self._tasks.save(task)
            case SaveRecording(recording=recording) if self._recordings is not None:
                self._recordings.save(recording)
            case SaveProgress(progress=progress) if outbound is not None:
                outbound.save_progress(progress)
            case RecordDial(record=record) if outbound is not None:
                outbound.add_dial(record)
            case RecordDisposition(record=disposition) if outbound is not None:
                outbound.add_disposition(disposition)
            case RecordRefusal(record=refusal) if outbound is not None:
                outbound.add_refusal(refusal)
            case SuppressNumber(number=number, reason=reason, at=at) if outbound is not None:
                outbound.suppress("internal", [number], reason, at)

    def take_in(self, write: DurableWrite) -> None:
        """In the writer's thread: a write another controller left as it lost the lease
        (services/handover.py). A call's record is written only if the call has none: this
        controller may have recorded it already from the PBX's end marks (domain/gap.py), with
        the PBX's times, where a second record would be a second call."""
        if isinstance(write, RecordInteraction) and self._interactions.recorded(
            [write.interaction.call_id]
        ):
            return
        try:
            self.write(write)
        except Conflict:  # a dial's record this controller has (it settled the dial itself)
            log.info("a write left by another controller was in the database already")

    def replay(self, writes: Sequence[DurableWrite]) -> int:
        """At the start, before the state is read: writes a controller kept on disk through
        an outage and did not live to write, in their order. One the database refuses is
        logged and skipped, as the writer would have (a dial's record it has already, quietly);
        an outage stops the start."""
        for write in writes:
            try:
                self.write(write)
            except DatabaseUnavailable:
                raise
            except Conflict:  # a record kept once: the database took it before the crash
                log.info("a write kept through an outage was in the database already")
            except Exception:
                log.exception("a write kept through an outage failed: %s", type(write).__name__)
        return len(writes)
