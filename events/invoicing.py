"""The billing deciders: supplier invoices (taxes computed from the rates file) and billing periods. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import date
from decimal import Decimal

from events.billing import (
    BillingPeriodClosed,
    BillingPeriodReopened,
    CloseBillingPeriod,
    DisputeInvoiceLine,
    DisputeResolved,
    InvoiceCommand,
    InvoiceEvent,
    InvoiceLine,
    InvoiceLineDisputed,
    PeriodCommand,
    PeriodEvent,
    PricedInvoiceLine,
    ReceiveSupplierInvoice,
    ReopenBillingPeriod,
    ResolveDispute,
    SupplierInvoiceReceived,
)
from events.errors import CommandRejected
from events.model import Fact
from events.money import ZERO, cents
from events.rates import RateBook, TaxStatus


class Invoice(Fact):
    invoice_number: str
    supplier: str
    lines: int
    disputed: frozenset[int] = frozenset()
    resolved: frozenset[int] = frozenset()


class BillingPeriod(Fact):
    period: str
    closed: bool = False
    closed_on: date | None = None


def decide_invoice(
    command: InvoiceCommand,
    invoice: Invoice | None,
    rates: RateBook,
    tax_statuses: Mapping[str, TaxStatus],
    fee_rate: Decimal | None = None,
    closed_periods: AbstractSet[str] = frozenset(),
) -> list[InvoiceEvent]:
    """Decide an invoice command.

    `tax_statuses` says what kind of body each organisation is (unknown: taxed as federal);
    `fee_rate` is the contract's management fee; `closed_periods` are the months already closed.
    The billing period is decided here, not in a projection: facts of different streams reach
    Kafka consumers in no global order, so "was October closed?" must be answered by the ledger.
    """
    match command:
        case ReceiveSupplierInvoice():
            if invoice is not None:
                raise CommandRejected(
                    "duplicate_invoice",
                    f"{command.supplier} already has an invoice {command.invoice_number}: each number is received once",
                    409,
                )
            lines = tuple(
                _priced(n, line, command, rates, tax_statuses, closed_periods)
                for n, line in enumerate(command.lines, 1)
            )
            return [
                SupplierInvoiceReceived(
                    invoice_number=command.invoice_number,
                    supplier=command.supplier,
                    contract_id=command.contract_id,
                    issued_on=command.issued_on,
                    fee_rate=fee_rate,
                    lines=lines,
                    total=sum((line.total for line in lines), ZERO),
                )
            ]
    if invoice is None:
        raise CommandRejected("invoice_not_found", "there is no such invoice", 404)
    match command:
        case DisputeInvoiceLine():
            _line_exists(invoice, command.line_no)
            if command.line_no in invoice.disputed - invoice.resolved:
                raise CommandRejected("already_disputed", f"line {command.line_no} is already in dispute")
            return [
                InvoiceLineDisputed(line_no=command.line_no, reason=command.reason, disputed_on=command.disputed_on)
            ]
        case ResolveDispute():
            _line_exists(invoice, command.line_no)
            if command.line_no not in invoice.disputed - invoice.resolved:
                raise CommandRejected("not_disputed", f"line {command.line_no} is not in dispute")
            return [
                DisputeResolved(
                    line_no=command.line_no,
                    resolution=command.resolution,
                    note=command.note,
                    resolved_on=command.resolved_on,
                )
            ]
    raise CommandRejected("unknown_command", f"{type(command).__name__} is not an invoice command")


def open_period_from(period: str, closed_periods: AbstractSet[str]) -> str:
    """`period` if it is open, else the first later month that is."""
    year, month = (int(part) for part in period.split("-"))
    while f"{year:04d}-{month:02d}" in closed_periods:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}"


def _priced(
    number: int,
    line: InvoiceLine,
    command: ReceiveSupplierInvoice,
    rates: RateBook,
    tax_statuses: Mapping[str, TaxStatus],
    closed_periods: AbstractSet[str],
) -> PricedInvoiceLine:
    status: TaxStatus = tax_statuses.get(line.client_org, "federal")
    # Sales tax applies on the amount, shipping at cost and the environmental fee alike.
    base = line.amount + line.shipping + line.ehf
    taxes = {
        name: cents(base * rate)
        for name, rate in sorted(rates.tax_rates(line.province, status, command.issued_on).items())
    }
    tax = sum(taxes.values(), ZERO)
    return PricedInvoiceLine(
        line_no=number,
        client_org=line.client_org,
        reference=line.reference,
        charge_period=line.charge_period,
        amount=line.amount,
        shipping=line.shipping,
        ehf=line.ehf,
        province=line.province,
        taxes=taxes,
        tax=tax,
        stated_taxes=line.taxes,
        total=base + tax,
        billing_period=open_period_from(line.charge_period, closed_periods),
        correction=line.charge_period in closed_periods,
    )


def _line_exists(invoice: Invoice, line_no: int) -> None:
    if not 1 <= line_no <= invoice.lines:
        raise CommandRejected("unknown_invoice_line", f"invoice {invoice.invoice_number} has no line {line_no}")


def evolve_invoice(invoice: Invoice | None, event: InvoiceEvent) -> Invoice:
    match event:
        case SupplierInvoiceReceived():
            return Invoice(invoice_number=event.invoice_number, supplier=event.supplier, lines=len(event.lines))
    if invoice is None:
        raise ValueError(f"{event.type} before SupplierInvoiceReceived")
    match event:
        case InvoiceLineDisputed():
            return invoice.model_copy(
                update={"disputed": invoice.disputed | {event.line_no}, "resolved": invoice.resolved - {event.line_no}}
            )
        case DisputeResolved():
            return invoice.model_copy(update={"resolved": invoice.resolved | {event.line_no}})
    raise ValueError(f"unknown invoice event {event!r}")


def decide_period(command: PeriodCommand, period: BillingPeriod | None) -> list[PeriodEvent]:
    state = period or BillingPeriod(period=command.period)
    match command:
        case CloseBillingPeriod():
            if state.closed:
                raise CommandRejected("period_closed", f"{command.period} is already closed")
            return [BillingPeriodClosed(period=command.period, closed_on=command.closed_on)]
        case ReopenBillingPeriod():
            if not state.closed:
                raise CommandRejected("period_open", f"{command.period} is not closed")
            return [
                BillingPeriodReopened(period=command.period, reason=command.reason, reopened_on=command.reopened_on)
            ]
    raise CommandRejected("unknown_command", f"{type(command).__name__} is not a billing period command")


def evolve_period(period: BillingPeriod | None, event: PeriodEvent) -> BillingPeriod:
    state = period or BillingPeriod(period=event.period)
    match event:
        case BillingPeriodClosed():
            return state.model_copy(update={"closed": True, "closed_on": event.closed_on})
        case BillingPeriodReopened():
            return state.model_copy(update={"closed": False, "closed_on": None})
    raise ValueError(f"unknown billing period event {event!r}")


def fold_invoice(events: Iterable[InvoiceEvent]) -> Invoice | None:
    invoice: Invoice | None = None
    for event in events:
        invoice = evolve_invoice(invoice, event)
    return invoice


def fold_period(events: Iterable[PeriodEvent]) -> BillingPeriod | None:
    period: BillingPeriod | None = None
    for event in events:
        period = evolve_period(period, event)
    return period
