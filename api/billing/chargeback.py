"""Chargeback reads: monthly and fiscal-year statements, CSV and FOCUS exports, drill-down, reconciliation.

A client key sees only its own organisation; reconciliation (every organisation's lines) is the broker's.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.app.access import App, Broker, LedgerRoute, Reader
from api.app.problems import Problem
from api.billing.focus_export import focus_csv
from api.billing.routes import invoice_view
from events.kernel.business_dates import MONTH_PATTERN
from events.kernel.money import ZERO
from events.ledger import RecordedEvent
from processors.access_keys import Principal
from processors.wiring import Orderledger
from projections.chargeback import (
    CATEGORIES,
    CHARGEBACK,
    ChargebackLine,
    Statement,
    fiscal_year,
    statement_key,
    totals,
)
from projections.reconciliation import RECONCILIATION, exceptions

router = APIRouter(tags=["chargeback"], route_class=LedgerRoute)
OrgPath = Annotated[str, Path(max_length=16, pattern=r"^[A-Z][A-Z0-9-]*$")]
PeriodQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="a month, YYYY-MM")]
CSV_COLUMNS = (
    "organisation",
    "billing_period",
    "line_id",
    "category",
    "corrects",
    "item",
    "action",
    "charge_period",
    "amount",
    "currency",
    "reference",
    "order_id",
    "contract_id",
    "supplier",
    "invoice_number",
    "invoice_line",
    "credit_id",
    "province",
    "tax_component",
    "fee_rate",
    "source_events",
)


def _money(value: Decimal) -> str:
    return format(value, "f")


def visible_organisation(app: Orderledger, caller: Principal, org: str) -> dict[str, Any]:
    """The organisation if the caller may see it and it is registered (403 / 404 otherwise)."""
    if not caller.may_see(org):
        raise Problem(403, "forbidden_organisation", f"this {caller.role} key may not see the chargeback of {org}")
    organisation = app.desk.load_organisation(org)
    if organisation is None:
        raise Problem(404, "organisation_not_found", f"{org} is not a registered organisation")
    return {"code": organisation.code, "name_en": organisation.name_en, "name_fr": organisation.name_fr}


def statement(app: Orderledger, org: str, period: str) -> Statement:
    row: Statement | None = app.projections.get(CHARGEBACK, statement_key(org, period))
    return row or Statement(organisation=org, period=period, fiscal_year=fiscal_year(period))


def statement_view(app: Orderledger, caller: Principal, org: str, period: str) -> dict[str, Any]:
    organisation = visible_organisation(app, caller, org)
    row = statement(app, org, period)
    calendar, _ = app.desk.load_calendar()
    return {
        "organisation": organisation,
        "period": period,
        "fiscal_year": row.fiscal_year,
        "status": "closed" if period in calendar.closed else "open",
        "currency": "CAD",
        "lines": [line.model_dump(mode="json") for line in row.lines],
        "totals": {name: _money(value) for name, value in totals(row.lines).items()},
        "position": row.position,
    }


def statement_csv(row: Statement) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in row.lines:
        writer.writerow(_csv_row(row, line))
    return out.getvalue()


def _csv_row(row: Statement, line: ChargebackLine) -> list[str]:
    values = line.model_dump(mode="json")
    values |= {
        "organisation": row.organisation,
        "billing_period": row.period,
        "currency": "CAD",
        "source_events": " ".join(line.source_events),
    }
    return ["" if values.get(name) is None else str(values[name]) for name in CSV_COLUMNS]


@router.get(
    "/v1/chargeback/{org}",
    summary="An organisation's chargeback statement for a month (JSON, or CSV with format=csv)",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def get_statement(
    org: OrgPath,
    period: PeriodQuery,
    app: App,
    caller: Reader,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Any:
    if format == "csv":
        visible_organisation(app, caller, org)
        return Response(
            statement_csv(statement(app, org, period)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="chargeback-{org}-{period}.csv"'},
        )
    return statement_view(app, caller, org, period)


@router.get(
    "/v1/chargeback/{org}/focus",
    summary="An organisation's month as a FOCUS 1.2 cost and usage dataset (CSV)",
    responses={200: {"content": {"text/csv": {}}}},
)
def get_focus(org: OrgPath, period: PeriodQuery, app: App, caller: Reader) -> Response:
    organisation = visible_organisation(app, caller, org)
    body = focus_csv(statement(app, org, period), organisation)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="focus-{org}-{period}.csv"'},
    )


@router.get("/v1/chargeback/{org}/fiscal-year/{year}", summary="An organisation's federal fiscal year (April-March)")
def get_fiscal_year(
    org: OrgPath, year: Annotated[int, Path(ge=2000, le=2100)], app: App, caller: Reader
) -> dict[str, Any]:
    return fiscal_year_view(app, caller, org, year)


def fiscal_year_view(app: Orderledger, caller: Principal, org: str, year: int) -> dict[str, Any]:
    """The 12 months April to March with their totals and status, and the year's totals."""
    organisation = visible_organisation(app, caller, org)
    rows = {
        row.period: row
        for row in app.projections.query(
            CHARGEBACK, "organisation = ? AND fiscal_year = ?", (org, year), order_by="period", limit=12
        )
    }
    calendar, _ = app.desk.load_calendar()
    months = []
    year_totals = {name: ZERO for name in (*CATEGORIES, "total")}
    for index in range(12):
        month = 4 + index
        period = f"{year + (month - 1) // 12:04d}-{(month - 1) % 12 + 1:02d}"
        lines = rows[period].lines if period in rows else ()
        month_totals = totals(lines)
        for name, value in month_totals.items():
            year_totals[name] += value
        months.append(
            {
                "period": period,
                "status": "closed" if period in calendar.closed else "open",
                "lines": len(lines),
                "totals": {name: _money(value) for name, value in month_totals.items()},
            }
        )
    return {
        "organisation": organisation,
        "fiscal_year": year,
        "label": f"{year}-{year + 1}",
        "currency": "CAD",
        "months": months,
        "totals": {name: _money(value) for name, value in year_totals.items()},
    }


def line_events(app: Orderledger, org: str, line: ChargebackLine) -> list[dict[str, Any]]:
    """The events behind a line, as recorded; an invoice shows only this organisation's lines."""
    return [_redacted(event, org) for event in app.ledger.read_events(list(line.source_events))]


def _redacted(event: RecordedEvent, org: str) -> dict[str, Any]:
    view = event.model_dump(mode="json", exclude={"hash", "prev_hash"})
    data = dict(view["data"])
    if event.type == "SupplierInvoiceReceived":
        # An invoice bills several organisations: the others' lines are not this organisation's business.
        own = [line for line in data["lines"] if line.get("client_org") == org]
        if len(own) < len(data["lines"]):
            data["lines"] = own
            data.pop("total", None)
            view["redacted"] = "lines of other organisations and the invoice total are left out"
    view["data"] = data
    return view


@router.get("/v1/chargeback/{org}/lines", summary="Drill down: a statement line and the events it comes from")
def get_line(
    org: OrgPath,
    period: PeriodQuery,
    line_id: Annotated[str, Query(max_length=200)],
    app: App,
    caller: Reader,
) -> dict[str, Any]:
    visible_organisation(app, caller, org)
    found = next((line for line in statement(app, org, period).lines if line.line_id == line_id), None)
    if found is None:
        raise Problem(404, "line_not_found", f"the {period} statement of {org} has no line {line_id}")
    return {"line": found.model_dump(mode="json"), "events": line_events(app, org, found)}


@router.get("/v1/reconciliation", summary="Supplier invoices of a month, reconciled, and the broker's month")
def get_reconciliation(period: PeriodQuery, app: App, caller: Broker) -> dict[str, Any]:
    invoices = app.projections.query(RECONCILIATION, "issued_period = ?", (period,), limit=100_000)
    statements = app.projections.query(CHARGEBACK, "period = ?", (period,), limit=100_000)
    lines = [line for row in statements for line in row.lines]
    month = totals(tuple(lines))
    # Re-billed: what the invoices' lines charge organisations before the fee (credits apart).
    rebilled = sum((line.amount for line in lines if line.invoice_id and line.item != "fee"), ZERO)
    credits = sum((line.amount for line in lines if line.credit_id and line.item != "fee"), ZERO)
    calendar, _ = app.desk.load_calendar()
    return {
        "period": period,
        "status": "closed" if period in calendar.closed else "open",
        "summary": {
            "invoices_received": len(invoices),
            "invoiced": _money(sum((row.invoiced for row in invoices), ZERO)),
            "rebilled_of_these_invoices": _money(sum((row.rebilled for row in invoices), ZERO)),
            "rebilled_in_month": _money(rebilled),
            "fees_earned": _money(sum((line.amount for line in lines if line.item == "fee"), ZERO)),
            "credits": _money(credits),
            "charged_to_organisations": _money(month["total"]),
            "organisations_billed": len({row.organisation for row in statements}),
            "invoices_with_exceptions": sum(1 for row in invoices if exceptions(row)),
        },
        "invoices": [invoice_view(row) for row in invoices],
    }
