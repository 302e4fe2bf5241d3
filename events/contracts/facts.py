"""Contract commands and events: capacity, inventory, consumption and renewals (seeds 000 and 003)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from events.kernel.model import Fact
from events.kernel.money import Currency, Money, UnitPrice, decimal_text
from events.orders.facts import OrgCode, Quantity, ShortText, Sku

ContractId = Annotated[str, StringConstraints(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
ContractKind = Literal["standing_offer", "supply_arrangement", "call_up", "inventory", "cloud"]
ConsumptionSource = Literal["awarded_order", "supplier_invoice_line", "cloud_usage_report"]
# Seed 003: a cloud contract lasts at most 3 years including every renewal.
CLOUD_MAX_TERM_MONTHS = 36
THRESHOLDS = (80, 90, 100)
RENEWAL_NOTICES = (120, 90, 30)  # days before expiry when a renewal decision is due


def _month(value: str) -> str:
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", value):
        raise ValueError("a period is a month written YYYY-MM, e.g. 2026-11")
    return value


Period = Annotated[str, AfterValidator(_month)]
FeeRate = Annotated[Decimal, Field(ge=0, le=Decimal("0.5"), max_digits=6, decimal_places=4), decimal_text("a fee rate")]


class RenewalOption(Fact):
    option_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    months: int = Field(gt=0, le=120)


class InventoryItem(Fact):
    sku: Sku
    quantity: Quantity
    unit_price: UnitPrice


# ---------------------------------------------------------------- events


class ContractRegistered(Fact):
    """A contract the broker signed: kind, supplier, ceiling, term, renewal options, fee rate (inventory: items)."""

    type: Literal["ContractRegistered"] = "ContractRegistered"
    schema_version: Literal[1] = 1
    contract_id: ContractId
    kind: ContractKind
    supplier: ShortText
    ceiling: Money
    currency: Currency = "CAD"
    start_date: date
    end_date: date
    renewal_options: tuple[RenewalOption, ...]
    max_term_months: int | None
    fee_rate: Decimal
    inventory: tuple[InventoryItem, ...]


class CeilingAmended(Fact):
    """The contract's ceiling was amended."""

    type: Literal["CeilingAmended"] = "CeilingAmended"
    schema_version: Literal[1] = 1
    ceiling: Money
    previous_ceiling: Money
    amended_on: date
    reason: str


class RenewalOptionExercised(Fact):
    """A renewal option was exercised: the contract runs longer."""

    type: Literal["RenewalOptionExercised"] = "RenewalOptionExercised"
    schema_version: Literal[1] = 1
    option_id: str
    months: int
    previous_end_date: date
    end_date: date
    exercised_on: date


class ConsumptionRecorded(Fact):
    """An organisation's consumption of the contract for a month (invoice line, usage report, awarded order)."""

    type: Literal["ConsumptionRecorded"] = "ConsumptionRecorded"
    schema_version: Literal[1] = 1
    consumption_id: str
    client_org: OrgCode
    amount: Money
    currency: Currency = "CAD"
    quantity: int
    period: str
    source: ConsumptionSource
    reference: str
    recorded_on: date
    reservation_order_id: str | None = None


class ConsumptionReversed(Fact):
    """A recorded consumption was reversed; it refers to the consumption by id."""

    type: Literal["ConsumptionReversed"] = "ConsumptionReversed"
    schema_version: Literal[1] = 1
    consumption_id: str
    client_org: OrgCode
    amount: Money
    period: str
    reason: str
    reversed_on: date


class InventoryReserved(Fact):
    """Stock reserved on an inventory contract for an order."""

    type: Literal["InventoryReserved"] = "InventoryReserved"
    schema_version: Literal[1] = 1
    order_id: str
    quantities: dict[str, int]
    amount: Money
    reserved_on: date


class InventoryReleased(Fact):
    """An order's stock reservation was released (e.g. the order was cancelled)."""

    type: Literal["InventoryReleased"] = "InventoryReleased"
    schema_version: Literal[1] = 1
    order_id: str
    quantities: dict[str, int]
    amount: Money
    reason: str
    released_on: date


class InventoryItemWithdrawn(Fact):
    """Seed 000: when a stock item is exhausted it is withdrawn from the inventory."""

    type: Literal["InventoryItemWithdrawn"] = "InventoryItemWithdrawn"
    schema_version: Literal[1] = 1
    sku: str
    withdrawn_on: date


class InventoryItemReinstated(Fact):
    """A withdrawn inventory item can be ordered again."""

    type: Literal["InventoryItemReinstated"] = "InventoryItemReinstated"
    schema_version: Literal[1] = 1
    sku: str
    quantity: int
    reinstated_on: date


class CapacityThresholdReached(Fact):
    """Derived: consumption and commitments crossed 80, 90 or 100 % of the ceiling (once each)."""

    type: Literal["CapacityThresholdReached"] = "CapacityThresholdReached"
    schema_version: Literal[1] = 1
    threshold: int
    used: Money
    ceiling: Money
    reached_on: date


class RenewalDecisionDue(Fact):
    """Derived: 120, 90 and 30 days before expiry a renewal decision is due (once each)."""

    type: Literal["RenewalDecisionDue"] = "RenewalDecisionDue"
    schema_version: Literal[1] = 1
    days_before_expiry: int
    expires_on: date
    options_left: tuple[str, ...]
    noticed_on: date


class ContractExpired(Fact):
    """The contract reached its end date."""

    type: Literal["ContractExpired"] = "ContractExpired"
    schema_version: Literal[1] = 1
    expired_on: date


class ContractTerminated(Fact):
    """The contract was terminated before its end date."""

    type: Literal["ContractTerminated"] = "ContractTerminated"
    schema_version: Literal[1] = 1
    terminated_on: date
    reason: str


ContractEvent = Annotated[
    ContractRegistered
    | CeilingAmended
    | RenewalOptionExercised
    | ConsumptionRecorded
    | ConsumptionReversed
    | InventoryReserved
    | InventoryReleased
    | InventoryItemWithdrawn
    | InventoryItemReinstated
    | CapacityThresholdReached
    | RenewalDecisionDue
    | ContractExpired
    | ContractTerminated,
    Field(discriminator="type"),
]
CONTRACT_EVENT_TYPES: tuple[type[Fact], ...] = (
    ContractRegistered,
    CeilingAmended,
    RenewalOptionExercised,
    ConsumptionRecorded,
    ConsumptionReversed,
    InventoryReserved,
    InventoryReleased,
    InventoryItemWithdrawn,
    InventoryItemReinstated,
    CapacityThresholdReached,
    RenewalDecisionDue,
    ContractExpired,
    ContractTerminated,
)
