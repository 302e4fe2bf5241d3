"""The contract decider: capacity, inventory stock, consumption, renewals. Pure: no clock, no I/O."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from pydantic import Field

from events.contracts.commands import (
    AmendCeiling,
    CheckRenewals,
    ContractCommand,
    ExerciseRenewal,
    RecordConsumption,
    RegisterContract,
    ReleaseInventory,
    ReserveInventory,
    ReverseConsumption,
    TerminateContract,
)
from events.contracts.facts import (
    CLOUD_MAX_TERM_MONTHS,
    RENEWAL_NOTICES,
    THRESHOLDS,
    CapacityThresholdReached,
    CeilingAmended,
    ConsumptionRecorded,
    ConsumptionReversed,
    ContractEvent,
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
from events.kernel.errors import CommandRejected
from events.kernel.model import Fact
from events.kernel.money import ZERO, cents


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(start: date, months: int) -> date:
    """The last day of a term of `months` starting on `start`.

    A 36-month term from 2026-01-01 ends 2028-12-31; one month from 2026-01-31 ends 2026-02-28;
    a term that starts the day after a month end ends on a month end.
    """
    before = start - timedelta(days=1)
    end = add_months(before, months)
    if before.day == calendar.monthrange(before.year, before.month)[1]:
        return date(end.year, end.month, calendar.monthrange(end.year, end.month)[1])
    return end


class Consumption(Fact):
    client_org: str
    amount: Decimal
    period: str
    reversed: bool = False


class Reservation(Fact):
    quantities: dict[str, int]
    amount: Decimal


class Contract(Fact):
    contract_id: str
    kind: str
    supplier: str
    ceiling: Decimal
    start_date: date
    end_date: date
    renewal_options: dict[str, int]
    exercised: frozenset[str] = frozenset()
    max_term_months: int | None
    fee_rate: Decimal = ZERO
    status: str = "active"  # active | expired | terminated
    unit_prices: dict[str, Decimal] = Field(default_factory=dict)
    stock: dict[str, int] = Field(default_factory=dict)
    reservations: dict[str, Reservation] = Field(default_factory=dict)
    consumptions: dict[str, Consumption] = Field(default_factory=dict)
    consumed: Decimal = ZERO
    committed: Decimal = ZERO
    thresholds: frozenset[int] = frozenset()
    notices: frozenset[int] = frozenset()

    @property
    def used(self) -> Decimal:
        return self.consumed + self.committed

    @property
    def options_left(self) -> tuple[str, ...]:
        return tuple(o for o in self.renewal_options if o not in self.exercised)


# ---------------------------------------------------------------- decide


def decide(command: ContractCommand, contract: Contract | None) -> list[ContractEvent]:
    if isinstance(command, RegisterContract):
        if contract is not None:
            raise CommandRejected("contract_exists", f"contract {command.contract_id} is already registered", 409)
        return [_register(command)]
    if contract is None:
        raise CommandRejected("contract_not_found", "there is no such contract", 404)
    match command:
        case CheckRenewals():
            return _check(command, contract)
        case TerminateContract():
            _require_active(contract, "terminate it")
            return [ContractTerminated(terminated_on=command.terminated_on, reason=command.reason)]
        case AmendCeiling():
            _require_active(contract, "amend its ceiling")
            if command.ceiling < contract.used:
                raise CommandRejected(
                    "ceiling_below_use",
                    f"{contract.used} is already consumed or committed: the ceiling cannot go below it",
                )
            amended = CeilingAmended(
                ceiling=command.ceiling,
                previous_ceiling=contract.ceiling,
                amended_on=command.amended_on,
                reason=command.reason,
            )
            # A lower ceiling can put the contract past a threshold without any new consumption.
            lowered = contract.model_copy(update={"ceiling": command.ceiling})
            return [amended, *_thresholds(lowered, contract.used, command.amended_on)]
        case ExerciseRenewal():
            return [_renew(command, contract)]
        case RecordConsumption():
            return _consume(command, contract)
        case ReverseConsumption():
            return [_reverse(command, contract)]
        case ReserveInventory():
            return _reserve(command, contract)
        case ReleaseInventory():
            return _release(command, contract)
    raise CommandRejected("unknown_command", f"{type(command).__name__} is not a contract command")


def _register(command: RegisterContract) -> ContractRegistered:
    if command.end_date < command.start_date:
        raise CommandRejected("end_before_start", "a contract cannot end before it starts")
    max_term = command.max_term_months
    if command.kind == "cloud":
        if max_term is not None and max_term > CLOUD_MAX_TERM_MONTHS:
            raise CommandRejected(
                "cloud_term_too_long", f"a cloud contract lasts at most {CLOUD_MAX_TERM_MONTHS} months with renewals"
            )
        max_term = max_term or CLOUD_MAX_TERM_MONTHS
    if max_term is not None and command.end_date > term_end(command.start_date, max_term):
        raise CommandRejected(
            "term_exceeds_maximum",
            f"the initial term already passes the maximum of {max_term} months"
            f" ({term_end(command.start_date, max_term)})",
        )
    option_ids = [o.option_id for o in command.renewal_options]
    if len(set(option_ids)) != len(option_ids):
        raise CommandRejected("duplicate_renewal_option", "each renewal option needs its own option_id")
    if command.kind == "inventory":
        if not command.inventory:
            raise CommandRejected("inventory_required", "an inventory contract lists its optional quantities")
        skus = [item.sku for item in command.inventory]
        if len(set(skus)) != len(skus):
            raise CommandRejected("duplicate_sku", "each SKU may appear once in the inventory")
        value = sum((cents(item.unit_price * item.quantity) for item in command.inventory), ZERO)
        if value > command.ceiling:
            raise CommandRejected(
                "inventory_exceeds_ceiling", f"the inventory is worth {value}, more than the ceiling {command.ceiling}"
            )
    elif command.inventory:
        raise CommandRejected("inventory_not_allowed", "only an inventory contract has optional quantities")
    return ContractRegistered(
        contract_id=command.contract_id,
        kind=command.kind,
        supplier=command.supplier,
        ceiling=command.ceiling,
        start_date=command.start_date,
        end_date=command.end_date,
        renewal_options=command.renewal_options,
        max_term_months=max_term,
        fee_rate=command.fee_rate,
        inventory=command.inventory,
    )


def _renew(command: ExerciseRenewal, contract: Contract) -> RenewalOptionExercised:
    _require_active(contract, "renew it")
    months = contract.renewal_options.get(command.option_id)
    if months is None:
        raise CommandRejected(
            "unknown_renewal_option",
            f"{contract.contract_id} has no renewal option {command.option_id!r}"
            f" (options: {', '.join(contract.renewal_options) or 'none'})",
        )
    if command.option_id in contract.exercised:
        raise CommandRejected("renewal_option_used", f"option {command.option_id} was already exercised")
    if command.exercised_on > contract.end_date:
        raise CommandRejected("contract_expired", f"the contract ended on {contract.end_date}: too late to renew")
    new_end = term_end(contract.end_date + timedelta(days=1), months)
    if contract.max_term_months is not None and new_end > term_end(contract.start_date, contract.max_term_months):
        raise CommandRejected(
            "renewal_past_maximum_term",
            f"renewing to {new_end} passes the maximum term of {contract.max_term_months} months including renewals",
        )
    return RenewalOptionExercised(
        option_id=command.option_id,
        months=months,
        previous_end_date=contract.end_date,
        end_date=new_end,
        exercised_on=command.exercised_on,
    )


def _consume(command: RecordConsumption, contract: Contract) -> list[ContractEvent]:
    # An expired contract still takes consumption for months of its term: invoices arrive late.
    if contract.status == "terminated":
        raise CommandRejected("contract_terminated", f"{contract.contract_id} was terminated: no more consumption")
    year, month = (int(part) for part in command.period.split("-"))
    first, last = date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if last < contract.start_date or first > contract.end_date:
        raise CommandRejected(
            "outside_contract_period",
            f"{command.period} is outside the contract period {contract.start_date} to {contract.end_date}",
        )
    if command.consumption_id in contract.consumptions:
        raise CommandRejected("duplicate_consumption", f"consumption {command.consumption_id} is already recorded")
    if command.amount <= ZERO:
        raise CommandRejected("invalid_amount", "a consumption is a positive amount; correct one with a reversal")
    freed = ZERO
    if command.reservation_order_id:
        reservation = contract.reservations.get(command.reservation_order_id)
        freed = reservation.amount if reservation else ZERO
    used_after = contract.used - freed + command.amount
    _within_ceiling(contract, used_after)
    consumed = ConsumptionRecorded(
        consumption_id=command.consumption_id,
        client_org=command.client_org,
        amount=command.amount,
        quantity=command.quantity,
        period=command.period,
        source=command.source,
        reference=command.reference,
        recorded_on=command.recorded_on,
        reservation_order_id=command.reservation_order_id,
    )
    return [consumed, *_thresholds(contract, used_after, command.recorded_on)]


def _reverse(command: ReverseConsumption, contract: Contract) -> ConsumptionReversed:
    original = contract.consumptions.get(command.consumption_id)
    if original is None:
        raise CommandRejected("unknown_consumption", f"there is no consumption {command.consumption_id} to reverse")
    if original.reversed:
        raise CommandRejected("already_reversed", f"consumption {command.consumption_id} is already reversed")
    return ConsumptionReversed(
        consumption_id=command.consumption_id,
        client_org=original.client_org,
        amount=original.amount,
        period=original.period,
        reason=command.reason,
        reversed_on=command.reversed_on,
    )


def _reserve(command: ReserveInventory, contract: Contract) -> list[ContractEvent]:
    if contract.kind != "inventory":
        raise CommandRejected("not_an_inventory_contract", f"{contract.contract_id} holds no inventory")
    _require_active(contract, "order from its inventory")
    if not contract.start_date <= command.reserved_on <= contract.end_date:
        raise CommandRejected(
            "outside_contract_period", f"{contract.contract_id} is not in force on {command.reserved_on}"
        )
    if command.order_id in contract.reservations:
        raise CommandRejected("already_reserved", f"order {command.order_id} already holds a reservation")
    for sku, quantity in command.quantities.items():
        if sku not in contract.stock:
            raise CommandRejected("unknown_sku", f"{sku} is not in the inventory of {contract.contract_id}")
        if contract.stock[sku] == 0:
            raise CommandRejected("item_withdrawn", f"{sku} is exhausted and withdrawn from the inventory")
        if quantity > contract.stock[sku]:
            raise CommandRejected(
                "stock_short", f"{sku}: {quantity} wanted but only {contract.stock[sku]} left on {contract.contract_id}"
            )
    amount = sum((cents(contract.unit_prices[sku] * q) for sku, q in command.quantities.items()), ZERO)
    used_after = contract.used + amount
    _within_ceiling(contract, used_after)
    events: list[ContractEvent] = [
        InventoryReserved(
            order_id=command.order_id, quantities=command.quantities, amount=amount, reserved_on=command.reserved_on
        )
    ]
    events += [
        InventoryItemWithdrawn(sku=sku, withdrawn_on=command.reserved_on)
        for sku, quantity in command.quantities.items()
        if contract.stock[sku] == quantity
    ]
    return events + _thresholds(contract, used_after, command.reserved_on)


def _release(command: ReleaseInventory, contract: Contract) -> list[ContractEvent]:
    reservation = contract.reservations.get(command.order_id)
    if reservation is None:
        raise CommandRejected("no_reservation", f"order {command.order_id} holds no reservation on this contract")
    events: list[ContractEvent] = [
        InventoryReleased(
            order_id=command.order_id,
            quantities=reservation.quantities,
            amount=reservation.amount,
            reason=command.reason,
            released_on=command.released_on,
        )
    ]
    events += [
        InventoryItemReinstated(sku=sku, quantity=quantity, reinstated_on=command.released_on)
        for sku, quantity in reservation.quantities.items()
        if contract.stock.get(sku) == 0
    ]
    return events


def _check(command: CheckRenewals, contract: Contract) -> list[ContractEvent]:
    if contract.status != "active":
        return []
    if command.today > contract.end_date:
        return [ContractExpired(expired_on=contract.end_date)]
    due = [n for n in RENEWAL_NOTICES if command.today >= contract.end_date - timedelta(days=n)]
    if not due or min(due) in contract.notices:
        return []
    # Only the most urgent notice: one checked late does not send three at once.
    return [
        RenewalDecisionDue(
            days_before_expiry=min(due),
            expires_on=contract.end_date,
            options_left=contract.options_left,
            noticed_on=command.today,
        )
    ]


def _within_ceiling(contract: Contract, used_after: Decimal) -> None:
    if used_after > contract.ceiling:
        raise CommandRejected(
            "ceiling_exceeded",
            f"this would bring {contract.contract_id} to {used_after}, over its ceiling of {contract.ceiling}"
            f" ({contract.ceiling - contract.used} left)",
        )


def _thresholds(contract: Contract, used_after: Decimal, on: date) -> list[ContractEvent]:
    return [
        CapacityThresholdReached(threshold=t, used=used_after, ceiling=contract.ceiling, reached_on=on)
        for t in THRESHOLDS
        if t not in contract.thresholds and used_after * 100 >= contract.ceiling * t
    ]


def _require_active(contract: Contract, action: str) -> None:
    if contract.status == "terminated":
        raise CommandRejected("contract_terminated", f"{contract.contract_id} was terminated: cannot {action}")
    if contract.status == "expired":
        raise CommandRejected("contract_expired", f"{contract.contract_id} has expired: cannot {action}")


# ---------------------------------------------------------------- evolve


def evolve(contract: Contract | None, event: ContractEvent, owned: bool = False) -> Contract:
    """The contract after the event. `owned`: the caller holds the only reference to `contract`
    (an intermediate state of a fold), so its consumptions and reservations are extended in place
    instead of copied: a cloud contract with 100,000 usage lines folds in linear time."""
    if isinstance(event, ContractRegistered):
        return Contract(
            contract_id=event.contract_id,
            kind=event.kind,
            supplier=event.supplier,
            ceiling=event.ceiling,
            start_date=event.start_date,
            end_date=event.end_date,
            renewal_options={o.option_id: o.months for o in event.renewal_options},
            max_term_months=event.max_term_months,
            fee_rate=event.fee_rate,
            unit_prices={i.sku: i.unit_price for i in event.inventory},
            stock={i.sku: i.quantity for i in event.inventory},
        )
    if contract is None:
        raise ValueError(f"{event.type} before ContractRegistered")
    match event:
        case CeilingAmended():
            return contract.model_copy(update={"ceiling": event.ceiling})
        case RenewalOptionExercised():
            # Notices belong to a term: the renewed term gets its own 120, 90 and 30-day notices.
            return contract.model_copy(
                update={
                    "end_date": event.end_date,
                    "notices": frozenset(),
                    "exercised": contract.exercised | {event.option_id},
                }
            )
        case ConsumptionRecorded():
            reservations = contract.reservations if owned else dict(contract.reservations)
            consumptions = contract.consumptions if owned else dict(contract.consumptions)
            committed = contract.committed
            if event.reservation_order_id in reservations:
                committed -= reservations.pop(event.reservation_order_id).amount
            consumptions[event.consumption_id] = Consumption(
                client_org=event.client_org, amount=event.amount, period=event.period
            )
            return contract.model_copy(
                update={
                    "consumptions": consumptions,
                    "consumed": contract.consumed + event.amount,
                    "committed": committed,
                    "reservations": reservations,
                }
            )
        case ConsumptionReversed():
            consumptions = contract.consumptions if owned else dict(contract.consumptions)
            consumptions[event.consumption_id] = consumptions[event.consumption_id].model_copy(
                update={"reversed": True}
            )
            return contract.model_copy(
                update={"consumptions": consumptions, "consumed": contract.consumed - event.amount}
            )
        case InventoryReserved():
            stock = {sku: q - event.quantities.get(sku, 0) for sku, q in contract.stock.items()}
            reservation = Reservation(quantities=event.quantities, amount=event.amount)
            return contract.model_copy(
                update={
                    "stock": stock,
                    "committed": contract.committed + event.amount,
                    "reservations": {**contract.reservations, event.order_id: reservation},
                }
            )
        case InventoryReleased():
            stock = {sku: q + event.quantities.get(sku, 0) for sku, q in contract.stock.items()}
            reservations = {k: v for k, v in contract.reservations.items() if k != event.order_id}
            return contract.model_copy(
                update={"stock": stock, "committed": contract.committed - event.amount, "reservations": reservations}
            )
        case CapacityThresholdReached():
            return contract.model_copy(update={"thresholds": contract.thresholds | {event.threshold}})
        case RenewalDecisionDue():
            seen = {n for n in RENEWAL_NOTICES if n >= event.days_before_expiry}
            return contract.model_copy(update={"notices": contract.notices | seen})
        case ContractExpired():
            return contract.model_copy(update={"status": "expired"})
        case ContractTerminated():
            return contract.model_copy(update={"status": "terminated"})
        case InventoryItemWithdrawn() | InventoryItemReinstated():
            return contract  # stock already moved with the reservation or release
    raise ValueError(f"unknown contract event {event!r}")


def fold(events: Iterable[ContractEvent]) -> Contract | None:
    contract: Contract | None = None
    for event in events:
        contract = evolve(contract, event, owned=contract is not None)  # a fold's states are its own
    return contract
