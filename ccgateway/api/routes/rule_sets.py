"""Rule sets: the law a campaign dials under. The presets (uk, us, de) are read-only; a
custom one starts from a preset and may only be stricter."""

from __future__ import annotations

from fastapi import APIRouter, status

from ccgateway.api.deps import Configurer, Dialer, Reader
from ccgateway.api.dialer_schemas import RuleSetIn, RuleSetOut
from ccgateway.api.intake import GuardedRoute

router = APIRouter(prefix="/v1/rule-sets", tags=["dialer"], route_class=GuardedRoute)


@router.get("")
async def list_rule_sets(dialer: Dialer, _: Reader) -> list[RuleSetOut]:
    return [RuleSetOut.of(r) for r in dialer.rule_sets()]


@router.get("/{rule_set_id}")
async def get_rule_set(rule_set_id: str, dialer: Dialer, _: Reader) -> RuleSetOut:
    return RuleSetOut.of(dialer.rule_set(rule_set_id))


@router.put("/{rule_set_id}")
async def put_rule_set(
    rule_set_id: str, body: RuleSetIn, dialer: Dialer, _: Configurer
) -> RuleSetOut:
    """Create or replace a custom rule set: `base` (a preset) with `changes`, each of which
    may only make it stricter. The campaigns using it are checked against it first."""
    rules = await dialer.put_rule_set(rule_set_id, body.name, body.base, body.changes.to_domain())
    return RuleSetOut.of(rules)


@router.delete("/{rule_set_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule_set(rule_set_id: str, dialer: Dialer, _: Configurer) -> None:
    """A custom rule set no campaign uses."""
    await dialer.delete_rule_set(rule_set_id)
