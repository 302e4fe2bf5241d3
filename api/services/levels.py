"""Service levels read from the projections: a month's availability, daily uptime, a service's state now.

One place composes the service's row, its month rows and its open incidents, for the JSON API and
the public status page alike. An incident not restored yet may reach past the months its events
named (an outage that began in October and is still running in December): it is taken from the
service's open incidents for every month since it started.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from api.app.problems import Problem
from events.services.availability import Availability, DeskLevel, as_minutes, day_span, measure, month_span
from events.services.facts import DESK_TARGET, IncidentRecord
from processors.wiring import Orderledger
from projections.service_availability import SERVICE_AVAILABILITY, ServiceMonth, month_key
from projections.service_status import SERVICE_STATUS, ServiceStatus

State = Literal["operational", "degraded", "partial_outage", "major_outage", "maintenance"]
_IMPACT_RANK: tuple[State, ...] = ("degraded", "partial_outage", "major_outage")
UPTIME_DAYS = 90


def service_row(app: Orderledger, service_id: str) -> ServiceStatus:
    row: ServiceStatus | None = app.projections.get(SERVICE_STATUS, service_id)
    if row is None or row.registered is None:
        raise Problem(404, "service_not_found", f"there is no service {service_id}")
    return row


def month_row(app: Orderledger, service_id: str, month: str) -> ServiceMonth | None:
    row: ServiceMonth | None = app.projections.get(SERVICE_AVAILABILITY, month_key(service_id, month))
    return row


def incidents_of(service: ServiceStatus, rows: list[ServiceMonth | None], until: datetime) -> list[IncidentRecord]:
    """The incidents in `rows`, and every incident still open that started before `until`."""
    found: dict[str, IncidentRecord] = {}
    for row in rows:
        if row:
            found |= row.incidents
    for record in service.open_incidents.values():
        if record.status == "open" and record.outages[0].started_at < until:
            found[record.incident_id] = record
    return list(found.values())


def windows_of(service: ServiceStatus) -> list[tuple[datetime, datetime]]:
    return [(w.starts_at, w.ends_at) for w in service.windows]


def month_level(service: ServiceStatus, row: ServiceMonth | None, month: str, now: datetime) -> Availability:
    assert service.registered is not None
    span = month_span(month)
    return measure(span, incidents_of(service, [row], span[1]), windows_of(service), now, service.registered.target_pct)


def state_now(service: ServiceStatus, now: datetime) -> State:
    """The worst impact among incidents not restored; else maintenance if a window is running; else operational."""
    impacts = [r.impact for r in service.open_incidents.values() if r.status == "open"]
    if impacts:
        return max(impacts, key=_IMPACT_RANK.index)
    return "maintenance" if service.windows_at(now) else "operational"


def daily_uptime(app: Orderledger, service: ServiceStatus, today: date, now: datetime) -> list[dict[str, Any]]:
    """One bar per day (Eastern Time) over the last 90 days, oldest first: uptime % and outage minutes."""
    assert service.registered is not None
    first = today - timedelta(days=UPTIME_DAYS - 1)
    months = sorted({(first + timedelta(days=n)).strftime("%Y-%m") for n in range(UPTIME_DAYS)})
    rows = [month_row(app, service.service_id, m) for m in months]
    incidents = incidents_of(service, rows, now)
    windows = windows_of(service)
    registered_on = service.registered.registered_on
    bars = []
    for n in range(UPTIME_DAYS):
        day = first + timedelta(days=n)
        if day < registered_on:
            bars.append({"date": day.isoformat(), "state": "no_data", "uptime_pct": None, "outage_minutes": "0.000"})
            continue
        level = measure(day_span(day), incidents, windows, now, service.registered.target_pct)
        state = "operational" if not level.outage else "major_outage" if level.outage_minutes >= 60 else "degraded"
        bars.append(
            {
                "date": day.isoformat(),
                "state": state,
                "uptime_pct": str(level.availability_pct),
                "outage_minutes": str(level.outage_minutes),
            }
        )
    return bars


def availability_view(level: Availability, row: ServiceMonth | None, month: str, now: datetime) -> dict[str, Any]:
    """A month's service levels (no amounts: those are on the assessment, for the broker)."""
    desk = row.desk.level() if row else DeskLevel(0, 0, 0, 0)
    return {
        "month": month,
        "timezone": "America/Toronto",
        "period_start": level.start.isoformat(),
        "period_end": level.end.isoformat(),
        "complete": now >= level.end,
        "minutes_in_period": level.minutes_in_period,
        "outage_minutes": str(level.outage_minutes),
        "excluded_minutes": str(level.excluded_minutes),
        "maintenance_minutes": str(level.maintenance_minutes),
        "availability_pct": str(level.availability_pct),
        "target_pct": str(level.target),
        "met": level.met,
        "exceptions": [
            {
                "incident_id": share.incident.incident_id,
                "title": share.incident.title,
                "priority": share.incident.priority,
                "status": share.incident.status,
                "outage_minutes": str(as_minutes(share.outage)),
                "excluded_minutes": str(as_minutes(share.excluded)),
                "maintenance_minutes": str(as_minutes(share.maintenance)),
                "recurrence_of": share.incident.recurrence_of,
                "recurrences": share.incident.recurrences,
                "exclusions": [
                    {
                        "reason": x.reason,
                        "approved_by": x.approved_by,
                        "approved_at": x.approved_at.isoformat(),
                        "starts_at": x.starts_at.isoformat(),
                        "ends_at": x.ends_at.isoformat(),
                    }
                    for x in share.incident.exclusions
                ],
            }
            for share in sorted(level.shares, key=lambda s: s.incident.outages[0].started_at)
        ],
        "service_desk": {
            "calls": desk.calls,
            "answered": desk.answered,
            "answered_within_20s": desk.answered_within,
            "abandoned": desk.abandoned,
            "abandoned_within_20s": desk.abandoned_within,
            "within_pct": str(desk.within_pct) if desk.within_pct is not None else None,
            "target_pct": str(DESK_TARGET),
            "met": desk.met,
        },
    }
