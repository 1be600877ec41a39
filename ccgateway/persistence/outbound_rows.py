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
    cl = contact_list
    return ContactListRow(
        campaign_id=cl.campaign_id,
        id=cl.id,
        name=cl.name,
        created_at=cl.created_at,
        contacts=cl.contacts,
        rejected=cl.rejected,
        source=cl.source,
    )


def contact_list(r: ContactListRow) -> ContactList:
    return ContactList(r.id, r.campaign_id, r.name, r.created_at, r.contacts, r.rejected, r.source)


def contact_values(
    campaign_id: str, contact: Contact, progress_columns: dict[str, Any]
) -> dict[str, Any]:
    """The columns of the contact's row, for a bulk insert, with its progress's columns."""
    c = contact
    return {
        "campaign_id": campaign_id,
        "id": c.id,
        "list_id": c.list_id,
        "number": c.number,
        "time_zones": zones_to_json(c.time_zones),
        "line_type": c.line_type.value,
        "region": c.region,
        "name": c.name,
        "business": c.business,
        "consents": consents_to_json(c.consents),
        "fields": strings_to_json(c.fields),
        "priority": c.priority,
        **progress_columns,
    }


def progress_values(progress: Progress) -> dict[str, Any]:
    p = progress
    return {
        "state": p.state.value,
        "attempts": p.attempts,
        "next_at": p.next_at,
        "last_outcome": p.last_outcome,
        "outcomes": counts_to_json(p.outcomes),
        "callback_at": p.callback_at,
        "callback_agent_id": p.callback_agent_id,
        "dial_id": p.dial_id,
        "updated_at": p.updated_at,
    }


def contact(r: ContactRow) -> Contact:
    try:
        line_type = LineType(r.line_type)
    except ValueError:
        raise InvalidValue(f"stored contact {r.id}: line type {r.line_type!r}") from None
    return Contact(
        id=r.id,
        list_id=r.list_id,
        number=r.number,
        time_zones=zones_from_json(r.time_zones),
        line_type=line_type,
        region=r.region,
        name=r.name,
        business=r.business,
        consents=consents_from_json(r.consents),
        fields=strings_from_json(r.fields),
        priority=r.priority,
    )


def entry(r: ContactRow) -> tuple[Contact, Progress]:
    return contact(r), progress(r)


def progress(r: ContactRow) -> Progress:
    try:
        state = ContactState(r.state)
    except ValueError:
        raise InvalidValue(f"stored contact {r.id}: state {r.state!r}") from None
    return Progress(
        contact_id=r.id,
        campaign_id=r.campaign_id,
        state=state,
        attempts=r.attempts,
        next_at=r.next_at,
        last_outcome=r.last_outcome,
        outcomes=counts_from_json(r.outcomes),
        callback_at=r.callback_at,
        callback_agent_id=r.callback_agent_id,
        dial_id=r.dial_id,
        updated_at=r.updated_at,
    )


def dial(r: DialRecordRow) -> DialRecord:
    return DialRecord(
        id=r.id,
        campaign_id=r.campaign_id,
        contact_id=r.contact_id,
        number=r.number,
        rule_set_id=r.rule_set_id,
        mode=DialMode(r.mode),
        caller_id=r.caller_id,
        dialled_at=r.dialled_at,
        ended_at=r.ended_at,
        outcome=DialOutcome(r.outcome),
        answered_at=r.answered_at,
        live_at=r.live_at,
        connected_at=r.connected_at,
        agent_id=r.agent_id,
        amd=r.amd,
        at_risk=r.at_risk,
        detail=r.detail,
    )


def disposition(r: DispositionRow) -> DispositionRecord:
    return DispositionRecord(
        dial_id=r.dial_id,
        campaign_id=r.campaign_id,
        contact_id=r.contact_id,
        agent_id=r.agent_id,
        code=r.code,
        at=r.at,
        answers=answers_from_json(r.answers),
        note=r.note,
        callback_at=r.callback_at,
        callback_agent_id=r.callback_agent_id,
    )


def refusal(r: RefusalRow) -> RefusalRecord:
    return RefusalRecord(
        campaign_id=r.campaign_id,
        contact_id=r.contact_id,
        number=r.number,
        rule=r.rule,
        detail=r.detail,
        at=r.at,
        retry_at=r.retry_at,
    )


def dial_row(r: DialRecord) -> DialRecordRow:
    return DialRecordRow(
        id=r.id,
        campaign_id=r.campaign_id,
        contact_id=r.contact_id,
        number=r.number,
        rule_set_id=r.rule_set_id,
        mode=r.mode.value,
        caller_id=r.caller_id,
        dialled_at=r.dialled_at,
        ended_at=r.ended_at,
        outcome=r.outcome.value,
        answered_at=r.answered_at,
        live_at=r.live_at,
        connected_at=r.connected_at,
        agent_id=r.agent_id,
        amd=r.amd,
        at_risk=r.at_risk,
        detail=r.detail,
    )


def disposition_row(r: DispositionRecord) -> DispositionRow:
    return DispositionRow(
        dial_id=r.dial_id,
        campaign_id=r.campaign_id,
        contact_id=r.contact_id,
        agent_id=r.agent_id,
        code=r.code,
        at=r.at,
        answers=answers_to_json(r.answers),
        note=r.note,
        callback_at=r.callback_at,
        callback_agent_id=r.callback_agent_id,
    )


def refusal_row(r: RefusalRecord) -> RefusalRow:
    return RefusalRow(
        campaign_id=r.campaign_id,
        contact_id=r.contact_id,
        number=r.number,
        rule=r.rule,
        detail=r.detail,
        at=r.at,
        retry_at=r.retry_at,
    )
