"""The ledger's clock: the system clock, or one started at a stated instant (ORDERLEDGER_CLOCK)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC: the default ledger clock, and the only wall-clock read behind business time."""
    return datetime.now(UTC)


def clock_started_at(start: datetime) -> Clock:
    """A clock that reads `start` now and runs at real speed from there.

    It runs rather than stands still so that ledger times keep increasing (replays by ledger time,
    open incidents whose outage grows); the monotonic clock drives it, so setting the system clock
    does not move it. For tests, demos and replays of a given day.
    """
    if start.tzinfo is None:
        raise ValueError("a clock starts at an instant: give its UTC offset (e.g. 2026-03-08T12:00:00-04:00)")
    origin, begun = start.astimezone(UTC), time.monotonic()
    return lambda: origin + timedelta(seconds=time.monotonic() - begun)
