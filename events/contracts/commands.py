"""Contract commands: register, amend, renew, consume, reserve and release stock, terminate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import Field, StringConstraints

from events.contracts.facts import (
    ConsumptionSource,
    ContractId,
    ContractKind,
    FeeRate,
    InventoryItem,
    Period,
    RenewalOption,
)
from events.kernel.model import Fact
from events.kernel.money import Amount, Currency
from events.orders.facts import OrgCode, Quantity, ShortText, Sku, Text


class RegisterContract(Fact):
    contract_id: ContractId
    kind: ContractKind
    supplier: ShortText
    ceiling: Amount
    start_date: date
    end_date: date
    renewal_options: tuple[RenewalOption, ...] = Field(default=(), max_length=20)
    max_term_months: int | None = Field(default=None, gt=0, le=600)
    fee_rate: FeeRate = Decimal("0")
    inventory: tuple[InventoryItem, ...] = Field(default=(), max_length=500)
    currency: Currency = "CAD"


class AmendCeiling(Fact):
    ceiling: Amount
    amended_on: date
    reason: Text = ""


class ExerciseRenewal(Fact):
    option_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    exercised_on: date


class RecordConsumption(Fact):
    consumption_id: str
    client_org: OrgCode
    amount: Amount
    quantity: int = Field(default=0, ge=0, le=100_000_000)
    period: Period
    source: ConsumptionSource
    reference: ShortText
    recorded_on: date
    currency: Currency = "CAD"
    # When an awarded inventory order consumes what it had reserved.
    reservation_order_id: str | None = None


class ReverseConsumption(Fact):
    consumption_id: str
    reason: Text
    reversed_on: date


class ReserveInventory(Fact):
    order_id: str
    quantities: dict[Sku, Quantity] = Field(min_length=1)
    reserved_on: date


class ReleaseInventory(Fact):
    order_id: str
    reason: Text
    released_on: date


class TerminateContract(Fact):
    terminated_on: date
    reason: Text


class CheckRenewals(Fact):
    """The explicit clock: what is due as of `today` (renewal notices, expiry)."""

    today: date


ContractCommand = (
    RegisterContract
    | AmendCeiling
    | ExerciseRenewal
    | RecordConsumption
    | ReverseConsumption
    | ReserveInventory
    | ReleaseInventory
    | TerminateContract
    | CheckRenewals
)
