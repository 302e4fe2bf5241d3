"""Billing commands: register organisations, receive and dispute supplier invoices, close periods."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from events.billing.facts import DisputeResolution, InvoiceLine, InvoiceNumber
from events.contracts.facts import Period
from events.kernel.model import Fact
from events.kernel.money import Currency
from events.kernel.rates import TaxStatus
from events.orders.facts import OrgCode, ShortText, Text


class RegisterOrganisation(Fact):
    code: OrgCode
    name_en: ShortText
    name_fr: ShortText
    tax_status: TaxStatus
    registered_on: date


class ReceiveSupplierInvoice(Fact):
    invoice_number: InvoiceNumber
    supplier: ShortText
    contract_id: ShortText
    issued_on: date
    lines: tuple[InvoiceLine, ...] = Field(min_length=1, max_length=5000)
    currency: Currency = "CAD"


class DisputeInvoiceLine(Fact):
    line_no: int = Field(ge=1)
    reason: Annotated[str, StringConstraints(min_length=3, max_length=2000)]
    disputed_on: date


class ResolveDispute(Fact):
    line_no: int = Field(ge=1)
    resolution: DisputeResolution
    note: Text = ""
    resolved_on: date


class AssignInvoiceLine(Fact):
    """Give an unassigned line, or one naming an unknown organisation, to a registered organisation."""

    line_no: int = Field(ge=1)
    client_org: OrgCode
    assigned_on: date


class CloseBillingPeriod(Fact):
    period: Period
    closed_on: date


class ReopenBillingPeriod(Fact):
    period: Period
    reason: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    reopened_on: date


InvoiceCommand = ReceiveSupplierInvoice | DisputeInvoiceLine | ResolveDispute | AssignInvoiceLine


PeriodCommand = CloseBillingPeriod | ReopenBillingPeriod
