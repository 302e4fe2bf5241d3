"""Order facts: every event of an order's life, from placement to closing, and the parts they share with commands."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, StringConstraints

from events.kernel.model import Fact
from events.kernel.money import Currency, Money, UnitPrice
from events.kernel.rates import Province, TaxStatus

Sku = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]
OrgCode = Annotated[str, StringConstraints(min_length=2, max_length=16, pattern=r"^[A-Z][A-Z0-9-]*$")]
Text = Annotated[str, StringConstraints(max_length=2000)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Quantity = Annotated[int, Field(gt=0, le=1_000_000)]
# A manufacturer's serial number, as printed on the unit (asset tags are the client's business, not ours).
SerialNumber = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9./_-]*$")]

# Systems are what a standing offer sells; the rest may be added to a system on the same order.
SYSTEM_CATEGORIES = ("desktop", "laptop", "tablet")
ADD_ON_CATEGORIES = ("display", "printer", "peripheral", "upgrade", "component")
Category = Literal["desktop", "laptop", "tablet", "display", "printer", "peripheral", "upgrade", "component"]
Processing = Literal["delegated", "broker"]
Urgency = Literal["standard", "time_sensitive"]
Risk = Literal["low", "medium", "high"]
# Seed 000: a medium-risk result needs the approval of CSE and of SSC's security office, then
# the sign-off of the registered technical authority, before any contract is issued.
SecurityAuthority = Literal["cse", "ssc_security", "technical_authority"]
SECURITY_AUTHORITIES: tuple[str, ...] = get_args(SecurityAuthority)
CancellationReason = Literal["client_request", "late_delivery", "missing_justification", "other"]
Requester = Literal["broker", "client"]


# ---------------------------------------------------------------- parts


def add_quantities(held: Mapping[str, int], more: Mapping[str, int]) -> dict[str, int]:
    """Quantities per SKU after adding `more` (deliveries add up per location)."""
    total = dict(held)
    for sku, quantity in more.items():
        total[sku] = total.get(sku, 0) + quantity
    return total


class OrderLine(Fact):
    sku: Sku
    description: ShortText
    category: Category
    standing_offer_item: bool
    quantity: Quantity
    unit_price: UnitPrice = Decimal("0.00")
    # A line may name its own standing offer and supplier; they must match the order's.
    standing_offer: ShortText | None = None
    supplier: ShortText | None = None


class DeliveryLocation(Fact):
    province: Province
    address: ShortText
    # How many of each SKU go to this location; may be empty when there is one location.
    quantities: dict[Sku, Quantity] = Field(default_factory=dict)


class PricedLine(Fact):
    """One line at one delivery location, priced with that province's fees and taxes."""

    sku: Sku
    location: int
    quantity: int
    unit_price: Money
    net: Money
    ehf: Money
    taxes: dict[str, Money]
    tax: Money
    standing_offer_item: bool


class OrderTotals(Fact):
    net: Money
    ehf: Money
    tax: Money
    total: Money
    # Net + EHF: what the Section 32 commitment must cover (taxes excluded).
    commitment_basis: Money
    # Non-standing-offer lines, taxes included: capped at 25,000.00.
    non_standing_offer_total: Money


class OrderPricing(Fact):
    tax_date: date
    lines: tuple[PricedLine, ...]
    totals: OrderTotals


# ---------------------------------------------------------------- events


class OrderPlaced(Fact):
    """An order placed for a client organisation: lines, delivery locations and pricing (net, EHF, taxes).

    The ledger computed the pricing and assigned the order number.
    """

    type: Literal["OrderPlaced"] = "OrderPlaced"
    schema_version: Literal[1] = 1
    order_id: str
    client_org: OrgCode
    client_tax_status: TaxStatus
    requester: ShortText
    standing_offer: ShortText
    supplier: ShortText
    processing: Processing
    urgency: Urgency
    justification: Text | None
    supplier_quote: Text | None
    financial_reference: str
    section32_amount: Money
    currency: Currency = "CAD"
    lines: tuple[OrderLine, ...]
    delivery_locations: tuple[DeliveryLocation, ...]
    pricing: OrderPricing
    contract_id: str | None = None
    # Facts the procurement officer must look at: "more_than_3_locations",
    # "year_end_award_not_guaranteed".
    review_flags: tuple[str, ...] = ()


class NonStandingOfferLinePriced(Fact):
    """The broker priced a line that is not on a standing offer."""

    type: Literal["NonStandingOfferLinePriced"] = "NonStandingOfferLinePriced"
    schema_version: Literal[1] = 1
    sku: Sku
    unit_price: Money
    priced_on: date
    pricing: OrderPricing
    # Above 25,000.00 with taxes a delegated order goes to the broker: the route after pricing.
    processing: Processing


class Section32Amended(Fact):
    """The order's Section 32 commitment (funds committed before spending) was raised."""

    type: Literal["Section32Amended"] = "Section32Amended"
    schema_version: Literal[1] = 1
    section32_amount: Money
    previous_amount: Money
    amended_on: date


class SecurityAssessmentRecorded(Fact):
    """The order's security risk was assessed: low, medium or high."""

    type: Literal["SecurityAssessmentRecorded"] = "SecurityAssessmentRecorded"
    schema_version: Literal[1] = 1
    risk: Risk
    assessed_on: date


class SecurityRiskApproved(Fact):
    """One of the approvals a risky order needs (CSE, SSC security, technical authority) was given."""

    type: Literal["SecurityRiskApproved"] = "SecurityRiskApproved"
    schema_version: Literal[1] = 1
    authority: SecurityAuthority
    approved_by: ShortText
    approved_on: date


class CallUpAwarded(Fact):
    """The call-up was awarded under a contract number; the order now draws on its contract."""

    type: Literal["CallUpAwarded"] = "CallUpAwarded"
    schema_version: Literal[1] = 1
    contract_number: ShortText
    awarded_on: date
    agreed_delivery_date: date
    # True when the date is the standard award + 30 federal working days.
    standard_delivery_date: bool


class DeliveryDateRevised(Fact):
    """A delivery date agreed in writing after award replaces the expected one."""

    type: Literal["DeliveryDateRevised"] = "DeliveryDateRevised"
    schema_version: Literal[1] = 1
    agreed_delivery_date: date
    previous_delivery_date: date
    agreed_on: date


class DeliveredItem(Fact):
    """One SKU of a delivery: the units received and the serial numbers of those that carry one."""

    sku: Sku
    quantity: Quantity
    serial_numbers: tuple[SerialNumber, ...] = ()


class DeliveryRecorded(Fact):
    """A (partial) delivery at one delivery location: each item received, with its serial numbers for asset tracking.

    Schema version 2. Version 1 gave the quantities by SKU only; a stored version 1 event reads as this one with
    no serial numbers (`upcast_delivery_recorded_v1`).
    """

    type: Literal["DeliveryRecorded"] = "DeliveryRecorded"
    schema_version: Literal[2] = 2
    delivered_on: date
    location: int
    province: Province
    address: ShortText
    items: tuple[DeliveredItem, ...] = Field(description="one per SKU, in SKU order")
    fully_delivered: bool

    @property
    def quantities(self) -> dict[str, int]:
        """The units received by SKU (what version 1 said)."""
        return {item.sku: item.quantity for item in self.items}

    @property
    def serial_numbers(self) -> dict[str, tuple[str, ...]]:
        """The serial numbers recorded, by SKU (only the SKUs that have some)."""
        return {item.sku: item.serial_numbers for item in self.items if item.serial_numbers}


class DeliveryRecordedV1(Fact):
    """A (partial) delivery at one delivery location: the quantities received per item."""

    type: Literal["DeliveryRecorded"] = "DeliveryRecorded"
    schema_version: Literal[1] = 1
    delivered_on: date
    location: int
    province: Province
    address: ShortText
    quantities: dict[Sku, Quantity]
    fully_delivered: bool


def upcast_delivery_recorded_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """DeliveryRecorded 1 -> 2: each SKU's quantity becomes an item, in SKU order, without serial numbers (none
    were recorded then). The order of a stored JSON object is not kept by every adapter (PostgreSQL's jsonb
    sorts keys), so the items are sorted: the same stored event reads the same everywhere."""
    upcast = {key: value for key, value in data.items() if key != "quantities"}
    upcast["schema_version"] = 2
    upcast["items"] = [
        {"sku": sku, "quantity": quantity, "serial_numbers": []} for sku, quantity in sorted(data["quantities"].items())
    ]
    return upcast


class LateDeliveryRebateApplied(Fact):
    """A rebate for late delivery, off the order's price; the organisation is credited on its statement."""

    type: Literal["LateDeliveryRebateApplied"] = "LateDeliveryRebateApplied"
    schema_version: Literal[1] = 1
    amount: Money
    currency: Currency = "CAD"
    reason: ShortText
    applied_on: date


class OrderCancelled(Fact):
    """The order was cancelled, with its reason; its contract draw or stock reservation is given back."""

    type: Literal["OrderCancelled"] = "OrderCancelled"
    schema_version: Literal[1] = 1
    reason: CancellationReason
    cancelled_on: date
    note: Text
    requested_by: Requester


class OrderClosed(Fact):
    """A delivered or cancelled order was closed: nothing more happens to it."""

    type: Literal["OrderClosed"] = "OrderClosed"
    schema_version: Literal[1] = 1
    closed_on: date


OrderEvent = Annotated[
    OrderPlaced
    | NonStandingOfferLinePriced
    | Section32Amended
    | SecurityAssessmentRecorded
    | SecurityRiskApproved
    | CallUpAwarded
    | DeliveryDateRevised
    | DeliveryRecorded
    | LateDeliveryRebateApplied
    | OrderCancelled
    | OrderClosed,
    Field(discriminator="type"),
]

ORDER_EVENT_TYPES: tuple[type[Fact], ...] = (
    OrderPlaced,
    NonStandingOfferLinePriced,
    Section32Amended,
    SecurityAssessmentRecorded,
    SecurityRiskApproved,
    CallUpAwarded,
    DeliveryDateRevised,
    DeliveryRecorded,
    LateDeliveryRebateApplied,
    OrderCancelled,
    OrderClosed,
)
# Versions of an event the ledger may hold but no longer writes: still decoded (upcast) and still published.
SUPERSEDED_ORDER_EVENT_TYPES: tuple[type[Fact], ...] = (DeliveryRecordedV1,)
# (event type, stored schema version) -> the data of the next version.
ORDER_UPCASTERS: dict[tuple[str, int], Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    ("DeliveryRecorded", 1): upcast_delivery_recorded_v1,
}
