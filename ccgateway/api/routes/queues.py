from __future__ import annotations

from fastapi import APIRouter, status

from ccgateway.api.deps import Configurer, FloorViewer, Reader, Service
from ccgateway.api.intake import GuardedRoute
from ccgateway.api.schemas import (
    QueueFiguresOut,
    QueueIn,
    QueueOut,
    QueuePatch,
    QueueStatusOut,
)

router = APIRouter(prefix="/v1/queues", tags=["queues"], route_class=GuardedRoute)


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_queue(body: QueueIn, service: Service, _: Configurer) -> QueueOut:
    return QueueOut.of(await service.create_queue(body.to_domain()))


@router.get("")
async def list_queues(service: Service, _: FloorViewer) -> list[QueueOut]:
    return [QueueOut.of(q) for q in service.queues()]


@router.get("/{queue_id}")
async def get_queue(queue_id: str, service: Service, _: Reader) -> QueueOut:
    return QueueOut.of(service.queue(queue_id))


@router.get("/{queue_id}/status")
async def queue_status(queue_id: str, service: Service, _: FloorViewer) -> QueueStatusOut:
    """Live: callers waiting, the longest wait, and the queue's agents."""
    return QueueStatusOut.of(service.queue_status(queue_id))


@router.get("/{queue_id}/figures")
async def queue_figures(queue_id: str, service: Service, _: FloorViewer) -> QueueFiguresOut:
    """Today's (UTC) figures. offered excludes short abandons (hung up within 5 s);
    service_level = answered within 20 s / offered (abandons count against it); asa_s = mean
    wait of answered calls; aht_s = mean talk time; abandonment_rate = abandoned / offered.
    redirected and cut_off (callers taken out of the centre's hands while they waited) are
    counted apart, in no rate."""
    return QueueFiguresOut.of(service.figures(queue_id))


@router.patch("/{queue_id}")
async def update_queue(
    queue_id: str, body: QueuePatch, service: Service, _: Configurer
) -> QueueOut:
    """Change the given fields; the result is checked as a whole."""
    return QueueOut.of(await service.change_queue(queue_id, body.changes()))


@router.delete("/{queue_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_queue(queue_id: str, service: Service, _: Configurer) -> None:
    await service.delete_queue(queue_id)
