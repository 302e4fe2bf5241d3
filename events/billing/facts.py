"""Billing commands and events: organisations, supplier invoices, disputes, credits and billing periods (seed 003).

Every fact that changes what an organisation is charged carries its **billing period**: the month
it is re-billed in, decided by the ledger when the fact is recorded. It is the fact's charge period,
or, when that month was already closed, the first open month after it (a correction that points
back to the charge period). Deciding it with the ledger, not in a projection, keeps closed months
frozen whatever order the facts reach a projection in (Kafka orders them per stream only).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StringConstraints

from events.contracts.facts import Period
from events.kernel.model import Fact
from events.kernel.money import Amount, Currency, Money
from events.kernel.rates import Province, TaxStatus
from events.orders.facts import ShortText

InvoiceNumber = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
# Invoice lines name organisations as the supplier wrote them: an unknown one is still a fact
# (a real invoice cannot be refused) and shows up as a reconciliation exception; so does a line
# the supplier left unassigned (no organisation).
ClientCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]
DisputeResolution = Literal["upheld", "withdrawn"]
# Cloud consumption is usage; goods and services bought through call-ups are purchases.
ChargeKind = Literal["usage", "purchase"]
CreditKind = Literal["late_delivery_rebate", "service_credit"]
BILLING_PERIODS_STREAM = "billing-periods"


def invoice_id(supplier: str, invoice_number: str) -> str:
    """An invoice's id: the supplier's name as a slug, and its number ('/' becomes '_', which numbers never hold)."""
    slug = re.sub(r"[^a-z0-9]+", "-", supplier.lower()).strip("-") or "supplier"
    return f"{slug}--{invoice_number.replace('/', '_')}"


class BilledIn(Fact):
    """Where a fact is re-billed: its billing period, and whether that corrects a closed month."""

    charge_period: str
    billing_period: str
    correction: bool = False


# ---------------------------------------------------------------- organisations


class OrganisationRegistered(Fact):
    """A client organisation the broker re-bills, with its tax status (federal, crown corporation, other)."""

    type: Literal["OrganisationRegistered"] = "OrganisationRegistered"
    schema_version: Literal[1] = 1
    code: str
    name_en: str
    name_fr: str
    tax_status: TaxStatus
    registered_on: date


# ---------------------------------------------------------------- invoices


class InvoiceLine(Fact):
    client_org: ClientCode | None = Field(default=None, description="None: the supplier left the line unassigned")
    reference: ShortText
    charge_period: Period
    amount: Amount
    shipping: Amount = Decimal("0.00")
    ehf: Amount = Decimal("0.00")
    province: Province
    taxes: Amount | None = Field(default=None, description="what the supplier states; the ledger computes its own")


class LineRebill(Fact):
    """What one invoice line re-bills to one organisation, every figure computed by the ledger."""

    invoice_number: str
    supplier: str
    contract_id: str
    line_no: int
    client_org: str
    kind: ChargeKind
    reference: str
    order_id: str | None
    province: str
    amount: Money
    shipping: Money
    ehf: Money
    taxes: dict[str, Money]  # per component, from the rates file on the invoice's issue date
    tax: Money
    fee_rate: Decimal
    fee: Money  # the management fee: the contract's rate on the amount (shipping and EHF pass at cost)


class PricedInvoiceLine(Fact):
    line_no: int
    client_org: str | None
    organisation_known: bool
    kind: ChargeKind
    reference: str
    order_id: str | None  # when the reference is an order of the ledger
    amount: Money
    shipping: Money
    ehf: Money
    province: str
    stated_taxes: Money | None
    # Taxes as the ledger computes them for this client (as federal if the organisation is unknown).
    tax_status: TaxStatus
    taxes: dict[str, Money]
    tax: Money
    total: Money  # amount + shipping + EHF + tax: what the supplier is owed for the line
    fee: Money
    billed: BilledIn


class SupplierInvoiceReceived(Fact):
    """A supplier's invoice, each line priced by the ledger: taxes per component, fee, billing period."""

    type: Literal["SupplierInvoiceReceived"] = "SupplierInvoiceReceived"
    schema_version: Literal[1] = 1
    invoice_number: str
    supplier: str
    contract_id: str
    contract_known: bool
    # The contract's management-fee rate when the invoice arrived (0 if the contract is unknown:
    # the invoice is still a fact, and a reconciliation exception).
    fee_rate: Decimal
    issued_on: date
    currency: Currency = "CAD"
    lines: tuple[PricedInvoiceLine, ...]
    total: Money


class InvoiceLineDisputed(Fact):
    """The line's charges are withheld from the organisation until the dispute is resolved."""

    type: Literal["InvoiceLineDisputed"] = "InvoiceLineDisputed"
    schema_version: Literal[1] = 1
    line_no: int
    reason: str
    disputed_on: date
    withheld: LineRebill | None  # None: the line was not re-billed to anyone
    billed: BilledIn


class DisputeResolved(Fact):
    """Withdrawn: the charges are re-billed. Upheld: they stay withheld (the supplier owes a credit note)."""

    type: Literal["DisputeResolved"] = "DisputeResolved"
    schema_version: Literal[1] = 1
    line_no: int
    resolution: DisputeResolution
    note: str
    resolved_on: date
    rebilled: LineRebill | None  # withdrawn: the charges withheld, billed again
    billed: BilledIn


class InvoiceLineAssigned(Fact):
    """An unassigned invoice line, or one naming an unknown organisation, re-billed to a registered organisation."""

    type: Literal["InvoiceLineAssigned"] = "InvoiceLineAssigned"
    schema_version: Literal[1] = 1
    line_no: int
    client_org: str
    assigned_on: date
    rebill: LineRebill
    billed: BilledIn


# ---------------------------------------------------------------- credits


class CreditGranted(Fact):
    """A credit to an organisation, off the price before tax; the taxes and the fee on it are credited too."""

    type: Literal["CreditGranted"] = "CreditGranted"
    schema_version: Literal[1] = 1
    credit_id: str
    kind: CreditKind
    client_org: str
    reference: str  # the order, or the service and month, the credit comes from
    order_id: str | None
    contract_id: str | None
    supplier: str
    reason: str
    granted_on: date
    province: str
    amount: Money
    taxes: dict[str, Money]
    tax: Money
    fee_rate: Decimal
    fee: Money
    based_on: tuple[UUID, ...]  # the events that justify the credit (e.g. the order's rebate)
    billed: BilledIn


# ---------------------------------------------------------------- billing periods


class BillingPeriodClosed(Fact):
    """A billing month was closed: later facts for it are billed in the next open month, as corrections."""

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


OrganisationEvent = OrganisationRegistered
InvoiceEvent = Annotated[
    SupplierInvoiceReceived | InvoiceLineDisputed | DisputeResolved | InvoiceLineAssigned, Field(discriminator="type")
]
PeriodEvent = Annotated[BillingPeriodClosed | BillingPeriodReopened, Field(discriminator="type")]
ORGANISATION_EVENT_TYPES: tuple[type[Fact], ...] = (OrganisationRegistered,)
INVOICE_EVENT_TYPES: tuple[type[Fact], ...] = (
    SupplierInvoiceReceived,
    InvoiceLineDisputed,
    DisputeResolved,
    InvoiceLineAssigned,
)
CREDIT_EVENT_TYPES: tuple[type[Fact], ...] = (CreditGranted,)
PERIOD_EVENT_TYPES: tuple[type[Fact], ...] = (BillingPeriodClosed, BillingPeriodReopened)
