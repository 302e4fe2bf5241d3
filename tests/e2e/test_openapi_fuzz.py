"""Schemathesis fuzzes every operation of /openapi.json with the broker's key: whatever it sends, never a 5xx.

Both what the schema allows (positive) and what it does not (negative) are sent, with dates drawn from
the whole calendar (year 1 to 9999) and the ids of real orders, contracts, services and incidents, so
the requests reach the deciders, not only the validation. A second test sends the extremes of every
kind of value (dates, moments, amounts, quantities) through the commands' real bodies.

`make test` runs ORDERLEDGER_FUZZ_EXAMPLES examples per operation and mode (default 6); `make fuzz`
runs the long campaign (200).
"""

from __future__ import annotations

import atexit
import json
import os
import tempfile
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode

from api.app import create_app
from processors.settings import Settings
from processors.wiring import build
from tests.orders_given import order_body

EXAMPLES = int(os.environ.get("ORDERLEDGER_FUZZ_EXAMPLES", "6"))
NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)  # the ledger's clock: fixed, so every run sends the same world

EXTREME_DATES = [date.min, date(1999, 12, 31), date(2000, 1, 1), date(2026, 11, 17), date(2026, 11, 18), date.max]
dates = st.one_of(st.sampled_from(EXTREME_DATES), st.dates())
moments = st.one_of(
    st.sampled_from([datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), NOW + timedelta(minutes=11)]),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-14)), timezone(timedelta(hours=14))])),
)
amounts = st.one_of(
    st.sampled_from(["0", "0.00", "0.01", "999999999999.99", "999999999999.9999", "1e9", "-0.01", "NaN", "Infinity"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=0, max_value=10**12).map(str),
)
quantities = st.one_of(st.sampled_from([0, 1, 1_000_000, 1_000_001, 2**63, -1]), st.integers())

schemathesis.openapi.format("date", dates.map(date.isoformat))
schemathesis.openapi.format("date-time", moments.map(datetime.isoformat))

_data = Path(tempfile.mkdtemp(prefix="orderledger-fuzz-"))
_app = build(Settings(data_dir=_data, webhook_allowed_hosts="127.0.0.1", run_webhooks=False), clock=lambda: NOW)
_key = _app.keys.create("broker", "fuzz")
_asgi = create_app(_app, start_runner=False)
_app.runner.start()  # the ASGI transport runs no lifespan: start the projection runner here


def _seed() -> dict[str, str]:
    """Two organisations, a cloud contract, a service with an incident, an invoice and three orders."""
    with TestClient(_asgi) as client:
        client.headers["Authorization"] = f"Bearer {_key}"

        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = client.post(path, json=body)
            assert answer.status_code in (200, 201), answer.text
            result: dict[str, Any] = answer.json()
            return result

        for code in ("ESDC", "CRA"):
            post("/v1/organisations", {"code": code, "name_en": code, "name_fr": code, "tax_status": "federal"})
        contract = {"contract_id": "CLOUD-F", "kind": "cloud", "supplier": "Nimbus", "ceiling": "1000000.00"}
        post("/v1/contracts", contract | {"start_date": "2026-01-01", "end_date": "2027-12-31", "fee_rate": "0.02"})
        service = {"service_id": "MAIL", "name": "Mail", "contract_id": "CLOUD-F", "organisations": ["ESDC"]}
        post("/v1/services", service | {"monthly_charge": "100.00", "registered_on": "2026-09-01"})
        incident = {"incident_id": "INC-1", "service_id": "MAIL", "title": "Down", "priority": "P2"}
        post("/v1/incidents", incident | {"detected_at": "2026-11-10T10:00:00-05:00"})
        line = {"reference": "USAGE", "charge_period": "2026-10", "amount": "10.00", "client_org": "ESDC"}
        invoice = {"invoice_number": "F-1", "supplier": "Nimbus", "contract_id": "CLOUD-F", "issued_on": "2026-11-05"}
        post("/v1/invoices", invoice | {"lines": [line | {"province": "ON"}]})
        orders = [post("/v1/orders", order_body(placed_at="2026-11-02T10:00:00-05:00"))["order_id"] for _ in range(3)]
    return {"order_id": orders[0], "contract_id": "CLOUD-F", "service_id": "MAIL", "incident_id": "INC-1"}


IDS = _seed()
schema = schemathesis.openapi.from_asgi("/openapi.json", _asgi)
schema.config.update(
    headers={"Authorization": f"Bearer {_key}"},
    parameters={**IDS, "org": "ESDC", "code": "ESDC", "invoice": "nimbus--F-1"},
)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES, deterministic=True
)


SENT: Counter[str] = Counter()  # requests per operation and mode, for the campaign's report


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=EXAMPLES, derandomize=True)
def test_no_operation_answers_with_a_server_error(case):
    SENT[f"{case.operation.label} {case.meta.generation.mode.value}"] += 1
    case.call_and_validate(checks=[not_a_server_error])


def _report() -> None:
    """Where ORDERLEDGER_FUZZ_REPORT says (make fuzz): requests sent per operation and mode."""
    report = os.environ.get("ORDERLEDGER_FUZZ_REPORT")
    if report and SENT:
        operations = {key.rsplit(" ", 1)[0] for key in SENT}
        summary = {"examples": EXAMPLES, "operations": len(operations), "requests": sum(SENT.values())}
        Path(report).write_text(json.dumps({**summary, "per_operation_and_mode": SENT}, indent=1) + "\n")


atexit.register(_report)


# ---------------------------------------------------------------- the extremes, in real bodies


def _commands(day: date, moment: datetime, amount: str, quantity: int) -> list[tuple[str, dict[str, Any]]]:
    order, on = IDS["order_id"], day.isoformat()
    at = moment.isoformat()
    line = {"sku": "LAT-5450", "description": "d", "category": "laptop", "standing_offer_item": True}
    return [
        ("/v1/orders", order_body(placed_at=at, section32_amount=amount, lines=[line | {"quantity": quantity}])),
        (f"/v1/orders/{order}/award", {"contract_number": "C-1", "awarded_on": on, "agreed_delivery_date": on}),
        (f"/v1/orders/{order}/delivery-date", {"agreed_delivery_date": on, "agreed_on": on}),
        (f"/v1/orders/{order}/rebates", {"amount": amount, "reason": "late", "applied_on": on}),
        (f"/v1/orders/{order}/section32", {"section32_amount": amount, "amended_on": on}),
        (f"/v1/orders/{order}/cancellation", {"reason": "other", "cancelled_on": on}),
        (
            "/v1/contracts/CLOUD-F/consumption",
            {
                "client_org": "ESDC",
                "amount": amount,
                "quantity": quantity,
                "period": f"{day:%Y-%m}",
                "source": "cloud_usage_report",
                "reference": "R",
                "recorded_on": on,
            },
        ),
        ("/v1/contracts/CLOUD-F/amendments", {"ceiling": amount, "amended_on": on}),
        ("/v1/contract-clock", {"today": on}),
        (f"/v1/periods/{day:%Y-%m}/close", {"closed_on": on}),
        ("/v1/services/MAIL/maintenance-windows", {"window_id": "W", "starts_at": at, "ends_at": at}),
        ("/v1/incidents/INC-1/restore", {"restored_at": at}),
        (
            "/v1/incidents",
            {"incident_id": "INC-X", "service_id": "MAIL", "title": "t", "priority": "P1", "detected_at": at},
        ),
        (
            "/v1/batch",
            {"commands": [{"path": f"/v1/orders/{order}/award", "body": {"contract_number": "C", "awarded_on": on}}]},
        ),
    ]


@settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=max(EXAMPLES, 10), derandomize=True)
@given(day=dates, moment=moments, amount=amounts, quantity=quantities)
def test_the_extremes_of_dates_moments_amounts_and_quantities_never_give_a_server_error(day, moment, amount, quantity):
    with TestClient(_asgi, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {_key}"
        for path, body in _commands(day, moment, amount, quantity):
            answer = client.post(path, json=body)
            assert answer.status_code < 500, f"{path} {body}: {answer.text}"
        for read in (
            f"/v1/services/MAIL/availability?month={day:%Y-%m}",
            f"/v1/chargeback/ESDC?period={day:%Y-%m}",
            f"/v1/events?after={quantity}",
        ):
            answer = client.get(read)
            assert answer.status_code < 500, f"{read}: {answer.text}"
