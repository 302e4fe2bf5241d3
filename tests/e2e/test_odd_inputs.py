"""Odd inputs get a 4xx problem that says what is wrong, never a 500 and never a silent reading.

Bodies are read strictly: JSON types as sent, each key once, amounts in ASCII digits, no control or
bidirectional-override characters in texts. A batch refuses only the command that is wrong.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app
from processors.settings import Settings
from processors.wiring import Orderledger, build
from tests.conftest import free_port
from tests.orders_given import LAPTOP, order_body

NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # noon in Ottawa
PLACED = "2026-11-02T10:00:00-05:00"
OTTAWA = {"province": "ON", "address": "355 North River Rd, Ottawa"}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Orderledger]:
    app = build(Settings(data_dir=tmp_path / "var"), clock=lambda: NOW)
    yield app
    app.close()


@pytest.fixture
def http(ledger: Orderledger) -> Iterator[TestClient]:
    with TestClient(create_app(ledger), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {ledger.keys.create('broker', 'odd inputs')}"
        yield client


def problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    return body


def placed(http: TestClient, **changes: Any) -> str:
    answer = http.post("/v1/orders", json=order_body(placed_at=PLACED, **changes))
    assert answer.status_code == 201, answer.text
    order_id: str = answer.json()["order_id"]
    return order_id


def raw(http: TestClient, path: str, text: str | bytes) -> Any:
    return http.post(path, content=text, headers={"Content-Type": "application/json"})


# ---------------------------------------------------------------- JSON types as sent


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/batch", {"commands": [{"path": "/v1/orders", "body": {}}], "all_or_nothing": 0}, "all_or_nothing"),
        ("/v1/contract-clock", {"today": 0}, "today"),
        ("/v1/contract-clock", {"today": "2026-11-16T00:00:00"}, "today"),
        ("/v1/orders", order_body(section32_amount=7000), "section32_amount"),
        ("/v1/orders", order_body(lines=[{**LAPTOP, "quantity": 4.0}]), "lines.0.quantity"),
        ("/v1/orders", order_body(lines=[{**LAPTOP, "quantity": "4"}]), "lines.0.quantity"),
        ("/v1/orders", order_body(lines=[{**LAPTOP, "standing_offer_item": 1}]), "lines.0.standing_offer_item"),
        ("/v1/orders", order_body(requester=123), "requester"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_refused_not_converted(http, path, body, field):
    refused = problem(http.post(path, json=body), 422, "invalid_request")
    assert field in [error["field"] for error in refused["errors"]], refused


def test_a_key_given_twice_is_refused_instead_of_keeping_the_last(http):
    # Given a body that reads as 1.00 to a person skimming it and 9999.00 to a parser keeping the last key
    order_id = placed(http)
    text = '{"section32_amount": "1.00", "section32_amount": "9999.00"}'
    # When / Then
    refused = problem(raw(http, f"/v1/orders/{order_id}/section32", text), 400, "duplicate_key")
    assert "section32_amount" in refused["detail"]
    nested = json.dumps({"commands": [{"path": "/v1/orders", "body": {}}]})[:-1] + ', "commands": []}'
    problem(raw(http, "/v1/batch", nested), 400, "duplicate_key")


@pytest.mark.parametrize(
    "text",
    ['{"section32_amount": ', "not json", b"\xff\xfe{}", "[" * 100_000 + "]" * 100_000],
    ids=["truncated", "words", "not-utf8", "deeply-nested"],
)
def test_a_body_that_is_not_json_is_a_400_that_says_where(http, text):
    order_id = placed(http)
    refused = problem(raw(http, f"/v1/orders/{order_id}/section32", text), 400, "malformed_json")
    assert "JSON" in refused["detail"]


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize("amount", [" 1289.00", "1289.00 ", "١٢٨٩.٠٠", "1289.001", "1,289.00", "1e3", "-1.00", "NaN"])
def test_an_amount_is_ascii_digits_with_at_most_two_decimals_and_nothing_around(http, amount):
    refused = problem(http.post("/v1/orders", json=order_body(section32_amount=amount)), 422, "invalid_request")
    assert refused["errors"][0]["field"] == "section32_amount"


@pytest.mark.parametrize(("unit_price", "net"), [("1289.0049", "5156.02"), ("1289.001", "5156.00")])
def test_a_unit_price_may_carry_four_decimals_and_the_line_is_rounded_to_the_cent(http, ledger, unit_price, net):
    # Given 4 laptops at a price to the hundredth of a cent
    order_id = placed(http, lines=[{**LAPTOP, "unit_price": unit_price}], delivery_locations=[{**OTTAWA}])
    # When the order is read
    order = http.get(f"/v1/orders/{order_id}").json()
    # Then the unit price is kept as given and the line's net is half-up to the cent
    assert order["lines"][0]["unit_price"] == unit_price
    assert order["totals"]["net"] == net


def test_a_unit_price_below_the_hundredth_of_a_cent_is_refused(http):
    body = order_body(lines=[{**LAPTOP, "unit_price": "1289.00001"}])
    refused = problem(http.post("/v1/orders", json=body), 422, "invalid_request")
    assert refused["errors"][0]["field"] == "lines.0.unit_price"


# ---------------------------------------------------------------- texts


@pytest.mark.parametrize(
    "requester",
    ["A\u0000B", "A\u202eB", "A\u2066B", "A\u0085B", "A\u007fB", "A\ud800B", "A\u0008B"],
    ids=["nul", "rtl-override", "isolate", "c1", "del", "lone-surrogate", "backspace"],
)
def test_a_text_with_a_control_or_bidi_override_character_is_refused_naming_the_field(http, ledger, requester):
    head = ledger.ledger.head()
    text = json.dumps(order_body(requester=requester))  # ensure_ascii: escapes, as most clients send them
    refused = problem(raw(http, "/v1/orders", text), 422, "invalid_request")
    assert refused["errors"][0]["field"] == "requester"
    assert "U+" in refused["errors"][0]["message"]
    assert ledger.ledger.head() == head


def test_the_same_characters_sent_raw_are_refused_too(http):
    text = json.dumps(order_body(requester="A\u202eB"), ensure_ascii=False).encode()
    problem(raw(http, "/v1/orders", text), 422, "invalid_request")


def test_line_breaks_tabs_and_any_language_are_welcome_in_texts(http):
    order_id = placed(http, requester="Zoë Ngô-Tremblay\u00a0(ÉSDC) 李\tجديد", justification="line one\nline two")
    assert http.get(f"/v1/orders/{order_id}").status_code == 200


# ---------------------------------------------------------------- a batch refuses only the wrong command


def test_a_batch_refuses_only_the_command_whose_body_is_loose(http, ledger):
    commands = [
        {"path": "/v1/orders", "body": order_body(placed_at=PLACED)},
        {"path": "/v1/orders", "body": order_body(placed_at=PLACED, lines=[{**LAPTOP, "quantity": 4.0}])},
        {"path": "/v1/orders", "body": order_body(placed_at=PLACED, section32_amount=" 7000.00")},
    ]
    answer = http.post("/v1/batch", json={"commands": commands})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 422]
    assert results[1]["errors"][0]["field"] == "lines.0.quantity"
    assert results[2]["errors"][0]["field"] == "section32_amount"


# ---------------------------------------------------------------- business dates in their window


def register(http: TestClient, ceiling: str = "1000000.00") -> None:
    contract = {
        "contract_id": "CLOUD-O",
        "kind": "cloud",
        "supplier": "Nimbus Cloud",
        "ceiling": ceiling,
        "start_date": "2026-01-01",
        "end_date": "2027-12-31",
        "fee_rate": "0.02",
    }
    assert http.post("/v1/contracts", json=contract).status_code == 201
    organisation = {"code": "ESDC", "name_en": "ESDC", "name_fr": "EDSC", "tax_status": "federal"}
    assert http.post("/v1/organisations", json=organisation).status_code == 201


@pytest.mark.parametrize("awarded_on", ["9999-12-31", "0001-01-01", "2026-11-18"])
def test_a_date_outside_its_window_is_a_422_that_names_it_never_a_500(http, ledger, awarded_on):
    order_id = placed(http)
    head = ledger.ledger.head()
    body = {"contract_number": "CALL-1", "awarded_on": awarded_on}
    refused = problem(http.post(f"/v1/orders/{order_id}/award", json=body), 422, "date_out_of_range")
    assert refused["detail"].startswith(f"awarded_on {awarded_on} is outside 2000-01-01 to 2026-11-17")
    assert ledger.ledger.head() == head


def test_a_batch_refuses_the_command_with_a_date_out_of_its_window_and_appends_the_others(http):
    order_id = placed(http)
    commands = [
        {"path": f"/v1/orders/{order_id}/award", "body": {"contract_number": "C", "awarded_on": "9999-12-31"}},
        {"path": "/v1/orders", "body": order_body(placed_at=PLACED)},
        {"path": f"/v1/orders/{order_id}/award", "body": {"contract_number": "C", "awarded_on": "2026-11-03"}},
    ]
    answer = http.post("/v1/batch", json={"commands": commands})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["status"], r.get("code")) for r in results] == [(422, "date_out_of_range"), (201, None), (200, None)]


def test_an_order_placed_in_the_future_is_refused(http):
    body = order_body(placed_at="2026-11-17T10:00:00-05:00")
    problem(http.post("/v1/orders", json=body), 422, "date_out_of_range")


@pytest.mark.parametrize("month", ["9999-12", "0000-01", "1999-12", "٢٠٢٦-١١"])
def test_a_month_out_of_range_in_a_read_is_a_422(http, month):
    register(http)
    service = {
        "service_id": "MAIL",
        "name": "Mail",
        "contract_id": "CLOUD-O",
        "organisations": ["ESDC"],
        "monthly_charge": "1.00",
        "registered_on": "2026-09-01",
    }
    assert http.post("/v1/services", json=service).status_code == 201
    problem(http.get(f"/v1/services/MAIL/availability?month={month}"), 422, "invalid_request")
    problem(http.get(f"/v1/chargeback/ESDC?period={month}"), 422, "invalid_request")


@pytest.mark.parametrize("period", ["0001-01", "2026-12", "9999-12"])
def test_a_billing_month_before_2000_or_still_to_come_cannot_be_closed(http, ledger, period):
    head = ledger.ledger.head()
    answer = http.post(f"/v1/periods/{period}/close", json={})
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] in ("date_out_of_range", "invalid_request")
    assert ledger.ledger.head() == head


# ---------------------------------------------------------------- the contract clock


@pytest.mark.parametrize("today", ["2026-11-17", "2999-01-01", "9999-12-31"])
def test_the_contract_clock_cannot_be_run_ahead_of_the_ledger_and_expires_nothing(http, ledger, today):
    register(http)
    refused = problem(http.post("/v1/contract-clock", json={"today": today}), 422, "clock_ahead_of_ledger")
    assert "2026-11-16" in refused["detail"]
    assert http.get("/v1/contracts/CLOUD-O").json()["status"] == "active"
    # as of the ledger's today it runs
    assert http.post("/v1/contract-clock", json={"today": "2026-11-16"}).status_code == 200


# ---------------------------------------------------------------- a forecast past any date


def test_a_cent_consumed_on_a_hundred_million_ceiling_leaves_the_contract_list_and_dashboard_working(http):
    register(http, ceiling="100000000.00")
    consumption = {
        "client_org": "ESDC",
        "amount": "0.01",
        "period": "2026-11",
        "source": "cloud_usage_report",
        "reference": "USAGE-1",
        "recorded_on": "2026-11-10",
    }
    assert http.post("/v1/contracts/CLOUD-O/consumption", json=consumption).status_code == 200
    listed = http.get("/v1/contracts")
    assert listed.status_code == 200, listed.text
    assert listed.json()["contracts"][0]["forecast_exhaustion_date"] is None
    assert http.get("/v1/contracts/CLOUD-O").status_code == 200
    assert http.get("/status/contracts").status_code == 200
    assert http.get("/status/contracts/CLOUD-O").status_code == 200


# ---------------------------------------------------------------- an unexpected error keeps the connection


def test_after_an_unexpected_error_the_client_keeps_its_keep_alive_connection(ledger, monkeypatch):
    # Given a real server, and a read that fails in a way no handler expects
    original = ledger.projections.get

    def failing(projection: Any, key: str) -> Any:
        if key == "ORD-2026-999999":
            raise RuntimeError("a bug")
        return original(projection, key)

    monkeypatch.setattr(ledger.projections, "get", failing)
    headers = {"Authorization": f"Bearer {ledger.keys.create('broker', 'keep-alive')}"}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ledger), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            time.sleep(0.02)
        connection = HTTPConnection("127.0.0.1", port, timeout=10)
        # When it answers a 500
        connection.request("GET", "/v1/orders/ORD-2026-999999", headers=headers)
        failed = connection.getresponse()
        body = json.loads(failed.read())
        socket_used = connection.sock
        # Then the answer is a problem, the connection is not closed, and the next request goes on it
        assert (failed.status, body["code"]) == (500, "internal_error")
        assert not failed.will_close
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        assert connection.sock is socket_used
        connection.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# ---------------------------------------------------------------- what a path allows


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/orders", "GET, OPTIONS, POST"),
        ("/v1/orders/ORD-2026-000001", "GET, OPTIONS"),
        ("/v1/subscriptions/sub_0123456789abcdef", "DELETE, GET, OPTIONS"),
        ("/openapi.json", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_and_a_405_list_every_method_of_the_path(http, path, allowed):
    answered = http.options(path)
    assert (answered.status_code, answered.headers["allow"]) == (204, allowed)
    refused = http.request("PATCH", path)
    assert (refused.status_code, refused.headers["allow"]) == (405, allowed)


def test_options_on_a_path_that_is_none_is_a_404(http):
    assert http.options("/v1/nothing-here").status_code == 404
