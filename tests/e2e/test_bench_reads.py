"""Smoke test of the fixed-rate status-lookup benchmark (wrk + bench/status_lookup.lua) on a live server.

No latency thresholds: it checks that the run happens, holds roughly its rate and counts errors.
"""

from __future__ import annotations

import os

import httpx
import pytest

from bench.reads import DEBIAN_WRK, status_lookup
from tests.orders_given import order_body

pytestmark = pytest.mark.skipif(
    not os.access(DEBIAN_WRK, os.X_OK), reason="needs wrk: install Debian's `wrk` package (apt-get install wrk)"
)


def api_key(server) -> str:
    return server.broker["Authorization"].removeprefix("Bearer ")


def test_given_placed_orders_when_their_status_is_looked_up_at_a_fixed_rate_then_wrk_reports_it(live_server):
    # Given
    order_ids = []
    for _ in range(5):
        placed = httpx.post(f"{live_server.url}/v1/orders", json=order_body(), headers=live_server.broker, timeout=30)
        assert placed.status_code == 201, placed.text
        order_ids.append(placed.json()["order_id"])
    # When
    figure = status_lookup(
        live_server.url, api_key(live_server), order_ids, rate=200, seconds=2, connections=4, threads=1
    )
    # Then
    print(figure.summary())
    assert figure.requests > 100
    assert figure.errors == 0
    assert 0 < figure.p50_ms <= figure.p99_ms <= figure.max_ms


def test_given_unknown_order_ids_when_looked_up_then_the_404s_count_as_errors(live_server):
    figure = status_lookup(
        live_server.url,
        api_key(live_server),
        ["ORD-1999-999998", "ORD-1999-999999"],
        rate=100,
        seconds=1,
        connections=2,
        threads=1,
        warmup_seconds=0,
    )
    assert figure.requests > 0
    assert figure.errors_status == figure.errors > 0
