"""What the dialer tells the event stream (supervisors' wallboards, agents' desktops):
plain functions of a run or a dial, so every part words a notice the same way.
"""

from __future__ import annotations

from ccgateway.domain.commands import Notify
from ccgateway.domain.outbound.campaigns import DialOutcome
from ccgateway.domain.outbound.compliance import Refusal
from ccgateway.domain.outbound.runs import CampaignRun, Dial


def campaign_notice(run: CampaignRun) -> Notify:
    return Notify(
        "campaign.state",
        {"campaign_id": run.campaign.id, "state": run.state.value, "idle": run.why_idle},
    )


def dial_notice(
    dial: Dial,
    what: str,
    *,
    outcome: DialOutcome | None = None,
    screen: bool = False,
    refusal: Refusal | None = None,
) -> Notify:
    data: dict[str, object] = {
        "dial_id": dial.id,
        "campaign_id": dial.campaign_id,
        "contact_id": dial.contact.id,
        "event": what,
        "agent_id": dial.agent_id,
    }
    if refusal is not None:  # the agent who asked is told which rule said no
        data["rule"], data["detail"] = refusal.rule, refusal.detail
    if outcome is not None:
        data["outcome"] = outcome.value
    if screen:  # the agent's screen pop: who this is
        data["contact"] = contact_card(dial)
    return Notify("dial.state", data)


def preview_notice(run: CampaignRun, dial: Dial) -> Notify:
    return Notify(
        "dial.preview",
        {
            "dial_id": dial.id,
            "campaign_id": dial.campaign_id,
            "agent_id": dial.agent_id,
            "contact": contact_card(dial),
            "expires_in_s": run.campaign.preview_timeout_s,
        },
    )


def contact_card(dial: Dial) -> dict[str, object]:
    contact = dial.contact
    return {
        "id": contact.id,
        "name": contact.name,
        "number": contact.number,
        "fields": dict(contact.fields),
        "attempts": dial.entry.progress.attempts,
        "last_outcome": dial.entry.progress.last_outcome,
    }
