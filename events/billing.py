"""Billing commands and events: supplier invoices, disputes, and monthly billing periods (seed 003)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from events.contracts import Period
from events.model import Fact
from events.money import Amount, Currency, Money
from events.orders import ShortText, Text
from events.rates import Province

InvoiceNumber = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
# Invoice lines name organisations as the supplier wrote them: an unknown one is still a fact
# (a real invoice cannot be refused) and shows up as a reconciliation exception.
ClientCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]
DisputeResolution = Literal["upheld", "withdrawn"]


class InvoiceLine(Fact):
    client_org: ClientCode
    reference: ShortText
    charge_period: Period
    amount: Amount
    shipping: Amount = Decimal("0.00")
    ehf: Amount = Decimal("0.00")
    province: Province
    taxes: Amount | None = Field(default=None, description="what the supplier states; the ledger computes its own")


class PricedInvoiceLine(Fact):
    line_no: int
    client_org: str
    reference: str
    charge_period: str
    amount: Money
    shipping: Money
    ehf: Money
    province: str
    taxes: dict[str, Money]  # computed from the rates file, per component
    tax: Money
    stated_taxes: Money | None
    total: Money
    # The month the line is re-billed in: its charge period, or, when that month was already
    # closed when the invoice arrived, the next open month (a correction pointing back to it).
    billing_period: str
    correction: bool = False


# ---------------------------------------------------------------- commands


class ReceiveSupplierInvoice(Fact):
    invoice_number: InvoiceNumber
    supplier: ShortText
    contract_id: ShortText
    issued_on: date
    lines: tuple[InvoiceLine, ...] = Field(min_length=1, max_length=5000)
    currency: Currency = "CAD"


class DisputeInvoiceLine(Fact):
    line_no: int = Field(ge=1)
    reason: Text
    disputed_on: date


class ResolveDispute(Fact):
    line_no: int = Field(ge=1)
    resolution: DisputeResolution
    note: Text = ""
    resolved_on: date


class CloseBillingPeriod(Fact):
    period: Period
    closed_on: date


class ReopenBillingPeriod(Fact):
    period: Period
    reason: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    reopened_on: date


InvoiceCommand = ReceiveSupplierInvoice | DisputeInvoiceLine | ResolveDispute
PeriodCommand = CloseBillingPeriod | ReopenBillingPeriod


# ---------------------------------------------------------------- events


class SupplierInvoiceReceived(Fact):
    type: Literal["SupplierInvoiceReceived"] = "SupplierInvoiceReceived"
    schema_version: Literal[1] = 1
    invoice_number: str
    supplier: str
    contract_id: str
    issued_on: date
    currency: Currency = "CAD"
    # The contract's management-fee rate when the invoice arrived; None if the contract is unknown
    # (the invoice is still a fact, and a reconciliation exception).
    fee_rate: Decimal | None
    lines: tuple[PricedInvoiceLine, ...]
    total: Money


class InvoiceLineDisputed(Fact):
    type: Literal["InvoiceLineDisputed"] = "InvoiceLineDisputed"
    schema_version: Literal[1] = 1
    line_no: int
    reason: str
    disputed_on: date


class DisputeResolved(Fact):
    type: Literal["DisputeResolved"] = "DisputeResolved"
    schema_version: Literal[1] = 1
    line_no: int
    resolution: DisputeResolution
    note: str
    resolved_on: date


class BillingPeriodClosed(Fact):
    type: Literal["BillingPeriodClosed"] = "BillingPeriodClosed"
    schema_version: Literal[1] = 1
    period: str
    closed_on: date


class BillingPeriodReopened(Fact):
    """Only by an explicit, audited command: who (the envelope's actor), when, and why."""

    type: Literal["BillingPeriodReopened"] = "BillingPeriodReopened"
    schema_version: Literal[1] = 1
    period: str
    reason: str
    reopened_on: date


InvoiceEvent = Annotated[SupplierInvoiceReceived | InvoiceLineDisputed | DisputeResolved, Field(discriminator="type")]
PeriodEvent = Annotated[BillingPeriodClosed | BillingPeriodReopened, Field(discriminator="type")]
INVOICE_EVENT_TYPES: tuple[type[Fact], ...] = (SupplierInvoiceReceived, InvoiceLineDisputed, DisputeResolved)
PERIOD_EVENT_TYPES: tuple[type[Fact], ...] = (BillingPeriodClosed, BillingPeriodReopened)
