"""Contract capacity read model: ceiling, committed, consumed, remaining, burn rate, renewals, stock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from events.contracts.facts import (
    RENEWAL_NOTICES,
    CapacityThresholdReached,
    CeilingAmended,
    ConsumptionRecorded,
    ConsumptionReversed,
    ContractExpired,
    ContractRegistered,
    ContractTerminated,
    InventoryItemReinstated,
    InventoryItemWithdrawn,
    InventoryReleased,
    InventoryReserved,
    RenewalDecisionDue,
    RenewalOptionExercised,
)
from events.kernel.money import ZERO, Money
from events.ledger import RecordedEvent
from events.ledger.catalogue import decode_contract_event
from projections import Projection

BURN_WINDOW_DAYS = 90


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RenewalOptionStatus(_Part):
    option_id: str
    months: int
    exercised: bool


class StockItem(_Part):
    sku: str
    unit_price: Money
    initial: int
    available: int
    withdrawn: bool


class UsageEntry(_Part):
    """The net change of consumption on one business date (reversals count negative): the burn-down's
    points. One entry per day, in date order, so the row stays small however many usage lines a
    cloud contract receives (a daily report of 5,000 lines is one entry)."""

    on: date
    amount: Money


class ContractStatus(_Part):
    contract_id: str
    kind: str
    supplier: str
    ceiling: Money
    currency: str
    fee_rate: Decimal
    start_date: date
    end_date: date
    original_end_date: date
    max_term_months: int | None
    renewal_options: tuple[RenewalOptionStatus, ...]
    status: str
    consumed: Money
    committed: Money
    thresholds_reached: tuple[int, ...] = ()
    renewal_notices: tuple[int, ...] = ()
    consumption_by_organisation: dict[str, dict[str, Money]] = {}  # org -> period -> amount
    usage: tuple[UsageEntry, ...] = ()
    inventory: tuple[StockItem, ...] = ()
    reservations: dict[str, Money] = {}  # order id -> amount committed by its inventory reservation
    stream_version: int
    position: int

    @property
    def remaining(self) -> Decimal:
        return self.ceiling - self.consumed - self.committed

    @property
    def used_fraction(self) -> Decimal:
        return (self.consumed + self.committed) / self.ceiling if self.ceiling else Decimal(1)


def keys(event: RecordedEvent) -> tuple[str, ...]:
    return (event.stream_id.removeprefix("contract-"),) if event.stream_type == "contract" else ()


def project(row: ContractStatus | None, recorded: RecordedEvent, key: str) -> ContractStatus | None:
    if row is not None and recorded.stream_version <= row.stream_version:
        return row  # already applied: redelivery changes nothing
    event = decode_contract_event(recorded.data)
    if isinstance(event, ContractRegistered):
        row = ContractStatus(
            contract_id=event.contract_id,
            kind=event.kind,
            supplier=event.supplier,
            ceiling=event.ceiling,
            currency=event.currency,
            fee_rate=event.fee_rate,
            start_date=event.start_date,
            end_date=event.end_date,
            original_end_date=event.end_date,
            max_term_months=event.max_term_months,
            renewal_options=tuple(
                RenewalOptionStatus(option_id=o.option_id, months=o.months, exercised=False)
                for o in event.renewal_options
            ),
            status="active",
            consumed=ZERO,
            committed=ZERO,
            inventory=tuple(
                StockItem(sku=i.sku, unit_price=i.unit_price, initial=i.quantity, available=i.quantity, withdrawn=False)
                for i in event.inventory
            ),
            stream_version=0,
            position=0,
        )
    elif row is None:
        return None
    else:
        row = _apply(row, event)
    return row.model_copy(update={"stream_version": recorded.stream_version, "position": recorded.position})


def _apply(row: ContractStatus, event: Any) -> ContractStatus:
    match event:
        case CeilingAmended():
            return row.model_copy(update={"ceiling": event.ceiling})
        case RenewalOptionExercised():
            options = tuple(
                o.model_copy(update={"exercised": True}) if o.option_id == event.option_id else o
                for o in row.renewal_options
            )
            return row.model_copy(
                update={"end_date": event.end_date, "renewal_options": options, "renewal_notices": ()}
            )
        case ConsumptionRecorded():
            # An awarded inventory order turns what it had reserved into consumption.
            reservations = dict(row.reservations)
            freed = reservations.pop(event.reservation_order_id or "", ZERO)
            used = _usage(row, event.client_org, event.period, event.amount, event.recorded_on)
            return used.model_copy(update={"committed": row.committed - freed, "reservations": reservations})
        case ConsumptionReversed():
            return _usage(row, event.client_org, event.period, -event.amount, event.reversed_on)
        case InventoryReserved():
            return _stock(row, event.quantities, -1).model_copy(
                update={
                    "committed": row.committed + event.amount,
                    "reservations": {**row.reservations, event.order_id: event.amount},
                }
            )
        case InventoryReleased():
            return _stock(row, event.quantities, +1).model_copy(
                update={
                    "committed": row.committed - event.amount,
                    "reservations": {k: v for k, v in row.reservations.items() if k != event.order_id},
                }
            )
        case InventoryItemWithdrawn():
            return _withdrawn(row, event.sku, True)
        case InventoryItemReinstated():
            return _withdrawn(row, event.sku, False)
        case CapacityThresholdReached():
            return row.model_copy(update={"thresholds_reached": (*row.thresholds_reached, event.threshold)})
        case RenewalDecisionDue():
            return row.model_copy(update={"renewal_notices": (*row.renewal_notices, event.days_before_expiry)})
        case ContractExpired():
            return row.model_copy(update={"status": "expired"})
        case ContractTerminated():
            return row.model_copy(update={"status": "terminated"})
    return row


def _usage(row: ContractStatus, org: str, period: str, amount: Decimal, on: date) -> ContractStatus:
    periods = row.consumption_by_organisation.get(org, {})
    # Only the organisation's own months are copied (rows are never changed in place).
    by_org = {**row.consumption_by_organisation, org: {**periods, period: periods.get(period, ZERO) + amount}}
    return row.model_copy(
        update={
            "consumed": row.consumed + amount,
            "consumption_by_organisation": by_org,
            "usage": _add_to_day(row.usage, on, amount),
        }
    )


def _add_to_day(usage: tuple[UsageEntry, ...], on: date, amount: Decimal) -> tuple[UsageEntry, ...]:
    """`usage` with `amount` added to the day `on` (consumption mostly arrives in date order: look from the end)."""
    at = len(usage)
    while at > 0 and usage[at - 1].on > on:
        at -= 1
    if at > 0 and usage[at - 1].on == on:
        merged = UsageEntry(on=on, amount=usage[at - 1].amount + amount)
        return (*usage[: at - 1], merged, *usage[at:])
    return (*usage[:at], UsageEntry(on=on, amount=amount), *usage[at:])


def _stock(row: ContractStatus, quantities: dict[str, int], sign: int) -> ContractStatus:
    items = tuple(
        i.model_copy(update={"available": i.available + sign * quantities.get(i.sku, 0)}) for i in row.inventory
    )
    return row.model_copy(update={"inventory": items})


def _withdrawn(row: ContractStatus, sku: str, withdrawn: bool) -> ContractStatus:
    items = tuple(i.model_copy(update={"withdrawn": withdrawn}) if i.sku == sku else i for i in row.inventory)
    return row.model_copy(update={"inventory": items})


# ---------------------------------------------------------------- read-time figures (they depend on today)


def burn_rate(row: ContractStatus, today: date) -> Decimal:
    """Average consumption per day over the last 90 days."""
    since = today - timedelta(days=BURN_WINDOW_DAYS)
    spent = sum((u.amount for u in row.usage if since < u.on <= today), ZERO)
    return spent / BURN_WINDOW_DAYS  # exact: rounded only where it is shown


def forecast_exhaustion(row: ContractStatus, today: date) -> date | None:
    """When the remaining capacity runs out at the current burn rate: None if it never does, because nothing
    is burning or because the day lies past any date a calendar holds (a cent a quarter on a large ceiling)."""
    if row.remaining <= 0:
        return today
    rate = burn_rate(row, today)
    if rate <= 0:
        return None
    days = row.remaining / rate
    if days > (date.max - today).days:
        return None
    return today + timedelta(days=int(days))


def next_decision_date(row: ContractStatus, today: date) -> date | None:
    """The next renewal-notice date (120, 90, 30 days before expiry) not yet passed."""
    if row.status != "active":
        return None
    upcoming = [row.end_date - timedelta(days=n) for n in RENEWAL_NOTICES if row.end_date - timedelta(days=n) >= today]
    return min(upcoming) if upcoming else None


def index(row: ContractStatus) -> dict[str, Any]:
    return {
        "supplier": row.supplier,
        "kind": row.kind,
        "status": row.status,
        "end_date": row.end_date.isoformat(),
        "used_basis_points": int((row.used_fraction * 10000).to_integral_value(rounding=ROUND_HALF_UP)),
    }


CONTRACT_CAPACITY = Projection(
    name="contract_capacity",
    version=2,  # 2: usage kept as one entry per day
    row_model=ContractStatus,
    keys=keys,
    project=project,
    columns={"supplier": "TEXT", "kind": "TEXT", "status": "TEXT", "end_date": "TEXT", "used_basis_points": "INTEGER"},
    index=index,
)
