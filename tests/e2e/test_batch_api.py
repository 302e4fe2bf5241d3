"""POST /v1/batch: many commands, decided in turn, appended in one transaction, one result per command."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from processors.settings import Settings
from processors.wiring import build
from projections.order_status import ORDER_STATUS
from tests.conftest import TODAY as DEFAULT_TODAY
from tests.orders_given import OTTAWA, order_body

TODAY = DEFAULT_TODAY.isoformat()  # the ledger clock's day in these tests: none is date-sensitive
AWARD = {"contract_number": "CU-7", "awarded_on": TODAY}
CONTRACT = {
    "contract_id": "CT-CLOUD-1",
    "kind": "supply_arrangement",
    "supplier": "Northern Micro Inc.",
    "ceiling": "1000.00",
    "start_date": "2026-01-01",
    "end_date": "2028-12-31",
}


def usage(n: int, amount: str = "100.00") -> dict:
    return {
        "path": "/v1/contracts/CT-CLOUD-1/consumption",
        "body": {
            "consumption_id": f"use-{n}",
            "client_org": "ESDC",
            "amount": amount,
            "quantity": 1,
            "period": TODAY[:7],
            "source": "cloud_usage_report",
            "reference": f"report line {n}",
            "recorded_on": TODAY,
        },
    }


def batch(client, headers, commands, **options):
    return client.post("/v1/batch", json={"commands": commands, **options}, headers=headers)


def test_given_placements_and_their_next_steps_in_one_batch_then_each_is_decided_on_the_state_before_it(
    client, broker, ledger_app
):
    commands = [
        {"path": "/v1/orders", "body": order_body()},
        {"path": "/v1/orders", "body": order_body(client_org="CRA")},
        {"path": "/v1/orders/ORD-2026-000001/award", "body": AWARD},
        {
            "path": "/v1/orders/ORD-2026-000001/deliveries",
            "body": {"delivered_on": TODAY, "location": OTTAWA, "quantities": {"LAT-5450": 2}},
        },
        {"path": "/v1/orders/ORD-2026-000002/deliveries", "body": {"delivered_on": TODAY, "location": OTTAWA}},
    ]
    answer = batch(client, broker, commands)
    body = answer.json()
    assert answer.status_code == 200
    assert (body["accepted"], body["rejected"]) == (4, 1)
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in results] == [201, 201, 200, 200, 422]
    assert [r.get("stream_id") for r in results[:4]] == ["ORD-2026-000001", "ORD-2026-000002"] + ["ORD-2026-000001"] * 2
    assert [r["stream_version"] for r in results[:4]] == [1, 1, 2, 3]
    assert [r["position"] for r in results[:4]] == [1, 2, 3, 4]  # the ledger holds them in command order
    assert results[3]["events"] == ["DeliveryRecorded"]
    assert results[4]["code"] == "invalid_request" and "quantities" in results[4]["message"]
    assert (body["first_position"], body["last_position"]) == (1, 4)
    assert ledger_app.ledger.head() == 4 and ledger_app.ledger.verify().ok
    assert ledger_app.wait_for(ORDER_STATUS, "ORD-2026-000001", 4, timeout=5)  # the read model follows
    order = client.get("/v1/orders/ORD-2026-000001", headers=broker).json()
    assert order["status"] == "partially_delivered"


def test_given_a_refused_command_then_the_others_still_go_and_the_stream_carries_on_from_the_accepted_ones(
    client, broker, ledger_app
):
    commands = [
        {"path": "/v1/contracts", "body": CONTRACT},
        usage(1, "600.00"),
        usage(2, "600.00"),  # would overdraw the 1,000.00 ceiling after line 1
        usage(3, "400.00"),  # fits exactly after line 1
        {"path": "/v1/orders/ORD-2026-000404/award", "body": AWARD},
        {"path": "/v1/invoices", "body": {}},
    ]
    body = batch(client, broker, commands).json()
    statuses = [(r["status"], r.get("code")) for r in body["results"]]
    assert statuses[0] == (201, None) and statuses[1] == (200, None) and statuses[3] == (200, None)
    assert statuses[2][0] == 422 and statuses[2][1]
    assert statuses[4] == (404, "order_not_found")
    assert statuses[5] == (404, "unknown_command")
    # line 3 reaches the ceiling: its consumption and the 80/90/100 % thresholds take versions 3 to 6
    assert [r["stream_version"] for r in body["results"] if r["status"] < 300] == [1, 2, 6]
    stream = ledger_app.ledger.read_stream("contract-CT-CLOUD-1")
    assert [e.data["consumption_id"] for e in stream if e.type == "ConsumptionRecorded"] == ["use-1", "use-3"]


def test_given_all_or_nothing_when_one_command_is_refused_then_nothing_is_appended(client, broker, ledger_app):
    commands = [{"path": "/v1/contracts", "body": CONTRACT}, usage(1, "600.00"), usage(2, "600.00")]
    answer = batch(client, broker, commands, all_or_nothing=True)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["code"] == "batch_refused" and "1 of 3" in problem["detail"]
    assert [r["index"] for r in problem["results"]] == [2]
    assert ledger_app.ledger.head() == 0
    fitting = batch(client, broker, commands[:2], all_or_nothing=True)
    assert fitting.status_code == 200 and fitting.json()["accepted"] == 2


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"commands": []}, 422, "invalid_request"),
        ({"commands": [{"path": "/v1/orders", "body": {}}] * 5001}, 422, "invalid_request"),
        ({"commands": [{"body": {}}]}, 422, "invalid_request"),
        ({"commands": [{"path": "/v1/orders", "body": []}]}, 422, "invalid_request"),
        ({"commands": [{"path": "/v1/orders", "expected_version": -1}]}, 422, "invalid_request"),
        ({"commands": [{"path": "/v1/orders"}], "unknown": 1}, 422, "invalid_request"),
    ],
)
def test_given_a_malformed_batch_then_it_is_refused_whole_with_a_stable_code(client, broker, payload, status, code):
    answer = client.post("/v1/batch", json=payload, headers=broker)
    assert (answer.status_code, answer.json()["code"]) == (status, code)


def test_given_the_same_idempotency_key_then_the_batch_is_answered_again_without_appending(client, broker, ledger_app):
    commands = [{"path": "/v1/contracts", "body": CONTRACT}, usage(1), usage(2, "5000.00")]
    headers = {**broker, "Idempotency-Key": "report-2026-11-23"}
    first = batch(client, headers, commands)
    head = ledger_app.ledger.head()
    again = batch(client, headers, commands)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["results"] == first.json()["results"] and again.json()["replayed"] is True
    assert ledger_app.ledger.head() == head == 2
    other = batch(client, headers, commands[:2])
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


def test_given_a_client_key_then_it_may_only_order_for_itself_and_not_touch_contracts(client, key_for, ledger_app):
    esdc = key_for("client:ESDC")
    commands = [
        {"path": "/v1/orders", "body": order_body()},
        {"path": "/v1/orders", "body": order_body(client_org="CRA")},
        {"path": "/v1/contracts", "body": CONTRACT},
        {"path": "/v1/orders/ORD-2026-000001/rebates", "body": {"amount": "10.00", "reason": "late"}},
    ]
    results = batch(client, esdc, commands).json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [
        (201, None),
        (403, "forbidden_organisation"),
        (403, "forbidden_role"),
        (403, "forbidden_role"),
    ]
    cra = key_for("client:CRA")
    hidden = batch(client, cra, [{"path": "/v1/orders/ORD-2026-000001/award", "body": AWARD}]).json()["results"]
    assert (hidden[0]["status"], hidden[0]["code"]) == (404, "order_not_found")  # another org's order: not disclosed


def test_given_an_expected_version_then_a_command_on_a_stream_elsewhere_is_refused(client, broker):
    batch(client, broker, [{"path": "/v1/contracts", "body": CONTRACT}])
    commands = [{**usage(1), "expected_version": 1}, {**usage(2), "expected_version": 1}]
    results = batch(client, broker, commands).json()["results"]
    assert results[0]["status"] == 200
    assert (results[1]["status"], results[1]["code"]) == (409, "version_conflict")  # line 1 moved it to 2


def test_given_a_batch_then_the_ledger_equals_the_same_commands_sent_one_by_one(tmp_path, broker, client, ledger_app):
    commands = [
        {"path": "/v1/contracts", "body": {**CONTRACT, "ceiling": "100000.00"}},
        {"path": "/v1/orders", "body": order_body(contract_id="CT-CLOUD-1")},
        {"path": "/v1/orders", "body": order_body(client_org="CRA")},
        usage(1),
        {"path": "/v1/orders/ORD-2026-000001/award", "body": AWARD},
        {
            "path": "/v1/orders/ORD-2026-000002/cancellation",
            "body": {"reason": "client_request", "cancelled_on": TODAY},
        },
        {
            "path": "/v1/orders/ORD-2026-000001/cancellation",
            "body": {"reason": "client_request", "cancelled_on": TODAY},
        },
    ]
    assert batch(client, broker, commands).json()["rejected"] == 0
    alone = build(Settings(data_dir=tmp_path / "alone"), clock=ledger_app.clock)
    with TestClient(create_app(alone)) as single:
        headers = {"Authorization": f"Bearer {alone.keys.create('broker')}"}
        for command in commands:
            answer = single.post(command["path"], json=command["body"], headers=headers)
            assert answer.status_code in (200, 201), answer.json()
        batched = [(e.stream_id, e.stream_version, e.type, e.data) for e in ledger_app.ledger.read_all(0, 100)]
        one_by_one = [(e.stream_id, e.stream_version, e.type, e.data) for e in alone.ledger.read_all(0, 100)]
    alone.close()
    assert batched == one_by_one
    assert [t for _, _, t, _ in batched].count("ConsumptionRecorded") == 2  # the usage line and the award
    assert ledger_app.ledger.verify().ok


def test_given_a_batch_larger_than_its_body_limit_then_413_names_the_limit(tmp_path, clock):
    app = build(Settings(data_dir=tmp_path / "var", max_body_bytes=2048, max_batch_body_bytes=4096), clock=clock)
    with TestClient(create_app(app)) as small:
        headers = {"Authorization": f"Bearer {app.keys.create('broker')}"}
        fits = small.post(
            "/v1/batch", json={"commands": [{"path": "/v1/orders", "body": order_body()}]}, headers=headers
        )
        assert fits.status_code == 200  # over the 2,048-byte limit of other endpoints, under the batch's
        large = small.post("/v1/batch", json={"commands": [usage(n) for n in range(20)]}, headers=headers)
        assert (large.status_code, large.json()["code"]) == (413, "body_too_large")
        assert "4096" in large.json()["detail"]
    app.close()


def test_given_batches_one_after_another_then_each_decides_on_what_the_ledger_holds(client, broker, ledger_app):
    """A refused or all-or-nothing batch leaves no trace in the next one's view of a stream (states it had
    extended are dropped, not kept)."""
    assert (
        batch(client, broker, [{"path": "/v1/contracts", "body": CONTRACT}, usage(1, "400.00")]).json()["rejected"] == 0
    )
    refused = batch(client, broker, [usage(2, "400.00"), usage(3, "400.00")], all_or_nothing=True)
    assert refused.status_code == 422  # 400 + 400 + 400 would pass the 1,000.00 ceiling: nothing appended
    again = batch(client, broker, [usage(4, "500.00"), usage(5, "200.00")]).json()
    # line 4 fits (400 + 500) only because line 2 was not kept; line 5 would pass the ceiling
    assert [(r["status"], r.get("code")) for r in again["results"]] == [(200, None), (422, "ceiling_exceeded")]
    recorded = [e.data.get("consumption_id") for e in ledger_app.ledger.read_stream("contract-CT-CLOUD-1")]
    assert [c for c in recorded if c] == ["use-1", "use-4"]
