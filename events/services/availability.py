"""Availability arithmetic (rule 25): a month's minutes in Eastern Time, outage minutes counted and excluded.

All interval arithmetic is done in UTC: subtracting two aware datetimes that share a zone ignores
the zone (Python subtracts wall-clock times), which would make March an hour too long.
Availability is compared with the target exactly (as a fraction); the figure shown is truncated to
3 decimals, so a missed month never shows the target figure (43.21 minutes in 30 days is
99.89997 %: shown 99.899, missed; half-up rounding would show 99.900 on a missed month).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from events.services.facts import DESK_ANSWER_SECONDS, DESK_TARGET, CreditTier, DeskCall, IncidentRecord

EASTERN = ZoneInfo("America/Toronto")
Span = tuple[datetime, datetime]  # half-open [start, end), in UTC
_MICROS_PER_MINUTE = 60_000_000


def month_span(month: str) -> Span:
    year, number = (int(part) for part in month.split("-"))
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    return (_utc(datetime(year, number, 1, tzinfo=EASTERN)), _utc(datetime(*following, 1, tzinfo=EASTERN)))


def day_span(day: date) -> Span:
    return (_utc(datetime.combine(day, time(0), EASTERN)), _utc(datetime.combine(day + timedelta(1), time(0), EASTERN)))


def month_of(moment: datetime) -> str:
    return moment.astimezone(EASTERN).strftime("%Y-%m")


def months_between(start: datetime, end: datetime) -> tuple[str, ...]:
    """Every month (Eastern Time) from the one holding `start` to the one holding `end`."""
    first, last = month_of(start), month_of(max(start, end))
    months = [first]
    while months[-1] < last:
        year, number = (int(part) for part in months[-1].split("-"))
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
        months.append(f"{year:04d}-{number:02d}")
    return tuple(months)


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two moments (in UTC: the same zone on both sides would subtract wall-clock times)."""
    return _utc(end) - _utc(start)


def minutes_in(span: Span) -> int:
    return _micros([span]) // _MICROS_PER_MINUTE


def as_minutes(micros: int) -> Decimal:
    """Microseconds as minutes to 3 decimals (half-up), for display."""
    return (Decimal(micros) / _MICROS_PER_MINUTE).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- interval sets


def union(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted((_utc(s), _utc(e)) for s, e in spans if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def intersect(left: Iterable[Span], right: Iterable[Span]) -> list[Span]:
    a, b = union(left), union(right)
    return union((max(s1, s2), min(e1, e2)) for s1, e1 in a for s2, e2 in b if max(s1, s2) < min(e1, e2))


def subtract(left: Iterable[Span], right: Iterable[Span]) -> list[Span]:
    remaining = union(left)
    for cut_start, cut_end in union(right):
        pieces: list[Span] = []
        for start, end in remaining:
            if cut_end <= start or cut_start >= end:
                pieces.append((start, end))
                continue
            if start < cut_start:
                pieces.append((start, cut_start))
            if cut_end < end:
                pieces.append((cut_end, end))
        remaining = pieces
    return remaining


def _micros(spans: Sequence[Span]) -> int:
    return sum((end - start) // timedelta(microseconds=1) for start, end in spans)


def _truncate(exact: Fraction, places: int) -> Decimal:
    """`exact` cut (not rounded) to `places` decimals, in integers: no decimal context can round it up."""
    return Decimal(math.floor(exact * 10**places)).scaleb(-places)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# ---------------------------------------------------------------- availability


def outage_spans(incident: IncidentRecord, now: datetime) -> list[Span]:
    """The incident's outage; one not restored yet lasts until `now`."""
    return union((span.started_at, span.ended_at or now) for span in incident.outages)


def incident_duration(incident: IncidentRecord, now: datetime) -> int:
    """The combined duration of every outage of the incident, in microseconds (rule 24)."""
    return _micros(outage_spans(incident, now))


@dataclass(frozen=True)
class IncidentShare:
    """What one incident weighs in a period: its minutes counted, excluded and inside maintenance windows."""

    incident: IncidentRecord
    outage: int  # microseconds
    excluded: int
    maintenance: int


@dataclass(frozen=True)
class Availability:
    start: datetime
    end: datetime
    minutes_in_period: int
    outage: int  # microseconds counted (overlapping incidents once)
    excluded: int
    maintenance: int
    target: Decimal
    shares: tuple[IncidentShare, ...]

    @property
    def exact_pct(self) -> Fraction:
        period = self.minutes_in_period * _MICROS_PER_MINUTE
        return Fraction(period - self.outage, period) * 100

    @property
    def availability_pct(self) -> Decimal:
        return _truncate(self.exact_pct, 3)

    @property
    def met(self) -> bool:
        return self.exact_pct >= Fraction(self.target)

    @property
    def outage_minutes(self) -> Decimal:
        return as_minutes(self.outage)

    @property
    def excluded_minutes(self) -> Decimal:
        return as_minutes(self.excluded)

    @property
    def maintenance_minutes(self) -> Decimal:
        return as_minutes(self.maintenance)


def measure(
    period: Span,
    incidents: Iterable[IncidentRecord],
    windows: Iterable[Span],
    now: datetime,
    target: Decimal,
) -> Availability:
    """Availability over `period` (a month, or a day for the status page's bars).

    Downtime inside an approved maintenance window is planned and not counted; an approved exclusion
    takes its minutes out of that incident's outage only; what remains counts, once however many
    incidents overlap.
    """
    start, end = _utc(period[0]), _utc(period[1])
    planned = union(windows)
    counted: list[Span] = []
    excluded: list[Span] = []
    maintenance: list[Span] = []
    shares: list[IncidentShare] = []
    for incident in incidents:
        down = intersect(outage_spans(incident, _utc(now)), [(start, end)])
        if not down:
            continue
        inside = intersect(down, planned)
        unplanned = subtract(down, planned)
        approved = [(x.starts_at, x.ends_at) for x in incident.exclusions]
        kept = subtract(unplanned, approved)
        taken = intersect(unplanned, approved)
        counted += kept
        excluded += taken
        maintenance += inside
        shares.append(IncidentShare(incident, _micros(kept), _micros(taken), _micros(inside)))
    outage = union(counted)
    return Availability(
        start=start,
        end=end,
        minutes_in_period=minutes_in((start, end)),
        outage=_micros(outage),
        excluded=_micros(subtract(excluded, outage)),
        maintenance=_micros(subtract(maintenance, outage + excluded)),
        target=target,
        shares=tuple(shares),
    )


def credit_pct(terms: Iterable[CreditTier], availability: Availability) -> Decimal:
    """The credit a month earns: the tier of the lowest threshold it fell below (0 if it met them all)."""
    exact = availability.exact_pct
    below = [tier.credit_pct for tier in terms if exact < Fraction(tier.below_pct)]
    return max(below, default=Decimal("0"))


# ---------------------------------------------------------------- service desk (rule 26)


@dataclass(frozen=True)
class DeskLevel:
    answered: int
    answered_within: int
    abandoned: int
    abandoned_within: int

    @staticmethod
    def of(calls: Iterable[DeskCall]) -> DeskLevel:
        listed = list(calls)
        within = [c for c in listed if c.wait_seconds <= DESK_ANSWER_SECONDS]
        return DeskLevel(
            answered=sum(c.outcome == "answered" for c in listed),
            answered_within=sum(c.outcome == "answered" for c in within),
            abandoned=sum(c.outcome == "abandoned" for c in listed),
            abandoned_within=sum(c.outcome == "abandoned" for c in within),
        )

    def __add__(self, other: DeskLevel) -> DeskLevel:
        return DeskLevel(
            self.answered + other.answered,
            self.answered_within + other.answered_within,
            self.abandoned + other.abandoned,
            self.abandoned_within + other.abandoned_within,
        )

    @property
    def calls(self) -> int:
        return self.answered + self.abandoned

    @property
    def exact_pct(self) -> Fraction | None:
        if not self.calls:
            return None
        return Fraction(self.answered_within + self.abandoned_within, self.calls) * 100

    @property
    def within_pct(self) -> Decimal | None:
        exact = self.exact_pct
        return None if exact is None else _truncate(exact, 1)

    @property
    def met(self) -> bool | None:
        exact = self.exact_pct
        return None if exact is None else exact >= Fraction(DESK_TARGET)
