"""The billing deciders: organisations, supplier invoices, credits and the billing calendar. Pure.

Taxes and the management fee are computed here, once, and recorded in the events: a projection
copies figures, it never recomputes them, so every runtime shows the same cents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from events.billing.commands import (
    AssignInvoiceLine,
    CloseBillingPeriod,
    DisputeInvoiceLine,
    InvoiceCommand,
    PeriodCommand,
    ReceiveSupplierInvoice,
    RegisterOrganisation,
    ReopenBillingPeriod,
    ResolveDispute,
)
from events.billing.facts import (
    BilledIn,
    BillingPeriodClosed,
    BillingPeriodReopened,
    ChargeKind,
    CreditGranted,
    CreditKind,
    DisputeResolved,
    InvoiceEvent,
    InvoiceLine,
    InvoiceLineAssigned,
    InvoiceLineDisputed,
    LineRebill,
    OrganisationRegistered,
    PeriodEvent,
    PricedInvoiceLine,
    SupplierInvoiceReceived,
)
from events.kernel.errors import CommandRejected
from events.kernel.model import Fact
from events.kernel.money import ZERO, cents
from events.kernel.rates import RateBook, TaxStatus

# An organisation that is not registered is taxed as what most clients are: a federal body.
DEFAULT_TAX_STATUS: TaxStatus = "federal"
ORDER_NUMBER = re.compile(r"^ORD-[0-9]{4}-[0-9]{6}$")


# ---------------------------------------------------------------- organisations


def decide_organisation(command: RegisterOrganisation, known: bool) -> list[OrganisationRegistered]:
    if known:
        raise CommandRejected("organisation_exists", f"{command.code} is already registered", 409)
    return [OrganisationRegistered(**command.model_dump())]


# ---------------------------------------------------------------- billing calendar


class BillingCalendar(Fact):
    """Which months are closed; one stream for the whole ledger, so every charge can check it."""

    closed: frozenset[str] = frozenset()


def billed_in(charge_period: str, calendar: BillingCalendar) -> BilledIn:
    """The first open month from `charge_period` on; a correction if the charge period is closed."""
    year, month = (int(part) for part in charge_period.split("-"))
    while f"{year:04d}-{month:02d}" in calendar.closed:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return BilledIn(
        charge_period=charge_period,
        billing_period=f"{year:04d}-{month:02d}",
        correction=charge_period in calendar.closed,
    )


def decide_period(command: PeriodCommand, calendar: BillingCalendar) -> list[PeriodEvent]:
    match command:
        case CloseBillingPeriod():
            if command.period in calendar.closed:
                raise CommandRejected("period_closed", f"{command.period} is already closed", 409)
            if command.closed_on.strftime("%Y-%m") <= command.period:
                raise CommandRejected(
                    "period_not_over",
                    f"{command.period} is not over yet: a month can be closed from the first day of the next one",
                )
            return [BillingPeriodClosed(period=command.period, closed_on=command.closed_on)]
        case ReopenBillingPeriod():
            if command.period not in calendar.closed:
                raise CommandRejected("period_open", f"{command.period} is not closed", 409)
            return [
                BillingPeriodReopened(period=command.period, reason=command.reason, reopened_on=command.reopened_on)
            ]
    raise CommandRejected("unknown_command", f"{type(command).__name__} is not a billing period command")


def evolve_calendar(calendar: BillingCalendar, event: PeriodEvent) -> BillingCalendar:
    match event:
        case BillingPeriodClosed():
            return BillingCalendar(closed=calendar.closed | {event.period})
        case BillingPeriodReopened():
            return BillingCalendar(closed=calendar.closed - {event.period})
    raise ValueError(f"unknown billing period event {event!r}")


def fold_calendar(events: Iterable[PeriodEvent]) -> BillingCalendar:
    calendar = BillingCalendar()
    for event in events:
        calendar = evolve_calendar(calendar, event)
    return calendar


# ---------------------------------------------------------------- invoices


class Invoice(Fact):
    invoice_number: str
    supplier: str
    contract_id: str
    issued_on: date
    fee_rate: Decimal
    lines: tuple[PricedInvoiceLine, ...]
    rebills: dict[int, LineRebill | None]  # line -> what it re-bills, and to whom (None: nobody yet)
    disputed: frozenset[int] = frozenset()  # lines in an open dispute
    upheld: frozenset[int] = frozenset()  # lines whose dispute was upheld: never re-billed again


@dataclass(frozen=True)
class InvoiceContext:
    """What the ledger knows when an invoice command is decided."""

    rates: RateBook
    organisations: Mapping[str, TaxStatus]  # registered organisations and their tax status
    calendar: BillingCalendar
    contract_known: bool = False
    contract_kind: str | None = None
    fee_rate: Decimal = ZERO
    known_orders: AbstractSet[str] = frozenset()


def decide_invoice(command: InvoiceCommand, invoice: Invoice | None, context: InvoiceContext) -> list[InvoiceEvent]:
    match command:
        case ReceiveSupplierInvoice():
            if invoice is not None:
                raise CommandRejected(
                    "duplicate_invoice",
                    f"{command.supplier} already has an invoice {command.invoice_number}: each number is received once",
                    409,
                )
            lines = tuple(_priced(n, line, command, context) for n, line in enumerate(command.lines, 1))
            return [
                SupplierInvoiceReceived(
                    invoice_number=command.invoice_number,
                    supplier=command.supplier,
                    contract_id=command.contract_id,
                    contract_known=context.contract_known,
                    fee_rate=context.fee_rate,
                    issued_on=command.issued_on,
                    lines=lines,
                    total=sum((line.total for line in lines), ZERO),
                )
            ]
    if invoice is None:
        raise CommandRejected("invoice_not_found", "there is no such invoice", 404)
    match command:
        case DisputeInvoiceLine():
            line = _line(invoice, command.line_no)
            if command.line_no in invoice.disputed:
                raise CommandRejected("already_disputed", f"line {command.line_no} is already in dispute", 409)
            _not_upheld(invoice, command.line_no)
            return [
                InvoiceLineDisputed(
                    line_no=command.line_no,
                    reason=command.reason,
                    disputed_on=command.disputed_on,
                    withheld=invoice.rebills.get(command.line_no),
                    billed=billed_in(line.billed.charge_period, context.calendar),
                )
            ]
        case ResolveDispute():
            line = _line(invoice, command.line_no)
            if command.line_no not in invoice.disputed:
                raise CommandRejected("not_disputed", f"line {command.line_no} is not in dispute", 409)
            return [
                DisputeResolved(
                    line_no=command.line_no,
                    resolution=command.resolution,
                    note=command.note,
                    resolved_on=command.resolved_on,
                    rebilled=invoice.rebills.get(command.line_no) if command.resolution == "withdrawn" else None,
                    billed=billed_in(line.billed.charge_period, context.calendar),
                )
            ]
        case AssignInvoiceLine():
            line = _line(invoice, command.line_no)
            _not_upheld(invoice, command.line_no)
            current = invoice.rebills.get(command.line_no)
            if current is not None:
                raise CommandRejected(
                    "line_already_billed",
                    f"line {command.line_no} is already re-billed to {current.client_org}",
                    409,
                )
            if command.line_no in invoice.disputed:
                raise CommandRejected("line_in_dispute", f"line {command.line_no} is in dispute: resolve it first", 409)
            status = context.organisations.get(command.client_org)
            if status is None:
                raise CommandRejected(
                    "unknown_organisation",
                    f"{command.client_org} is not a registered organisation: register it first",
                    422,
                )
            charges = compute_charges(
                status,
                line.amount,
                line.amount + line.shipping + line.ehf,
                line.province,
                invoice.issued_on,
                invoice.fee_rate,
                context.rates,
            )
            return [
                InvoiceLineAssigned(
                    line_no=command.line_no,
                    client_org=command.client_org,
                    assigned_on=command.assigned_on,
                    rebill=_rebill(invoice, line, command.client_org, charges),
                    billed=billed_in(line.billed.charge_period, context.calendar),
                )
            ]
    raise CommandRejected("unknown_command", f"{type(command).__name__} is not an invoice command")


@dataclass(frozen=True)
class Charges:
    taxes: dict[str, Decimal]
    tax: Decimal
    fee: Decimal


def compute_charges(
    status: TaxStatus,
    amount: Decimal,
    taxable: Decimal,
    province: str,
    tax_date: date,
    fee_rate: Decimal,
    rates: RateBook,
) -> Charges:
    """Taxes per component on the taxable base, each rounded half-up to the cent, and the fee on the amount."""
    taxes = {name: cents(taxable * rate) for name, rate in sorted(rates.tax_rates(province, status, tax_date).items())}
    return Charges(taxes=taxes, tax=sum(taxes.values(), ZERO), fee=cents(amount * fee_rate))


def _priced(
    number: int, line: InvoiceLine, command: ReceiveSupplierInvoice, context: InvoiceContext
) -> PricedInvoiceLine:
    known = line.client_org is not None and line.client_org in context.organisations
    status = context.organisations.get(line.client_org or "", DEFAULT_TAX_STATUS)
    # Sales tax applies on the amount, shipping at cost and the environmental fee alike.
    base = line.amount + line.shipping + line.ehf
    charges = compute_charges(
        status, line.amount, base, line.province, command.issued_on, context.fee_rate, context.rates
    )
    kind: ChargeKind = "usage" if context.contract_kind == "cloud" else "purchase"
    if context.contract_kind is None:
        kind = "purchase" if ORDER_NUMBER.match(line.reference) else "usage"
    return PricedInvoiceLine(
        line_no=number,
        client_org=line.client_org,
        organisation_known=known,
        kind=kind,
        reference=line.reference,
        order_id=line.reference if line.reference in context.known_orders else None,
        amount=line.amount,
        shipping=line.shipping,
        ehf=line.ehf,
        province=line.province,
        stated_taxes=line.taxes,
        tax_status=status,
        taxes=charges.taxes,
        tax=charges.tax,
        total=base + charges.tax,
        fee=charges.fee,
        billed=billed_in(line.charge_period, context.calendar),
    )


def _line(invoice: Invoice, line_no: int) -> PricedInvoiceLine:
    if not 1 <= line_no <= len(invoice.lines):
        raise CommandRejected("unknown_invoice_line", f"invoice {invoice.invoice_number} has no line {line_no}", 404)
    return invoice.lines[line_no - 1]


def _not_upheld(invoice: Invoice, line_no: int) -> None:
    if line_no in invoice.upheld:
        raise CommandRejected(
            "dispute_upheld",
            f"line {line_no} was disputed and the dispute upheld: it is not billed; the supplier owes a credit note",
            409,
        )


def _rebill(
    invoice: Invoice | SupplierInvoiceReceived, line: PricedInvoiceLine, org: str, charges: Charges
) -> LineRebill:
    return LineRebill(
        invoice_number=invoice.invoice_number,
        supplier=invoice.supplier,
        contract_id=invoice.contract_id,
        line_no=line.line_no,
        client_org=org,
        kind=line.kind,
        reference=line.reference,
        order_id=line.order_id,
        province=line.province,
        amount=line.amount,
        shipping=line.shipping,
        ehf=line.ehf,
        taxes=charges.taxes,
        tax=charges.tax,
        fee_rate=invoice.fee_rate,
        fee=charges.fee,
    )


def rebill_as_received(invoice: SupplierInvoiceReceived, line: PricedInvoiceLine) -> LineRebill | None:
    """What a line re-bills as received: nothing if its organisation is missing or not registered."""
    if not line.organisation_known or line.client_org is None:
        return None
    return _rebill(invoice, line, line.client_org, Charges(taxes=line.taxes, tax=line.tax, fee=line.fee))


def evolve_invoice(invoice: Invoice | None, event: InvoiceEvent) -> Invoice:
    match event:
        case SupplierInvoiceReceived():
            return Invoice(
                invoice_number=event.invoice_number,
                supplier=event.supplier,
                contract_id=event.contract_id,
                issued_on=event.issued_on,
                fee_rate=event.fee_rate,
                lines=event.lines,
                rebills={line.line_no: rebill_as_received(event, line) for line in event.lines},
            )
    if invoice is None:
        raise ValueError(f"{event.type} before SupplierInvoiceReceived")
    match event:
        case InvoiceLineDisputed():
            return invoice.model_copy(update={"disputed": invoice.disputed | {event.line_no}})
        case DisputeResolved():
            upheld = {event.line_no} if event.resolution == "upheld" else set()
            return invoice.model_copy(
                update={"disputed": invoice.disputed - {event.line_no}, "upheld": invoice.upheld | upheld}
            )
        case InvoiceLineAssigned():
            return invoice.model_copy(update={"rebills": {**invoice.rebills, event.line_no: event.rebill}})
    raise ValueError(f"unknown invoice event {event!r}")


def fold_invoice(events: Iterable[InvoiceEvent]) -> Invoice | None:
    invoice: Invoice | None = None
    for event in events:
        invoice = evolve_invoice(invoice, event)
    return invoice


# ---------------------------------------------------------------- credits


@dataclass(frozen=True)
class CreditDue:
    """A credit owed to an organisation: a late-delivery rebate on an order, or a service credit for a missed month."""

    credit_id: str
    kind: CreditKind
    client_org: str
    tax_status: TaxStatus
    reference: str  # the order, or the service and month
    order_id: str | None
    contract_id: str | None
    supplier: str
    province: str
    amount: Decimal
    reason: str
    granted_on: date
    charge_period: str
    fee_rate: Decimal
    based_on: tuple[UUID, ...]  # the events that justify it


def grant_credit(due: CreditDue, rates: RateBook, calendar: BillingCalendar) -> CreditGranted:
    """The credit with its taxes and fee (credited too), in the first open month from its charge period."""
    charges = compute_charges(due.tax_status, due.amount, due.amount, due.province, due.granted_on, due.fee_rate, rates)
    return CreditGranted(
        credit_id=due.credit_id,
        kind=due.kind,
        client_org=due.client_org,
        reference=due.reference,
        order_id=due.order_id,
        contract_id=due.contract_id,
        supplier=due.supplier,
        reason=due.reason,
        granted_on=due.granted_on,
        province=due.province,
        amount=due.amount,
        taxes=charges.taxes,
        tax=charges.tax,
        fee_rate=due.fee_rate,
        fee=charges.fee,
        based_on=due.based_on,
        billed=billed_in(due.charge_period, calendar),
    )
