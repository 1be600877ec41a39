"""What an administrator's request checks and changes in the live centre, beyond what one
part's own method does: the rules of the use cases the API offers.

Each function takes the `Center` (and `now` where time matters), raises a `DomainError` to
refuse, and changes nothing when it refuses. The services call these inside the dispatcher's
turn, store what they say, and convert the answer; they do not reach into the parts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from ccgateway.domain.center import Center
from ccgateway.domain.errors import Conflict, DomainError, NotFound
from ccgateway.domain.outbound.campaigns import Campaign, CampaignState
from ccgateway.domain.outbound.contacts import ContactState, Progress
from ccgateway.domain.outbound.figures import CampaignFigures, campaign_figures
from ccgateway.domain.outbound.rules import PRESETS, RuleSet

# --- configuration ---------------------------------------------------------------------------


def check_is_new(center: Center, kind: str, item_id: str) -> None:
    """Refuse a skill, agent or queue whose id is taken (run it in the owner's turn)."""
    directory = center.directory
    existing: Mapping[str, object] = (
        directory.skills
        if kind == "skill"
        else directory.agents
        if kind == "agent"
        else directory.queues
    )
    if item_id in existing:
        raise Conflict(f"{kind} {item_id!r} already exists")


def check_queue_removable(center: Center, queue_id: str) -> None:
    center.directory.queue(queue_id)
    if any(call.queue_id == queue_id for call in center.calls.values()):
        raise Conflict(f"queue {queue_id} has live calls; remove it when they have ended")


# --- rule sets ---------------------------------------------------------------------------------


def rule_sets(center: Center) -> list[RuleSet]:
    return sorted(center.outbound.rule_sets.values(), key=lambda r: r.id)


def rule_set(center: Center, rule_set_id: str) -> RuleSet:
    found = center.outbound.rule_sets.get(rule_set_id)
    if found is None:
        raise NotFound(f"no rule set {rule_set_id!r}")
    return found


def check_rule_set_change(center: Center, rules: RuleSet) -> None:
    """Every campaign on the rule set still meets it once changed."""
    for run in center.outbound.runs.values():
        if run.campaign.rule_set_id == rules.id:
            run.campaign.check_against(rules)


def check_rule_set_removable(center: Center, rule_set_id: str) -> None:
    if rule_set_id in PRESETS:
        raise Conflict(f"rule set {rule_set_id} is a preset")
    rule_set(center, rule_set_id)
    users = [
        r.campaign.id
        for r in center.outbound.runs.values()
        if r.campaign.rule_set_id == rule_set_id
    ]
    if users:
        raise Conflict(f"rule set {rule_set_id} is used by {', '.join(sorted(users))}")


# --- campaigns ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class CampaignStatus:
    campaign: Campaign
    state: CampaignState
    why_idle: str  # "" while dialling
    lines: int  # calls out now


def campaign_ids(center: Center) -> list[str]:
    return sorted(center.outbound.runs)


def campaign(center: Center, campaign_id: str) -> Campaign:
    """The loaded campaign (NotFound if there is none)."""
    return center.outbound.run(campaign_id).campaign


def campaign_status(center: Center, campaign_id: str) -> CampaignStatus:
    run = center.outbound.run(campaign_id)
    return CampaignStatus(
        run.campaign, run.state, run.why_idle, center.outbound.lines_out(campaign_id)
    )


def live_campaign_figures(center: Center, campaign_id: str, now: float) -> CampaignFigures:
    run = center.outbound.run(campaign_id)
    return campaign_figures(run, center.floor, center.outbound.lines_out(campaign_id), now)


def check_campaign_put(center: Center, campaign: Campaign, new: bool | None) -> CampaignState:
    """Check a create (`new`), a replace (not `new`) or either (None); the state to store."""
    run = center.outbound.runs.get(campaign.id)
    if new is True and run is not None:
        raise Conflict(f"campaign {campaign.id} exists already")
    if new is False and run is None:
        raise NotFound(f"no campaign {campaign.id!r}")
    center.outbound.check_campaign(campaign)
    return run.state if run is not None else CampaignState.STOPPED


def check_campaign_removable(center: Center, campaign_id: str) -> None:
    run = center.outbound.run(campaign_id)
    if run.state is not CampaignState.STOPPED or run.dials:
        raise Conflict(f"campaign {campaign_id} is {run.state.value}: stop it first")


def campaign_state(center: Center, campaign_id: str) -> tuple[Campaign, CampaignState]:
    run = center.outbound.run(campaign_id)
    return run.campaign, run.state


def restore_campaigns(
    center: Center,
    rules: Iterable[RuleSet],
    campaigns: Iterable[tuple[Campaign, CampaignState]],
    now: float,
) -> list[str]:
    """At start: custom rule sets, then campaigns in the state they were left in. A campaign
    the centre now refuses (its queue went) is left out; what was left out, and why."""
    for rule in rules:
        center.outbound.restore_rule_set(rule)
    left_out: list[str] = []
    for campaign, state in campaigns:
        try:
            center.outbound.restore_campaign(campaign, state, now)
        except DomainError as exc:
            left_out.append(f"campaign {campaign.id} not loaded: {exc}")
    return left_out


# --- contacts ----------------------------------------------------------------------------------


def schedule_contact_callback(
    center: Center, progress: Progress, at: float, agent_id: str | None, now: float
) -> Progress:
    """The contact's progress moved to a callback at `at`; what was loaded of it is
    dropped (stale). Refused while the contact is being dialled."""
    if progress.state in (ContactState.DIALING, ContactState.SUPPRESSED):
        raise Conflict(f"contact {progress.contact_id} is {progress.state.value}")
    if any(d.entry.contact.id == progress.contact_id for d in center.outbound.dials.values()):
        raise Conflict(f"contact {progress.contact_id} is being dialled")
    center.outbound.drop_loaded(progress.campaign_id, progress.contact_id)
    return dataclasses.replace(
        progress,
        state=ContactState.SCHEDULED,
        next_at=at,
        last_outcome="callback scheduled",
        callback_at=at,
        callback_agent_id=agent_id,
        dial_id=None,
        updated_at=now,
    )


# --- do-not-call -------------------------------------------------------------------------------


def suppress_numbers(center: Center, numbers: Iterable[str], reason: str) -> None:
    """Numbers on the internal list: no campaign dials them, those loaded already included."""
    for number in numbers:
        center.outbound.suppress(number, f"internal ({reason})")


def screening_replaced(center: Center, register: str, now: float) -> None:
    """A register's fresh screening is stored: contacts loaded before it are loaded again."""
    center.outbound.screening_replaced(register, now)
