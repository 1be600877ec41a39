"""The use cases behind the agent desktop's screen pop: a contact's history, agents' notes
and the directory (transfer targets, pause codes, dispositions, scripts).

A history is read from the stores (in a thread) after every write queued so far is done, so
a call that has just ended is in it; what is live (calls, dials, callbacks) is read from the
centre itself, which the event loop never shows half-changed. Who may read which history is
the API's rule (api/routes/history.py); this service answers the question it asks: has this
agent served, or is it serving, this number?
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from ccgateway.domain import lookups
from ccgateway.domain.center import Center
from ccgateway.domain.commands import Interaction
from ccgateway.domain.errors import InvalidValue, NotFound
from ccgateway.domain.model import Agent, Queue
from ccgateway.domain.outbound.campaigns import Campaign
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord
from ccgateway.domain.records import Callback
from ccgateway.ports import (
    CallbackStore,
    Clock,
    InteractionQuery,
    InteractionStore,
    Note,
    NoteStore,
    OutboundStore,
)
from ccgateway.services.dispatcher import Dispatcher

HISTORY_LIMIT = 200  # items of each kind in a history, newest first
# What a PBX gives as a caller's number: mostly digits with a leading +, but a SIP caller's
# user part ("alice", "anonymous") is a number to its history too.
NUMBER = re.compile(r"^[A-Za-z0-9+*#._@-]{1,64}$")
# Text of 1-2000 characters: no control characters but tab and newline (a carriage return
# would not read back the same everywhere), no lone surrogates (not storable as UTF-8).
NOTE_TEXT = re.compile(r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]{1,2000}$")


def check_number(number: str) -> str:
    if not NUMBER.fullmatch(number):
        raise InvalidValue(
            "a number is 1-64 of digits, letters and + * # . _ @ - (what a PBX reports)"
        )
    return number


def check_note_text(text: str) -> str:
    if not NOTE_TEXT.fullmatch(text) or not text.strip():
        raise InvalidValue(
            "a note is 1-2000 characters of text (newlines and tabs allowed, no other "
            "control characters), not only spaces"
        )
    return text


@dataclass(frozen=True, slots=True)
class DialHistory:
    record: DialRecord
    disposition: DispositionRecord | None  # the latest, if the agent recorded one


@dataclass(frozen=True, slots=True)
class ContactHistory:
    number: str
    interactions: list[Interaction]
    dials: list[DialHistory]
    callbacks: list[Callback]
    notes: list[Note]


@dataclass(frozen=True, slots=True)
class NoteSubject:
    """What a note is written on: the number, the call or dial, and the agents who had it."""

    number: str
    call_id: str | None
    dial_id: str | None
    agents: frozenset[str]


@dataclass(frozen=True, slots=True)
class DirectoryView:
    queues: list[Queue]
    agents: list[Agent]
    pause_codes: tuple[str, ...]
    campaigns: list[Campaign]


class HistoryService:
    def __init__(
        self,
        dispatcher: Dispatcher,
        interactions: InteractionStore,
        outbound: OutboundStore,
        callbacks: CallbackStore,
        notes: NoteStore,
        clock: Clock,
        new_id: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self._dispatcher = dispatcher
        self._center: Center = dispatcher.center
        self._interactions = interactions
        self._outbound = outbound
        self._callbacks = callbacks
        self._notes = notes
        self._clock = clock
        self._new_id = new_id

    # --- the history ---------------------------------------------------------------------

    async def contact_number(self, campaign_id: str, contact_id: str) -> str:
        found = await asyncio.to_thread(self._outbound.contact, campaign_id, contact_id)
        if found is None:
            raise NotFound(f"campaign {campaign_id} has no contact {contact_id!r}")
        return found[0].number

    async def history(self, number: str) -> ContactHistory:
        """Every kind of item about the number, newest first, at most HISTORY_LIMIT each."""
        check_number(number)
        await self._dispatcher.drain_writes()  # a call that just ended is in it
        history = await asyncio.to_thread(self._read, number)
        live = [c for c in self._center.callbacks.callbacks.values() if c.number == number]
        callbacks = {c.id: c for c in history.callbacks} | {c.id: c for c in live}
        newest = sorted(callbacks.values(), key=lambda c: (c.created_at, c.id), reverse=True)
        return ContactHistory(
            number,
            history.interactions,
            history.dials,
            newest[:HISTORY_LIMIT],
            history.notes,
        )

    def _read(self, number: str) -> ContactHistory:
        query = InteractionQuery(caller_number=number, limit=HISTORY_LIMIT, newest_first=True)
        interactions = self._interactions.query(query)
        dials = self._outbound.dials_of_number(number, HISTORY_LIMIT)
        # oldest first: the latest disposition of a dial wins
        disposed = {d.dial_id: d for d in self._outbound.dispositions_of([d.id for d in dials])}
        return ContactHistory(
            number,
            interactions,
            [DialHistory(d, disposed.get(d.id)) for d in dials],
            self._callbacks.of_number(number, HISTORY_LIMIT),
            self._notes.of_number(number, HISTORY_LIMIT),
        )

    async def has_served(self, agent_id: str, number: str) -> bool:
        """The agent is being offered or talking to the number now (a call, a dial or a
        callback), or took a call or dial of it before."""
        check_number(number)
        if lookups.is_serving(self._center, agent_id, number):
            return True
        await self._dispatcher.drain_writes()
        return await asyncio.to_thread(self._served_before, agent_id, number)

    def _served_before(self, agent_id: str, number: str) -> bool:
        query = InteractionQuery(agent_id=agent_id, caller_number=number, limit=1)
        return bool(self._interactions.query(query)) or bool(
            self._outbound.dials_of_number(number, 1, agent_id=agent_id)
        )

    # --- notes ---------------------------------------------------------------------------

    async def note_subject(
        self, call_id: str | None, dial_id: str | None, number: str | None
    ) -> NoteSubject:
        """The number a note goes on: the call's or the dial's (live or recorded), else the
        one given; with the agents who had that call or dial."""
        if call_id is not None:
            return await self._call_subject(call_id, dial_id)
        if dial_id is not None:
            return await self._dial_subject(dial_id)
        if number is None:
            raise InvalidValue("a note is on a call_id, a dial_id or a number")
        return NoteSubject(check_number(number), None, None, frozenset())

    async def _call_subject(self, call_id: str, dial_id: str | None) -> NoteSubject:
        call = self._center.calls.get(call_id)
        if call is not None:
            agents = {a for a in (call.agent_id, *call.conference.values()) if a is not None}
            return NoteSubject(call.caller_number, call_id, dial_id, frozenset(agents))
        await self._dispatcher.drain_writes()
        query = InteractionQuery(call_id=call_id, limit=HISTORY_LIMIT)
        records = await asyncio.to_thread(self._interactions.query, query)
        if not records:
            raise NotFound(f"no call {call_id!r}")
        agents = {r.agent_id for r in records if r.agent_id is not None}
        return NoteSubject(records[0].caller_number, call_id, dial_id, frozenset(agents))

    async def _dial_subject(self, dial_id: str) -> NoteSubject:
        party = lookups.dial_party(self._center, dial_id)
        if party is None:
            await self._dispatcher.drain_writes()
            record = await asyncio.to_thread(self._outbound.dial, dial_id)
            if record is None:
                raise NotFound(f"no dial {dial_id!r}")
            party = lookups.DialParty(record.number, record.agent_id)
        agents = frozenset({party.agent_id} if party.agent_id else ())
        return NoteSubject(party.number, None, dial_id, agents)

    async def add_note(
        self, subject: NoteSubject, text: str, agent_id: str | None, author: str | None
    ) -> Note:
        note = Note(
            self._new_id(),
            self._clock.now(),
            agent_id,
            author,
            subject.number,
            subject.call_id,
            subject.dial_id,
            check_note_text(text),
        )
        await asyncio.to_thread(self._notes.add, note)
        return note

    # --- the directory -------------------------------------------------------------------

    def directory(self) -> DirectoryView:
        """Queues, agents, the centre's pause codes and the campaigns: what an agent's page
        offers as transfer targets, pause reasons, dispositions and scripts."""
        center = self._center
        return DirectoryView(
            sorted(center.directory.queues.values(), key=lambda q: q.id),
            sorted(center.directory.agents.values(), key=lambda a: a.id),
            center.policy.pause_codes,
            lookups.campaigns(center),
        )
