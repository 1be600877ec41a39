"""What the pages offer to pick from: transfer targets (queues, agents), the centre's pause
codes, each campaign's dispositions and script. For every signed-in principal but a
wallboard (an agent may not read the configuration itself, yet needs these)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ccgateway.api.auth import Role
from ccgateway.api.deps import Caller
from ccgateway.api.dialer_schemas import DispositionIn, ScriptIn
from ccgateway.api.errors import Forbidden
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.routes.history import History
from ccgateway.services.history_service import DirectoryView

router = APIRouter(prefix="/v1", tags=["history"], route_class=GuardedRoute)


class QueueEntry(BaseModel):
    id: str
    name: str
    extension: str
    wrapup_s: float


class AgentEntry(BaseModel):
    id: str
    name: str


class DirectoryOut(BaseModel):
    queues: list[QueueEntry]
    agents: list[AgentEntry]
    pause_codes: list[str]
    dispositions: dict[str, list[DispositionIn]]  # campaign id -> its dispositions
    scripts: dict[str, ScriptIn]  # campaign id -> its script and questions

    @classmethod
    def of(cls, d: DirectoryView) -> DirectoryOut:
        return cls(
            queues=[
                QueueEntry(id=q.id, name=q.name, extension=q.extension, wrapup_s=q.wrapup_s)
                for q in d.queues
            ],
            agents=[AgentEntry(id=a.id, name=a.name) for a in d.agents],
            pause_codes=list(d.pause_codes),
            dispositions={c.id: [DispositionIn.of(x) for x in c.dispositions] for c in d.campaigns},
            scripts={c.id: ScriptIn.of(c.script) for c in d.campaigns},
        )


@router.get("/directory")
async def directory(history: History, caller: Caller) -> DirectoryOut:
    """Queues (id, name, extension, wrap-up), agents (id, name), the pause codes, and each
    campaign's dispositions and script: transfer targets, pause menus, the disposition form."""
    if caller.role is Role.WALLBOARD:
        raise Forbidden("the wallboard role may not read the directory")
    return DirectoryOut.of(history.directory())
