"""Billing commands (broker only): organisations, supplier invoices, disputes, assignments, period close."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field, StringConstraints

from api.app.access import App, Broker, CalendarReader, LedgerRoute, Reader
from api.app.commands import Accepted, IdempotencyKey, accepted, business_today, command_context, settle_all
from api.app.problems import Problem
from events.billing.commands import (
    AssignInvoiceLine,
    CloseBillingPeriod,
    DisputeInvoiceLine,
    InvoiceCommand,
    ReceiveSupplierInvoice,
    RegisterOrganisation,
    ReopenBillingPeriod,
    ResolveDispute,
)
from events.billing.facts import DisputeResolution, InvoiceLine, InvoiceNumber, invoice_id
from events.handling.desk import CommandResult
from events.kernel.business_dates import MONTH_PATTERN
from events.kernel.model import Fact
from events.kernel.money import Currency
from events.kernel.rates import TaxStatus
from events.orders.facts import OrgCode, ShortText, Text
from projections.reconciliation import RECONCILIATION, InvoiceReconciliation, exceptions

router = APIRouter(tags=["billing"], route_class=LedgerRoute)
InvoicePath = Annotated[str, Path(max_length=200, pattern=r"^[a-z0-9-]+--[A-Za-z0-9._-]+$")]
LinePath = Annotated[int, Path(ge=1, le=5000)]
PeriodPath = Annotated[str, Path(pattern=MONTH_PATTERN, description="a month, YYYY-MM")]


class OrganisationBody(Fact):
    code: OrgCode
    name_en: ShortText
    name_fr: ShortText
    tax_status: TaxStatus = Field(description="federal bodies pay GST/HST only; others pay provincial taxes too")
    registered_on: date | None = None


class InvoiceBody(Fact):
    invoice_number: InvoiceNumber
    supplier: ShortText
    contract_id: ShortText
    issued_on: date
    currency: Currency = "CAD"
    lines: tuple[InvoiceLine, ...] = Field(min_length=1, max_length=5000)


class DisputeBody(Fact):
    reason: Annotated[str, StringConstraints(min_length=3, max_length=2000)]
    disputed_on: date | None = None


class ResolutionBody(Fact):
    resolution: DisputeResolution
    note: Text = ""
    resolved_on: date | None = None


class AssignmentBody(Fact):
    client_org: OrgCode
    assigned_on: date | None = None


class CloseBody(Fact):
    closed_on: date | None = Field(default=None, description="default: today (Eastern Time)")


class ReopenBody(Fact):
    reason: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    reopened_on: date | None = None


def invoice_view(row: InvoiceReconciliation) -> dict[str, Any]:
    return row.model_dump(mode="json") | {"exceptions": exceptions(row)}


def _invoice_answer(app: App, response: Response, invoice: str, result: CommandResult) -> dict[str, Any]:
    settle_all(app, response, result)  # the reconciliation and every statement the invoice touched
    row = app.projections.get(RECONCILIATION, invoice)
    return accepted(result).model_dump() | {"invoice": invoice_view(row) if row else None}


@router.post("/v1/organisations", status_code=201, response_model=Accepted, summary="Register a client organisation")
def register_organisation(
    body: OrganisationBody,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    command = RegisterOrganisation(
        **body.model_dump(exclude={"registered_on"}), registered_on=body.registered_on or business_today(app)
    )
    result = app.billing.register_organisation(command, command_context(request, app, caller, body, idempotency_key))
    response.headers["Location"] = f"/v1/organisations/{body.code}"
    return accepted(result)


@router.get("/v1/organisations/{code}", summary="A registered organisation")
def get_organisation(code: Annotated[str, Path(max_length=16)], app: App, caller: Reader) -> dict[str, Any]:
    if not caller.may_see(code):
        raise Problem(403, "forbidden_organisation", f"this {caller.role} key may not see the organisation {code}")
    organisation = app.desk.load_organisation(code)
    if organisation is None:
        raise Problem(404, "organisation_not_found", f"{code} is not a registered organisation")
    return organisation.model_dump(mode="json", exclude={"type", "schema_version"})


@router.post("/v1/invoices", status_code=201, summary="Receive a supplier invoice (taxes computed by the ledger)")
def receive_invoice(
    body: InvoiceBody,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    command = ReceiveSupplierInvoice(**body.model_dump(mode="python"))
    result = app.billing.receive_invoice(command, command_context(request, app, caller, body, idempotency_key))
    invoice = invoice_id(body.supplier, body.invoice_number)
    response.headers["Location"] = f"/v1/invoices/{invoice}"
    return _invoice_answer(app, response, invoice, result)


@router.get("/v1/invoices/{invoice}", summary="A supplier invoice, reconciled line by line")
def get_invoice(invoice: InvoicePath, app: App, caller: Broker) -> dict[str, Any]:
    row = app.projections.get(RECONCILIATION, invoice)
    if row is None:
        raise Problem(404, "invoice_not_found", f"there is no invoice {invoice}")
    return invoice_view(row)


def _dispute(line_no: int, body: DisputeBody, today: date) -> InvoiceCommand:
    return DisputeInvoiceLine(line_no=line_no, reason=body.reason, disputed_on=body.disputed_on or today)


def _resolution(line_no: int, body: ResolutionBody, today: date) -> InvoiceCommand:
    return ResolveDispute(
        line_no=line_no, resolution=body.resolution, note=body.note, resolved_on=body.resolved_on or today
    )


def _assignment(line_no: int, body: AssignmentBody, today: date) -> InvoiceCommand:
    return AssignInvoiceLine(line_no=line_no, client_org=body.client_org, assigned_on=body.assigned_on or today)


# path, body, the command it makes, summary: what can happen to an invoice line (broker only).
LINE_ACTIONS: tuple[tuple[str, type[Fact], Callable[[int, Any, date], InvoiceCommand], str], ...] = (
    ("disputes", DisputeBody, _dispute, "Dispute an invoice line: its charges are withheld"),
    (
        "resolution",
        ResolutionBody,
        _resolution,
        "Resolve a dispute: withdrawn re-bills the line, upheld leaves it withheld",
    ),
    (
        "assignment",
        AssignmentBody,
        _assignment,
        "Re-bill an unassigned line, or one naming an unknown organisation, to a registered organisation",
    ),
)


def _line_endpoint(
    path: str, body_model: type[Fact], make: Callable[[int, Any, date], InvoiceCommand]
) -> Callable[..., dict[str, Any]]:
    def endpoint(
        invoice: InvoicePath,
        line_no: LinePath,
        body: Any,
        request: Request,
        response: Response,
        app: App,
        caller: Broker,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        command = make(line_no, body, business_today(app))
        context = command_context(request, app, caller, body, idempotency_key)
        return _invoice_answer(app, response, invoice, app.billing.execute_invoice(invoice, command, context))

    # FastAPI reads the body's model from the annotation: give each endpoint its own.
    endpoint.__annotations__ = {**endpoint.__annotations__, "body": body_model}
    endpoint.__name__ = path
    return endpoint


for _path, _body, _make, _summary in LINE_ACTIONS:
    router.post(f"/v1/invoices/{{invoice}}/lines/{{line_no}}/{_path}", summary=_summary)(
        _line_endpoint(_path, _body, _make)
    )


@router.get("/v1/periods", summary="The billing calendar: which months are closed")
def billing_calendar(app: App, caller: CalendarReader) -> dict[str, Any]:
    calendar, version = app.desk.load_calendar()
    return {"closed": sorted(calendar.closed), "stream_version": version}


@router.post("/v1/periods/{period}/close", summary="Close a billing month: its statements are frozen")
def close_period(
    period: PeriodPath,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    body: CloseBody | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    body = body or CloseBody()
    command = CloseBillingPeriod(period=period, closed_on=body.closed_on or business_today(app))
    result = app.billing.execute_period(command, command_context(request, app, caller, body, idempotency_key))
    return accepted(result)


@router.post("/v1/periods/{period}/reopen", summary="Reopen a closed month (audited: who, when, why)")
def reopen_period(
    period: PeriodPath,
    body: ReopenBody,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    command = ReopenBillingPeriod(
        period=period, reason=body.reason, reopened_on=body.reopened_on or business_today(app)
    )
    result = app.billing.execute_period(command, command_context(request, app, caller, body, idempotency_key))
    return accepted(result)
