"""Order commands: what a person asks of an order, before the decider accepts or refuses it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from events.kernel.model import Fact
from events.kernel.money import Amount, UnitPrice
from events.kernel.rates import Province, TaxStatus
from events.orders.facts import (
    CancellationReason,
    DeliveryLocation,
    OrderLine,
    OrgCode,
    Processing,
    Quantity,
    Requester,
    Risk,
    SecurityAuthority,
    SerialNumber,
    ShortText,
    Sku,
    Text,
    Urgency,
)


class OrderRequest(Fact):
    """What the client states when placing an order (the API body, less the business time)."""

    client_org: OrgCode
    client_tax_status: TaxStatus = "federal"
    requester: ShortText
    standing_offer: ShortText
    supplier: ShortText
    processing: Processing
    urgency: Urgency = "standard"
    justification: Text | None = None
    supplier_quote: Text | None = None
    financial_reference: Annotated[str, StringConstraints(max_length=500)] = ""
    section32_amount: Amount
    lines: tuple[OrderLine, ...] = Field(max_length=500)
    delivery_locations: tuple[DeliveryLocation, ...] = Field(max_length=200)
    # The standing offer / supply arrangement / inventory contract the order draws on, if registered.
    contract_id: str | None = Field(default=None, max_length=64)


class PlaceOrder(OrderRequest):
    order_id: str  # the order number, assigned when the order is placed
    placed_at: AwareDatetime


class PriceNonStandingOfferLine(Fact):
    sku: Sku
    unit_price: UnitPrice
    priced_on: date


class AmendSection32(Fact):
    section32_amount: Amount
    amended_on: date


class RecordSecurityAssessment(Fact):
    risk: Risk
    assessed_on: date


class ApproveSecurityRisk(Fact):
    authority: SecurityAuthority
    approved_by: ShortText
    approved_on: date


class AwardCallUp(Fact):
    contract_number: ShortText
    awarded_on: date
    agreed_delivery_date: date | None = None


class ReviseDeliveryDate(Fact):
    agreed_delivery_date: date
    agreed_on: date


class RecordDelivery(Fact):
    delivered_on: date
    province: Province
    address: ShortText
    quantities: dict[Sku, Quantity] = Field(min_length=1)
    serial_numbers: dict[Sku, tuple[SerialNumber, ...]] = Field(
        default_factory=dict,
        description="for asset tracking: the serial numbers of the units received, by SKU (at most one per unit)",
    )


class ApplyLateDeliveryRebate(Fact):
    amount: Amount
    reason: ShortText
    applied_on: date


class CancelOrder(Fact):
    reason: CancellationReason
    cancelled_on: date
    note: Text = ""
    requested_by: Requester = "broker"


class CloseOrder(Fact):
    closed_on: date


OrderCommand = (
    PlaceOrder
    | PriceNonStandingOfferLine
    | AmendSection32
    | RecordSecurityAssessment
    | ApproveSecurityRisk
    | AwardCallUp
    | ReviseDeliveryDate
    | RecordDelivery
    | ApplyLateDeliveryRebate
    | CancelOrder
    | CloseOrder
)
