"""The small interfaces between the services and the edges (PBX, database, clock).

PbxError                      anything a PBX adapter refuses or fails to do
├── InvalidWireValue          a value with CR, LF or NUL (or over the wire's limits): refused
│                             before anything is sent (also a ValueError)
├── PbxUnavailable            not connected right now; the command was not sent
├── PbxTimeout                sent, but no answer in time: the outcome is unknown
└── PbxRejected               the PBX answered with an error (no such channel, ...)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ccgateway.domain.agents import AgentState
from ccgateway.domain.commands import Command, Interaction, PbxCommand
from ccgateway.domain.events import PbxEvent
from ccgateway.domain.figures import AgentTally, QueueTally
from ccgateway.domain.model import Agent, Queue, Skill
from ccgateway.domain.outbound.campaigns import Campaign, CampaignState
from ccgateway.domain.outbound.contacts import Contact, ContactList, ContactState, Progress
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.domain.outbound.rules import RuleSet
from ccgateway.domain.privacy import FieldKey
from ccgateway.domain.recording import Recording
from ccgateway.domain.records import Callback, Task
from ccgateway.domain.reports import Activity, CampaignTally, Count, Deltas, Span
from ccgateway.domain.retention import HoldKind, Kind, PurgeScope, RetentionPolicy


class DatabaseUnavailable(Exception):
    """The database cannot be reached now (restarting, failing over): the centre's own
    writes wait in order in the journal (services/journal.py); a read of history or a write
    someone awaits is refused with this (503) rather than served with holes or left hanging."""


class WriteFenced(DatabaseUnavailable):
    """A write of a pair's controller refused because it no longer holds the lease at its
    epoch (or that could not be proven). The journal keeps it as it keeps one that met an
    outage, so that a controller that lost its lease can hand what it kept to the next
    active (services/handover.py) rather than drop it."""


class JournalSpill(Protocol):
    """Where the writer's journal keeps the centre's writes on disk while the database is
    away (persistence/journal_file.py), so that a controller's crash loses none of them."""

    def keep(self, seq: int, write: object) -> None:
        """Append one write (its number: one more than the last kept)."""

    def written(self, seq: int) -> None:
        """Every write kept up to `seq` is in the database."""

    def sync(self) -> None:
        """What was kept survives the machine's crash too."""

    def clear(self) -> None:
        """Every write kept is in the database."""


class PbxError(Exception):
    pass


class InvalidWireValue(PbxError, ValueError):
    pass


class PbxUnavailable(PbxError):
    pass


class PbxTimeout(PbxError):
    pass


class PbxRejected(PbxError):
    pass


@dataclass(frozen=True, slots=True)
class Owner:
    """Who may command a PBX: a controller's node id and its fencing epoch (0 for a single
    controller; a pair's lease holder gets a higher one at every takeover). The PBX carries
    the owner's mark; a controller that finds another live owner there stays passive."""

    node: str
    epoch: int = 0
    # Whether this controller may still write to a PBX at all: a pair's lease keeper says
    # (false from its deadline on), so a controller frozen past it sends not even a ping.
    may_command: Callable[[], bool] = field(default=lambda: True, compare=False, repr=False)
    # Whether, when `may_command` says no, it may still write to a PBX whose owner mark it
    # last found its own at the given moment (monotonic): past the lease's deadline with the
    # database away, a pair's holder rides on the marks (services/lease.py).
    may_ride: Callable[[float], bool] = field(
        default=lambda confirmed_at: False, compare=False, repr=False
    )
    # How long, from the stamp of an older holder's live mark, a new holder waits before it
    # commands the PBX (pbx/mark_keeper.py): the pair's ride_s and a margin.
    hold_s: float = 0.0


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """Who holds a pair's lease as the database saw it: the node, its fencing epoch, the API
    URL it advertises, and whether the lease was still live (by the database's clock)."""

    node: str
    epoch: int
    url: str | None
    live: bool


class LeaseStore(Protocol):
    """The active controller's lease, kept in the shared database (persistence/lease_store.py).
    Every expiry is computed on the database's clock, so the controllers' clocks never meet."""

    def claim(self, node: str, epoch: int | None, lease_s: float, url: str | None) -> int | None:
        """Renew the lease `node` holds at `epoch` (None: it holds none), or take it if it has
        expired; the epoch held afterwards (one more than the last on a change of holder),
        None if another holds it."""
        ...

    def holder(self) -> LeaseHolder | None:
        """The lease's last holder (None before anyone took it)."""
        ...

    def release(self, node: str, epoch: int) -> None:
        """End the lease now if `node` still holds it at `epoch` (a clean stop)."""
        ...


@dataclass(frozen=True, slots=True)
class LeftWrite:
    """A write a controller that lost the lease left for the next active: its row's id, who
    left it, and the write as a value (None where it can no longer be read)."""

    id: int
    node: str
    epoch: int
    write: object | None


class HandoverStore(Protocol):
    """Writes a pair's controller made while it held the lease and could not write before
    it lost it, left in the shared database for the active (persistence/handover_store.py).
    Leaving is not fenced: it is how a fenced controller's writes reach the one that fenced
    it, which writes them under its own epoch."""

    def leave(self, node: str, epoch: int, writes: Sequence[object]) -> None:
        """Keep `writes`, in order, as left by `node` at `epoch`."""
        ...

    def waiting(self, limit: int) -> list[LeftWrite]:
        """Up to `limit` writes left, oldest first."""
        ...

    def forget(self, ids: Collection[int]) -> None:
        """The writes taken in (written by the active): gone."""
        ...


@dataclass(frozen=True, slots=True)
class DialplanTarget:
    context: str
    exten: str
    priority: int = 1


class CommandTap(Protocol):
    """Sees every command the dispatcher carries out, in order and after redaction (an
    erased person's live work reaches it without them): the webhooks, the queue_log feed and
    the interval reports are fed this way, so none of them needs a hook in the core.

    `observe` runs in the dispatcher's turn: it must return at once (no I/O, no waiting);
    what it must write it hands to a queue of its own or to the dispatcher's writer."""

    def observe(self, command: Command, now: float) -> None: ...


class Pbx(Protocol):
    """One PBX as the services see it: commands in, normalised domain events out.

    `run` owns the connection for the life of the controller: it connects, reconnects with
    back-off, and after every (re)connect emits a `PbxResynced` with the PBX's whole picture
    before any other event, and a `PbxConnectionLost` when the link drops. Commands raise
    `PbxUnavailable` while disconnected and are never re-sent on their own: a command that is
    not idempotent (an originate) must never reach the PBX twice.
    """

    name: str
    # What the centre may ask of it beyond ringing agents (domain/floor.py FEATURES).
    features: frozenset[str]

    async def run(self, emit: Callable[[PbxEvent], None]) -> None: ...

    async def execute(self, command: PbxCommand) -> None:
        """Carry out one command (domain/commands.py says what each promises). Every value
        is checked before anything is sent; a channel that is already gone is not an error
        for a hang-up. A PBX that cannot do a command raises PbxRejected saying so."""

    async def close(self) -> None: ...


@runtime_checkable
class ChecksSounds(Protocol):
    """A PBX whose sounds need a meaning of their own (FreeSWITCH: pbx/freeswitch/sounds.py):
    a queue naming one it cannot play is refused when it is saved, not found mid-call."""

    def sound_problem(self, sound: str) -> str | None:
        """Why this PBX cannot play `sound`, or None if it can."""


@runtime_checkable
class OwnerMarked(Protocol):
    """A PBX that carries this controller's owner mark (pbx/mark_keeper.py)."""

    @property
    def mark_confirmed_at(self) -> float:
        """When (monotonic) this controller last found its own mark there and rewrote it:
        a pair's holder riding out the database's absence commands it only shortly after."""


@runtime_checkable
class Trunked(Protocol):
    """A PBX with SIP trunks to other PBXs of the controller (its section's `trunks`):
    a queue on it may have the agents of those PBXs rung over them (`Queue.trunked_pbxes`),
    and one naming a PBX it does not reach is refused when it is saved."""

    def reaches(self, pbx: str) -> bool:
        """Whether an agent on `pbx` can be rung over a trunk from this PBX."""


class ConfigStore(Protocol):
    """Skills, agents, queues and agents' saved presence. Each method is one transaction."""

    def load(self) -> tuple[list[Skill], list[Agent], list[Queue]]: ...

    def put_skill(self, skill: Skill) -> None: ...

    def delete_skill(self, skill_id: str) -> None: ...

    def put_agent(self, agent: Agent) -> None: ...

    def delete_agent(self, agent_id: str) -> None: ...

    def put_queue(self, queue: Queue) -> None: ...

    def delete_queue(self, queue_id: str) -> None: ...

    def load_presence(self) -> dict[str, tuple[AgentState, str | None]]: ...

    def save_presence(self, agent_id: str, state: AgentState, reason: str | None) -> None: ...


@dataclass(frozen=True, slots=True)
class InteractionQuery:
    queue_id: str | None = None
    agent_id: str | None = None
    since: float | None = None
    until: float | None = None
    limit: int = 100
    offset: int = 0
    newest_first: bool = False
    caller_number: str | None = None  # one caller's calls (a contact's history)
    call_id: str | None = None


class InteractionStore(Protocol):
    def add(self, interaction: Interaction) -> None:
        """Append one finished call; the same record again (same call_id, arrived_at and
        ended_at) is ignored. One call_id may have two records."""

    def query(self, query: InteractionQuery) -> list[Interaction]:
        """Oldest first by `arrived_at`, filtered and paged as asked."""

    def recorded(self, call_ids: Collection[str]) -> set[str]:
        """Which of these calls already have a record (any of their segments)."""


class CallbackStore(Protocol):
    """Queued callbacks as last saved; each save is one transaction."""

    def save(self, callback: Callback) -> None: ...

    def live(self) -> list[Callback]:
        """The callbacks still to be made (scheduled, waiting, or with an agent)."""

    def get(self, callback_id: str) -> Callback | None: ...

    def of_number(self, number: str, limit: int) -> list[Callback]:
        """Every callback (live or ended) to the number, newest first."""


class TaskStore(Protocol):
    """Non-voice tasks as last saved; each save is one transaction."""

    def save(self, task: Task) -> None: ...

    def live(self) -> list[Task]:
        """Tasks not yet completed or cancelled."""

    def get(self, task_id: str) -> Task | None: ...


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """An API key as stored: never the key itself, which is shown once, at creation."""

    id: str
    name: str
    role: str
    agent_id: str | None
    created_at: float


class KeyStore(Protocol):
    def create(self, name: str, role: str, agent_id: str | None) -> tuple[KeyInfo, str]:
        """A new key: its record and the key itself (random, 32 bytes, URL-safe)."""

    def find(self, plaintext: str) -> KeyInfo | None: ...

    def list(self) -> list[KeyInfo]: ...

    def delete(self, key_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A person's account as stored, without its password hash (which only the store and
    the password check ever see)."""

    username: str
    role: str
    agent_id: str | None
    device: str | None
    display_name: str
    created_at: float


class UserStore(Protocol):
    def add(self, user: UserInfo, password_hash: str) -> None:
        """Conflict if the name is taken; InvalidValue if its agent does not exist."""

    def get(self, username: str) -> UserInfo | None: ...

    def password_hash(self, username: str) -> str | None: ...

    def list(self) -> list[UserInfo]: ...

    def update(self, user: UserInfo) -> bool:
        """Role, agent, device and display name; False if there is no such user."""

    def set_password(self, username: str, password_hash: str) -> bool: ...

    def delete(self, username: str) -> bool:
        """The user and every session of theirs."""


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser: stored under the SHA-256 of its cookie's token, never the token."""

    token_hash: str
    username: str
    csrf_token: str
    created_at: float
    last_seen: float


class SessionStore(Protocol):
    def add(self, session: WebSession) -> None: ...

    def find(self, token_hash: str) -> WebSession | None: ...

    def touch(self, token_hash: str, at: float) -> None: ...

    def delete(self, token_hash: str) -> None: ...

    def delete_for_user(self, username: str, keep: str | None = None) -> int:
        """Every session of the user but `keep` (a token hash); how many ended."""

    def delete_idle(self, seen_before: float, exempt_roles: Collection[str]) -> int:
        """Sessions last seen before `seen_before`, but those of users with an exempt role."""


@dataclass(frozen=True, slots=True)
class Note:
    """An agent's (or a supervisor's) note on a contact: a number, perhaps a call or dial."""

    id: str
    at: float
    agent_id: str | None  # the agent who wrote it; None: a supervisor or an admin
    author: str | None  # the person signed in (user name), else the agent; None: a key
    number: str
    call_id: str | None
    dial_id: str | None
    text: str


class NoteStore(Protocol):
    def add(self, note: Note) -> None: ...

    def of_number(self, number: str, limit: int) -> list[Note]:
        """The number's notes, newest first."""


class Clock(Protocol):
    def now(self) -> float:
        """Epoch seconds."""


@dataclass(frozen=True, slots=True)
class DueQuery:
    """Contacts of a campaign that may be dialled now: new, or scheduled and due."""

    campaign_id: str
    now: float
    count: int
    exclude: frozenset[str] = frozenset()
    owned_callbacks: bool = False  # also callbacks kept for an agent (else left out)


class OutboundStore(Protocol):
    """The dialer's configuration, contacts and records. Records (dials, dispositions,
    refusals) are append-only: there is no method that changes or deletes one, and the
    tables refuse updates."""

    def load_config(self) -> tuple[list[RuleSet], list[tuple[Campaign, CampaignState]]]:
        """Custom rule sets and campaigns with the state they were left in."""

    def put_rule_set(self, rules: RuleSet) -> None: ...

    def delete_rule_set(self, rule_set_id: str) -> None: ...

    def put_campaign(self, campaign: Campaign, state: CampaignState) -> None: ...

    def delete_campaign(self, campaign_id: str) -> None:
        """The campaign and its lists and contacts; its records stay."""

    def import_contacts(self, contact_list: ContactList, contacts: Sequence[Contact]) -> None:
        """The list and all its contacts in one transaction, or nothing (Conflict if a
        contact id is already in the campaign)."""

    def lists(self, campaign_id: str) -> list[ContactList]: ...

    def due(self, query: DueQuery) -> list[tuple[Contact, Progress]]:
        """Best first: callbacks due (oldest promise first), then by priority (high first),
        due time, id."""

    def contact(self, campaign_id: str, contact_id: str) -> tuple[Contact, Progress] | None: ...

    def contacts(
        self, campaign_id: str, state: ContactState | None, limit: int, offset: int
    ) -> list[tuple[Contact, Progress]]: ...

    def counts(self, campaign_id: str) -> dict[str, int]:
        """Contacts per state."""

    def dialing(self) -> list[tuple[Contact, Progress]]:
        """Contacts left DIALING (a restart finds their calls in the PBX, or not)."""

    def save_progress(self, progress: Progress) -> None: ...

    def suppress(self, register: str, numbers: Sequence[str], reason: str, at: float) -> int:
        """Add numbers to a do-not-call list ("internal" for objections); how many were new."""

    def replace_register(self, register: str, numbers: Sequence[str], at: float) -> int:
        """A fresh screening of a register (TPS, the national DNC): the list is replaced
        whole, in one transaction, and `at` recorded as its screening time."""

    def screen_numbers(
        self, register: str, numbers: Sequence[str], screening: str, at: float
    ) -> None:
        """A part of a register's fresh screening, in a transaction of its own; until it
        is finished the register also keeps the last screening's numbers."""

    def finish_screening(self, register: str, screening: str, at: float) -> int:
        """Drop the register's numbers not in `screening`, record `at`; how many it lists."""

    def suppressed(self, numbers: Sequence[str]) -> dict[str, str]:
        """number -> the list it is on (any list)."""

    def screened(self) -> dict[str, float]:
        """register -> when it was last screened."""

    def add_dial(self, record: DialRecord) -> None: ...

    def add_disposition(self, record: DispositionRecord) -> None: ...

    def add_refusal(self, record: RefusalRecord) -> None: ...

    def dials(
        self, campaign_id: str | None, since: float | None, limit: int, offset: int = 0
    ) -> list[DialRecord]:
        """Oldest first."""

    def dispositions(self, campaign_id: str, since: float | None) -> list[DispositionRecord]: ...

    def dial(self, dial_id: str) -> DialRecord | None: ...

    def dials_of_number(
        self, number: str, limit: int, agent_id: str | None = None
    ) -> list[DialRecord]:
        """The number's dials (those `agent_id` took, if given), newest first."""

    def dispositions_of(self, dial_ids: Sequence[str]) -> list[DispositionRecord]:
        """The dispositions of these dials, oldest first."""

    def refusals(
        self, campaign_id: str, since: float | None, limit: int
    ) -> list[RefusalRecord]: ...


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what to personal data (an erasure, an export), and when. `subject` is a
    pseudonym of the person, never their number."""

    at: float
    actor: str
    action: str
    subject: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Objection:
    """A number on the internal do-not-call list (GDPR art. 21): why, and since when."""

    number: str
    reason: str
    at: float


class PrivacyStore(Protocol):
    """A person's data across every table: erased, or exported; and the audit log."""

    def erase(self, number: str, pseudonym: str, at: float, actor: str) -> dict[str, int]:
        """Everything held about the number gone, in one transaction with its audit entry:
        rows deleted where the person is all a row is about, records kept without them
        where their counts matter; the number suppressed as its pseudonym. How many rows
        of each kind."""

    def erase_found(
        self, numbers: Mapping[str, str], key: str, subject: str, at: float, actor: str
    ) -> dict[str, dict[str, int]]:
        """Each number (-> its pseudonym) a contact's field led to erased as `erase` does,
        all in one transaction with one audit entry under the field's pseudonym."""

    def contacts_holding(self, key: FieldKey) -> list[tuple[str, str, str]]:
        """(campaign, contact id, number) of every contact whose field holds the value."""

    def objections(self, limit: int, offset: int = 0, number: str | None = None) -> list[Objection]:
        """The internal do-not-call list, newest first."""

    def export(self, number: str) -> dict[str, list[dict[str, object]]]:
        """Every row held about the number, by kind, each as its columns."""

    def recording_files(self, number: str) -> list[str]:
        """The files of the number's recordings (erasure deletes them after their rows)."""

    def add_audit(self, entry: AuditEntry) -> None: ...

    def audit(self, limit: int, offset: int = 0) -> list[AuditEntry]:
        """Newest first."""


@dataclass(frozen=True, slots=True)
class Hold:
    """A legal hold: nothing of the number, campaign or contact is purged while it lasts,
    and the person cannot be erased."""

    kind: HoldKind
    value: str
    reason: str
    at: float


class RetentionStore(Protocol):
    def policy(self) -> RetentionPolicy: ...

    def put_policy(self, policy: RetentionPolicy, at: float) -> None: ...

    def holds(self) -> list[Hold]: ...

    def add_hold(self, hold: Hold) -> bool:
        """Whether the hold is new."""

    def remove_hold(self, kind: HoldKind, value: str) -> bool:
        """Whether there was such a hold."""

    def held(self, kind: HoldKind, value: str) -> bool: ...

    def campaign_rule_sets(self) -> dict[str, str]:
        """campaign id -> its rule set id, for every campaign with data."""

    def purge_batch(self, kind: Kind, scope: PurgeScope, limit: int) -> tuple[int, list[str]]:
        """Delete up to `limit` rows past their cutoff and under no hold; how many, and the
        recordings' files whose rows went."""


@dataclass(frozen=True, slots=True)
class RecordingFacts:
    """A recording's record, with its file's size and SHA-256 once the file is closed."""

    recording: Recording
    size: int | None
    sha256: str | None
    sealed: bool = False  # the file is kept encrypted (size and sha256 are still the audio's)


@dataclass(frozen=True, slots=True)
class RecordingQuery:
    call_id: str | None = None
    agent_id: str | None = None
    since: float | None = None
    limit: int = 100
    offset: int = 0


class RecordingStore(Protocol):
    def save(self, recording: Recording) -> None: ...

    def set_file(self, recording_id: str, size: int, sha256: str) -> None: ...

    def live(self) -> list[Recording]:
        """Recordings not ended."""

    def unmeasured(self, since: float) -> list[Recording]:
        """Recordings ended since then whose file was never measured (a restart came
        between the call's end and the measuring), failures left out."""

    def get(self, recording_id: str) -> RecordingFacts | None: ...

    def query(self, query: RecordingQuery) -> list[RecordingFacts]:
        """Newest first."""


class UnreadableRecording(Exception):
    """A recording's sealed file is not what was sealed: changed, cut short, another
    recording's, or sealed under another key. Nothing of it is handed out."""


@dataclass(frozen=True, slots=True)
class RecordingAudio:
    """A recording's audio as stored: a plain file (`path`, served as it is), or a sealed
    one, whose `read()` yields the audio chunk by chunk, each authenticated before it is
    yielded (UnreadableRecording at the first that is not)."""

    size: int
    path: Path | None
    read: Callable[[], Iterator[bytes]]


class RecordingFileStore(Protocol):
    """The recordings folder as the controller sees it; with a key, files sealed at rest."""

    def path(self, file: str) -> Path: ...

    def measure(self, recording_id: str, file: str) -> tuple[int, str] | None:
        """(size, SHA-256) of the closed file's audio, sealed (and its plain file deleted)
        where a key is set; None if it is not there (yet)."""

    def is_sealed(self, file: str) -> bool: ...

    def audio(self, recording_id: str, file: str) -> RecordingAudio | None:
        """The file's audio; None if there is no file."""

    def delete(self, files: list[str]) -> int:
        """How many of the files were there to delete (a sealed file's too)."""


class ReportStore(Protocol):
    """The interval reports' tallies (domain/reports.py): added as they are flushed, read
    summed into a span's intervals, keyed by (id, interval start)."""

    def add(self, deltas: Deltas) -> None:
        """Add every tally to its bucket's row, all in one transaction."""

    def queues(self, span: Span, ids: Collection[str] | None) -> dict[tuple[str, int], QueueTally]:
        """Each queue's tally per interval; intervals with nothing are left out."""

    def agents(
        self, span: Span, ids: Collection[str] | None
    ) -> dict[tuple[str, int], tuple[AgentTally, Activity, dict[str, float]]]:
        """Each agent's calls, time by state and time by pause reason, per interval."""

    def campaigns(
        self, span: Span, ids: Collection[str] | None
    ) -> dict[tuple[str, int], tuple[CampaignTally, dict[str, Count]]]:
        """Each campaign's tally and keyed counts (dispositions, answers), per interval."""
