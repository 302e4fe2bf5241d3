"""Server mode watched by a real Prometheus: metrics move, alerts evaluate, logs are JSON and keep no secrets."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from confluent_kafka import Producer

from processors.relay import topic_for
from tests.integration.prometheus_server import PrometheusServer
from tests.integration.server_stack import wait_until
from tests.orders_given import OTTAWA, days_ago, order_body

DB_PASSWORD = "pw-" + uuid.uuid4().hex  # trust auth on loopback ignores it; a log that printed the URL would show it


def json_lines(text: str) -> list[dict]:
    """Every line a process wrote is a JSON object, but the URL `serve` prints for a person on stdout."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("orderledger serving on")]
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line[:300]}")
    return parsed


@pytest.fixture
def watched(server_stack, tmp_path):
    """API (with its relay) and a worker, at debug level, with a password in the database URL; Prometheus on both."""
    stack = server_stack
    stack.env["ORDERLEDGER_LOG_LEVEL"] = "debug"
    stack.env["ORDERLEDGER_DATABASE_URL"] = stack.database.app_url.replace(
        "orderledger_app@", f"orderledger_app:{DB_PASSWORD}@"
    )
    stack.start_api()
    stack.start_worker()
    prometheus = PrometheusServer(
        tmp_path / "prometheus",
        {
            "orderledger-api": [f"127.0.0.1:{stack.port}"],
            "orderledger-worker": [f"127.0.0.1:{stack.ops_ports['worker']}"],
        },
    )
    try:
        yield stack, prometheus
    finally:
        prometheus.stop()


def test_given_orders_flowing_through_kafka_then_prometheus_sees_appends_publishes_and_applies_move(watched, today):
    stack, prometheus = watched
    wait_until(
        lambda: prometheus.value('count(up{job=~"orderledger-.*"} == 1)') == 2, 60, "both targets to be up", every=0.5
    )
    correlation = str(uuid.uuid4())
    with httpx.Client(base_url=stack.url, headers=stack.broker_headers, timeout=10) as http:
        placed = http.post("/v1/orders", json=order_body(), headers={"X-Correlation-Id": correlation})
        assert placed.status_code == 201
        order_id = placed.json()["order_id"]
        for _ in range(4):
            assert http.post("/v1/orders", json=order_body()).status_code == 201
        refused = http.post(
            f"/v1/orders/{order_id}/deliveries",
            json={"delivered_on": days_ago(0, today), "location": OTTAWA, "quantities": {"LAT-5450": 1}},
        )
        assert refused.status_code == 422
        code = refused.json()["code"]
    producer = Producer({"bootstrap.servers": stack.bootstrap})
    producer.produce(topic_for(stack.prefix, "order"), key=b"poison", value=b"{not an event", partition=0)
    producer.flush(10)

    def seen(query: str, at_least: float) -> bool:
        found = prometheus.value(query)
        return found is not None and found >= at_least

    wait_until(lambda: seen('sum(orderledger_ledger_events_appended_total{job="orderledger-api"})', 5), 60, "appends")
    wait_until(lambda: seen("sum(orderledger_relay_events_published_total)", 5), 60, "the relay's publishes")
    wait_until(
        lambda: seen('sum(orderledger_processor_events_applied_total{job="orderledger-worker",runner="faust"})', 5),
        60,
        "the worker's applies",
    )
    wait_until(lambda: seen(f'orderledger_api_commands_rejected_total{{code="{code}"}}', 1), 60, "the refusal")
    wait_until(lambda: seen("orderledger_processor_dead_letters_parked_messages", 1), 60, "the parked poison message")
    wait_until(
        lambda: prometheus.value("max(orderledger_processor_lag_events)") == 0, 60, "the projections to catch up"
    )
    assert prometheus.value("orderledger_relay_backlog_events") == 0
    assert prometheus.value("orderledger_ledger_head_position") >= 5
    assert prometheus.value('sum(orderledger_processor_dead_letters_total{job="orderledger-worker"})') == 1
    assert prometheus.value('sum(orderledger_api_requests_total{route="/v1/orders",method="POST",status="201"})') == 5
    assert (
        prometheus.value(
            "histogram_quantile(0.99, sum by (le) (rate(orderledger_ledger_append_duration_seconds_bucket[1m])))"
        )
        is not None
    )
    lag_series = prometheus.api("series", **{"match[]": "orderledger_processor_lag_events"})
    assert {s["projection"] for s in lag_series} == {
        "order_status",
        "contract_capacity",
        "chargeback",
        "incidents",
        "reconciliation",
        "service_availability",
        "service_status",
    } and all("/" in s["partition"] for s in lag_series)

    # the alert rules load and evaluate against the real series: the dead letter makes its alert pending or firing
    def dead_letter_alert() -> bool:
        alerts = prometheus.api("alerts")["alerts"]
        return any(a["labels"]["alertname"] == "OrderledgerDeadLetters" for a in alerts)

    wait_until(dead_letter_alert, 30, "OrderledgerDeadLetters to be pending", every=0.5)
    groups = prometheus.api("rules")["groups"]
    assert all(rule["health"] == "ok" for group in groups for rule in group["rules"]), groups

    # the worker's own endpoints
    ops = f"http://127.0.0.1:{stack.ops_ports['worker']}"
    assert httpx.get(f"{ops}/healthz", timeout=5).json()["status"] == "ok"
    ready = httpx.get(f"{ops}/readyz", timeout=5)
    assert ready.status_code == 200, ready.text
    assert httpx.get(f"{stack.url}/readyz", timeout=5).json()["checks"]["kafka"] == {"ok": True}

    # the correlation id followed the order from the request to its events, the relay and the worker
    api_log, worker_log = json_lines(stack.log("api")), json_lines(stack.log("worker"))
    traced = [line for line in api_log if line.get("correlation_id") == correlation]
    assert any(
        line["logger"] == "orderledger.http" and line["message"].startswith("POST /v1/orders") for line in traced
    )
    assert any(line["logger"] == "orderledger.ledger" and "appended" in line["message"] for line in traced)
    assert any(line["logger"] == "orderledger.relay" and order_id in line["message"] for line in traced)
    assert any(
        line.get("correlation_id") == correlation
        and line["logger"] == "orderledger.worker"
        and order_id in line["message"]
        for line in worker_log
    )
    # and no secret reached any log
    key = stack.broker_headers["Authorization"].removeprefix("Bearer ")
    for name in ("api", "worker"):
        text = stack.log(name)
        assert key not in text and key[len("olk_") + 13 :] not in text, name  # olk_<12-hex id>_<secret>
        assert DB_PASSWORD not in text, name
