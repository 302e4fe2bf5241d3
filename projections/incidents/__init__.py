"""Incidents: each incident as it stands, with its timeline (what the status page and the feed show)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from events.ledger import RecordedEvent
from events.ledger.catalogue import decode
from events.services.facts import (
    IncidentClosed,
    IncidentOpened,
    IncidentRecord,
    IncidentRecurred,
    IncidentUpdated,
    OutageExclusionApproved,
    ServiceRestored,
)
from projections import Projection


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: datetime
    kind: str  # the event type: the page words it in either language
    status: str  # the incident's status after it
    note: str = ""
    position: int


class IncidentView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    incident: IncidentRecord
    opened_at: datetime
    updated_at: datetime
    timeline: tuple[TimelineEntry, ...] = ()
    version: int = 0
    position: int = 0


def _moment(event: Any) -> tuple[datetime, str]:
    match event:
        case IncidentOpened():
            return event.opened_at, ""
        case IncidentUpdated():
            return event.updated_at, event.note
        case ServiceRestored():
            return event.restored_at, ""
        case IncidentClosed():
            return event.closed_at, ""
        case IncidentRecurred():
            return event.recurred_at, ""
        case OutageExclusionApproved():
            return event.approved_at, event.exclusion.reason
    raise ValueError(f"not an incident event: {event!r}")


def keys(recorded: RecordedEvent) -> tuple[str, ...]:
    return (recorded.stream_id.removeprefix("incident-"),) if recorded.stream_type == "incident" else ()


def project(row: IncidentView | None, recorded: RecordedEvent, key: str) -> IncidentView | None:
    if row is not None and row.version >= recorded.stream_version:
        return row  # redelivered
    event = decode(recorded)
    at, note = _moment(event)
    entry = TimelineEntry(
        at=at, kind=recorded.type, status=event.incident.status, note=note, position=recorded.position
    )
    timeline = (*(row.timeline if row else ()), entry)
    return IncidentView(
        incident=event.incident,
        opened_at=row.opened_at if row else at,
        updated_at=max(row.updated_at, at) if row else at,
        timeline=tuple(sorted(timeline, key=lambda e: (e.at, e.position))),
        version=recorded.stream_version,
        position=recorded.position,
    )


def _index(row: IncidentView) -> dict[str, Any]:
    return {
        "service_id": row.incident.service_id,
        "status": row.incident.status,
        "opened_at": row.opened_at.astimezone(UTC).isoformat(),  # UTC: sorts as text
        "updated_at": row.updated_at.astimezone(UTC).isoformat(),
    }


INCIDENTS = Projection(
    name="incidents",
    version=1,
    row_model=IncidentView,
    keys=keys,
    project=project,
    columns={
        "service_id": "TEXT",
        "status": "TEXT",
        "opened_at": "TEXT",
        "updated_at": "TEXT",
    },
    index=_index,
)
