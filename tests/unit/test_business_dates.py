"""The window of business dates around the ledger's clock: each kind of date, its bounds, and the refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from events.contracts.commands import CheckRenewals, RecordConsumption, RegisterContract
from events.kernel.business_dates import PLANNED_DAYS, TERM_DAYS, check_clock, check_dates
from events.kernel.errors import CommandRejected
from events.orders.commands import AwardCallUp, RecordDelivery, ReviseDeliveryDate
from events.services.commands import OpenIncident, ScheduleMaintenance

# 2026-11-16 12:00 in Ottawa; the same instant is already the 17th nowhere in Canada.
NOW = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)


def refused(command: object) -> str:
    with pytest.raises(CommandRejected) as caught:
        check_dates(command, NOW)  # type: ignore[arg-type]
    assert caught.value.code == "date_out_of_range"
    return caught.value.message


def award(on: date, agreed: date | None = None) -> AwardCallUp:
    return AwardCallUp(contract_number="CALL-1", awarded_on=on, agreed_delivery_date=agreed)


@pytest.mark.parametrize("on", [date(2000, 1, 1), TODAY, TODAY + timedelta(days=1)])
def test_a_fact_that_happened_may_be_dated_from_2000_to_tomorrow(on):
    check_dates(award(on), NOW)


@pytest.mark.parametrize("on", [date(1999, 12, 31), TODAY + timedelta(days=2), date(9999, 12, 31), date(1, 1, 1)])
def test_a_fact_dated_before_2000_or_after_tomorrow_is_refused_naming_the_field_and_the_window(on):
    message = refused(award(on))
    assert message.startswith(f"awarded_on {on.isoformat()} is outside 2000-01-01 to 2026-11-17")


def test_a_delivery_date_may_be_agreed_up_to_a_year_ahead_not_more():
    check_dates(award(TODAY, TODAY + timedelta(days=PLANNED_DAYS)), NOW)
    message = refused(
        ReviseDeliveryDate(agreed_delivery_date=TODAY + timedelta(days=PLANNED_DAYS + 1), agreed_on=TODAY)
    )
    assert "agreed_delivery_date" in message and "planned" in message


def test_a_contract_term_may_run_ten_years_ahead_not_more():
    def contract(end: date) -> RegisterContract:
        return RegisterContract(
            contract_id="SO-1", kind="standing_offer", supplier="S", ceiling="1.00", start_date=TODAY, end_date=end
        )

    check_dates(contract(TODAY + timedelta(days=TERM_DAYS)), NOW)
    assert "end_date" in refused(contract(TODAY + timedelta(days=TERM_DAYS + 1)))


def test_a_moment_may_be_ten_minutes_ahead_of_the_ledger_clock_not_more():
    def incident(at: datetime) -> OpenIncident:
        return OpenIncident(incident_id="I-1", service_id="S", title="t", priority="P1", detected_at=at)

    check_dates(incident(NOW + timedelta(minutes=10)), NOW)
    assert refused(incident(NOW + timedelta(minutes=11))).startswith("detected_at")
    assert refused(incident(datetime(1970, 1, 1, tzinfo=UTC))).startswith("detected_at")


def test_a_maintenance_window_is_planned_ahead():
    starts = NOW + timedelta(days=30)
    check_dates(ScheduleMaintenance(window_id="W", starts_at=starts, ends_at=starts + timedelta(hours=2)), NOW)
    late = NOW + timedelta(days=PLANNED_DAYS + 1)
    assert "starts_at" in refused(ScheduleMaintenance(window_id="W", starts_at=late, ends_at=late))


def test_nested_dates_are_named_by_their_path():
    message = refused(RecordDelivery(delivered_on=date(2031, 1, 1), province="ON", address="a", quantities={"A": 1}))
    assert message.startswith("delivered_on")


@pytest.mark.parametrize(
    ("period", "ok"), [("2000-01", True), ("2026-11", True), ("2026-12", False), ("0001-01", False)]
)
def test_a_month_runs_from_2000_to_the_current_one(period, ok):
    consumption = RecordConsumption(
        consumption_id="C",
        client_org="ESDC",
        amount="1.00",
        period=period,
        source="cloud_usage_report",
        reference="r",
        recorded_on=TODAY,
    )
    if ok:
        check_dates(consumption, NOW)
    else:
        assert refused(consumption).startswith(f"period {period}")


def test_the_contract_clock_never_runs_ahead_of_the_ledger():
    check_clock(TODAY, NOW)
    with pytest.raises(CommandRejected) as caught:
        check_clock(TODAY + timedelta(days=1), NOW)
    assert caught.value.code == "clock_ahead_of_ledger"
    assert "2026-11-16" in caught.value.message
    with pytest.raises(CommandRejected) as caught:
        check_dates(CheckRenewals(today=date(9999, 12, 31)), NOW)
    assert caught.value.code == "clock_ahead_of_ledger"
