"""Service levels per service and calendar month (Eastern Time): the incidents, windows and calls of the month.

A row keeps every incident that touched its month as the incident now stands (its whole outage, not
clipped), the maintenance windows overlapping it, the service-desk calls reported for it, and the
broker's assessment once made. The figures (minutes, availability, met) are computed from the row by
`events.services.availability.measure`: the same arithmetic the assessment used.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from events.ledger import RecordedEvent
from events.ledger.catalogue import decode
from events.services.availability import DeskLevel
from events.services.facts import (
    IncidentRecord,
    MaintenanceWindowScheduled,
    ServiceDeskCallsReported,
    ServiceMonthAssessed,
)
from projections import Projection


class DeskCounts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_within: int = 0

    def level(self) -> DeskLevel:
        return DeskLevel(**self.model_dump())


class ServiceMonth(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service_id: str
    month: str
    incidents: dict[str, IncidentRecord] = Field(default_factory=dict)
    windows: tuple[MaintenanceWindowScheduled, ...] = ()
    desk: DeskCounts = DeskCounts()
    desk_reports: tuple[str, ...] = ()
    assessment: ServiceMonthAssessed | None = None
    applied: dict[str, int] = Field(default_factory=dict)
    position: int = 0


def month_key(service_id: str, month: str) -> str:
    return f"{service_id}|{month}"


def keys(recorded: RecordedEvent) -> tuple[str, ...]:
    data = recorded.data
    if recorded.stream_type == "incident":
        return tuple(month_key(data["incident"]["service_id"], m) for m in data["incident"]["months"])
    if recorded.stream_type != "service":
        return ()
    service_id = recorded.stream_id.removeprefix("service-")
    if recorded.type == "MaintenanceWindowScheduled":
        return tuple(month_key(service_id, m) for m in data["months"])
    if recorded.type in ("ServiceDeskCallsReported", "ServiceMonthAssessed"):
        return (month_key(service_id, data["month"]),)
    return ()


def project(row: ServiceMonth | None, recorded: RecordedEvent, key: str) -> ServiceMonth | None:
    service_id, month = key.split("|")
    current = row or ServiceMonth(service_id=service_id, month=month)
    if current.applied.get(recorded.stream_id, 0) >= recorded.stream_version:
        return current
    event = decode(recorded)
    changes: dict[str, Any] = {
        "applied": {**current.applied, recorded.stream_id: recorded.stream_version},
        "position": max(current.position, recorded.position),
    }
    match event:
        case MaintenanceWindowScheduled():
            changes["windows"] = tuple(sorted((*current.windows, event), key=lambda w: (w.starts_at, w.window_id)))
        case ServiceDeskCallsReported():
            added = DeskLevel.of(event.calls)
            total = current.desk.level() + added
            changes["desk"] = DeskCounts(
                answered=total.answered,
                answered_within=total.answered_within,
                abandoned=total.abandoned,
                abandoned_within=total.abandoned_within,
            )
            changes["desk_reports"] = (*current.desk_reports, event.report_id)
        case ServiceMonthAssessed():
            changes["assessment"] = event
    record: IncidentRecord | None = getattr(event, "incident", None)
    if record is not None:
        changes["incidents"] = {**current.incidents, record.incident_id: record}
    return current.model_copy(update=changes)


def _index(row: ServiceMonth) -> dict[str, Any]:
    return {"service_id": row.service_id, "month": row.month}


SERVICE_AVAILABILITY = Projection(
    name="service_availability",
    version=1,
    row_model=ServiceMonth,
    keys=keys,
    project=project,
    columns={"service_id": "TEXT", "month": "TEXT"},
    index=_index,
)
