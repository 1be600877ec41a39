"""GET /metrics from the installed `ccgateway serve` over a real socket, as Prometheus
scrapes it: with the bearer key, in the text format or OpenMetrics."""

from __future__ import annotations

import httpx
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from tests.installed.conftest import ServedController


def test_the_served_controller_is_scraped_with_its_key(served: ServedController) -> None:
    url = f"{served.base_url}/metrics"
    refused = httpx.get(url)
    text = httpx.get(url, headers=served.auth)
    open_metrics = httpx.get(
        url, headers={**served.auth, "Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert refused.status_code == 401
    assert text.status_code == 200, text.text
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(text.text)}
    # no PBX listens here: the link is down, and says so
    [up] = families["ccgw_pbx_up"].samples
    assert (up.labels, up.value) == ({"pbx": "asterisk"}, 0.0)
    assert families["process_resident_memory_bytes"].samples[0].value > 0
    assert families["ccgw_routing_decision_seconds"].type == "histogram"
    assert {"ccgw_pbx_round_trip_seconds", "ccgw_webhook_delivery_delay_seconds"} <= set(families)
    # the same figures in OpenMetrics, which its own (strict) parser accepts
    assert open_metrics.headers["content-type"].startswith("application/openmetrics-text")
    strict = {f.name for f in openmetrics_families(open_metrics.text)}
    assert {"ccgw_pbx_up", "ccgw_writer_queue_depth", "process_cpu_seconds"} <= strict
