"""The contract capacity read model (rule 19): what the broker and each organisation see of a contract.

Each test reads Given / When / Then: the Given is the events `decide` produced for a sequence of
contract commands, recorded in the ledger one stream version after the other; the When is
`project` (or a read-time figure: burn rate, forecast, next decision date); the Then is the row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

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
from events.contracts.decider import decide, fold
from events.contracts.facts import ContractEvent, InventoryItem, RenewalOption
from events.ledger import RecordedEvent
from projections.contract_capacity import (
    ContractStatus,
    burn_rate,
    forecast_exhaustion,
    keys,
    next_decision_date,
    project,
)

CONTRACT_ID = "CLOUD-2026-001"
CLOUD_END = date(2027, 12, 31)
LAPTOP = "LAT-5450"
DISPLAY = "MON-P2425"


# ---------------------------------------------------------------- builders


def register_cloud(**changes: Any) -> RegisterContract:
    """A cloud contract for 2026-2027, ceiling 10,000.00, two 12-month renewal options."""
    fields: dict[str, Any] = {
        "contract_id": CONTRACT_ID,
        "kind": "cloud",
        "supplier": "Nimbus Cloud Services Inc.",
        "ceiling": "10000.00",
        "start_date": date(2026, 1, 1),
        "end_date": CLOUD_END,
        "renewal_options": (RenewalOption(option_id="R1", months=12), RenewalOption(option_id="R2", months=12)),
        "fee_rate": "0.0300",
    }
    return RegisterContract(**{**fields, **changes})


def register_inventory() -> RegisterContract:
    """An inventory contract: 10 laptops at 1,289.00 and 2 displays at 229.00, ceiling 20,000.00."""
    return register_cloud(
        kind="inventory",
        ceiling="20000.00",
        renewal_options=(),
        inventory=(
            InventoryItem(sku=LAPTOP, quantity=10, unit_price="1289.00"),
            InventoryItem(sku=DISPLAY, quantity=2, unit_price="229.00"),
        ),
    )


def consume(
    amount: str,
    consumption_id: str,
    org: str = "ESDC",
    period: str = "2026-03",
    on: date = date(2026, 4, 5),
    **more: Any,
) -> RecordConsumption:
    return RecordConsumption(
        consumption_id=consumption_id,
        client_org=org,
        amount=amount,
        period=period,
        source="supplier_invoice_line",
        reference=f"INV-{consumption_id}",
        recorded_on=on,
        **more,
    )


def reverse(consumption_id: str, on: date = date(2026, 4, 20)) -> ReverseConsumption:
    return ReverseConsumption(consumption_id=consumption_id, reason="billed twice", reversed_on=on)


def history(*commands: ContractCommand) -> list[ContractEvent]:
    """The events `decide` produces for the commands, each decided on the contract so far."""
    events: list[ContractEvent] = []
    for command in commands:
        events.extend(decide(command, fold(events)))
    return events


def recorded(events: list[ContractEvent], stream_id: str = f"contract-{CONTRACT_ID}") -> list[RecordedEvent]:
    """The events as the ledger holds them: stream versions 1, 2, 3... at positions 101, 102, 103..."""
    at = datetime(2026, 4, 5, 14, 0, tzinfo=UTC)
    return [
        RecordedEvent(
            position=100 + version,
            event_id=UUID(int=version),
            type=event.type,
            schema_version=event.schema_version,
            stream_id=stream_id,
            stream_type="contract",
            stream_version=version,
            occurred_at=at,
            recorded_at=at,
            actor="broker",
            correlation_id=UUID(int=1000),
            causation_id=None,
            data=event.model_dump(mode="json"),
            prev_hash=f"hash-{version - 1}",
            hash=f"hash-{version}",
        )
        for version, event in enumerate(events, start=1)
    ]


def project_all(stream: list[RecordedEvent], row: ContractStatus | None = None) -> ContractStatus:
    for event in stream:
        row = project(row, event, CONTRACT_ID)
    assert row is not None
    return row


def given(*commands: ContractCommand) -> ContractStatus:
    """The row after the events of the commands are recorded and projected."""
    return project_all(recorded(history(*commands)))


# ---------------------------------------------------------------- capacity figures


def test_given_a_registered_contract_when_projected_then_it_shows_its_terms_and_full_capacity():
    # When
    row = given(register_cloud())
    # Then
    assert keys(recorded(history(register_cloud()))[0]) == (CONTRACT_ID,)
    assert (row.contract_id, row.kind, row.status) == (CONTRACT_ID, "cloud", "active")
    assert row.ceiling == Decimal("10000.00")
    assert row.fee_rate == Decimal("0.0300")
    assert row.max_term_months == 36
    assert (row.end_date, row.original_end_date) == (CLOUD_END, CLOUD_END)
    assert (row.consumed, row.committed, row.remaining) == (Decimal("0"), Decimal("0"), Decimal("10000.00"))
    assert row.used_fraction == Decimal("0")
    assert (row.stream_version, row.position) == (1, 101)


def test_given_reservations_consumptions_and_a_reversal_when_projected_then_consumed_committed_and_remaining():
    # Given 3 laptops reserved (3,867.00), consumption of 1,000.00 + 500.00 + 250.00, the 1,000.00 reversed
    row = given(
        register_inventory(),
        ReserveInventory(order_id="PO-1", quantities={LAPTOP: 3}, reserved_on=date(2026, 3, 2)),
        consume("1000.00", "C-1", org="ESDC", period="2026-03"),
        consume("500.00", "C-2", org="SSC", period="2026-03"),
        consume("250.00", "C-3", org="ESDC", period="2026-04", on=date(2026, 5, 5)),
        reverse("C-1"),
    )
    # Then
    assert row.consumed == Decimal("750.00")
    assert row.committed == Decimal("3867.00")
    assert row.remaining == Decimal("15383.00")
    assert row.used_fraction == Decimal("0.23085")  # 4,617.00 / 20,000.00
    assert row.reservations == {"PO-1": Decimal("3867.00")}
    assert {i.sku: i.available for i in row.inventory} == {LAPTOP: 7, DISPLAY: 2}
    assert (row.stream_version, row.position) == (6, 106)


def test_given_consumption_by_several_organisations_with_a_reversal_then_each_sees_its_own_per_period():
    # Given
    row = given(
        register_cloud(),
        consume("1000.00", "C-1", org="ESDC", period="2026-03"),
        consume("500.00", "C-2", org="SSC", period="2026-03"),
        consume("250.00", "C-3", org="ESDC", period="2026-04", on=date(2026, 5, 5)),
        consume("125.25", "C-4", org="ESDC", period="2026-04", on=date(2026, 5, 6)),
        reverse("C-1"),
    )
    # Then
    assert row.consumption_by_organisation == {
        "ESDC": {"2026-03": Decimal("0.00"), "2026-04": Decimal("375.25")},
        "SSC": {"2026-03": Decimal("500.00")},
    }
    # One entry per business day, in date order (the reversal on 04-20 falls between)
    assert [(u.on, u.amount) for u in row.usage] == [
        (date(2026, 4, 5), Decimal("1500.00")),
        (date(2026, 4, 20), Decimal("-1000.00")),
        (date(2026, 5, 5), Decimal("250.00")),
        (date(2026, 5, 6), Decimal("125.25")),
    ]


def test_given_a_reserved_order_that_consumes_its_reservation_then_committed_turns_into_consumed():
    # Given
    row = given(
        register_inventory(),
        ReserveInventory(order_id="PO-1", quantities={LAPTOP: 3}, reserved_on=date(2026, 3, 2)),
        consume("3867.00", "C-1", reservation_order_id="PO-1", quantity=3),
    )
    # Then
    assert (row.consumed, row.committed) == (Decimal("3867.00"), Decimal("0.00"))
    assert row.reservations == {}
    assert row.remaining == Decimal("16133.00")
    assert {i.sku: i.available for i in row.inventory} == {LAPTOP: 7, DISPLAY: 2}


def test_given_the_last_units_reserved_then_released_when_projected_then_the_item_is_withdrawn_then_back():
    # Given the 2 displays reserved
    events = history(
        register_inventory(),
        ReserveInventory(order_id="PO-1", quantities={DISPLAY: 2}, reserved_on=date(2026, 3, 2)),
    )
    withdrawn = project_all(recorded(events))
    assert [(i.sku, i.available, i.withdrawn) for i in withdrawn.inventory] == [(LAPTOP, 10, False), (DISPLAY, 0, True)]
    # When they are released
    events += decide(ReleaseInventory(order_id="PO-1", reason="cancelled", released_on=date(2026, 3, 9)), fold(events))
    row = project_all(recorded(events))
    # Then
    assert [(i.sku, i.available, i.withdrawn) for i in row.inventory] == [(LAPTOP, 10, False), (DISPLAY, 2, False)]
    assert row.committed == Decimal("0.00")


def test_given_thresholds_renewals_and_notices_when_projected_then_they_are_listed():
    row = given(
        register_cloud(),
        consume("9500.00", "C-1"),
        CheckRenewals(today=CLOUD_END - timedelta(days=120)),
        ExerciseRenewal(option_id="R1", exercised_on=date(2027, 10, 1)),
    )
    assert row.thresholds_reached == (80, 90)
    assert row.renewal_notices == ()  # the 120-day notice belonged to the term that was renewed
    assert (row.end_date, row.original_end_date) == (date(2028, 12, 31), CLOUD_END)
    assert [(o.option_id, o.exercised) for o in row.renewal_options] == [("R1", True), ("R2", False)]


def test_given_an_event_already_projected_when_redelivered_then_nothing_changes():
    # Given
    stream = recorded(history(register_cloud(), consume("1000.00", "C-1"), consume("500.00", "C-2")))
    row = project_all(stream)
    # When the second and third events are delivered again
    again = project(project(row, stream[1], CONTRACT_ID), stream[2], CONTRACT_ID)
    # Then
    assert again == row
    assert again is not None
    assert again.consumed == Decimal("1500.00")
    assert len(again.usage) == 1  # both on the same day


def test_given_no_row_when_an_event_other_than_registration_arrives_then_no_row():
    stream = recorded(history(register_cloud(), consume("1000.00", "C-1")))
    assert project(None, stream[1], CONTRACT_ID) is None


def test_given_a_terminated_contract_when_projected_then_status_terminated():
    row = given(register_cloud(), TerminateContract(terminated_on=date(2026, 6, 30), reason="supplier in default"))
    assert row.status == "terminated"


# ---------------------------------------------------------------- burn rate and forecast


TODAY = date(2026, 6, 30)


def test_given_consumption_in_the_last_90_days_and_91_days_ago_when_burn_rate_then_only_the_last_90_count():
    # Given 5,000.00 on 2026-03-31 (91 days ago) and 450.00 + 450.00 in the last 90 days
    row = given(
        register_cloud(),
        consume("5000.00", "C-OLD", period="2026-03", on=TODAY - timedelta(days=91)),
        consume("450.00", "C-1", period="2026-04", on=date(2026, 5, 15)),
        consume("450.00", "C-2", period="2026-05", on=TODAY),
    )
    # When / Then 900.00 / 90 days
    assert burn_rate(row, TODAY) == Decimal("10.00")


def test_given_consumption_89_days_ago_when_burn_rate_then_it_counts():
    row = given(register_cloud(), consume("900.00", "C-1", period="2026-04", on=TODAY - timedelta(days=89)))
    assert burn_rate(row, TODAY) == Decimal("10.00")


def test_given_a_reversal_in_the_window_when_burn_rate_then_it_lowers_the_rate():
    row = given(
        register_cloud(),
        consume("900.00", "C-1", period="2026-04", on=date(2026, 5, 1)),
        consume("450.00", "C-2", period="2026-05", on=date(2026, 6, 1)),
        reverse("C-2", on=date(2026, 6, 2)),
    )
    assert burn_rate(row, TODAY) == Decimal("10.00")


def test_given_no_consumption_when_burn_rate_then_zero_and_no_forecast():
    row = given(register_cloud())
    assert burn_rate(row, TODAY) == Decimal("0.00")
    assert forecast_exhaustion(row, TODAY) is None


def test_given_900_burnt_in_90_days_of_10000_when_forecast_then_exhausted_in_910_days():
    # Given 10.00 a day and 9,100.00 remaining
    row = given(register_cloud(), consume("900.00", "C-1", period="2026-05", on=date(2026, 6, 1)))
    assert row.remaining == Decimal("9100.00")
    # When / Then 2026-06-30 + 910 days
    assert forecast_exhaustion(row, TODAY) == date(2028, 12, 26)


def test_given_a_contract_used_to_its_ceiling_when_forecast_then_exhausted_today():
    row = given(register_cloud(), consume("10000.00", "C-1", period="2026-05", on=date(2026, 6, 1)))
    assert forecast_exhaustion(row, TODAY) == TODAY


def test_given_a_cent_burnt_on_a_hundred_million_ceiling_then_no_exhaustion_is_forecast_never_an_overflow():
    # Given 100,000,000.00 of capacity and one cent consumed in 90 days: 900 billion days left, past any date
    row = given(register_cloud(ceiling="100000000.00"), consume("0.01", "C-1", period="2026-05", on=date(2026, 6, 1)))
    # When / Then it never runs out within a calendar: no forecast (not within the term), no exception
    assert forecast_exhaustion(row, TODAY) is None


# ---------------------------------------------------------------- next renewal decision


def test_given_a_contract_months_before_expiry_when_next_decision_date_then_120_days_before_expiry():
    row = given(register_cloud())
    assert next_decision_date(row, date(2027, 6, 1)) == date(2027, 9, 2)


def test_given_the_120_day_date_is_today_when_next_decision_date_then_today():
    row = given(register_cloud())
    assert next_decision_date(row, date(2027, 9, 2)) == date(2027, 9, 2)


def test_given_the_120_day_date_passed_when_next_decision_date_then_90_days_before_expiry():
    row = given(register_cloud())
    assert next_decision_date(row, date(2027, 9, 3)) == date(2027, 10, 2)


def test_given_the_90_day_date_passed_when_next_decision_date_then_30_days_before_expiry():
    row = given(register_cloud())
    assert next_decision_date(row, date(2027, 10, 3)) == date(2027, 12, 1)


def test_given_every_decision_date_passed_when_next_decision_date_then_none():
    row = given(register_cloud())
    assert next_decision_date(row, date(2027, 12, 2)) is None


def test_given_a_renewed_contract_when_next_decision_date_then_counted_from_the_new_end_date():
    row = given(register_cloud(), ExerciseRenewal(option_id="R1", exercised_on=date(2027, 6, 1)))
    assert next_decision_date(row, date(2027, 6, 2)) == date(2028, 9, 2)


def test_given_a_terminated_contract_when_next_decision_date_then_none():
    row = given(register_cloud(), TerminateContract(terminated_on=date(2026, 6, 30), reason="supplier in default"))
    assert next_decision_date(row, date(2027, 6, 1)) is None
