"""The contract decider against the contract rules of /work/shared/domain.md (rules 13, 17-20).

Each test reads Given / When / Then: the Given is a contract folded from the events `decide`
produced for earlier commands, the When is one command, the Then is the events it produces
or the code of the CommandRejected it raises.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from events.contracts.commands import (
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
from events.contracts.decider import Contract, decide, evolve, fold, term_end
from events.contracts.facts import (
    CapacityThresholdReached,
    ConsumptionRecorded,
    ConsumptionReversed,
    ContractEvent,
    ContractExpired,
    ContractRegistered,
    InventoryItem,
    InventoryItemReinstated,
    InventoryItemWithdrawn,
    InventoryReleased,
    InventoryReserved,
    RenewalDecisionDue,
    RenewalOption,
    RenewalOptionExercised,
)
from events.kernel.errors import CommandRejected

# The default cloud contract: two years, 2026-01-01 to 2027-12-31, ceiling 10,000.00,
# two 12-month renewal options; a cloud contract lasts at most 36 months (to 2028-12-31).
CLOUD_START = date(2026, 1, 1)
CLOUD_END = date(2027, 12, 31)
SUPPLIER = "Nimbus Cloud Services Inc."

# The default inventory contract: 10 laptops at 1,289.00 and 2 displays at 229.00
# (worth 13,348.00) under a ceiling of 20,000.00, for 2026.
LAPTOP = "LAT-5450"
DISPLAY = "MON-P2425"


# ---------------------------------------------------------------- builders


def register_cloud(**changes: Any) -> RegisterContract:
    fields: dict[str, Any] = {
        "contract_id": "CLOUD-2026-001",
        "kind": "cloud",
        "supplier": SUPPLIER,
        "ceiling": "10000.00",
        "start_date": CLOUD_START,
        "end_date": CLOUD_END,
        "renewal_options": (RenewalOption(option_id="R1", months=12), RenewalOption(option_id="R2", months=12)),
        "fee_rate": "0.0300",
    }
    return RegisterContract(**{**fields, **changes})


def laptops(quantity: int = 10) -> InventoryItem:
    return InventoryItem(sku=LAPTOP, quantity=quantity, unit_price="1289.00")


def displays(quantity: int = 2) -> InventoryItem:
    return InventoryItem(sku=DISPLAY, quantity=quantity, unit_price="229.00")


def register_inventory(**changes: Any) -> RegisterContract:
    fields: dict[str, Any] = {
        "contract_id": "INV-2026-007",
        "kind": "inventory",
        "supplier": "Northern Micro Inc.",
        "ceiling": "20000.00",
        "start_date": date(2026, 1, 1),
        "end_date": date(2026, 12, 31),
        "inventory": (laptops(), displays()),
    }
    return RegisterContract(**{**fields, **changes})


def consume(amount: str, consumption_id: str = "C-001", **changes: Any) -> RecordConsumption:
    fields: dict[str, Any] = {
        "consumption_id": consumption_id,
        "client_org": "ESDC",
        "amount": amount,
        "period": "2026-03",
        "source": "cloud_usage_report",
        "reference": f"USAGE-{consumption_id}",
        "recorded_on": date(2026, 4, 5),
    }
    return RecordConsumption(**{**fields, **changes})


def reverse(consumption_id: str = "C-001", on: date = date(2026, 4, 20)) -> ReverseConsumption:
    return ReverseConsumption(consumption_id=consumption_id, reason="billed twice by the supplier", reversed_on=on)


def reserve(order_id: str = "PO-2026-000123", on: date = date(2026, 3, 2), **quantities: int) -> ReserveInventory:
    wanted = {LAPTOP if name == "laptops" else DISPLAY: q for name, q in quantities.items()}
    return ReserveInventory(order_id=order_id, quantities=wanted, reserved_on=on)


def release(order_id: str = "PO-2026-000123", on: date = date(2026, 3, 9)) -> ReleaseInventory:
    return ReleaseInventory(order_id=order_id, reason="order cancelled by the client", released_on=on)


def renew(option_id: str = "R1", on: date = date(2027, 10, 1)) -> ExerciseRenewal:
    return ExerciseRenewal(option_id=option_id, exercised_on=on)


def terminate(on: date = date(2026, 6, 30)) -> TerminateContract:
    return TerminateContract(terminated_on=on, reason="supplier in default")


def check(today: date) -> CheckRenewals:
    return CheckRenewals(today=today)


def history(*commands: ContractCommand) -> list[ContractEvent]:
    """The events `decide` produces for the commands, each decided on the contract so far."""
    events: list[ContractEvent] = []
    for command in commands:
        events.extend(decide(command, fold(events)))
    return events


def given(*commands: ContractCommand) -> Contract:
    """The contract after the commands, folded event by event with `evolve`."""
    contract: Contract | None = None
    for event in history(*commands):
        contract = evolve(contract, event)
    assert contract is not None
    return contract


def refused(command: ContractCommand, contract: Contract | None) -> CommandRejected:
    with pytest.raises(CommandRejected) as rejected:
        decide(command, contract)
    return rejected.value


def rejection(command: ContractCommand, contract: Contract | None) -> str:
    return refused(command, contract).code


def only_event(command: ContractCommand, contract: Contract | None) -> ContractEvent:
    events = decide(command, contract)
    assert len(events) == 1, events
    return events[0]


def types(events: list[ContractEvent]) -> list[str]:
    return [event.type for event in events]


# ---------------------------------------------------------------- registration


def test_given_no_contract_when_a_cloud_contract_is_registered_then_registered_with_its_terms():
    # When
    registered = only_event(register_cloud(), None)
    # Then
    assert isinstance(registered, ContractRegistered)
    assert registered.contract_id == "CLOUD-2026-001"
    assert registered.ceiling == Decimal("10000.00")
    assert (registered.start_date, registered.end_date) == (CLOUD_START, CLOUD_END)
    assert registered.fee_rate == Decimal("0.0300")
    assert [o.option_id for o in registered.renewal_options] == ["R1", "R2"]


def test_given_a_contract_ending_before_it_starts_when_registered_then_rejected_end_before_start():
    command = register_cloud(start_date=date(2026, 1, 1), end_date=date(2025, 12, 31))
    assert rejection(command, None) == "end_before_start"


def test_given_a_contract_ending_the_day_it_starts_when_registered_then_accepted():
    registered = only_event(register_cloud(start_date=date(2026, 1, 1), end_date=date(2026, 1, 1)), None)
    assert isinstance(registered, ContractRegistered)


def test_given_a_cloud_contract_without_maximum_term_when_registered_then_maximum_defaults_to_36_months():
    registered = only_event(register_cloud(max_term_months=None), None)
    assert isinstance(registered, ContractRegistered)
    assert registered.max_term_months == 36


def test_given_a_cloud_contract_with_a_36_month_maximum_when_registered_then_accepted():
    registered = only_event(register_cloud(max_term_months=36), None)
    assert isinstance(registered, ContractRegistered)
    assert registered.max_term_months == 36


def test_given_a_cloud_contract_with_a_shorter_maximum_when_registered_then_that_maximum_is_kept():
    registered = only_event(register_cloud(max_term_months=24), None)
    assert isinstance(registered, ContractRegistered)
    assert registered.max_term_months == 24


def test_given_a_cloud_contract_with_a_37_month_maximum_when_registered_then_rejected_cloud_term_too_long():
    assert rejection(register_cloud(max_term_months=37), None) == "cloud_term_too_long"


def test_given_a_standing_offer_with_a_60_month_maximum_when_registered_then_accepted():
    # Only cloud contracts are capped at 3 years (rule 20).
    command = register_cloud(kind="standing_offer", max_term_months=60, end_date=date(2030, 12, 31))
    registered = only_event(command, None)
    assert isinstance(registered, ContractRegistered)
    assert registered.max_term_months == 60


def test_given_a_cloud_initial_term_one_day_past_36_months_when_registered_then_rejected_term_exceeds_maximum():
    # 36 months from 2026-01-01 end on 2028-12-31
    command = register_cloud(end_date=date(2029, 1, 1))
    assert rejection(command, None) == "term_exceeds_maximum"


def test_given_a_cloud_initial_term_of_exactly_36_months_when_registered_then_accepted():
    registered = only_event(register_cloud(end_date=date(2028, 12, 31), renewal_options=()), None)
    assert isinstance(registered, ContractRegistered)
    assert registered.end_date == date(2028, 12, 31)


def test_given_a_standing_offer_initial_term_past_its_maximum_when_registered_then_rejected_term_exceeds_maximum():
    command = register_cloud(kind="standing_offer", max_term_months=12, end_date=date(2027, 1, 1))
    assert rejection(command, None) == "term_exceeds_maximum"


def test_given_a_cloud_contract_with_optional_quantities_when_registered_then_rejected_inventory_not_allowed():
    assert rejection(register_cloud(inventory=(laptops(),)), None) == "inventory_not_allowed"


def test_given_an_inventory_contract_without_quantities_when_registered_then_rejected_inventory_required():
    assert rejection(register_inventory(inventory=()), None) == "inventory_required"


def test_given_an_inventory_worth_more_than_the_ceiling_when_registered_then_rejected_inventory_exceeds_ceiling():
    # 10 x 1,289.00 + 2 x 229.00 = 13,348.00 against a ceiling of 13,347.99
    assert rejection(register_inventory(ceiling="13347.99"), None) == "inventory_exceeds_ceiling"


def test_given_an_inventory_worth_exactly_the_ceiling_when_registered_then_accepted_with_its_stock():
    # When
    registered = only_event(register_inventory(ceiling="13348.00"), None)
    # Then
    assert isinstance(registered, ContractRegistered)
    contract = fold([registered])
    assert contract is not None
    assert contract.stock == {LAPTOP: 10, DISPLAY: 2}
    assert contract.unit_prices == {LAPTOP: Decimal("1289.00"), DISPLAY: Decimal("229.00")}


def test_given_a_registered_contract_when_registered_again_then_rejected_contract_exists():
    contract = given(register_cloud())
    assert rejection(register_cloud(), contract) == "contract_exists"


def test_given_no_contract_when_consumption_is_recorded_then_rejected_contract_not_found():
    assert rejection(consume("100.00"), None) == "contract_not_found"


# ---------------------------------------------------------------- renewals


def test_given_a_cloud_contract_when_an_unknown_option_is_exercised_then_rejected_unknown_renewal_option():
    contract = given(register_cloud())
    assert rejection(renew("R9"), contract) == "unknown_renewal_option"


def test_given_an_exercised_option_when_exercised_again_then_rejected_renewal_option_used():
    contract = given(register_cloud(max_term_months=None), renew("R1"))
    assert rejection(renew("R1", on=date(2028, 6, 1)), contract) == "renewal_option_used"


def test_given_a_cloud_contract_for_2026_2027_when_renewed_12_months_then_it_ends_2028_12_31():
    # Given
    contract = given(register_cloud())
    # When
    renewed = only_event(renew("R1"), contract)
    # Then
    assert isinstance(renewed, RenewalOptionExercised)
    assert (renewed.option_id, renewed.months) == ("R1", 12)
    assert renewed.previous_end_date == CLOUD_END
    assert renewed.end_date == date(2028, 12, 31)
    assert renewed.exercised_on == date(2027, 10, 1)
    assert fold([*history(register_cloud()), renewed]).end_date == date(2028, 12, 31)


def test_given_a_cloud_contract_renewed_to_36_months_when_renewed_again_then_rejected_renewal_past_maximum_term():
    # Given the contract already runs to 2028-12-31, the 3-year maximum
    contract = given(register_cloud(), renew("R1"))
    # When / Then another 12 months would end 2029-12-31
    assert rejection(renew("R2", on=date(2028, 10, 1)), contract) == "renewal_past_maximum_term"


def test_given_a_contract_ending_on_the_last_day_of_february_when_renewed_12_months_then_it_ends_on_the_next_one():
    # Given a standing offer from 2026-03-01 to 2027-02-28
    contract = given(
        register_cloud(
            kind="standing_offer",
            start_date=date(2026, 3, 1),
            end_date=date(2027, 2, 28),
            renewal_options=(RenewalOption(option_id="Y2", months=12),),
        )
    )
    # When
    renewed = only_event(renew("Y2", on=date(2027, 1, 15)), contract)
    # Then 12 months from 2027-03-01 end on the leap day 2028-02-29
    assert isinstance(renewed, RenewalOptionExercised)
    assert renewed.end_date == date(2028, 2, 29)


def test_given_a_term_when_its_end_is_computed_then_it_is_the_day_before_the_same_date_months_later():
    assert term_end(date(2026, 1, 1), 36) == date(2028, 12, 31)
    assert term_end(date(2028, 1, 1), 12) == date(2028, 12, 31)
    assert term_end(date(2026, 4, 15), 6) == date(2026, 10, 14)
    assert term_end(date(2027, 3, 1), 12) == date(2028, 2, 29)


def test_given_a_contract_past_its_end_date_when_renewed_then_rejected_contract_expired():
    contract = given(register_cloud())
    assert rejection(renew("R1", on=date(2028, 1, 1)), contract) == "contract_expired"


def test_given_a_contract_on_its_last_day_when_renewed_then_accepted():
    contract = given(register_cloud())
    renewed = only_event(renew("R1", on=CLOUD_END), contract)
    assert isinstance(renewed, RenewalOptionExercised)


def test_given_an_expired_contract_when_renewed_then_rejected_contract_expired():
    contract = given(register_cloud(), check(date(2028, 1, 2)))
    assert contract.status == "expired"
    assert rejection(renew("R1", on=date(2027, 12, 1)), contract) == "contract_expired"


# ---------------------------------------------------------------- consumption


def test_given_a_cloud_contract_when_consumption_is_recorded_then_recorded_with_its_details():
    # Given
    contract = given(register_cloud())
    # When
    recorded = only_event(consume("1250.50", period="2026-03", client_org="SSC"), contract)
    # Then
    assert isinstance(recorded, ConsumptionRecorded)
    assert (recorded.consumption_id, recorded.client_org, recorded.period) == ("C-001", "SSC", "2026-03")
    assert recorded.amount == Decimal("1250.50")
    assert recorded.source == "cloud_usage_report"
    after = evolve(contract, recorded)
    assert after.consumed == Decimal("1250.50")
    assert after.used == Decimal("1250.50")


def test_given_a_contract_starting_in_january_2026_when_consumption_is_for_december_2025_then_rejected_outside():
    contract = given(register_cloud())
    assert rejection(consume("100.00", period="2025-12"), contract) == "outside_contract_period"


def test_given_a_contract_ending_in_december_2027_when_consumption_is_for_january_2028_then_rejected_outside():
    contract = given(register_cloud())
    assert rejection(consume("100.00", period="2028-01"), contract) == "outside_contract_period"


def test_given_a_contract_starting_mid_month_when_consumption_is_for_that_month_then_accepted():
    # Given a contract from 2026-01-15: January 2026 overlaps its start
    contract = given(register_cloud(start_date=date(2026, 1, 15), end_date=date(2027, 12, 31)))
    # When
    recorded = only_event(consume("100.00", period="2026-01"), contract)
    # Then
    assert isinstance(recorded, ConsumptionRecorded)


def test_given_a_contract_when_consumption_is_for_its_last_month_then_accepted():
    contract = given(register_cloud())
    recorded = only_event(consume("100.00", period="2027-12", recorded_on=date(2028, 1, 10)), contract)
    assert isinstance(recorded, ConsumptionRecorded)


def test_given_a_terminated_contract_when_consumption_is_recorded_then_rejected_contract_terminated():
    contract = given(register_cloud(), terminate())
    assert rejection(consume("100.00"), contract) == "contract_terminated"


def test_given_a_recorded_consumption_when_recorded_again_with_the_same_id_then_rejected_duplicate():
    contract = given(register_cloud(), consume("100.00", "C-001"))
    assert rejection(consume("200.00", "C-001"), contract) == "duplicate_consumption"


def test_given_9000_used_of_10000_when_1000_01_is_consumed_then_rejected_ceiling_exceeded():
    contract = given(register_cloud(), consume("9000.00", "C-001"))
    assert rejection(consume("1000.01", "C-002"), contract) == "ceiling_exceeded"


def test_given_9000_used_of_10000_when_exactly_1000_is_consumed_then_accepted_at_the_ceiling():
    # Given
    contract = given(register_cloud(), consume("9000.00", "C-001"))
    # When
    events = decide(consume("1000.00", "C-002"), contract)
    # Then
    assert isinstance(events[0], ConsumptionRecorded)
    assert fold([*history(register_cloud(), consume("9000.00", "C-001")), *events]).used == Decimal("10000.00")


def test_given_no_such_consumption_when_reversed_then_rejected_unknown_consumption():
    contract = given(register_cloud(), consume("100.00", "C-001"))
    assert rejection(reverse("C-404"), contract) == "unknown_consumption"


def test_given_a_consumption_when_reversed_then_reversed_with_its_organisation_amount_and_period():
    # Given
    contract = given(register_cloud(), consume("300.00", "C-001", client_org="CRA", period="2026-05"))
    # When
    reversed_ = only_event(reverse("C-001"), contract)
    # Then
    assert isinstance(reversed_, ConsumptionReversed)
    assert (reversed_.client_org, reversed_.period, reversed_.amount) == ("CRA", "2026-05", Decimal("300.00"))
    assert evolve(contract, reversed_).consumed == Decimal("0.00")


def test_given_a_reversed_consumption_when_reversed_again_then_rejected_already_reversed():
    contract = given(register_cloud(), consume("100.00", "C-001"), reverse("C-001"))
    assert rejection(reverse("C-001"), contract) == "already_reversed"


def test_given_a_contract_at_its_ceiling_when_a_consumption_is_reversed_then_the_capacity_is_free_again():
    # Given the contract is used to the last cent, then 2,500.00 is reversed
    full = given(register_cloud(), consume("7500.00", "C-001"), consume("2500.00", "C-002"))
    assert rejection(consume("0.01", "C-003"), full) == "ceiling_exceeded"
    contract = given(register_cloud(), consume("7500.00", "C-001"), consume("2500.00", "C-002"), reverse("C-002"))
    # When
    events = decide(consume("2500.00", "C-003"), contract)
    # Then
    assert isinstance(events[0], ConsumptionRecorded)
    assert contract.used == Decimal("7500.00")


# ---------------------------------------------------------------- capacity thresholds


def thresholds(events: list[ContractEvent]) -> list[int]:
    return [e.threshold for e in events if isinstance(e, CapacityThresholdReached)]


def test_given_7999_99_used_of_10000_when_0_01_is_consumed_then_the_80_percent_threshold_is_reached():
    # Given
    contract = given(register_cloud(), consume("7999.99", "C-001"))
    # When
    events = decide(consume("0.01", "C-002"), contract)
    # Then
    assert types(events) == ["ConsumptionRecorded", "CapacityThresholdReached"]
    reached = events[1]
    assert isinstance(reached, CapacityThresholdReached)
    assert reached.threshold == 80
    assert (reached.used, reached.ceiling) == (Decimal("8000.00"), Decimal("10000.00"))
    assert reached.reached_on == date(2026, 4, 5)


def test_given_a_contract_below_80_percent_when_7999_99_is_consumed_then_no_threshold_is_reached():
    contract = given(register_cloud())
    assert types(decide(consume("7999.99"), contract)) == ["ConsumptionRecorded"]


def test_given_consumption_climbing_to_80_then_90_then_100_percent_then_one_threshold_event_each():
    # Given / When / Then, one consumption at a time
    events_80 = history(register_cloud(), consume("8000.00", "C-001"))
    assert thresholds(events_80) == [80]
    events_90 = decide(consume("1000.00", "C-002"), fold(events_80))
    assert thresholds(events_90) == [90]
    events_100 = decide(consume("1000.00", "C-003"), fold([*events_80, *events_90]))
    assert thresholds(events_100) == [100]
    after = fold([*events_80, *events_90, *events_100])
    assert after is not None
    assert after.thresholds == frozenset({80, 90, 100})


def test_given_50_percent_used_when_one_consumption_brings_it_to_95_percent_then_80_and_90_are_reached_at_once():
    # Given
    contract = given(register_cloud(), consume("5000.00", "C-001"))
    # When
    events = decide(consume("4500.00", "C-002"), contract)
    # Then
    assert types(events) == ["ConsumptionRecorded", "CapacityThresholdReached", "CapacityThresholdReached"]
    assert thresholds(events) == [80, 90]
    assert all(e.used == Decimal("9500.00") for e in events if isinstance(e, CapacityThresholdReached))


def test_given_80_percent_reached_then_reversed_below_when_crossed_again_then_no_second_80_percent_event():
    # Given 80 % reached, then the consumption reversed (back to 0 %)
    contract = given(register_cloud(), consume("8500.00", "C-001"), reverse("C-001"))
    assert contract.used == Decimal("0.00")
    # When 80 % is crossed again
    events = decide(consume("8200.00", "C-002"), contract)
    # Then
    assert types(events) == ["ConsumptionRecorded"]


def test_given_80_percent_reached_when_more_is_consumed_below_90_then_no_threshold_again():
    contract = given(register_cloud(), consume("8000.00", "C-001"))
    assert thresholds(decide(consume("500.00", "C-002"), contract)) == []


# ---------------------------------------------------------------- inventory (rule 13)


def test_given_an_inventory_contract_with_2_left_when_3_are_reserved_then_rejected_stock_short():
    # Given 2 displays left
    contract = given(register_inventory())
    # When
    rejected = refused(reserve(displays=3), contract)
    # Then
    assert rejected.code == "stock_short"
    assert "only 2 left" in rejected.message


def test_given_an_inventory_contract_when_some_units_are_reserved_then_reserved_and_committed():
    # Given
    contract = given(register_inventory())
    # When
    reserved = only_event(reserve(laptops=3), contract)
    # Then
    assert isinstance(reserved, InventoryReserved)
    assert reserved.quantities == {LAPTOP: 3}
    assert reserved.amount == Decimal("3867.00")
    after = evolve(contract, reserved)
    assert after.stock == {LAPTOP: 7, DISPLAY: 2}
    assert after.committed == Decimal("3867.00")


def test_given_an_inventory_contract_with_2_left_when_exactly_2_are_reserved_then_the_item_is_withdrawn():
    # Given
    contract = given(register_inventory())
    # When
    events = decide(reserve(displays=2, laptops=1), contract)
    # Then
    assert types(events) == ["InventoryReserved", "InventoryItemWithdrawn"]
    reserved, withdrawn = events
    assert isinstance(reserved, InventoryReserved)
    assert reserved.amount == Decimal("1747.00")  # 2 x 229.00 + 1 x 1,289.00
    assert isinstance(withdrawn, InventoryItemWithdrawn)
    assert withdrawn.sku == DISPLAY
    assert withdrawn.withdrawn_on == date(2026, 3, 2)


def test_given_a_withdrawn_item_when_reserved_again_then_rejected_item_withdrawn():
    contract = given(register_inventory(), reserve("PO-1", displays=2))
    assert contract.stock[DISPLAY] == 0
    assert rejection(reserve("PO-2", displays=1), contract) == "item_withdrawn"


def test_given_a_reservation_that_exhausted_an_item_when_released_then_stock_is_back_and_the_item_reinstated():
    # Given
    contract = given(register_inventory(), reserve("PO-1", displays=2, laptops=3))
    # When
    events = decide(release("PO-1"), contract)
    # Then
    assert types(events) == ["InventoryReleased", "InventoryItemReinstated"]
    released, reinstated = events
    assert isinstance(released, InventoryReleased)
    assert released.quantities == {DISPLAY: 2, LAPTOP: 3}
    assert released.amount == Decimal("4325.00")
    assert isinstance(reinstated, InventoryItemReinstated)
    assert (reinstated.sku, reinstated.quantity, reinstated.reinstated_on) == (DISPLAY, 2, date(2026, 3, 9))
    after = fold([*history(register_inventory(), reserve("PO-1", displays=2, laptops=3)), *events])
    assert after is not None
    assert after.stock == {LAPTOP: 10, DISPLAY: 2}
    assert after.committed == Decimal("0.00")
    # the last 2 displays can be reserved again, and are withdrawn again
    assert types(decide(reserve("PO-2", displays=2), after)) == ["InventoryReserved", "InventoryItemWithdrawn"]


def test_given_a_released_item_when_reserved_again_then_accepted():
    contract = given(register_inventory(), reserve("PO-1", displays=2), release("PO-1"))
    events = decide(reserve("PO-2", displays=1), contract)
    assert types(events) == ["InventoryReserved"]


def test_given_no_reservation_when_released_then_rejected_no_reservation():
    contract = given(register_inventory())
    assert rejection(release("PO-404"), contract) == "no_reservation"


def test_given_a_reservation_when_the_awarded_order_consumes_it_then_committed_turns_into_consumed():
    # Given 3 laptops reserved: 3,867.00 committed
    contract = given(register_inventory(), reserve("PO-1", laptops=3))
    assert (contract.consumed, contract.committed) == (Decimal("0.00"), Decimal("3867.00"))
    # When the awarded order records its consumption against the reservation
    command = consume("3867.00", "C-INV-1", source="awarded_order", quantity=3, reservation_order_id="PO-1")
    events = decide(command, contract)
    # Then
    assert types(events) == ["ConsumptionRecorded"]
    recorded = events[0]
    assert isinstance(recorded, ConsumptionRecorded)
    assert recorded.reservation_order_id == "PO-1"
    after = evolve(contract, recorded)
    assert (after.consumed, after.committed) == (Decimal("3867.00"), Decimal("0.00"))
    assert after.used == contract.used
    assert after.stock[LAPTOP] == 7
    assert "PO-1" not in after.reservations


def test_given_a_reservation_at_the_ceiling_when_the_order_consumes_it_then_not_counted_twice():
    # Given the whole ceiling taken by the reservation of 10 laptops (12,890.00 of 12,890.00)
    contract = given(register_inventory(ceiling="13348.00", inventory=(laptops(),)), reserve("PO-1", laptops=10))
    # When
    command = consume("12890.00", "C-INV-1", source="awarded_order", reservation_order_id="PO-1")
    events = decide(command, contract)
    # Then
    assert isinstance(events[0], ConsumptionRecorded)


def test_given_a_cloud_contract_when_inventory_is_reserved_then_rejected_not_an_inventory_contract():
    contract = given(register_cloud())
    assert rejection(reserve(laptops=1), contract) == "not_an_inventory_contract"


# ---------------------------------------------------------------- renewal clock (rule 19)


def days_before_end(days: int) -> date:
    return CLOUD_END - timedelta(days=days)


def test_given_a_contract_121_days_before_expiry_when_checked_then_nothing_is_due():
    contract = given(register_cloud())
    assert decide(check(days_before_end(121)), contract) == []


def test_given_a_contract_120_days_before_expiry_when_checked_then_a_renewal_decision_is_due():
    # Given
    contract = given(register_cloud())
    # When
    due = only_event(check(days_before_end(120)), contract)
    # Then
    assert isinstance(due, RenewalDecisionDue)
    assert due.days_before_expiry == 120
    assert due.expires_on == CLOUD_END
    assert due.options_left == ("R1", "R2")
    assert due.noticed_on == date(2027, 9, 2)


def test_given_the_120_day_notice_when_checked_again_the_same_day_then_nothing():
    contract = given(register_cloud(), check(days_before_end(120)))
    assert decide(check(days_before_end(120)), contract) == []


def test_given_the_120_day_notice_when_checked_100_days_before_expiry_then_nothing():
    contract = given(register_cloud(), check(days_before_end(120)))
    assert decide(check(days_before_end(100)), contract) == []


def test_given_the_120_day_notice_when_checked_90_days_before_expiry_then_the_90_day_notice():
    # Given
    contract = given(register_cloud(), check(days_before_end(120)))
    # When
    due = only_event(check(days_before_end(90)), contract)
    # Then
    assert isinstance(due, RenewalDecisionDue)
    assert due.days_before_expiry == 90


def test_given_120_and_90_day_notices_when_checked_30_days_before_expiry_then_the_30_day_notice():
    contract = given(register_cloud(), check(days_before_end(120)), check(days_before_end(90)))
    due = only_event(check(days_before_end(30)), contract)
    assert isinstance(due, RenewalDecisionDue)
    assert due.days_before_expiry == 30


def test_given_a_contract_first_checked_20_days_before_expiry_then_only_the_30_day_notice_not_three():
    # Given
    contract = given(register_cloud())
    # When
    events = decide(check(days_before_end(20)), contract)
    # Then
    assert types(events) == ["RenewalDecisionDue"]
    due = events[0]
    assert isinstance(due, RenewalDecisionDue)
    assert due.days_before_expiry == 30
    # and no earlier notice follows later
    assert decide(check(days_before_end(10)), evolve(contract, due)) == []


def test_given_an_exercised_option_when_the_renewal_decision_is_due_then_only_the_options_left_are_listed():
    contract = given(register_cloud(), renew("R1", on=date(2027, 6, 1)))
    due = only_event(check(date(2028, 12, 31) - timedelta(days=120)), contract)
    assert isinstance(due, RenewalDecisionDue)
    assert due.options_left == ("R2",)
    assert due.expires_on == date(2028, 12, 31)


def test_given_notices_sent_for_the_first_term_when_renewed_then_the_120_day_notice_is_due_before_the_new_end():
    # Given all three notices of the first term, then the contract renewed to 2028-12-31
    contract = given(
        register_cloud(),
        check(days_before_end(120)),
        check(days_before_end(90)),
        check(days_before_end(30)),
        renew("R1", on=date(2027, 12, 15)),
    )
    # When checked 120 days before the new end date
    events = decide(check(date(2028, 12, 31) - timedelta(days=120)), contract)
    # Then a renewal decision is due again for the new term
    assert types(events) == ["RenewalDecisionDue"]
    due = events[0]
    assert isinstance(due, RenewalDecisionDue)
    assert (due.days_before_expiry, due.expires_on) == (120, date(2028, 12, 31))


def test_given_a_contract_on_its_last_day_when_checked_then_not_expired_yet():
    contract = given(register_cloud(), check(days_before_end(30)))
    assert decide(check(CLOUD_END), contract) == []


def test_given_a_contract_past_its_end_date_when_checked_then_expired_then_nothing_more():
    # Given
    contract = given(register_cloud())
    # When
    expired = only_event(check(date(2028, 1, 1)), contract)
    # Then
    assert isinstance(expired, ContractExpired)
    assert expired.expired_on == CLOUD_END
    after = evolve(contract, expired)
    assert after.status == "expired"
    assert decide(check(date(2028, 1, 2)), after) == []
    assert decide(check(date(2028, 6, 1)), after) == []


def test_given_a_terminated_contract_when_checked_then_nothing():
    contract = given(register_cloud(), terminate())
    assert decide(check(days_before_end(120)), contract) == []
    assert decide(check(date(2028, 1, 1)), contract) == []


def test_given_a_terminated_contract_when_terminated_again_then_rejected_contract_terminated():
    contract = given(register_cloud(), terminate())
    assert rejection(terminate(date(2026, 7, 1)), contract) == "contract_terminated"
