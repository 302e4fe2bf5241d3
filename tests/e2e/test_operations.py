"""What an operator sees over HTTP: /metrics moving with the business, /healthz, /readyz, correlation ids."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from processors.settings import Settings
from processors.verification import verify_and_record
from processors.wiring import build
from tests.orders_given import order_body


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics as (name, sorted labels) → value."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def place(client: TestClient, broker: dict[str, str], **changes) -> str:
    response = client.post("/v1/orders", json=order_body(**changes), headers=broker)
    assert response.status_code == 201, response.text
    return response.json()["order_id"]


def test_given_orders_placed_and_one_refused_when_scraped_then_counters_and_state_moved(
    client, broker, ledger_app, today: date
):
    before = scrape(client)
    order_id = place(client, broker)
    place(client, broker)
    refused = client.post(
        f"/v1/orders/{order_id}/deliveries",
        json={
            "delivered_on": today.isoformat(),
            "location": {"province": "ON", "address": "x"},
            "quantities": {},
        },
        headers=broker,
    )
    assert refused.status_code == 422
    code = refused.json()["code"]
    assert client.get(f"/v1/orders/{order_id}", headers=broker).status_code == 200

    after = scrape(client)
    placed = "orderledger_ledger_events_appended_total"
    assert value(after, placed, type="OrderPlaced") - value(before, placed, type="OrderPlaced") == 2
    assert value(after, "orderledger_ledger_append_duration_seconds_count") >= 2
    assert value(after, "orderledger_api_commands_rejected_total", code=code) == 1 + value(
        before, "orderledger_api_commands_rejected_total", code=code
    )
    requests = "orderledger_api_requests_total"
    assert (
        value(after, requests, route="/v1/orders", method="POST", status="201")
        - value(before, requests, route="/v1/orders", method="POST", status="201")
        == 2
    )
    # the route template, not the order's id: one series however many orders are read
    assert value(after, requests, route="/v1/orders/{order_id}", method="GET", status="200") >= 1
    assert not any(order_id in dict(labels).get("route", "") for _, labels in after)
    assert value(after, "orderledger_ledger_head_position") == ledger_app.ledger.head()
    assert value(after, "orderledger_build_info", version="0.1.0", mode="embedded") == 1
    assert ("orderledger_order_status_late_orders", ()) in after
    assert ("orderledger_contract_capacity_near_ceiling_contracts", ()) in after
    assert ("orderledger_service_availability_below_target_services", ()) in after


def test_given_the_runner_caught_up_then_lag_is_zero_for_every_projection_and_applied_events_counted(
    client, broker, ledger_app
):
    place(client, broker)
    assert ledger_app.runner is not None
    ledger_app.runner.catch_up()
    samples = scrape(client)
    lags = {
        dict(labels)["projection"]: v
        for (name, labels), v in samples.items()
        if name == "orderledger_processor_lag_events"
    }
    assert len(lags) == 7 and set(lags.values()) == {0.0}
    assert {dict(labels)["partition"] for (name, labels) in samples if name == "orderledger_processor_lag_events"} == {
        "ledger"
    }
    assert value(samples, "orderledger_processor_events_applied_total", runner="embedded") >= 1


def test_given_no_verification_yet_then_no_verify_gauge_and_after_one_it_is_ok_and_fresh(client, ledger_app):
    assert ("orderledger_ledger_verify_ok", ()) not in scrape(client)
    verify_and_record(ledger_app.ledger, ledger_app.verifications, ledger_app.clock)
    samples = scrape(client)
    assert value(samples, "orderledger_ledger_verify_ok") == 1
    assert 0 <= value(samples, "orderledger_ledger_verify_age_seconds") < 60


def test_health_is_alive_only_and_ready_names_the_ledger_head(client, ledger_app):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready" and body["problems"] == []
    assert body["checks"]["ledger"] == {"ok": True, "head_position": ledger_app.ledger.head()}


def test_given_projections_behind_the_threshold_then_not_ready_with_what_is_wrong(tmp_path, clock):
    app = build(Settings(data_dir=tmp_path / "lagging", ready_max_lag_events=1), clock=clock)
    try:
        # the runner is not started: the read models stay where they are while orders are placed
        with TestClient(create_app(app, start_runner=False), raise_server_exceptions=False) as client:
            broker = {"Authorization": f"Bearer {app.keys.create('broker', 'test')}"}
            place(client, broker)
            place(client, broker)
            ready = client.get("/readyz")
            assert ready.status_code == 503
            body = ready.json()
            assert body["status"] == "not_ready"
            assert body["checks"]["projections"]["ok"] is False
            assert body["checks"]["projections"]["lag_events"]["order_status"] == app.ledger.head()
            assert "projections behind by more than 1 events" in body["problems"][0]
            assert "order_status" in body["problems"][0]
    finally:
        app.close()


def test_given_the_ledger_unreachable_then_ready_says_so_and_health_stays_alive(tmp_path, clock):
    app = build(Settings(data_dir=tmp_path / "gone"), clock=clock)
    try:
        with TestClient(create_app(app, start_runner=False), raise_server_exceptions=False) as client:

            def unreachable() -> int:
                raise OSError("disk unavailable")

            app.ledger.inner.head = unreachable  # type: ignore[attr-defined]
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["ledger"] == {"ok": False, "error": "OSError: disk unavailable"}
            assert "the ledger cannot be read" in ready.json()["problems"][0]
            assert client.get("/healthz").status_code == 200
    finally:
        app.close()


def test_given_a_correlation_id_when_an_order_is_placed_then_its_events_carry_it_and_it_is_answered(
    client, broker, ledger_app
):
    correlation = str(uuid.uuid4())
    response = client.post("/v1/orders", json=order_body(), headers={**broker, "X-Correlation-Id": correlation})
    assert response.headers["x-correlation-id"] == correlation
    events = ledger_app.ledger.read_stream(response.json()["order_id"])
    assert {str(e.correlation_id) for e in events} == {correlation}


def test_given_no_correlation_id_then_the_answered_one_is_the_one_the_events_carry(client, broker, ledger_app):
    response = client.post("/v1/orders", json=order_body(), headers=broker)
    answered = response.headers["x-correlation-id"]
    assert uuid.UUID(answered)
    events = ledger_app.ledger.read_stream(response.json()["order_id"])
    assert {str(e.correlation_id) for e in events} == {answered}


@pytest.mark.date_sensitive
def test_given_the_demo_data_then_the_domain_gauges_agree_with_what_the_api_lists(
    client, broker, ledger_app, today: date
):
    from api.demo import load_demo

    load_demo(ledger_app.desk, today)
    assert ledger_app.runner is not None
    ledger_app.runner.catch_up()
    samples = scrape(client)
    late = client.get("/v1/orders?late=late&limit=1", headers=broker).json()["count"]
    assert late > 0 and value(samples, "orderledger_order_status_late_orders") == late
    contracts = client.get("/v1/contracts?min_used_pct=90&limit=500", headers=broker).json()["contracts"]
    near = sum(1 for c in contracts if c["status"] == "active")
    assert value(samples, "orderledger_contract_capacity_near_ceiling_contracts") == near
    services = client.get("/v1/services", headers=broker).json()["services"]
    percents = {
        dict(labels)["service"]: v
        for (name, labels), v in samples.items()
        if name == "orderledger_service_availability_month_percent"
    }
    assert set(percents) == {s["service_id"] for s in services}


def test_given_a_failing_webhook_receiver_then_its_queue_shows_and_no_key_or_secret_reaches_the_log(tmp_path, clock):
    import io
    import logging

    from processors.structured_logs import JsonFormatter
    from tests.webhook_receiver import Receiver

    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    receiver = Receiver()
    receiver.script = [(500, {})] * 20  # the integrator's endpoint is failing
    app = build(
        Settings(data_dir=tmp_path / "hooked", webhook_allowed_hosts="127.0.0.1", run_webhooks=False), clock=clock
    )
    try:
        with TestClient(create_app(app), raise_server_exceptions=False) as client:
            key = app.keys.create("broker", "ops")
            broker = {"Authorization": f"Bearer {key}"}
            subscribed = client.post(
                "/v1/subscriptions",
                json={"url": receiver.url, "event_types": ["ca.orderledger.order.*"]},
                headers=broker,
            )
            assert subscribed.status_code == 201, subscribed.text
            secret, subscription = subscribed.json()["secret"], subscribed.json()["subscription_id"]
            place(client, broker)
            bad_key = key[:-4] + "AAAA"
            assert client.get("/v1/orders", headers={"Authorization": f"Bearer {bad_key}"}).status_code == 401
            before = value(scrape(client), "orderledger_webhook_deliveries_total", outcome="retrying")
            app.dispatcher.tick()
            app.dispatcher.run_until_idle(timeout=30)
            samples = scrape(client)
            assert value(samples, "orderledger_webhook_deliveries_total", outcome="retrying") == before + 1
            assert value(samples, "orderledger_webhook_backlog_deliveries", subscription=subscription) == 1
            assert value(samples, "orderledger_webhook_retrying_deliveries", subscription=subscription) == 1
            assert value(samples, "orderledger_webhook_dead_deliveries", subscription=subscription) == 0
            logging.getLogger("orderledger.test").info("caller sent %s with %s", f"Bearer {key}", secret)
    finally:
        app.close()
        receiver.close()
        root.removeHandler(handler)
        root.setLevel(level)
    text = captured.getvalue()
    assert "POST /v1/subscriptions 201" in text and "appended" in text  # the log did capture the scenario
    secret_part = key[len("olk_") + 13 :]
    for leaked in (key, secret_part, bad_key, bad_key[len("olk_") + 13 :], secret, secret.removeprefix("whsec_")):
        assert leaked not in text
