"""Contracts over HTTP, on the embedded ledger and on PostgreSQL: stock under parallel orders,
derived events that a rebuild does not repeat, and bad input.

Renewal notices, the contract clock and consumption months are date-sensitive: those tests run on every
fixed today (tests/conftest.py FIXED_TODAYS)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from processors.clocks import Clock
from tests.conftest import LiveServer, PostgresDatabase
from tests.orders_given import order_body


@pytest.fixture(params=["embedded", "postgres"])
def server(request, tmp_path, clock: Clock) -> Iterator[LiveServer]:
    env = {}
    if request.param == "postgres":
        database: PostgresDatabase = request.getfixturevalue("pg_database")
        env = {"ORDERLEDGER_DATABASE_URL": database.app_url, "ORDERLEDGER_ADMIN_DATABASE_URL": database.admin_url}
    live = LiveServer(tmp_path / "live", clock=clock, env=env)
    live.start()
    yield live
    live.stop()


def inventory_contract(today: date, contract_id: str = "INV-DOCK", quantity: int = 5) -> dict:
    start = today - timedelta(days=30)
    return {
        "contract_id": contract_id,
        "kind": "inventory",
        "supplier": "Northern Micro Inc.",
        "ceiling": "50000.00",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=364)).isoformat(),
        "renewal_options": [{"option_id": "Y2", "months": 12}],
        "fee_rate": "0.01",
        "inventory": [{"sku": "DOCK-WD22", "quantity": quantity, "unit_price": "219.99"}],
    }


def contract_with(contract_id: str = "INV-DOCK", **changes: object) -> Callable[[date], dict]:
    """An inventory contract's body as of the test's today, with `changes`."""
    return lambda today: {**inventory_contract(today, contract_id), **changes}


def dock_order(quantity: int) -> dict:
    return order_body(
        contract_id="INV-DOCK",
        processing="broker",
        section32_amount="5000.00",
        lines=[
            {
                "sku": "DOCK-WD22",
                "description": "USB-C docking station",
                "category": "peripheral",
                "standing_offer_item": True,
                "quantity": quantity,
                "unit_price": "219.99",
            }
        ],
        delivery_locations=[{"province": "ON", "address": "355 North River Rd, Ottawa"}],
    )


def test_given_the_last_5_units_when_12_orders_race_for_them_then_exactly_5_are_sold(server, today):
    # Given
    with httpx.Client(base_url=server.url, headers=server.broker, timeout=30) as http:
        assert http.post("/v1/contracts", json=inventory_contract(today)).status_code == 201
    outcomes: list[tuple[int, str]] = []
    start = threading.Barrier(12)

    def buy() -> None:
        with httpx.Client(base_url=server.url, headers=server.broker, timeout=30) as http:
            start.wait()
            response = http.post("/v1/orders", json=dock_order(1))
            outcomes.append((response.status_code, response.json().get("code", "")))

    # When: 12 clients order one unit each at the same moment
    threads = [threading.Thread(target=buy) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then
    sold = [o for o in outcomes if o[0] == 201]
    refused = [o for o in outcomes if o[0] != 201]
    assert len(sold) == 5, outcomes
    assert {code for _, code in refused} <= {"stock_short", "item_withdrawn"}, refused
    with httpx.Client(base_url=server.url, headers=server.broker, timeout=30) as http:
        stock = http.get("/v1/contracts/INV-DOCK").json()["inventory"][0]
        assert (stock["available"], stock["withdrawn"]) == (0, True)
        # a cancelled order gives its unit back, and the item is reinstated
        order_id = http.get("/v1/orders?limit=1").json()["orders"][0]["order_id"]
        cancelled = http.post(
            f"/v1/orders/{order_id}/cancellation",
            json={"reason": "client_request", "cancelled_on": today.isoformat()},
        )
        assert cancelled.status_code == 200
        stock = http.get("/v1/contracts/INV-DOCK").json()["inventory"][0]
        assert (stock["available"], stock["withdrawn"]) == (1, False)
    verified = server_cli_verify(server)
    assert verified.returncode == 0, verified.stdout


def server_cli_verify(server: LiveServer):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "api.cli", "--data-dir", str(server.data_dir), "verify"],
        capture_output=True,
        text=True,
        timeout=120,
        env=server.env,
        check=False,
    )


def given_a_standing_offer_near_its_end(http: httpx.Client, today: date) -> dict:
    """SO-NEAR ends in 80 days and is 92 % used by consumption 40, 30 and 20 days ago; the contract clock has run.

    Checks on the way: the thresholds and the 90-day renewal notice are recorded once, by the consumption
    and the clock of `today`, and each consumption counts in its own month. Returns the contract as read.
    """
    contract = {
        "contract_id": "SO-NEAR",
        "kind": "standing_offer",
        "supplier": "Compugen Inc.",
        "ceiling": "100000.00",
        "start_date": (today - timedelta(days=300)).isoformat(),
        "end_date": (today + timedelta(days=80)).isoformat(),
        "renewal_options": [{"option_id": "OPT-1", "months": 12}],
        "fee_rate": "0.02",
    }
    assert http.post("/v1/contracts", json=contract).status_code == 201
    by_month: dict[str, Decimal] = {}
    for n, amount in enumerate(("50000.00", "35000.00", "7000.00")):
        day = today - timedelta(days=40 - 10 * n)
        answer = http.post(
            "/v1/contracts/SO-NEAR/consumption",
            json={
                "client_org": "ESDC",
                "amount": amount,
                "period": day.strftime("%Y-%m"),
                "source": "supplier_invoice_line",
                "reference": f"INV-{n}",
                "recorded_on": day.isoformat(),
            },
        )
        assert answer.status_code == 200, answer.text
        by_month[day.strftime("%Y-%m")] = by_month.get(day.strftime("%Y-%m"), Decimal(0)) + Decimal(amount)
    assert answer.json()["events"] == ["ConsumptionRecorded", "CapacityThresholdReached"]
    clock = http.post("/v1/contract-clock", json={}).json()
    assert clock["today"] == today.isoformat()
    assert clock["emitted"] == [{"contract_id": "SO-NEAR", "events": ["RenewalDecisionDue"]}]
    assert http.post("/v1/contract-clock", json={}).json()["emitted"] == []  # never twice
    over = http.post(
        "/v1/contracts/SO-NEAR/consumption",
        json={
            "client_org": "ESDC",
            "amount": "8000.01",
            "period": today.strftime("%Y-%m"),
            "source": "supplier_invoice_line",
            "reference": "INV-9",
        },
    )
    assert (over.status_code, over.json()["code"]) == (422, "ceiling_exceeded")
    shown: dict = http.get("/v1/contracts/SO-NEAR").json()
    assert shown["thresholds_reached"] == [80, 90] and shown["used_pct"] == "92.0"
    assert shown["renewal_notices"] == [90]
    assert shown["consumption_by_organisation"] == {"ESDC": {m: f"{v:.2f}" for m, v in by_month.items()}}
    return shown


@pytest.mark.date_sensitive
def test_given_a_standing_offer_near_its_end_when_the_contract_clock_runs_then_one_renewal_notice(
    client, broker, today
):
    client.headers.update(broker)
    given_a_standing_offer_near_its_end(client, today)


def test_given_thresholds_and_renewal_notices_when_rebuilt_then_same_rows_and_no_new_derived_events(server, today):
    import subprocess
    import sys

    with httpx.Client(base_url=server.url, headers=server.broker, timeout=30) as http:
        before = given_a_standing_offer_near_its_end(http, today)
        head = http.get("/readyz").json()["checks"]["ledger"]["head_position"]
    rebuilt = subprocess.run(
        [sys.executable, "-m", "api.cli", "--data-dir", str(server.data_dir), "rebuild"],
        capture_output=True,
        text=True,
        timeout=120,
        env=server.env,
        check=False,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    with httpx.Client(base_url=server.url, headers=server.broker, timeout=30) as http:
        assert http.get("/v1/contracts/SO-NEAR").json() == before
        assert http.get("/readyz").json()["checks"]["ledger"]["head_position"] == head


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/v1/contracts", contract_with(ceiling="-1.00"), "invalid_request"),
        ("/v1/contracts", contract_with("INV-LATE", end_date="2020-01-01"), "end_before_start"),
        ("/v1/contracts", contract_with(currency="USD"), "invalid_request"),
        ("/v1/contracts/INV-DOCK/renewals", {"option_id": "Y9"}, "unknown_renewal_option"),
        (
            "/v1/contracts/INV-DOCK/consumption",
            {
                "client_org": "ESDC",
                "amount": "10.00",
                "period": "2026-11",
                "source": "supplier_invoice_line",
                "reference": "X",
                "currency": "EUR",
            },
            "invalid_request",
        ),
        (
            "/v1/contracts/INV-DOCK/consumption",
            {
                "client_org": "ESDC",
                "amount": "-10.00",
                "period": "2026-11",
                "source": "supplier_invoice_line",
                "reference": "X",
            },
            "invalid_request",
        ),
        ("/v1/contracts/NOPE/amendments", {"ceiling": "10.00"}, "contract_not_found"),
        (
            "/v1/contracts/INV-DOCK/consumption",
            lambda today: {  # a month within the date window, before the contract started (30 days ago)
                "client_org": "ESDC",
                "amount": "10.00",
                "period": (today - timedelta(days=90)).strftime("%Y-%m"),
                "source": "supplier_invoice_line",
                "reference": "X",
            },
            "outside_contract_period",
        ),
    ],
)
def test_given_bad_contract_input_then_a_clear_4xx_and_nothing_appended(
    client, broker, ledger_app, today, path, body, code
):
    assert client.post("/v1/contracts", json=inventory_contract(today), headers=broker).status_code == 201
    if callable(body):
        body = body(today)
    head = ledger_app.ledger.head()
    response = client.post(path, json=body, headers=broker)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert ledger_app.ledger.head() == head


@pytest.mark.date_sensitive
def test_given_an_order_on_a_standing_offer_when_awarded_then_cancelled_then_consumption_is_recorded_and_reversed(
    client, broker, today
):
    # Given: a registered standing offer and an order drawn on it
    start = today - timedelta(days=100)
    offer = {
        "contract_id": "NMSO-LAPTOP",
        "kind": "standing_offer",
        "supplier": "Northern Micro Inc.",
        "ceiling": "1000000.00",
        "start_date": start.isoformat(),
        "end_date": (start + timedelta(days=700)).isoformat(),
        "fee_rate": "0.015",
    }
    assert client.post("/v1/contracts", json=offer, headers=broker).status_code == 201
    unknown = client.post("/v1/orders", json=order_body(contract_id="NOPE"), headers=broker)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_contract")
    other = client.post(
        "/v1/orders", json=order_body(contract_id="NMSO-LAPTOP", supplier="Compugen Inc."), headers=broker
    )
    assert other.json()["code"] == "contract_supplier_mismatch"
    placed_at = f"{today - timedelta(days=90)}T10:00:00-05:00"
    placed = client.post("/v1/orders", json=order_body(contract_id="NMSO-LAPTOP", placed_at=placed_at), headers=broker)
    order_id = placed.json()["order_id"]
    # When: the call-up is awarded
    awarded_on = today - timedelta(days=60)
    award = client.post(
        f"/v1/orders/{order_id}/award",
        json={"contract_number": "CU-1", "awarded_on": awarded_on.isoformat()},
        headers=broker,
    )
    assert award.status_code == 200, award.text
    consumed = client.get("/v1/contracts/NMSO-LAPTOP", headers=broker).json()
    # Then: the order's net with EHF, taxes excluded, is consumed by ESDC in the award's month
    assert consumed["consumed"] == "6078.50"
    assert consumed["consumption_by_organisation"] == {"ESDC": {awarded_on.strftime("%Y-%m"): "6078.50"}}
    # When: it is cancelled for late delivery
    cancelled = client.post(
        f"/v1/orders/{order_id}/cancellation",
        json={"reason": "late_delivery", "cancelled_on": today.isoformat()},
        headers=broker,
    )
    assert cancelled.status_code == 200, cancelled.text
    # Then: the consumption is reversed, by a new event that refers to it
    reversed_ = client.get("/v1/contracts/NMSO-LAPTOP", headers=broker).json()
    assert reversed_["consumed"] == "0.00"
