"""Chargeback end to end over HTTP: orders, invoices, a credit, a close and a late invoice, checked to the cent.

The months (this one, the last, the one before) follow the test's today; the tests marked date-sensitive run
on every fixed today (tests/conftest.py FIXED_TODAYS).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from projections.catalogue import PROJECTIONS
from tests.focus_validation import validate_focus
from tests.orders_given import days_ago, order_body


def month(back: int, today: date) -> str:
    year, number = today.year, today.month - back
    while number < 1:
        year, number = year - 1, number + 12
    return f"{year:04d}-{number:02d}"


def first_of(period: str) -> date:
    return date(int(period[:4]), int(period[5:]), 1)


@dataclass(frozen=True)
class Months:
    m0: str  # this month
    m1: str  # last month
    m2: str  # the month before: the invoiced usage's


@pytest.fixture
def periods(today: date) -> Months:
    return Months(month(0, today), month(1, today), month(2, today))


def usage_invoice(number: str, issued_on: date, *lines: dict[str, str]) -> dict[str, object]:
    return {
        "invoice_number": number,
        "supplier": "Nimbus Cloud",
        "contract_id": "CLOUD-T",
        "issued_on": issued_on.isoformat(),
        "lines": list(lines),
    }


def line(org: str | None, amount: str, province: str = "ON", *, period: str, **more: str) -> dict[str, str]:
    body = {"reference": f"USAGE-{period}-{org}", "charge_period": period, "amount": amount, "province": province}
    return body | ({"client_org": org} if org else {}) | more


@pytest.fixture
def billed(client, broker, today, periods):
    """ESDC (federal) and SQI (a Quebec body paying QST), a cloud contract at 2 %, and October's usage invoiced."""
    for code, status in (("ESDC", "federal"), ("SQI", "other")):
        answer = client.post(
            "/v1/organisations",
            json={"code": code, "name_en": f"{code} (en)", "name_fr": f"{code} (fr)", "tax_status": status},
            headers=broker,
        )
        assert answer.status_code == 201, answer.text
    contract = {
        "contract_id": "CLOUD-T",
        "kind": "cloud",
        "supplier": "Nimbus Cloud",
        "ceiling": "1000000.00",
        "start_date": (today - timedelta(days=200)).isoformat(),
        "end_date": (today + timedelta(days=500)).isoformat(),
        "fee_rate": "0.02",
    }
    assert client.post("/v1/contracts", json=contract, headers=broker).status_code == 201
    invoice = usage_invoice(
        "NC-1",
        first_of(periods.m1) + timedelta(days=4),
        line("ESDC", "1000.00", taxes="130.00", period=periods.m2),
        line("SQI", "2000.00", "QC", period=periods.m2),
        line("ZZZ", "50.00", period=periods.m2),
    )
    received = client.post("/v1/invoices", json=invoice, headers=broker)
    assert received.status_code == 201, received.text
    return received.json()


def statement(client, headers, org: str, period: str, kind: str = "") -> str:
    path = f"/v1/chargeback/{org}/focus?period={period}" if kind == "focus" else f"/v1/chargeback/{org}?period={period}"
    answer = client.get(path + ("&format=csv" if kind == "csv" else ""), headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.text


@pytest.mark.date_sensitive
def test_given_an_invoice_when_received_then_taxes_fee_and_reconciliation_are_right_to_the_cent(
    client, broker, billed, periods
):
    invoice = billed["invoice"]
    # Then: the ledger computed the taxes; the unknown organisation is an exception, not a refusal
    assert [(ln["client_org"], ln["invoiced"], ln["rebilled"], ln["fee"]) for ln in invoice["lines"]] == [
        ("ESDC", "1130.00", "1130.00", "20.00"),
        ("SQI", "2299.50", "2299.50", "40.00"),  # GST 100.00 + QST 199.50 on 2,000.00
        ("ZZZ", "56.50", "0.00", "0.00"),
    ]
    assert (invoice["invoiced"], invoice["rebilled"], invoice["difference"]) == ("3486.00", "3429.50", "56.50")
    assert invoice["exceptions"] == [
        {
            "line_no": 3,
            "client_org": "ZZZ",
            "causes": ["unknown_organisation"],
            "invoiced": "56.50",
            "rebilled": "0.00",
            "difference": "56.50",
        }
    ]
    sqi = client.get(f"/v1/chargeback/SQI?period={periods.m2}", headers=broker).json()
    assert [(ln["category"], ln["tax_component"], ln["amount"]) for ln in sqi["lines"]] == [
        ("usage", None, "2000.00"),
        ("tax", "GST", "100.00"),
        ("tax", "QST", "199.50"),
        ("management_fee", None, "40.00"),
    ]
    assert sqi["totals"]["total"] == "2339.50" and sqi["totals"]["tax"] == "299.50"
    assert all(ln["source_events"] for ln in sqi["lines"])


@pytest.mark.date_sensitive
def test_given_a_closed_month_when_late_events_arrive_and_projections_rebuild_then_it_is_byte_identical(
    client, broker, billed, ledger_app, periods
):
    # Given: the month closed
    closed = client.post(
        f"/v1/periods/{periods.m2}/close", json={"closed_on": first_of(periods.m1).isoformat()}, headers=broker
    )
    assert closed.status_code == 200, closed.text
    before = [statement(client, broker, "ESDC", periods.m2, kind) for kind in ("", "csv", "focus")]
    # When: a late invoice for it, a dispute of one of its lines, and a rebuild of every projection
    late = usage_invoice("NC-1B", first_of(periods.m1) + timedelta(days=14), line("ESDC", "500.00", period=periods.m2))
    assert client.post("/v1/invoices", json=late, headers=broker).status_code == 201
    disputed = client.post(
        "/v1/invoices/nimbus-cloud--NC-1/lines/1/disputes", json={"reason": "billed twice"}, headers=broker
    )
    assert disputed.status_code == 200, disputed.text
    for projection in PROJECTIONS.values():
        ledger_app.projections.rebuild(projection, ledger_app.ledger)
    # Then: the closed month did not move by a byte
    assert [statement(client, broker, "ESDC", periods.m2, kind) for kind in ("", "csv", "focus")] == before
    # and the late facts are correction lines in the next open month, pointing back to it
    corrections = client.get(f"/v1/chargeback/ESDC?period={periods.m1}", headers=broker).json()
    assert [(ln["corrects"], ln["action"], ln["charge_period"], ln["amount"]) for ln in corrections["lines"]] == [
        ("usage", "billed", periods.m2, "500.00"),
        ("tax", "billed", periods.m2, "65.00"),
        ("management_fee", "billed", periods.m2, "10.00"),
        ("usage", "withheld", periods.m2, "-1000.00"),
        ("tax", "withheld", periods.m2, "-130.00"),
        ("management_fee", "withheld", periods.m2, "-20.00"),
    ]
    assert {ln["category"] for ln in corrections["lines"]} == {"correction"}
    assert corrections["totals"]["correction"] == corrections["totals"]["total"] == "-575.00"


@pytest.fixture
def credited_and_closed(client, broker, billed, today, periods) -> str:
    """A late order with a rebate (a credit to ESDC this month), then the month before last closed and a late
    invoice for it (corrections last month). Returns the order's id."""
    placed_at = f"{days_ago(95, today)}T10:00:00-05:00"
    order_id = client.post("/v1/orders", json=order_body(placed_at=placed_at), headers=broker).json()["order_id"]
    award = {"contract_number": "CU-1", "awarded_on": days_ago(90, today)}
    assert client.post(f"/v1/orders/{order_id}/award", json=award, headers=broker).status_code == 200
    rebate = client.post(
        f"/v1/orders/{order_id}/rebates", json={"amount": "100.00", "reason": "late delivery"}, headers=broker
    )
    assert rebate.status_code == 200, rebate.text
    closed_on = first_of(periods.m1).isoformat()
    assert client.post(f"/v1/periods/{periods.m2}/close", json={"closed_on": closed_on}, headers=broker)
    late = usage_invoice("NC-1B", first_of(periods.m1) + timedelta(days=14), line("ESDC", "500.00", period=periods.m2))
    assert client.post("/v1/invoices", json=late, headers=broker).status_code == 201
    return str(order_id)


def focus_datasets(client, broker, periods) -> dict[tuple[str, str], str]:
    """Every month's FOCUS dataset of the credited and closed months, by (organisation, period)."""
    wanted = (("ESDC", periods.m2), ("ESDC", periods.m1), ("ESDC", periods.m0), ("SQI", periods.m2))
    return {(org, period): statement(client, broker, org, period, "focus") for org, period in wanted}


@pytest.mark.date_sensitive
def test_given_orders_invoices_a_credit_a_close_and_a_late_event_then_statements_hold(
    client, broker, credited_and_closed, periods
):
    order_id = credited_and_closed
    # Then: this month ESDC is credited the rebate, with the tax on it (Ottawa: HST 13 %), and no fee (no contract)
    credit = client.get(f"/v1/chargeback/ESDC?period={periods.m0}", headers=broker).json()
    assert [(ln["category"], ln["amount"], ln["order_id"]) for ln in credit["lines"]] == [
        ("credit", "-100.00", order_id),
        ("tax", "-13.00", order_id),
    ]
    assert len(credit["lines"][0]["source_events"]) == 2  # the credit and the order's rebate
    assert credit["totals"]["total"] == "-113.00"
    # The fiscal year adds the months up to the cent
    year = int(periods.m2[:4]) if int(periods.m2[5:]) >= 4 else int(periods.m2[:4]) - 1
    fiscal = client.get(f"/v1/chargeback/ESDC/fiscal-year/{year}", headers=broker).json()
    months = {m["period"]: m for m in fiscal["months"]}
    assert months[periods.m2]["status"] == "closed" and months[periods.m2]["totals"]["total"] == "1150.00"
    assert sum(Decimal(m["totals"]["total"]) for m in fiscal["months"]) == Decimal(fiscal["totals"]["total"])
    # The broker's month: invoices received vs re-billed vs fees earned
    reconciliation = client.get(f"/v1/reconciliation?period={periods.m1}", headers=broker).json()
    assert reconciliation["summary"]["invoices_received"] == 2
    assert reconciliation["summary"]["invoiced"] == "4051.00"  # 3,486.00 + 565.00
    assert reconciliation["summary"]["fees_earned"] == "10.00"  # the correction's fee, billed in this month
    # FOCUS 1.2: a dataset per month, the corrections charged to the closed month and billed in the next
    datasets = focus_datasets(client, broker, periods)
    assert sum(len(list(csv.DictReader(io.StringIO(d)))) for d in datasets.values()) == 3 + 3 + 2 + 4
    correction = list(csv.DictReader(io.StringIO(datasets[("ESDC", periods.m1)])))
    assert {r["ChargeClass"] for r in correction} == {"Correction"}
    assert {(r["ChargePeriodStart"][:7], r["BillingPeriodStart"][:7]) for r in correction} == {(periods.m2, periods.m1)}


def test_given_orders_invoices_a_credit_a_close_and_a_late_event_then_every_focus_dataset_passes_the_validator(
    client, broker, credited_and_closed, periods, tmp_path
):
    # The FinOps Foundation's validator takes seconds a dataset: it runs on the default today only (the
    # datasets' months are checked on every fixed today above).
    for (org, period), dataset in focus_datasets(client, broker, periods).items():
        path = tmp_path / f"focus-{org}-{period}.csv"
        path.write_text(dataset, encoding="utf-8")
        assert validate_focus(path, tmp_path) == [], f"{org} {period}"


def test_given_client_keys_then_each_sees_only_its_own_organisation_and_only_a_broker_closes(
    client, broker, billed, key_for, ledger_app, today, periods
):
    esdc = key_for("client:ESDC")
    assert client.get(f"/v1/chargeback/ESDC?period={periods.m2}", headers=esdc).status_code == 200
    for path in (
        f"/v1/chargeback/SQI?period={periods.m2}",
        f"/v1/chargeback/SQI/focus?period={periods.m2}",
        "/v1/chargeback/SQI/fiscal-year/2026",
    ):
        refused = client.get(path, headers=esdc)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden_organisation")
    head = ledger_app.ledger.head()
    assert client.post(f"/v1/periods/{periods.m2}/close", headers=esdc).status_code == 403
    assert client.get(f"/v1/reconciliation?period={periods.m1}", headers=esdc).status_code == 403
    assert (
        client.post(
            "/v1/invoices", json=usage_invoice("X-1", today, line("ESDC", "1.00", period=periods.m2)), headers=esdc
        ).status_code
        == 403
    )
    assert ledger_app.ledger.head() == head


ANY_MONTH = "2026-09"  # where the amount is what is wrong


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"lines": [line("ESDC", "12.345", period=ANY_MONTH)]}, 422, "invalid_request"),
        ({"lines": [line("ESDC", "-5.00", period=ANY_MONTH)]}, 422, "invalid_request"),
        ({"lines": [line("ESDC", 12.5, period=ANY_MONTH)]}, 422, "invalid_request"),  # type: ignore[arg-type]
        ({"currency": "USD"}, 422, "invalid_request"),
        ({"invoice_number": "NC-1"}, 409, "duplicate_invoice"),
        ({"lines": [line("ESDC", "1.00", period="2026-13")]}, 422, "invalid_request"),
        ({"lines": []}, 422, "invalid_request"),
    ],
)
def test_given_bad_invoices_then_a_clear_4xx_and_nothing_appended(
    client, broker, billed, ledger_app, today, periods, change, status, code
):
    head = ledger_app.ledger.head()
    body = usage_invoice("NC-2", today, line("ESDC", "1.00", period=periods.m2)) | change
    refused = client.post("/v1/invoices", json=body, headers=broker)
    assert (refused.status_code, refused.json()["code"]) == (status, code), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert ledger_app.ledger.head() == head


@pytest.mark.date_sensitive
def test_given_a_month_when_closed_early_twice_or_reopened_then_the_rules_hold_and_reopening_is_audited(
    client, broker, billed, ledger_app, periods
):
    early = client.post(f"/v1/periods/{periods.m0}/close", headers=broker)
    assert (early.status_code, early.json()["code"]) == (422, "period_not_over")
    assert client.post(f"/v1/periods/{periods.m2}/close", headers=broker).status_code == 200
    again = client.post(f"/v1/periods/{periods.m2}/close", headers=broker)
    assert (again.status_code, again.json()["code"]) == (409, "period_closed")
    vague = client.post(f"/v1/periods/{periods.m2}/reopen", json={"reason": "oops"}, headers=broker)
    assert vague.status_code == 422
    reopened = client.post(
        f"/v1/periods/{periods.m2}/reopen",
        json={"reason": "supplier re-issued invoice NC-1 with new prices"},
        headers=broker,
    )
    assert reopened.status_code == 200, reopened.text
    [event] = ledger_app.ledger.read_all(reopened.json()["position"] - 1, 1)
    assert event.type == "BillingPeriodReopened" and event.actor.startswith("broker/")
    assert event.data["reason"] == "supplier re-issued invoice NC-1 with new prices"
    assert client.get("/v1/periods", headers=broker).json()["closed"] == []


@pytest.mark.date_sensitive
def test_given_a_line_when_drilled_down_then_only_this_organisations_invoice_lines_show_and_the_note_says_so(
    client, broker, billed, periods
):
    own = usage_invoice("NC-3", first_of(periods.m1) + timedelta(days=20), line("ESDC", "10.00", period=periods.m2))
    assert client.post("/v1/invoices", json=own, headers=broker).status_code == 201
    lines = client.get(f"/v1/chargeback/ESDC?period={periods.m2}", headers=broker).json()["lines"]
    shared, alone = (next(ln for ln in lines if ln["invoice_number"] == n) for n in ("NC-1", "NC-3"))
    for found, redacted in ((shared, True), (alone, False)):
        path = f"/v1/chargeback/ESDC/lines?period={periods.m2}&line_id={found['line_id']}"
        [event] = client.get(path, headers=broker).json()["events"]
        assert event["event_id"] == found["source_events"][0]
        assert {ln["client_org"] for ln in event["data"]["lines"]} == {"ESDC"}
        assert ("redacted" in event) is redacted and ("total" in event["data"]) is not redacted
