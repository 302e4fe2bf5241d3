"""The burn-down of a contract: % of the ceiling left over time, its forecast, and its drawing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from projections.contract_capacity import ContractStatus, UsageEntry
from projections.contract_capacity.burn_down import (
    LARGE,
    SMALL,
    BurnDown,
    Frame,
    Point,
    burn_down,
    plot,
)

D = Decimal


def contract(
    usage: tuple[tuple[str, str], ...] = (),
    ceiling: str = "1000.00",
    committed: str = "0.00",
    start: str = "2026-01-01",
    end: str = "2026-12-31",
    status: str = "active",
) -> ContractStatus:
    entries = tuple(UsageEntry(on=date.fromisoformat(on), amount=D(amount)) for on, amount in usage)
    return ContractStatus(
        contract_id="SO-1",
        kind="standing_offer",
        supplier="Compugen Inc.",
        ceiling=D(ceiling),
        currency="CAD",
        fee_rate=D("0.02"),
        start_date=date.fromisoformat(start),
        end_date=date.fromisoformat(end),
        original_end_date=date.fromisoformat(end),
        max_term_months=None,
        renewal_options=(),
        status=status,
        consumed=sum((e.amount for e in entries), D("0.00")),
        committed=D(committed),
        usage=entries,
        stream_version=1,
        position=1,
    )


# Consumption on three days (two entries on 1 March, in the wrong order), and a reversal.
USAGE = (
    ("2026-02-01", "100.00"),
    ("2026-03-01", "200.00"),
    ("2026-04-01", "-50.00"),
    ("2026-03-01", "50.00"),
)
TODAY = date(2026, 5, 1)


def test_the_actual_line_starts_full_and_drops_after_each_days_consumption_up_to_today():
    chart = burn_down(contract(USAGE), TODAY)

    assert chart.actual == (
        Point(date(2026, 1, 1), D(100)),
        Point(date(2026, 2, 1), D("90.0")),  # 100 used of 1000
        Point(date(2026, 3, 1), D("65.0")),  # 350 used: one point per day
        Point(date(2026, 4, 1), D("70.0")),  # 300 used after the reversal
        Point(date(2026, 5, 1), D("70.0")),  # nothing since: flat up to today
    )
    assert (chart.left_pct, chart.used_pct, chart.committed_pct) == (D("70.0"), D("30.0"), D("0.0"))
    assert (chart.start, chart.end, chart.expires_on) == (date(2026, 1, 1), date(2026, 12, 31), date(2026, 12, 31))


def test_the_forecast_runs_from_todays_capacity_left_to_zero_at_the_exhaustion_date():
    # 300 burnt in the last 90 days: 3.33 a day; 700 left lasts 210 days.
    chart = burn_down(contract(USAGE), TODAY)

    assert chart.exhaustion == date(2026, 11, 27)
    assert chart.forecast == (Point(TODAY, D("70.0")), Point(date(2026, 11, 27), D(0)))


def test_commitments_lower_what_is_left_and_bring_the_forecast_closer():
    chart = burn_down(contract(USAGE, committed="100.00"), TODAY)

    assert chart.actual[-1] == Point(TODAY, D("70.0"))  # the line is consumption only
    assert (chart.after_consumption_pct, chart.committed_pct, chart.left_pct) == (D("70.0"), D("10.0"), D("60.0"))
    assert chart.forecast == (Point(TODAY, D("60.0")), Point(date(2026, 10, 28), D(0)))  # 600 / 3.33 = 180 days


def test_the_x_axis_runs_to_the_forecast_when_it_passes_the_end_date():
    chart = burn_down(contract(USAGE, end="2026-08-31"), TODAY)

    assert chart.exhaustion == date(2026, 11, 27)
    assert (chart.expires_on, chart.end) == (date(2026, 8, 31), date(2026, 11, 27))


def test_a_fully_consumed_ceiling_is_exhausted_today_with_no_forecast_line():
    chart = burn_down(contract((("2026-04-20", "1000.00"),)), TODAY)

    assert chart.actual[-2:] == (Point(date(2026, 4, 20), D(0)), Point(TODAY, D(0)))
    assert (chart.left_pct, chart.used_pct, chart.exhaustion, chart.forecast) == (D(0), D(100), TODAY, None)
    drawn = plot(chart)
    assert drawn.forecast is None
    assert drawn.actual.endswith(f"{drawn.today_x},{drawn.y1}")  # on the 0 % line


def test_nothing_burning_gives_no_forecast_and_a_flat_line():
    old = contract((("2026-01-10", "100.00"),))  # more than 90 days ago
    never = contract()

    assert burn_down(old, TODAY).exhaustion is None
    assert burn_down(old, TODAY).forecast is None
    chart = burn_down(never, TODAY)
    assert chart.actual == (Point(date(2026, 1, 1), D(100)), Point(TODAY, D(100)))
    assert (chart.exhaustion, chart.forecast, chart.left_pct) == (None, None, D(100))
    assert plot(chart, SMALL).forecast is None


def test_a_zero_ceiling_counts_as_fully_used_without_dividing_by_zero():
    chart = burn_down(contract(ceiling="0.00"), TODAY)

    assert (chart.left_pct, chart.used_pct) == (D(0), D(100))
    assert chart.actual[-1] == Point(TODAY, D(0))
    assert plot(chart, LARGE).actual


def test_an_expired_contract_has_no_forecast_and_its_line_stops_at_expiry():
    chart = burn_down(contract(USAGE, end="2026-04-15", status="expired"), TODAY)

    assert (chart.exhaustion, chart.forecast, chart.active) == (None, None, False)
    assert chart.actual[-1] == Point(date(2026, 4, 15), D("70.0"))
    assert plot(chart).today_x is None  # today is past the x axis


def test_a_one_day_contract_still_has_a_one_day_x_axis():
    chart = burn_down(contract(start="2026-05-01", end="2026-05-01"), TODAY)

    assert (chart.start, chart.end) == (date(2026, 5, 1), date(2026, 5, 2))
    assert plot(chart).x1 > plot(chart).x0


def test_plot_maps_days_and_percentages_to_the_plot_area_and_clamps_what_falls_outside():
    frame = Frame(width=110, height=110, left=10, right=0, top=0, bottom=10)  # plot area 100 x 100
    chart = BurnDown(
        contract_id="SO-1",
        start=date(2026, 1, 1),
        end=date(2026, 1, 11),
        today=date(2026, 1, 6),
        expires_on=date(2026, 1, 9),
        active=True,
        actual=(Point(date(2026, 1, 1), D(100)), Point(date(2026, 1, 4), D(60)), Point(date(2026, 1, 6), D(-5))),
        after_consumption_pct=D(60),
        committed_pct=D(10),
        left_pct=D(50),
        used_pct=D(50),
        exhaustion=date(2026, 1, 11),
        forecast=(Point(date(2026, 1, 6), D(50)), Point(date(2026, 1, 11), D(0))),
    )

    drawn = plot(chart, frame)

    assert (drawn.x0, drawn.x1, drawn.y0, drawn.y1) == (10.0, 110.0, 0.0, 100.0)
    assert drawn.actual == "10.0,0.0 40.0,40.0 60.0,100.0"  # -5 % is drawn on the 0 % line
    assert drawn.forecast == (60.0, 50.0, 110.0, 100.0)
    assert drawn.committed == (60.0, 40.0, 50.0)
    assert (drawn.today_x, drawn.expiry_x) == (60.0, 90.0)
    assert drawn.thresholds == ((80, 80.0), (90, 90.0), (100, 100.0))
    assert drawn.y_ticks == ((100, 0.0), (50, 50.0), (0, 100.0))
