"""A contract's burn-down: capacity left as a percentage of the ceiling over time, and its forecast.

Pure: percentages and dates only (never an amount), so the public pages can draw it. `burn_down`
gives the chart's data; `plot` turns it into SVG coordinates for a drawing of a given size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from projections.contract_capacity import ContractStatus, forecast_exhaustion

HUNDRED = Decimal(100)
TENTH = Decimal("0.1")
THRESHOLDS = (80, 90, 100)  # % of the ceiling used: the markers sit at 20, 10 and 0 % left


@dataclass(frozen=True)
class Point:
    on: date
    left_pct: Decimal  # capacity left, % of the ceiling


@dataclass(frozen=True)
class BurnDown:
    contract_id: str
    start: date  # the x axis: from the start date (or an earlier usage) ...
    end: date  # ... to the later of the end date and the forecast exhaustion
    today: date
    expires_on: date
    active: bool
    actual: tuple[Point, ...]  # 100 % at the start, then after each day's consumption, then today
    after_consumption_pct: Decimal  # left today counting consumption only
    committed_pct: Decimal  # reserved by inventory orders not yet awarded
    left_pct: Decimal  # left today after consumption and commitments
    used_pct: Decimal  # 100 - left_pct
    exhaustion: date | None  # at the current burn rate; None if nothing is burning or not active
    forecast: tuple[Point, Point] | None  # from today's left to 0 % at the exhaustion date


def _pct(part: Decimal, ceiling: Decimal) -> Decimal:
    """`part` as a percentage of the ceiling; a zero ceiling counts as fully used."""
    if ceiling <= 0:
        return HUNDRED
    return (part * HUNDRED / ceiling).quantize(TENTH, rounding=ROUND_HALF_UP)


def burn_down(row: ContractStatus, today: date) -> BurnDown:
    """Percentages against the current ceiling (an amended ceiling redraws the whole line)."""
    by_day: dict[date, Decimal] = {}
    for entry in row.usage:
        by_day[entry.on] = by_day.get(entry.on, Decimal(0)) + entry.amount
    start = min([row.start_date, *by_day])
    # An expired or terminated contract takes no more consumption: no forecast.
    exhaustion = forecast_exhaustion(row, today) if row.status == "active" else None
    end = max(row.end_date, exhaustion or row.end_date, start + timedelta(days=1))

    actual = [Point(start, HUNDRED - _pct(Decimal(0), row.ceiling))]  # full, unless the ceiling is zero
    cumulative = Decimal(0)
    for day in sorted(by_day):
        cumulative += by_day[day]
        actual.append(Point(day, HUNDRED - _pct(cumulative, row.ceiling)))
    last_day = min(today, end)
    if actual[-1].on < last_day:
        actual.append(Point(last_day, actual[-1].left_pct))  # nothing consumed since: flat up to today

    after_consumption = HUNDRED - _pct(row.consumed, row.ceiling)
    left = HUNDRED - _pct(row.consumed + row.committed, row.ceiling)
    forecast = None
    if exhaustion is not None and exhaustion > today and today >= start:
        forecast = (Point(today, left), Point(exhaustion, Decimal(0)))
    return BurnDown(
        contract_id=row.contract_id,
        start=start,
        end=end,
        today=today,
        expires_on=row.end_date,
        active=row.status == "active",
        actual=tuple(actual),
        after_consumption_pct=after_consumption,
        committed_pct=after_consumption - left,
        left_pct=left,
        used_pct=HUNDRED - left,
        exhaustion=exhaustion,
        forecast=forecast,
    )


# ---------------------------------------------------------------- drawing coordinates


@dataclass(frozen=True)
class Frame:
    """A drawing's size and the margins around its plot area (SVG user units)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int


SMALL = Frame(width=160, height=48, left=3, right=3, top=3, bottom=3)
LARGE = Frame(width=640, height=280, left=60, right=52, top=24, bottom=44)


@dataclass(frozen=True)
class Plot:
    frame: Frame
    x0: float  # plot area: left, right, top, bottom edges
    x1: float
    y0: float
    y1: float
    actual: str  # SVG polyline points "x,y x,y ..."
    forecast: tuple[float, float, float, float] | None  # x1, y1, x2, y2
    committed: tuple[float, float, float] | None  # x, top y, bottom y: the band at today
    today_x: float | None  # None when today is outside the x axis
    expiry_x: float
    thresholds: tuple[tuple[int, float], ...]  # (% used, y)
    y_ticks: tuple[tuple[int, float], ...]  # (% left, y)


def _r(value: float) -> float:
    return round(value, 1)


def plot(chart: BurnDown, frame: Frame = LARGE) -> Plot:
    x0, x1 = float(frame.left), float(frame.width - frame.right)
    y0, y1 = float(frame.top), float(frame.height - frame.bottom)
    span = max((chart.end - chart.start).days, 1)

    def x(day: date) -> float:
        days = min(max((day - chart.start).days, 0), span)
        return _r(x0 + (x1 - x0) * days / span)

    def y(left_pct: Decimal) -> float:
        clamped = min(max(float(left_pct), 0.0), 100.0)
        return _r(y0 + (y1 - y0) * (100.0 - clamped) / 100.0)

    inside = chart.start <= chart.today <= chart.end
    forecast = None
    if chart.forecast is not None:
        first, last = chart.forecast
        forecast = (x(first.on), y(first.left_pct), x(last.on), y(last.left_pct))
    committed = None
    if inside and chart.committed_pct > 0:
        committed = (x(chart.today), y(chart.after_consumption_pct), y(chart.left_pct))
    return Plot(
        frame=frame,
        x0=x0,
        x1=x1,
        y0=y0,
        y1=y1,
        actual=" ".join(f"{x(p.on)},{y(p.left_pct)}" for p in chart.actual),
        forecast=forecast,
        committed=committed,
        today_x=x(chart.today) if inside else None,
        expiry_x=x(chart.expires_on),
        thresholds=tuple((used, y(HUNDRED - used)) for used in THRESHOLDS),
        y_ticks=tuple((left, y(Decimal(left))) for left in (100, 50, 0)),
    )
