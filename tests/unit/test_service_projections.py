"""Service read models (incidents, service_status, service_availability) projected from recorded service events.

The events are decided by the service and incident deciders, recorded one ledger position after the other,
then delivered to the projections in several orders: any interleaving that keeps each stream's own order,
with redeliveries, must end in the same rows.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from events.ledger import RecordedEvent
from events.ledger.catalogue import decode
from events.services.availability import measure, month_span
from events.services.commands import (
    AssessServiceMonth,
    CloseIncident,
    IncidentCommand,
    OpenIncident,
    RecordRecurrence,
    RegisterService,
    ReportDeskCalls,
    RestoreService,
    ScheduleMaintenance,
    UpdateIncident,
)
from events.services.decider import (
    assess_month,
    decide_incident,
    decide_service,
    fold_incident,
    fold_service,
    open_incident,
    register_service,
)
from events.services.facts import DeskCall, ServiceCredit
from projections import Projection
from projections.incidents import INCIDENTS
from projections.service_availability import SERVICE_AVAILABILITY, DeskCounts, month_key
from projections.service_status import SERVICE_STATUS

ET = ZoneInfo("America/Toronto")
D = Decimal
PROJECTIONS = (INCIDENTS, SERVICE_STATUS, SERVICE_AVAILABILITY)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ET)


# ---------------------------------------------------------------- the ledger, in miniature


class Books:
    """Commands decided on each stream so far; their events recorded one ledger position after the other."""

    def __init__(self) -> None:
        self.recorded: list[RecordedEvent] = []

    def stream(self, stream_id: str) -> list[Any]:
        return [decode(r) for r in self.recorded if r.stream_id == stream_id]

    def record(self, stream_type: str, stream_id: str, events: list[Any], now: datetime) -> None:
        """Positions 101, 102, ... across the ledger; stream versions 1, 2, ... per stream."""
        version = sum(1 for r in self.recorded if r.stream_id == stream_id)
        for event in events:
            version += 1
            position = 101 + len(self.recorded)
            self.recorded.append(
                RecordedEvent(
                    position=position,
                    event_id=UUID(int=position),
                    type=event.type,
                    schema_version=event.schema_version,
                    stream_id=stream_id,
                    stream_type=stream_type,
                    stream_version=version,
                    occurred_at=now.astimezone(UTC),
                    recorded_at=now.astimezone(UTC),
                    actor="broker",
                    correlation_id=UUID(int=1000),
                    causation_id=None,
                    data=event.model_dump(mode="json"),
                    prev_hash=f"hash-{position - 1}",
                    hash=f"hash-{position}",
                )
            )

    # the service's stream

    def service(self, command: Any, now: datetime) -> None:
        state = fold_service(self.stream("service-mail"))
        if isinstance(command, RegisterService):
            events: list[Any] = register_service(command, state is not None, "Nimbus Cloud Canada", {"ESDC", "CBC"})
        elif isinstance(command, AssessServiceMonth):
            assert state is not None
            records = [fold_incident(self.stream(f"incident-{i}")) for i in state.incidents]
            events = [assess_month(command, state, [r for r in records if r is not None], now)]
        else:
            assert state is not None
            events = decide_service(command, state, now)
        self.record("service", "service-mail", events, now)

    # an incident's stream (and the service's log of it)

    def open(self, command: OpenIncident, now: datetime) -> None:
        opened, logged = open_incident(command, False, fold_service(self.stream("service-mail")), now)
        self.record("incident", f"incident-{command.incident_id}", [opened], now)
        self.record("service", "service-mail", [logged], now)

    def incident(self, incident_id: str, command: IncidentCommand, now: datetime) -> None:
        state = fold_incident(self.stream(f"incident-{incident_id}"))
        self.record("incident", f"incident-{incident_id}", decide_incident(command, state, now), now)


def the_books() -> Books:
    """Hosted mail for ESDC and CBC through September and October 2026.

    - W-1, maintenance 2026-09-10 09:30–10:15;
    - INC-1 down 2026-09-10 10:00–10:44 (15 minutes of it inside W-1), updated, closed;
    - INC-2 down 2026-09-30 23:40 to 2026-10-01 00:24: 20 minutes in September, 24 in October, closed;
    - September's desk calls reported; September assessed on 2 October;
    - INC-3 down 2026-10-05 08:00–08:10, closed at 09:00, recurred 2026-10-06 08:00 (23 h later): open again.
    """
    books = Books()
    books.service(
        RegisterService(
            service_id="mail",
            name="Hosted mail",
            contract_id="CLOUD-2025-017",
            organisations=("ESDC", "CBC"),
            monthly_charge="1000.00",
            registered_on=date(2026, 1, 5),
        ),
        at(2026, 1, 5, 9),
    )
    books.service(
        ScheduleMaintenance(window_id="W-1", starts_at=at(2026, 9, 10, 9, 30), ends_at=at(2026, 9, 10, 10, 15)),
        at(2026, 9, 1, 9),
    )
    books.open(
        OpenIncident(incident_id="INC-1", service_id="mail", priority="P1", detected_at=at(2026, 9, 10, 10)),
        at(2026, 9, 10, 10, 5),
    )
    books.incident(
        "INC-1", UpdateIncident(updated_at=at(2026, 9, 10, 10, 20), note="Failover"), at(2026, 9, 10, 10, 20)
    )
    books.incident("INC-1", RestoreService(restored_at=at(2026, 9, 10, 10, 44)), at(2026, 9, 10, 10, 45))
    books.incident("INC-1", CloseIncident(closed_at=at(2026, 9, 10, 11)), at(2026, 9, 10, 11))
    books.open(
        OpenIncident(
            incident_id="INC-2",
            service_id="mail",
            priority="P2",
            detected_at=at(2026, 9, 30, 23, 42),
            reported_at=at(2026, 9, 30, 23, 40),
            organisations=("CBC",),
        ),
        at(2026, 9, 30, 23, 45),
    )
    books.incident("INC-2", RestoreService(restored_at=at(2026, 10, 1, 0, 24)), at(2026, 10, 1, 0, 25))
    books.incident("INC-2", CloseIncident(closed_at=at(2026, 10, 1, 0, 30)), at(2026, 10, 1, 0, 30))
    books.service(
        ReportDeskCalls(
            report_id="DESK-2026-09",
            month="2026-09",
            calls=(
                DeskCall(outcome="answered", wait_seconds=D("12.0")),
                DeskCall(outcome="answered", wait_seconds=D("20.0")),
                DeskCall(outcome="answered", wait_seconds=D("45.0")),
                DeskCall(outcome="abandoned", wait_seconds=D("5.0")),
                DeskCall(outcome="abandoned", wait_seconds=D("60.0")),
            ),
            reported_on=date(2026, 10, 2),
        ),
        at(2026, 10, 2, 8),
    )
    books.service(AssessServiceMonth(month="2026-09", assessed_on=date(2026, 10, 2)), at(2026, 10, 2, 9))
    books.open(
        OpenIncident(incident_id="INC-3", service_id="mail", priority="P3", detected_at=at(2026, 10, 5, 8)),
        at(2026, 10, 5, 8, 1),
    )
    books.incident("INC-3", RestoreService(restored_at=at(2026, 10, 5, 8, 10)), at(2026, 10, 5, 8, 11))
    books.incident("INC-3", CloseIncident(closed_at=at(2026, 10, 5, 9)), at(2026, 10, 5, 9))
    books.incident("INC-3", RecordRecurrence(recurred_at=at(2026, 10, 6, 8)), at(2026, 10, 6, 8, 1))
    return books


RECORDED = the_books().recorded
NOW = at(2026, 10, 6, 8, 30)  # INC-3 has been down again for 30 minutes


# ---------------------------------------------------------------- delivering events


def replay(projection: Projection[Any], deliveries: list[RecordedEvent]) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for recorded in deliveries:
        for key in projection.keys(recorded):
            row = projection.project(rows.get(key), recorded, key)
            if row is None:
                rows.pop(key, None)
            else:
                rows[key] = row
    return rows


def by_stream(recorded: list[RecordedEvent]) -> dict[str, list[RecordedEvent]]:
    streams: dict[str, list[RecordedEvent]] = {}
    for r in recorded:
        streams.setdefault(r.stream_id, []).append(r)
    return streams


def shuffled(recorded: list[RecordedEvent], seed: int) -> list[RecordedEvent]:
    """A random interleaving of the streams that keeps each stream in its own order."""
    pending = {stream: list(events) for stream, events in by_stream(recorded).items()}
    chooser = random.Random(seed)
    order: list[RecordedEvent] = []
    while pending:
        stream = chooser.choice(sorted(pending))
        order.append(pending[stream].pop(0))
        if not pending[stream]:
            del pending[stream]
    return order


def one_stream_after_another(recorded: list[RecordedEvent], reverse: bool = False) -> list[RecordedEvent]:
    streams = by_stream(recorded)
    names = sorted(streams, reverse=reverse)
    return [r for name in names for r in streams[name]]


def with_redeliveries(recorded: list[RecordedEvent]) -> list[RecordedEvent]:
    """Every event delivered twice, and each stream's first two events delivered again at the end."""
    twice = [r for event in recorded for r in (event, event)]
    stale = [r for events in by_stream(recorded).values() for r in events[:2]]
    return twice + stale


INTERLEAVINGS = {
    "ledger order": RECORDED,
    "service stream first": one_stream_after_another(RECORDED, reverse=True),
    "incident streams first": one_stream_after_another(RECORDED),
    "streams in reverse order of creation": [r for events in reversed(by_stream(RECORDED).values()) for r in events],
    "redelivered": with_redeliveries(RECORDED),
    "shuffled and redelivered": with_redeliveries(shuffled(RECORDED, 7)),
    **{f"shuffled {seed}": shuffled(RECORDED, seed) for seed in range(1, 9)},
}


def test_given_the_books_then_every_stream_interleaving_delivers_every_event_in_its_own_streams_order():
    for name, deliveries in INTERLEAVINGS.items():
        assert {r.position for r in deliveries} == {r.position for r in RECORDED}, name
        for events in by_stream(deliveries).values():
            first_seen = list(dict.fromkeys(r.stream_version for r in events))
            assert first_seen == sorted(first_seen), name


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
@pytest.mark.parametrize("interleaving", [name for name in INTERLEAVINGS if name != "ledger order"])
def test_given_the_same_events_when_delivered_in_another_interleaving_then_the_rows_are_identical(
    projection, interleaving
):
    # Given the rows of the events delivered in ledger order
    expected = replay(projection, RECORDED)
    # When the same events arrive interleaved otherwise, some of them again
    rows = replay(projection, INTERLEAVINGS[interleaving])
    # Then
    assert rows == expected
    assert {k: projection.index(v) for k, v in rows.items()} == {k: projection.index(v) for k, v in expected.items()}


# ---------------------------------------------------------------- service_status


def test_given_the_books_when_service_status_is_projected_then_only_the_reopened_incident_is_open():
    [status] = replay(SERVICE_STATUS, RECORDED).values()
    assert status.service_id == "mail"
    assert status.registered is not None and status.registered.organisations == ("CBC", "ESDC")
    assert [w.window_id for w in status.windows] == ["W-1"]
    assert list(status.open_incidents) == ["INC-3"]
    assert status.open_incidents["INC-3"].recurrences == 1
    assert status.assessed_months == ("2026-09",)
    assert status.applied == {"service-mail": 7, "incident-INC-1": 4, "incident-INC-2": 3, "incident-INC-3": 4}
    assert status.position == RECORDED[-1].position
    assert SERVICE_STATUS.index(status) == {"open_count": 1}


def test_given_an_incident_when_opened_restored_then_closed_then_it_is_open_until_closed_then_leaves_the_status():
    # Given the service's registration and INC-1's stream only
    inc1 = by_stream(RECORDED)["incident-INC-1"]
    registration = by_stream(RECORDED)["service-mail"][:1]
    # When / Then, event after event
    open_after = [
        list(replay(SERVICE_STATUS, registration + inc1[: n + 1])["mail"].open_incidents) for n in range(len(inc1))
    ]
    assert [r.type for r in inc1] == ["IncidentOpened", "IncidentUpdated", "ServiceRestored", "IncidentClosed"]
    assert open_after == [["INC-1"], ["INC-1"], ["INC-1"], []]


def test_given_incident_events_before_the_services_registration_when_projected_then_the_row_waits_for_it():
    incident_first = one_stream_after_another(RECORDED)  # incident streams sort before "service-mail"
    partial = replay(SERVICE_STATUS, [r for r in incident_first if r.stream_type == "incident"])
    assert partial["mail"].registered is None
    assert list(partial["mail"].open_incidents) == ["INC-3"]
    assert replay(SERVICE_STATUS, incident_first)["mail"].registered is not None


def test_given_service_status_when_asked_for_the_windows_at_a_moment_then_the_window_covering_it():
    [status] = replay(SERVICE_STATUS, RECORDED).values()
    assert [w.window_id for w in status.windows_at(at(2026, 9, 10, 10))] == ["W-1"]
    assert status.windows_at(at(2026, 9, 10, 10, 15)) == []  # the window ends at 10:15, exclusive


# ---------------------------------------------------------------- service_availability


def figures(row: Any, now: datetime = NOW) -> Any:
    windows = [(w.starts_at, w.ends_at) for w in row.windows]
    return measure(month_span(row.month), row.incidents.values(), windows, now, D("99.900"))


def test_given_an_outage_crossing_the_month_end_when_projected_then_it_is_whole_in_both_month_rows():
    rows = replay(SERVICE_AVAILABILITY, RECORDED)
    assert sorted(rows) == [month_key("mail", "2026-09"), month_key("mail", "2026-10")]
    september, october = rows["mail|2026-09"], rows["mail|2026-10"]
    # Then INC-2 is in both rows, closed, with its whole outage
    for row in (september, october):
        inc2 = row.incidents["INC-2"]
        assert inc2.status == "closed"
        assert [(s.started_at, s.ended_at) for s in inc2.outages] == [(at(2026, 9, 30, 23, 40), at(2026, 10, 1, 0, 24))]
        assert inc2.months == ("2026-09", "2026-10")
    # And each month counts its own part: 20 minutes in September, 24 in October
    assert figures(september).shares[-1].outage == 20 * 60_000_000
    assert figures(october).shares[0].outage == 24 * 60_000_000
    assert sorted(september.incidents) == ["INC-1", "INC-2"]
    assert sorted(october.incidents) == ["INC-2", "INC-3"]


def test_given_the_september_row_when_measured_then_its_figures_match_its_assessment():
    september = replay(SERVICE_AVAILABILITY, RECORDED)["mail|2026-09"]
    level = figures(september)
    # INC-1: 44 minutes of which 15 inside W-1; INC-2: 20 minutes before midnight
    assert level.minutes_in_period == 43_200
    assert level.maintenance_minutes == D("15.000")
    assert level.outage_minutes == D("49.000")
    assert level.availability_pct == D("99.886")
    assert level.met is False
    assessment = september.assessment
    assert assessment is not None
    assert (assessment.outage_minutes, assessment.maintenance_minutes) == (D("49.000"), D("15.000"))
    assert (assessment.availability_pct, assessment.met, assessment.credit_pct) == (D("99.886"), False, D("5"))
    assert assessment.incidents == ("INC-1", "INC-2")
    assert assessment.credits == (
        ServiceCredit(client_org="CBC", credit_id="mail-2026-09-CBC", amount=D("50.00")),
        ServiceCredit(client_org="ESDC", credit_id="mail-2026-09-ESDC", amount=D("50.00")),
    )


def test_given_the_september_row_when_projected_then_it_holds_the_window_and_the_desk_calls():
    september = replay(SERVICE_AVAILABILITY, RECORDED)["mail|2026-09"]
    assert [w.window_id for w in september.windows] == ["W-1"]
    assert september.desk == DeskCounts(answered=3, answered_within=2, abandoned=2, abandoned_within=1)
    assert september.desk_reports == ("DESK-2026-09",)
    assert september.desk.level().within_pct == D("60.0")
    assert september.desk.level().met is False


def test_given_the_october_row_when_measured_with_inc_3_down_again_then_the_open_outage_lasts_until_now():
    october = replay(SERVICE_AVAILABILITY, RECORDED)["mail|2026-10"]
    level = figures(october)
    # INC-2: 24 minutes; INC-3: 10 minutes, then 30 since it recurred at 08:00
    assert october.incidents["INC-3"].status == "open"
    assert level.minutes_in_period == 44_640
    assert level.outage_minutes == D("64.000")
    assert level.availability_pct == D("99.856")
    assert level.met is False
    assert october.assessment is None
    assert october.windows == ()
    assert october.desk == DeskCounts()


# ---------------------------------------------------------------- incidents


def test_given_the_books_when_incidents_are_projected_then_each_incident_has_its_ordered_timeline():
    rows = replay(INCIDENTS, RECORDED)
    assert sorted(rows) == ["INC-1", "INC-2", "INC-3"]
    inc1 = rows["INC-1"]
    assert [(e.kind, e.status) for e in inc1.timeline] == [
        ("IncidentOpened", "open"),
        ("IncidentUpdated", "open"),
        ("ServiceRestored", "restored"),
        ("IncidentClosed", "closed"),
    ]
    assert inc1.timeline[1].note == "Failover"
    assert inc1.opened_at == at(2026, 9, 10, 10)
    assert inc1.updated_at == at(2026, 9, 10, 11)
    assert inc1.version == 4
    assert INCIDENTS.index(inc1)["status"] == "closed"
    assert INCIDENTS.index(inc1)["opened_at"] == "2026-09-10T14:00:00+00:00"


def test_given_detected_after_reported_when_projected_then_the_incident_opened_when_reported():
    inc2 = replay(INCIDENTS, RECORDED)["INC-2"]
    assert inc2.opened_at == at(2026, 9, 30, 23, 40)
    assert inc2.incident.organisations == ("CBC",)
    assert inc2.incident.impact == "partial_outage"


def test_given_a_recurrence_within_24_hours_when_projected_then_the_incident_is_open_again_with_both_outages():
    inc3 = replay(INCIDENTS, RECORDED)["INC-3"]
    assert [e.kind for e in inc3.timeline] == [
        "IncidentOpened",
        "ServiceRestored",
        "IncidentClosed",
        "IncidentRecurred",
    ]
    assert inc3.incident.status == "open"
    assert inc3.incident.recurrences == 1
    assert inc3.incident.closed_at is None
    assert [(s.started_at, s.ended_at) for s in inc3.incident.outages] == [
        (at(2026, 10, 5, 8), at(2026, 10, 5, 8, 10)),
        (at(2026, 10, 6, 8), None),
    ]


def test_given_a_redelivered_older_event_when_projected_then_the_incident_does_not_go_back():
    inc1 = by_stream(RECORDED)["incident-INC-1"]
    latest = replay(INCIDENTS, inc1)
    again = replay(INCIDENTS, [*inc1, inc1[1], inc1[2]])
    assert again == latest
    assert again["INC-1"].incident.status == "closed"
