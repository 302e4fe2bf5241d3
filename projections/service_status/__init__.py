"""Services as they stand: what was registered, maintenance windows, and the incidents still open.

Incident events reach this row from many streams (and, through Kafka, possibly before the service's
own registration): each stream's last applied version is kept so a redelivery changes nothing, and an
incident's place here is decided by its own latest record alone (open or restored: here; closed: gone),
so any interleaving of the streams ends in the same row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from events.ledger import RecordedEvent
from events.ledger.catalogue import decode
from events.services.facts import IncidentRecord, MaintenanceWindowScheduled, ServiceMonthAssessed, ServiceRegistered
from projections import Projection


class ServiceStatus(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service_id: str
    registered: ServiceRegistered | None = None
    windows: tuple[MaintenanceWindowScheduled, ...] = ()
    open_incidents: dict[str, IncidentRecord] = Field(default_factory=dict)  # open or restored, not closed
    assessed_months: tuple[str, ...] = ()
    applied: dict[str, int] = Field(default_factory=dict)
    position: int = 0

    def windows_at(self, moment: datetime) -> list[MaintenanceWindowScheduled]:
        return [w for w in self.windows if w.starts_at <= moment < w.ends_at]


def keys(recorded: RecordedEvent) -> tuple[str, ...]:
    if recorded.stream_type == "service":
        return (recorded.stream_id.removeprefix("service-"),)
    if recorded.stream_type == "incident":
        return (str(recorded.data["incident"]["service_id"]),)
    return ()


def project(row: ServiceStatus | None, recorded: RecordedEvent, key: str) -> ServiceStatus | None:
    status = row or ServiceStatus(service_id=key)
    if status.applied.get(recorded.stream_id, 0) >= recorded.stream_version:
        return status
    event = decode(recorded)
    changes: dict[str, Any] = {
        "applied": {**status.applied, recorded.stream_id: recorded.stream_version},
        "position": max(status.position, recorded.position),
    }
    match event:
        case ServiceRegistered():
            changes["registered"] = event
        case MaintenanceWindowScheduled():
            changes["windows"] = tuple(sorted((*status.windows, event), key=lambda w: (w.starts_at, w.window_id)))
        case ServiceMonthAssessed():
            changes["assessed_months"] = tuple(sorted({*status.assessed_months, event.month}))
    record: IncidentRecord | None = getattr(event, "incident", None)
    if record is not None:
        others = {k: v for k, v in status.open_incidents.items() if k != record.incident_id}
        changes["open_incidents"] = others if record.status == "closed" else {**others, record.incident_id: record}
    return status.model_copy(update=changes)


def _index(row: ServiceStatus) -> dict[str, Any]:
    return {"open_count": len(row.open_incidents)}


SERVICE_STATUS = Projection(
    name="service_status",
    version=1,
    row_model=ServiceStatus,
    keys=keys,
    project=project,
    columns={"open_count": "INTEGER"},
    index=_index,
)
