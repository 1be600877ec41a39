from __future__ import annotations

from fastapi import APIRouter, status

from ccgateway.api.deps import Configurer, Reader, Service
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import SkillIn, SkillOut, SkillPatch

router = APIRouter(prefix="/v1/skills", tags=["skills"], route_class=GuardedRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_skill(body: SkillIn, service: Service, _: Configurer) -> SkillOut:
    return SkillOut.of(await service.create_skill(body.to_domain()))


@router.get("")
async def list_skills(service: Service, _: Reader) -> list[SkillOut]:
    return [SkillOut.of(s) for s in service.skills()]


@router.get("/{skill_id}")
async def get_skill(skill_id: str, service: Service, _: Reader) -> SkillOut:
    return SkillOut.of(service.skill(skill_id))


@router.patch("/{skill_id}")
async def update_skill(
    skill_id: str, body: SkillPatch, service: Service, _: Configurer
) -> SkillOut:
    """Change the given fields; the result is checked as a whole."""
    return SkillOut.of(await service.change_skill(skill_id, body.changes()))


@router.delete("/{skill_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_skill(skill_id: str, service: Service, _: Configurer) -> None:
    await service.delete_skill(skill_id)
