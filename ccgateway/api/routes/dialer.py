"""The agent's side of the dialer (answering a preview, disposing of a call) and the
do-not-call lists: the internal one (objections) and the registers' screenings."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from ccgateway.api.deps import Caller, CallManager, Configurer, Dialer, Reader
from ccgateway.api.dialer_record_schemas import (
    DisposeIn,
    DispositionRecordOut,
    PreviewAnswerIn,
    RegisterOut,
    RegisterReplacedOut,
    SuppressedOut,
    SuppressIn,
)
from ccgateway.api.errors import Forbidden
from ccgateway.api.intake import MB, GuardedRoute
from ccgateway.api.times import utc_or_none
from ccgateway.api.uploads import TEXT_TYPES, body_of, read_text

router = APIRouter(prefix="/v1", tags=["dialer"], route_class=GuardedRoute)

# 50 million numbers (the most the service takes), each up to 16 characters and a newline
MAX_REGISTER_BYTES = 850 * MB


@router.post("/agents/{agent_id}/preview", status_code=status.HTTP_204_NO_CONTENT)
async def answer_preview(
    agent_id: str, body: PreviewAnswerIn, dialer: Dialer, caller: Caller
) -> None:
    """The agent dials the contact offered in a `dial.preview` event (the agent's phone
    rings first, then the customer's), or skips it (tried again later)."""
    caller.require_agent(agent_id, change_state=True)
    await dialer.preview_answer(agent_id, body.dial_id, body.action == "dial")


@router.post("/dials/{dial_id}/disposition", status_code=status.HTTP_201_CREATED)
async def dispose(
    dial_id: str, body: DisposeIn, dialer: Dialer, caller: Caller
) -> DispositionRecordOut:
    """After the conversation: the agent who took the call records its outcome (one of the
    campaign's dispositions) and the script's answers; the disposition decides the
    contact's next step (done, retried, called back, on the do-not-call list)."""
    agent_id = body.agent_id or caller.agent_id
    if agent_id is None:
        raise Forbidden("give agent_id: this key belongs to no agent")
    caller.require_agent(agent_id, change_state=True)
    record = await dialer.dispose(
        dial_id,
        agent_id,
        body.code,
        body.answers,
        body.note,
        body.callback_epoch(),
        body.callback_agent_id,
    )
    return DispositionRecordOut.of(record)


@router.post("/dnc")
async def suppress_numbers(body: SuppressIn, dialer: Dialer, _: CallManager) -> SuppressedOut:
    """Numbers on the internal do-not-call list (an objection): no campaign dials them,
    from now on, even those already loaded."""
    return SuppressedOut(added=await dialer.suppress(body.numbers, body.reason))


@router.put(
    "/dnc/registers/{register}",
    openapi_extra=body_of("text/plain", "one E.164 number per line (blank lines ignored)"),
)
async def replace_register(
    register: str, request: Request, dialer: Dialer, _: Configurer
) -> RegisterReplacedOut:
    """A fresh screening of a register (tps, national): its numbers replaced whole, and
    now recorded as when it was screened (a rule set asks for one within so many days)."""
    text = await read_text(request, MAX_REGISTER_BYTES, TEXT_TYPES, "text/plain")
    numbers = [line.strip() for line in text.splitlines() if line.strip()]
    return RegisterReplacedOut(
        name=register, numbers=await dialer.replace_register(register, numbers)
    )


@router.get("/dnc/registers")
async def list_registers(dialer: Dialer, _: Reader) -> list[RegisterOut]:
    """Each register and when it was last screened."""
    screened = await dialer.registers()
    return [RegisterOut(name=r, screened_at=utc_or_none(at)) for r, at in sorted(screened.items())]
