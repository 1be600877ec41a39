"""What the dialer asks of the shell: dial a customer, load contacts, write its records."""

from __future__ import annotations

from dataclasses import dataclass

from ccgateway.domain.model import DEFAULT_PBX
from ccgateway.domain.outbound.contacts import Progress
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord


@dataclass(frozen=True, slots=True)
class DialCustomer:
    """Dial `number` for a campaign; the PBX's channel gets the id `dial_id`.

    The PBX rings for `ring_s`, then on answer runs answering-machine detection if `amd`,
    and for a person waits for the agent leg the controller rings, at most `grace_s` (from
    the answer if `grace_counts_amd`, else from AMD's verdict), then plays `abandon_message`
    and hangs up. A machine gets `machine_message` (None: hang up).
    """

    dial_id: str
    campaign_id: str
    number: str
    caller_id: str
    caller_name: str
    ring_s: float
    amd: bool
    machine_message: str | None
    abandon_message: str
    grace_s: float
    grace_counts_amd: bool
    pbx: str = DEFAULT_PBX


@dataclass(frozen=True, slots=True)
class LoadContacts:
    """Fetch up to `count` contacts of the campaign that may be dialled now (state new or
    scheduled and due), best first, leaving out `exclude` (already in the centre's hands),
    with each number's do-not-call listing; answered by `Center.contacts_loaded`."""

    campaign_id: str
    count: int
    now: float
    exclude: frozenset[str]
    owned_callbacks: bool = False  # also the callbacks kept for their agents


@dataclass(frozen=True, slots=True)
class SaveProgress:
    progress: Progress


@dataclass(frozen=True, slots=True)
class RecordDial:
    record: DialRecord


@dataclass(frozen=True, slots=True)
class RecordDisposition:
    record: DispositionRecord


@dataclass(frozen=True, slots=True)
class RecordRefusal:
    record: RefusalRecord


@dataclass(frozen=True, slots=True)
class SuppressNumber:
    """Put a number on the internal do-not-call list for every campaign (an objection)."""

    number: str
    reason: str
    at: float
