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


FORMATS: dict[str, object] = {"text/plain": {}, "application/openmetrics-text": {}}


@router.get("/metrics", response_class=Response, responses={200: {"content": FORMATS}})
async def metrics(request: Request, _: Reader) -> Response:
    """Prometheus exposition (README.md, "Metrics"): scrape with an admin or supervisor
    key as `authorization: {credentials: <key>}` (bearer); OpenMetrics when `Accept`
    asks for it."""
    # Rendered here, in the event loop's thread (an async route, no worker thread): the
    # live figures are read from the centre, which only this thread may read.
    instruments: Instruments | None = getattr(request.app.state, "instruments", None)
    if instruments is None or instruments.registry is None:
        raise NotFound("this API was built without metrics")
    # The text format, or OpenMetrics for a scraper that asks for it (Accept)
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(instruments.registry), headers={"Content-Type": content_type})
