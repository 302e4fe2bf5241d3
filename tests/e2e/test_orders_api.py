"""The order API over HTTP: the life cycle, idempotency, access control and bad input."""

from __future__ import annotations

import pytest

from tests.orders_given import GATINEAU, OTTAWA, days_ago, order_body

PROBLEM = "application/problem+json"


def place(client, headers, **changes):
    response = client.post("/v1/orders", json=order_body(**changes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["order_id"]


def test_given_an_order_when_placed_awarded_and_partly_delivered_then_its_status_shows_it(client, broker, today):
    # When
    created = client.post("/v1/orders", json=order_body(), headers=broker)
    order_id = created.json()["order_id"]
    client.post(
        f"/v1/orders/{order_id}/award",
        json={"contract_number": "CU-2611-0001", "awarded_on": days_ago(0, today)},
        headers=broker,
    )
    client.post(
        f"/v1/orders/{order_id}/deliveries",
        json={"delivered_on": days_ago(0, today), "location": OTTAWA, "quantities": {"LAT-5450": 2}},
        headers=broker,
    )
    order = client.get(f"/v1/orders/{order_id}", headers=broker).json()
    # Then
    assert created.status_code == 201
    assert created.headers["Location"] == f"/v1/orders/{order_id}"
    assert order_id.startswith("ORD-")
    assert order["status"] == "partially_delivered"
    assert [e["type"] for e in order["timeline"]] == ["OrderPlaced", "CallUpAwarded", "DeliveryRecorded"]
    assert all(e["occurred_at"] and e["recorded_at"] for e in order["timeline"])
    assert order["locations"][0]["delivered"] == {"LAT-5450": 2}
    assert order["locations"][0]["complete"] is False
    assert order["lateness"] == "on_time"
    assert order["expected_delivery_date"] == order["agreed_delivery_date"]
    assert order["totals"] == {"net": "6072.00", "ehf": "6.50", "tax": "546.81", "total": "6625.31", "rebates": "0.00"}


def test_given_a_retry_with_the_same_idempotency_key_and_body_then_the_first_result_and_no_new_event(
    client, broker, ledger_app
):
    headers = {**broker, "Idempotency-Key": "order-42"}
    first = client.post("/v1/orders", json=order_body(), headers=headers)
    head = ledger_app.ledger.head()
    again = client.post("/v1/orders", json=order_body(), headers=headers)
    assert again.status_code == first.status_code == 201
    assert again.json()["order_id"] == first.json()["order_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert ledger_app.ledger.head() == head


def test_given_a_used_idempotency_key_with_another_body_then_422_and_nothing_appended(client, broker, ledger_app):
    headers = {**broker, "Idempotency-Key": "order-43"}
    client.post("/v1/orders", json=order_body(), headers=headers)
    head = ledger_app.ledger.head()
    other = client.post("/v1/orders", json=order_body(requester="Someone Else"), headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert ledger_app.ledger.head() == head


def test_given_idempotency_keys_of_two_callers_then_they_do_not_collide(client, broker, key_for):
    other_broker = key_for("broker")
    first = client.post("/v1/orders", json=order_body(), headers={**broker, "Idempotency-Key": "same"})
    second = client.post("/v1/orders", json=order_body(), headers={**other_broker, "Idempotency-Key": "same"})
    assert first.json()["order_id"] != second.json()["order_id"]


def test_given_a_stale_if_match_version_then_409(client, broker, today):
    order_id = place(client, broker)
    award = {"contract_number": "CU-1", "awarded_on": days_ago(0, today)}
    response = client.post(f"/v1/orders/{order_id}/award", json=award, headers={**broker, "If-Match": '"0"'})
    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict"
    assert (
        client.post(f"/v1/orders/{order_id}/award", json=award, headers={**broker, "If-Match": '"1"'}).status_code
        == 200
    )


# ---------------------------------------------------------------- access control


def test_given_a_client_key_when_reading_another_organisations_order_then_404(client, broker, key_for, today):
    order_id = place(client, broker)  # an ESDC order
    cra = key_for("client:CRA")
    esdc = key_for("client:ESDC")
    response = client.get(f"/v1/orders/{order_id}", headers=cra)
    assert response.status_code == 404 and response.json()["code"] == "order_not_found"
    assert client.get(f"/v1/orders/{order_id}", headers=esdc).status_code == 200
    assert (
        client.post(
            f"/v1/orders/{order_id}/cancellation",
            json={"reason": "client_request", "cancelled_on": days_ago(0, today)},
            headers=cra,
        ).status_code
        == 404
    )


def test_given_a_client_key_then_it_orders_and_lists_only_for_its_organisation(client, broker, key_for):
    place(client, broker)
    place(client, broker, client_org="CRA")
    cra = key_for("client:CRA")
    assert client.post("/v1/orders", json=order_body(), headers=cra).json()["code"] == "forbidden_organisation"
    listed = client.get("/v1/orders", headers=cra).json()
    assert {o["client_org"] for o in listed["orders"]} == {"CRA"}
    assert client.get("/v1/orders?client_org=ESDC", headers=cra).status_code == 403


def test_given_keys_without_the_right_role_then_401_or_403(client, broker, key_for):
    order_id = place(client, broker)
    assert client.get(f"/v1/orders/{order_id}").json()["code"] == "unauthenticated"
    bad = client.get(f"/v1/orders/{order_id}", headers={"Authorization": "Bearer olk_nope_nope"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_api_key"
    integrator = key_for("integrator")  # granted no organisation: sees no order
    assert client.get(f"/v1/orders/{order_id}", headers=integrator).status_code == 404
    refused = client.post("/v1/orders", json=order_body(), headers=integrator)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_role"
    esdc = key_for("client:ESDC")
    refused = client.post(f"/v1/orders/{order_id}/rebates", json={"amount": "1.00", "reason": "x"}, headers=esdc)
    assert refused.status_code == 403


def test_given_a_revoked_key_then_it_no_longer_opens_anything(client, ledger_app):
    secret = ledger_app.keys.create("broker")
    key_id = secret.split("_")[1]
    assert ledger_app.keys.revoke(key_id)
    assert client.get("/v1/orders", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_given_keys_then_only_their_hash_is_stored(ledger_app):
    secret = ledger_app.keys.create("broker")
    raw = ledger_app.ledger.path.read_bytes()
    assert secret.split("_", 2)[2].encode() not in raw


# ---------------------------------------------------------------- filters


def test_given_orders_when_listed_by_status_and_lateness_then_only_matching_ones(client, broker):
    late_id = place(client, broker, placed_at="2026-01-05T10:00:00-05:00")
    client.post(
        f"/v1/orders/{late_id}/award", json={"contract_number": "CU-9", "awarded_on": "2026-01-06"}, headers=broker
    )
    fresh_id = place(client, broker)
    late = client.get("/v1/orders?late=true", headers=broker).json()
    assert [o["order_id"] for o in late["orders"]] == [late_id]
    assert late["orders"][0]["lateness"] == "late"
    placed = client.get("/v1/orders?status=placed", headers=broker).json()
    assert [o["order_id"] for o in placed["orders"]] == [fresh_id]
    assert client.get("/v1/orders?late=false", headers=broker).json()["count"] == 1


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"[]", 422, "invalid_request"),
        (order_body(section32_amount="-5.00"), 422, "invalid_request"),
        (order_body(section32_amount=7000.5), 422, "invalid_request"),
        (order_body(section32_amount="seven"), 422, "invalid_request"),
        (order_body(section32_amount="1e5"), 422, "invalid_request"),
        (order_body(delivery_locations=[{**OTTAWA, "province": "ZZ"}]), 422, "invalid_request"),
        (order_body(colour="blue"), 422, "invalid_request"),
        (order_body(lines="many"), 422, "invalid_request"),
        (order_body(processing="self"), 422, "invalid_request"),
        (order_body(lines=[]), 422, "no_lines"),
        (order_body(delivery_locations=[GATINEAU, OTTAWA]), 422, "location_quantities_mismatch"),
    ],
)
def test_given_bad_input_then_a_clear_4xx_problem_and_nothing_appended(client, broker, ledger_app, body, status, code):
    if isinstance(body, bytes):
        response = client.post("/v1/orders", content=body, headers={**broker, "Content-Type": "application/json"})
    else:
        response = client.post("/v1/orders", json=body, headers=broker)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["code"] == code and problem["status"] == status and problem["detail"]
    assert ledger_app.ledger.head() == 0


def test_given_a_body_over_1_mib_then_413_and_nothing_appended(client, broker, ledger_app):
    response = client.post(
        "/v1/orders", content=b" " * (1024 * 1024 + 1), headers={**broker, "Content-Type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["code"] == "body_too_large"
    assert ledger_app.ledger.head() == 0


def test_given_an_unknown_order_then_404_problem(client, broker):
    for method, path, body in (
        ("GET", "/v1/orders/ORD-2026-999999", None),
        ("POST", "/v1/orders/ORD-2026-999999/close", {"closed_on": "2026-11-01"}),
        ("POST", "/v1/orders/%00%ff/award", {"contract_number": "x", "awarded_on": "2026-11-01"}),
    ):
        response = client.request(method, path, json=body, headers=broker)
        assert response.status_code == 404, path
        assert response.json()["code"] == "order_not_found"


def test_given_a_business_rule_refusal_then_422_with_its_code_and_a_sentence(client, broker, today):
    order_id = place(client, broker)
    response = client.post(
        f"/v1/orders/{order_id}/deliveries",
        json={"delivered_on": days_ago(0, today), "location": OTTAWA, "quantities": {"LAT-5450": 1}},
        headers=broker,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "not_awarded"
    assert "not awarded" in response.json()["detail"]


def test_health_and_openapi_are_served(client):
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/v1/orders" in spec["paths"] and "/v1/orders/{order_id}/deliveries" in spec["paths"]


@pytest.mark.date_sensitive
def test_given_the_demo_data_when_listed_by_lateness_then_each_filter_agrees_with_each_orders_flag(
    client, broker, ledger_app, today
):
    from api.demo import load_demo

    load_demo(ledger_app.desk, today)
    ledger_app.runner.catch_up()
    everything = client.get("/v1/orders?limit=500", headers=broker).json()["orders"]
    assert len(everything) == 52
    for flag in ("on_time", "at_risk", "late"):
        listed = client.get(f"/v1/orders?late={flag}&limit=500", headers=broker).json()
        expected = sorted(o["order_id"] for o in everything if o["lateness"] == flag)
        assert sorted(o["order_id"] for o in listed["orders"]) == expected, flag
        assert listed["count"] == len(expected) > 0
    not_late = client.get("/v1/orders?late=false&limit=500", headers=broker).json()
    assert not_late["count"] == sum(1 for o in everything if o["lateness"] != "late")
    page = client.get("/v1/orders?limit=20&offset=42", headers=broker).json()
    assert len(page["orders"]) == 10 and page["next_offset"] is None and page["count"] == 52
