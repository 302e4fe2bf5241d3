"""Federal government working days: weekends and federal public-service holidays are off."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from dateutil.easter import easter  # holidays depends on python-dateutil

STANDARD_DELIVERY_WORKING_DAYS = 30


@lru_cache(maxsize=64)
def federal_holidays(year: int) -> frozenset[date]:
    """Holidays of the federal public service in `year`.

    The `holidays` package's Canadian GOVERNMENT category (with the public ones), plus the
    two days that the public-service collective agreements add: Easter Monday and the civic
    holiday (first Monday of August).
    """
    days = set(holidays.country_holidays("CA", years=year, categories=("government", "public")))
    days.add(easter(year) + timedelta(days=1))
    august_first = date(year, 8, 1)
    days.add(august_first + timedelta(days=(7 - august_first.weekday()) % 7))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def add_working_days(start: date, count: int) -> date:
    """The date `count` working days after `start` (the start day itself is not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
