"""The window of business dates a command may name, around the ledger's clock.

Business time is the caller's to give (backdated facts are normal), but not without bounds: a date
from before the ledger's era or far in the future is a typo or a probe, and left unchecked it runs
calendar arithmetic past the last date a calendar holds. Each kind of date has its window:

- a fact that happened (delivered_on, awarded_on, detected_at, a charge month ...): from 2000-01-01
  to tomorrow in Eastern Time (a day of clock skew; a moment: 10 minutes past the ledger clock);
- a date planned ahead (agreed_delivery_date, a maintenance window's starts_at / ends_at): up to
  PLANNED_DAYS after today;
- a contract's term (start_date, end_date): up to TERM_DAYS after today;
- a month (period, charge_period, month: YYYY-MM): from 2000-01 to the current month;
- the day a clock runs as of (`today` of the contract clock): from 2000-01-01 to today, never ahead.

Out of its window, a command is refused with `date_out_of_range`, naming the field and its window.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from events.kernel.errors import CommandRejected

EASTERN = ZoneInfo("America/Toronto")
EARLIEST = date(2000, 1, 1)
SKEW = timedelta(minutes=10)
PLANNED_DAYS = 366  # a delivery date agreed, a maintenance window: up to a year ahead
TERM_DAYS = 3653  # a contract's start and end: up to ten years ahead (standing offers renew for years)
PLANNED = frozenset({"agreed_delivery_date", "starts_at", "ends_at"})
TERM = frozenset({"start_date", "end_date"})
MONTHS = frozenset({"period", "charge_period", "month"})
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
# A month asked for in a read (a statement, a month's availability): YYYY-MM from 2000 to 2999, ASCII digits.
MONTH_PATTERN = r"^2[0-9]{3}-(0[1-9]|1[0-2])$"


def check_dates(command: BaseModel, now: datetime) -> None:
    """Refuse `command` if one of its business dates lies outside its window around `now` (the ledger clock)."""
    today = now.astimezone(EASTERN).date()
    for where, value in _dates(command, ""):
        name = where.rsplit(".", 1)[-1]
        if name == "today" and isinstance(value, date) and not isinstance(value, datetime):
            check_clock(value, now)
        elif isinstance(value, datetime):
            _moment(where, name, value, now)
        elif isinstance(value, date):
            _day(where, name, value, today)
        elif name in MONTHS and isinstance(value, str) and (found := _MONTH.fullmatch(value)):
            _month(where, (int(found[1]), int(found[2])), today)


def check_clock(today: date, now: datetime) -> None:
    """The contract clock runs as of a day that has come: never ahead of the ledger's own clock."""
    ledger_today = now.astimezone(EASTERN).date()
    if today > ledger_today:
        raise CommandRejected(
            "clock_ahead_of_ledger",
            f"the contract clock cannot run as of {today.isoformat()}: the ledger's clock says today is"
            f" {ledger_today.isoformat()} (Eastern Time), and expiries recorded ahead of time cannot be undone",
        )
    if today < EARLIEST:
        raise CommandRejected("date_out_of_range", f"today {today.isoformat()} is before {EARLIEST.isoformat()}")


def _day(where: str, name: str, value: date, today: date) -> None:
    if name in TERM:
        latest, kind = today + timedelta(days=TERM_DAYS), f"a contract's term ends at most {TERM_DAYS} days ahead"
    elif name in PLANNED:
        latest, kind = today + timedelta(days=PLANNED_DAYS), f"a planned date is at most {PLANNED_DAYS} days ahead"
    else:
        latest, kind = today + timedelta(days=1), "a fact that happened cannot be dated after tomorrow"
    if not EARLIEST <= value <= latest:
        _refuse(where, value.isoformat(), EARLIEST.isoformat(), latest.isoformat(), kind)


def _moment(where: str, name: str, value: datetime, now: datetime) -> None:
    earliest = datetime.combine(EARLIEST, datetime.min.time(), EASTERN)
    if name in PLANNED:
        latest, kind = now + timedelta(days=PLANNED_DAYS), f"a planned moment is at most {PLANNED_DAYS} days ahead"
    else:
        latest, kind = now + SKEW, "a fact that happened cannot be in the future (10 minutes of clock skew allowed)"
    if value.tzinfo is None or not earliest <= value <= latest:
        _refuse(where, value.isoformat(), earliest.isoformat(), latest.isoformat(timespec="seconds"), kind)


def _month(where: str, month: tuple[int, int], today: date) -> None:
    if not (EARLIEST.year, EARLIEST.month) <= month <= (today.year, today.month):
        _refuse(
            where,
            f"{month[0]:04d}-{month[1]:02d}",
            f"{EARLIEST:%Y-%m}",
            f"{today:%Y-%m}",
            "a month is at most the current one",
        )


def _refuse(where: str, value: str, earliest: str, latest: str, kind: str) -> None:
    raise CommandRejected(
        "date_out_of_range",
        f"{where} {value} is outside {earliest} to {latest}: {kind}",
    )


def _dates(value: Any, where: str) -> Iterator[tuple[str, Any]]:
    """Every date, moment and month-named text in a command, with its dotted path (`lines.0.delivered_on`)."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _dates(getattr(value, name), f"{where}.{name}" if where else name)
    elif isinstance(value, date | str):
        yield where, value
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, BaseModel):
                yield from _dates(item, f"{where}.{index}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, BaseModel):
                yield from _dates(item, f"{where}.{key}")
