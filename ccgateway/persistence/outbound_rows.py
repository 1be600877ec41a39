"""The dialer's rows and the domain's values, both ways (tables.py, domain/outbound/).

JSON columns go through outbound_codec.py; a corrupt value raises the domain's InvalidValue.
"""

from __future__ import annotations

from typing import Any

from ccgateway.domain.errors import InvalidValue
from ccgateway.domain.outbound.campaigns import CampaignState, DialMode, DialOutcome
from ccgateway.domain.outbound.contacts import Contact, ContactList, ContactState, Progress
from ccgateway.domain.outbound.records import DialRecord, DispositionRecord, RefusalRecord
from ccgateway.domain.outbound.rules import LineType
from ccgateway.persistence.mapping import columns_of, from_row, stored
from ccgateway.persistence.outbound_codec import (
    answers_from_json,
    answers_to_json,
    consents_from_json,
    consents_to_json,
    counts_from_json,
    counts_to_json,
    strings_from_json,
    strings_to_json,
    zones_from_json,
    zones_to_json,
)
from ccgateway.persistence.tables import (
    ContactListRow,
    ContactRow,
    DialRecordRow,
    DispositionRow,
    RefusalRow,
)


def campaign_state(text: str) -> CampaignState:
    try:
        return CampaignState(text)
    except ValueError:
        raise InvalidValue(f"stored campaign state {text!r} is not a campaign state") from None


def list_row(contact_list: ContactList) -> ContactListRow:
    return ContactListRow(**columns_of(contact_list))


def contact_list(r: ContactListRow) -> ContactList:
    return from_row(ContactList, r)


def contact_values(
    campaign_id: str, contact: Contact, progress_columns: dict[str, Any]
) -> dict[str, Any]:
    """The columns of the contact's row, for a bulk insert, with its progress's columns."""
    c = contact
    own = columns_of(
        c,
        time_zones=zones_to_json(c.time_zones),
        line_type=c.line_type.value,
        consents=consents_to_json(c.consents),
        fields=strings_to_json(c.fields),
    )
    return {"campaign_id": campaign_id, **own, **progress_columns}


def progress_values(progress: Progress) -> dict[str, Any]:
    """The progress's columns of its contact's row (the row's id is the contact's)."""
    p = progress
    columns = columns_of(p, state=p.state.value, outcomes=counts_to_json(p.outcomes))
    del columns["contact_id"], columns["campaign_id"]
    return columns


def contact(r: ContactRow) -> Contact:
    return from_row(
        Contact,
        r,
        time_zones=zones_from_json(r.time_zones),
        line_type=stored(LineType, r.line_type, f"contact {r.id}: line type"),
        consents=consents_from_json(r.consents),
        fields=strings_from_json(r.fields),
    )


def entry(r: ContactRow) -> tuple[Contact, Progress]:
    return contact(r), progress(r)


def progress(r: ContactRow) -> Progress:
    return from_row(
        Progress,
        r,
        contact_id=r.id,
        state=stored(ContactState, r.state, f"contact {r.id}: state"),
        outcomes=counts_from_json(r.outcomes),
    )


def dial(r: DialRecordRow) -> DialRecord:
    return from_row(
        DialRecord,
        r,
        mode=stored(DialMode, r.mode, f"dial {r.id}: mode"),
        outcome=stored(DialOutcome, r.outcome, f"dial {r.id}: outcome"),
    )


def disposition(r: DispositionRow) -> DispositionRecord:
    return from_row(DispositionRecord, r, answers=answers_from_json(r.answers))


def refusal(r: RefusalRow) -> RefusalRecord:
    return from_row(RefusalRecord, r)


def dial_row(r: DialRecord) -> DialRecordRow:
    return DialRecordRow(**columns_of(r, mode=r.mode.value, outcome=r.outcome.value))


def disposition_row(r: DispositionRecord) -> DispositionRow:
    return DispositionRow(**columns_of(r, answers=answers_to_json(r.answers)))


def refusal_row(r: RefusalRecord) -> RefusalRow:
    return RefusalRow(**columns_of(r))
