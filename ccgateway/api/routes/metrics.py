"""Prometheus exposition: the controller's registry (services/instruments.py) rendered by
prometheus_client, which escapes label values and writes the text format."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.exposition import choose_encoder

from ccgateway.api.deps import Reader
from ccgateway.api.intake import GuardedRoute
from ccgateway.domain.errors import NotFound
from ccgateway.services.instruments import Instruments

router = APIRouter(tags=["metrics"], route_class=GuardedRoute)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(request: Request, _: Reader) -> Response:
    """Scrape with `authorization: {credentials: <key>}` (bearer) in Prometheus.

    Rendered in the event loop's thread (not a worker thread): the live figures are read
    from the centre, which only that thread may read."""
    instruments: Instruments | None = getattr(request.app.state, "instruments", None)
    if instruments is None or instruments.registry is None:
        raise NotFound("this API was built without metrics")
    # The text format, or OpenMetrics for a scraper that asks for it (Accept)
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(instruments.registry), headers={"Content-Type": content_type})
