"""Service and incident deciders (rules 22–26): registering, opening, restoring, closing, recurring, assessing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from events.kernel.errors import CommandRejected
from events.services.commands import (
    ApproveExclusion,
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
    Service,
    assess_month,
    decide_incident,
    decide_service,
    fold_incident,
    fold_service,
    open_incident,
    register_service,
    reopens,
)
from events.services.facts import (
    CreditTier,
    DeskCall,
    IncidentClosed,
    IncidentLogged,
    IncidentOpened,
    IncidentRecord,
    IncidentRecurred,
    IncidentUpdated,
    MaintenanceWindowScheduled,
    OutageExclusionApproved,
    ServiceCredit,
    ServiceDeskCallsReported,
    ServiceRegistered,
    ServiceRestored,
)

ET = ZoneInfo("America/Toronto")
D = Decimal
SUPPLIER = "Nimbus Cloud Canada"
ORGANISATIONS = {"ESDC", "CBC", "SSC"}  # registered with the broker


def at(*parts: int) -> datetime:
    """A wall-clock time in Eastern Time."""
    return datetime(*parts, tzinfo=ET)


# ---------------------------------------------------------------- builders


def registration(**more: Any) -> RegisterService:
    fields: dict[str, Any] = {
        "service_id": "mail",
        "name": "Hosted mail",
        "contract_id": "CLOUD-2025-017",
        "organisations": ("ESDC", "CBC"),
        "monthly_charge": "1234.57",
        "registered_on": date(2026, 1, 5),
    }
    return RegisterService(**{**fields, **more})


def registered(**more: Any) -> ServiceRegistered:
    [event] = register_service(registration(**more), False, SUPPLIER, ORGANISATIONS)
    return event


def service(*windows: tuple[datetime, datetime], **more: Any) -> Service:
    """The service as its stream tells it: registered, with the given maintenance windows scheduled."""
    events: list[Any] = [registered(**more)]
    for number, (starts_at, ends_at) in enumerate(windows, start=1):
        state = fold_service(events)
        assert state is not None
        command = ScheduleMaintenance(window_id=f"W-{number}", starts_at=starts_at, ends_at=ends_at)
        events += decide_service(command, state, starts_at - timedelta(days=1))
    state = fold_service(events)
    assert state is not None
    return state


SERVICE = service()


def opening(
    incident_id: str = "INC-1",
    detected_at: datetime | None = None,
    reported_at: datetime | None = None,
    **more: Any,
) -> OpenIncident:
    fields: dict[str, Any] = {
        "incident_id": incident_id,
        "service_id": "mail",
        "title": "Mail down",
        "priority": "P1",
        "detected_at": detected_at,
        "reported_at": reported_at,
    }
    return OpenIncident(**{**fields, **more})


def opened(start: datetime, incident_id: str = "INC-1", svc: Service = SERVICE, **more: Any) -> IncidentRecord:
    """An incident detected at `start`, opened five minutes later."""
    event, _ = open_incident(opening(incident_id, detected_at=start, **more), False, svc, start + timedelta(minutes=5))
    assert isinstance(event, IncidentOpened)
    return event.incident


def then(record: IncidentRecord, *steps: tuple[IncidentCommand, datetime]) -> list[Any]:
    """The events of each (command, now) decided on the incident so far (its first event's record included)."""
    events: list[Any] = []
    current: IncidentRecord | None = record
    for command, now in steps:
        decided = decide_incident(command, current, now)
        events += decided
        current = fold_incident(decided) or current
    return events


def after(record: IncidentRecord, *steps: tuple[IncidentCommand, datetime]) -> IncidentRecord:
    return then(record, *steps)[-1].incident


def restore(moment: datetime) -> tuple[RestoreService, datetime]:
    return RestoreService(restored_at=moment), moment + timedelta(minutes=1)


def close(moment: datetime) -> tuple[CloseIncident, datetime]:
    return CloseIncident(closed_at=moment), moment + timedelta(minutes=1)


def closed_incident(
    start: datetime, end: datetime, incident_id: str = "INC-1", svc: Service = SERVICE, **more: Any
) -> IncidentRecord:
    """Detected at `start`, restored at `end`, closed an hour later."""
    return after(opened(start, incident_id, svc, **more), restore(end), close(end + timedelta(hours=1)))


def refused(command: Any, record: IncidentRecord | None, now: datetime) -> CommandRejected:
    with pytest.raises(CommandRejected) as rejection:
        decide_incident(command, record, now)
    return rejection.value


def assess(month: str, incidents: list[IncidentRecord], svc: Service = SERVICE, now: datetime | None = None):
    year, number = (int(p) for p in month.split("-"))
    following = date(year + 1, 1, 2) if number == 12 else date(year, number + 1, 2)
    command = AssessServiceMonth(month=month, assessed_on=following)
    return assess_month(command, svc, incidents, now or at(following.year, following.month, following.day, 9))


# ---------------------------------------------------------------- registering a service


def test_given_a_known_contract_and_organisations_when_a_service_is_registered_then_default_credit_terms_apply():
    # When
    event = registered(organisations=("ESDC", "CBC", "ESDC"))
    # Then
    assert event.supplier == SUPPLIER
    assert event.name_fr == "Hosted mail"
    assert event.organisations == ("CBC", "ESDC")
    assert event.target_pct == D("99.900")
    assert event.monthly_charge == D("1234.57")
    assert event.credit_terms == (
        CreditTier(below_pct=D("99.900"), credit_pct=D("5")),
        CreditTier(below_pct=D("99.000"), credit_pct=D("10")),
        CreditTier(below_pct=D("95.000"), credit_pct=D("25")),
    )


def test_given_credit_terms_out_of_order_when_registered_then_they_are_kept_highest_threshold_first():
    terms = (
        CreditTier(below_pct=D("98.000"), credit_pct=D("15")),
        CreditTier(below_pct=D("99.900"), credit_pct=D("3")),
    )
    event = registered(credit_terms=terms)
    assert [t.below_pct for t in event.credit_terms] == [D("99.900"), D("98.000")]


def test_given_a_credit_tier_above_the_target_when_registered_then_refused():
    terms = (CreditTier(below_pct=D("99.950"), credit_pct=D("5")),)
    with pytest.raises(CommandRejected) as rejection:
        register_service(registration(credit_terms=terms), False, SUPPLIER, ORGANISATIONS)
    assert rejection.value.code == "credit_terms_above_target"
    assert rejection.value.status == 422


def test_given_an_unknown_contract_when_a_service_is_registered_then_refused():
    with pytest.raises(CommandRejected) as rejection:
        register_service(registration(), False, None, ORGANISATIONS)
    assert rejection.value.code == "unknown_contract"


def test_given_an_unregistered_organisation_when_a_service_is_registered_then_refused_naming_it():
    with pytest.raises(CommandRejected) as rejection:
        register_service(registration(organisations=("ESDC", "DND", "CBC")), False, SUPPLIER, ORGANISATIONS)
    assert rejection.value.code == "unknown_organisation"
    assert "DND" in rejection.value.message
    assert "ESDC" not in rejection.value.message


def test_given_a_registered_service_when_registered_again_then_refused_as_a_conflict():
    with pytest.raises(CommandRejected) as rejection:
        register_service(registration(), True, SUPPLIER, ORGANISATIONS)
    assert (rejection.value.code, rejection.value.status) == ("service_exists", 409)


# ---------------------------------------------------------------- maintenance windows and desk reports


def test_given_a_window_crossing_a_month_end_when_scheduled_then_it_lists_both_months():
    command = ScheduleMaintenance(window_id="W-1", starts_at=at(2026, 9, 30, 22), ends_at=at(2026, 10, 1, 2))
    [event] = decide_service(command, SERVICE, at(2026, 9, 20, 9))
    assert isinstance(event, MaintenanceWindowScheduled)
    assert event.months == ("2026-09", "2026-10")


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "code"),
    [
        (at(2026, 9, 10, 4), at(2026, 9, 10, 2), "window_inverted"),
        (at(2026, 9, 10, 2), at(2026, 9, 10, 2), "window_inverted"),
        (at(2026, 9, 10, 2), at(2026, 9, 17, 2, 1), "window_too_long"),
    ],
)
def test_given_a_bad_window_when_scheduled_then_refused(starts_at, ends_at, code):
    with pytest.raises(CommandRejected) as rejection:
        decide_service(ScheduleMaintenance(window_id="W-9", starts_at=starts_at, ends_at=ends_at), SERVICE, starts_at)
    assert rejection.value.code == code


def test_given_a_scheduled_window_when_the_same_window_is_scheduled_again_then_refused_as_a_conflict():
    svc = service((at(2026, 9, 10, 2), at(2026, 9, 10, 4)))
    command = ScheduleMaintenance(window_id="W-1", starts_at=at(2026, 9, 12, 2), ends_at=at(2026, 9, 12, 4))
    with pytest.raises(CommandRejected) as rejection:
        decide_service(command, svc, at(2026, 9, 1, 9))
    assert (rejection.value.code, rejection.value.status) == ("window_exists", 409)


def test_given_a_desk_report_when_reported_then_recorded_and_a_second_time_refused():
    command = ReportDeskCalls(
        report_id="R-2026-09",
        month="2026-09",
        calls=(DeskCall(outcome="answered", wait_seconds=D("12.0")),),
        reported_on=date(2026, 10, 2),
    )
    [event] = decide_service(command, SERVICE, at(2026, 10, 2, 9))
    assert isinstance(event, ServiceDeskCallsReported)
    state = fold_service([SERVICE.registered, event])
    assert state is not None and state.desk_reports == ("R-2026-09",)
    with pytest.raises(CommandRejected) as rejection:
        decide_service(command, state, at(2026, 10, 2, 9))
    assert (rejection.value.code, rejection.value.status) == ("report_exists", 409)


def test_given_a_month_not_started_when_its_desk_calls_are_reported_then_refused():
    command = ReportDeskCalls(
        report_id="R-2026-11",
        month="2026-11",
        calls=(DeskCall(outcome="answered", wait_seconds=D("12.0")),),
        reported_on=date(2026, 10, 31),
    )
    with pytest.raises(CommandRejected) as rejection:
        decide_service(command, SERVICE, at(2026, 10, 31, 23, 59))
    assert rejection.value.code == "month_not_started"


# ---------------------------------------------------------------- opening an incident (rule 22)


def test_given_detected_at_10_05_and_reported_at_10_00_when_opened_then_the_outage_starts_at_10_00():
    # When
    event, logged = open_incident(
        opening(detected_at=at(2026, 9, 10, 10, 5), reported_at=at(2026, 9, 10, 10, 0)),
        False,
        SERVICE,
        at(2026, 9, 10, 10, 6),
    )
    # Then
    assert isinstance(event, IncidentOpened) and isinstance(logged, IncidentLogged)
    assert event.opened_at == at(2026, 9, 10, 10, 0)
    assert event.incident.outages[0].started_at == at(2026, 9, 10, 10, 0)
    assert event.incident.outages[0].ended_at is None
    assert logged.started_at == at(2026, 9, 10, 10, 0)
    assert logged.incident_id == "INC-1"


def test_given_only_a_report_when_opened_then_the_outage_starts_when_reported():
    event, _ = open_incident(opening(reported_at=at(2026, 9, 10, 9, 0)), False, SERVICE, at(2026, 9, 10, 9, 1))
    assert event.opened_at == at(2026, 9, 10, 9, 0)


def test_given_a_p1_without_impact_or_organisations_when_opened_then_major_outage_for_every_organisation_served():
    record = opened(at(2026, 9, 10, 10))
    assert record.impact == "major_outage"
    assert record.organisations == ("CBC", "ESDC")
    assert record.status == "open"
    assert record.months == ("2026-09",)


def test_given_a_p2_for_one_organisation_when_opened_then_partial_outage_for_that_organisation_only():
    event, _ = open_incident(
        opening(detected_at=at(2026, 9, 10, 10), priority="P2", organisations=("CBC",)),
        False,
        SERVICE,
        at(2026, 9, 10, 10, 1),
    )
    assert event.incident.impact == "partial_outage"
    assert event.incident.organisations == ("CBC",)


def test_given_an_outage_started_last_month_when_opened_now_then_it_touches_every_month_since():
    record = opened(at(2026, 9, 30, 23, 40))
    event, _ = open_incident(opening(detected_at=at(2026, 9, 30, 23, 40)), False, SERVICE, at(2026, 10, 1, 0, 10))
    assert record.months == ("2026-09",)
    assert event.incident.months == ("2026-09", "2026-10")


def test_given_no_service_when_an_incident_is_opened_then_refused_as_not_found():
    with pytest.raises(CommandRejected) as rejection:
        open_incident(opening(detected_at=at(2026, 9, 10, 10)), False, None, at(2026, 9, 10, 10, 1))
    assert (rejection.value.code, rejection.value.status) == ("service_not_found", 404)


def test_given_an_existing_incident_when_opened_again_then_refused_as_a_conflict():
    with pytest.raises(CommandRejected) as rejection:
        open_incident(opening(detected_at=at(2026, 9, 10, 10)), True, SERVICE, at(2026, 9, 10, 10, 1))
    assert (rejection.value.code, rejection.value.status) == ("incident_exists", 409)


def test_given_neither_detected_nor_reported_when_opened_then_refused_as_outage_start_missing():
    with pytest.raises(CommandRejected) as rejection:
        open_incident(opening(), False, SERVICE, at(2026, 9, 10, 10, 1))
    assert rejection.value.code == "outage_start_missing"


def test_given_an_organisation_the_service_does_not_serve_when_opened_then_refused():
    with pytest.raises(CommandRejected) as rejection:
        open_incident(
            opening(detected_at=at(2026, 9, 10, 10), organisations=("ESDC", "SSC")),
            False,
            SERVICE,
            at(2026, 9, 10, 10, 1),
        )
    assert rejection.value.code == "organisation_not_served"
    assert "SSC" in rejection.value.message


def test_given_a_detection_time_in_the_future_when_opened_then_refused():
    with pytest.raises(CommandRejected) as rejection:
        open_incident(opening(detected_at=at(2026, 9, 10, 10, 6)), False, SERVICE, at(2026, 9, 10, 10, 0))
    assert rejection.value.code == "time_in_future"


def test_given_a_detection_time_five_minutes_ahead_when_opened_then_the_clock_skew_is_tolerated():
    event, _ = open_incident(opening(detected_at=at(2026, 9, 10, 10, 5)), False, SERVICE, at(2026, 9, 10, 10, 0))
    assert event.opened_at == at(2026, 9, 10, 10, 5)


def test_given_a_report_time_a_year_in_the_future_when_opened_then_refused():
    with pytest.raises(CommandRejected) as rejection:
        open_incident(
            opening(detected_at=at(2026, 9, 10, 10), reported_at=at(2027, 9, 10, 10)),
            False,
            SERVICE,
            at(2026, 9, 10, 10, 1),
        )
    assert rejection.value.code == "time_in_future"


# ---------------------------------------------------------------- restoring, updating, closing (rule 23)


def test_given_an_open_incident_when_restored_then_the_outage_ends_and_it_is_restored():
    record = opened(at(2026, 9, 10, 10))
    [event] = decide_incident(RestoreService(restored_at=at(2026, 9, 10, 10, 45)), record, at(2026, 9, 10, 10, 46))
    assert isinstance(event, ServiceRestored)
    assert event.incident.status == "restored"
    assert event.incident.outages[0].ended_at == at(2026, 9, 10, 10, 45)
    assert event.corrects is None


def test_given_a_restored_incident_when_restored_again_then_the_restore_time_is_corrected():
    record = after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 10, 45)))
    [event] = decide_incident(RestoreService(restored_at=at(2026, 9, 10, 10, 40)), record, at(2026, 9, 10, 11))
    assert event.corrects == at(2026, 9, 10, 10, 45)
    assert event.incident.outages[0].ended_at == at(2026, 9, 10, 10, 40)


def test_given_an_outage_crossing_the_month_end_when_restored_then_the_incident_touches_both_months():
    record = after(opened(at(2026, 9, 30, 23, 40)), restore(at(2026, 10, 1, 0, 24)))
    assert record.months == ("2026-09", "2026-10")


def test_given_an_outage_started_at_10_when_restored_at_9_59_then_refused_as_restored_before_outage():
    rejection = refused(
        RestoreService(restored_at=at(2026, 9, 10, 9, 59)), opened(at(2026, 9, 10, 10)), at(2026, 9, 10, 11)
    )
    assert rejection.code == "restored_before_outage"


def test_given_a_restore_time_in_the_future_when_restored_then_refused():
    rejection = refused(
        RestoreService(restored_at=at(2026, 9, 10, 12)), opened(at(2026, 9, 10, 10)), at(2026, 9, 10, 11)
    )
    assert rejection.code == "time_in_future"


def test_given_an_unrestored_incident_when_closed_then_refused_as_not_restored():
    rejection = refused(CloseIncident(closed_at=at(2026, 9, 10, 11)), opened(at(2026, 9, 10, 10)), at(2026, 9, 10, 11))
    assert rejection.code == "incident_not_restored"


def test_given_a_restored_incident_when_closed_before_the_restore_then_refused():
    record = after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 10, 45)))
    rejection = refused(CloseIncident(closed_at=at(2026, 9, 10, 10, 44)), record, at(2026, 9, 10, 11))
    assert rejection.code == "closed_before_restore"


def test_given_a_closing_time_in_the_future_when_closed_then_refused():
    record = after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 10, 45)))
    rejection = refused(CloseIncident(closed_at=at(2026, 9, 10, 12)), record, at(2026, 9, 10, 11))
    assert rejection.code == "time_in_future"


def test_given_a_restored_incident_when_closed_then_its_outage_minutes_are_frozen_in_the_event():
    # Given an outage 10:00–10:45:30
    record = after(opened(at(2026, 9, 10, 10)), restore(datetime(2026, 9, 10, 10, 45, 30, tzinfo=ET)))
    # When
    [event] = decide_incident(CloseIncident(closed_at=at(2026, 9, 10, 11)), record, at(2026, 9, 10, 11, 1))
    # Then
    assert isinstance(event, IncidentClosed)
    assert event.outage_minutes == D("45.500")
    assert event.incident.status == "closed"
    assert event.incident.closed_at == at(2026, 9, 10, 11)


def test_given_a_closed_incident_when_restored_again_then_refused_because_its_duration_is_frozen():
    record = closed_incident(at(2026, 9, 10, 10), at(2026, 9, 10, 10, 45))
    rejection = refused(RestoreService(restored_at=at(2026, 9, 10, 10, 30)), record, at(2026, 9, 10, 12))
    assert (rejection.code, rejection.status) == ("incident_closed", 409)


def test_given_a_closed_incident_when_updated_or_closed_again_then_refused():
    record = closed_incident(at(2026, 9, 10, 10), at(2026, 9, 10, 10, 45))
    update = UpdateIncident(updated_at=at(2026, 9, 10, 12), note="late note")
    assert refused(update, record, at(2026, 9, 10, 12)).code == "incident_closed"
    assert refused(CloseIncident(closed_at=at(2026, 9, 10, 12)), record, at(2026, 9, 10, 12)).code == "incident_closed"


def test_given_an_open_incident_when_updated_then_impact_and_priority_change_and_the_note_is_kept():
    record = opened(at(2026, 9, 10, 10))
    command = UpdateIncident(updated_at=at(2026, 9, 10, 10, 20), note="Degraded only", impact="degraded", priority="P3")
    [event] = decide_incident(command, record, at(2026, 9, 10, 10, 21))
    assert isinstance(event, IncidentUpdated)
    assert (event.incident.impact, event.incident.priority, event.note) == ("degraded", "P3", "Degraded only")
    assert event.incident.status == "open"


def test_given_no_incident_when_restored_then_refused_as_not_found():
    rejection = refused(RestoreService(restored_at=at(2026, 9, 10, 10)), None, at(2026, 9, 10, 11))
    assert (rejection.code, rejection.status) == ("incident_not_found", 404)


# ---------------------------------------------------------------- recurrence (rule 24)

CLOSED_AT = at(2026, 9, 10, 11)  # T: the incident below (10:00–10:30) closes at 11:00


def closed_at_t() -> IncidentRecord:
    return after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 10, 30)), close(CLOSED_AT))


def test_given_a_closed_incident_when_it_recurs_23_hours_later_then_it_is_reopened():
    # Given closed at T
    record = closed_at_t()
    # When it recurs at T + 23 h
    recurred = CLOSED_AT + timedelta(hours=23)
    [event] = decide_incident(RecordRecurrence(recurred_at=recurred), record, recurred + timedelta(minutes=1))
    # Then
    assert reopens(record, recurred) is True
    assert isinstance(event, IncidentRecurred)
    assert event.previous_closed_at == CLOSED_AT
    assert event.incident.status == "open"
    assert event.incident.recurrences == 1
    assert event.incident.closed_at is None
    assert len(event.incident.outages) == 2
    assert event.incident.outages[1].started_at == recurred
    assert event.incident.outages[1].ended_at is None


def test_given_a_reopened_incident_when_restored_and_closed_then_its_outage_is_the_combined_duration():
    # Given 30 minutes down, closed at T, recurring at T + 23 h for 15 minutes
    recurred = CLOSED_AT + timedelta(hours=23)
    events = then(
        closed_at_t(),
        (RecordRecurrence(recurred_at=recurred), recurred),
        restore(recurred + timedelta(minutes=15)),
        close(recurred + timedelta(minutes=20)),
    )
    # Then the adjusted outage is 30 + 15 minutes
    closing = events[-1]
    assert isinstance(closing, IncidentClosed)
    assert closing.outage_minutes == D("45.000")
    assert closing.incident.recurrences == 1
    assert [(s.started_at, s.ended_at) for s in closing.incident.outages] == [
        (at(2026, 9, 10, 10), at(2026, 9, 10, 10, 30)),
        (recurred, recurred + timedelta(minutes=15)),
    ]


def test_given_a_closed_incident_when_it_recurs_exactly_24_hours_later_then_it_is_reopened():
    record = closed_at_t()
    recurred = CLOSED_AT + timedelta(hours=24)
    assert reopens(record, recurred) is True
    [event] = decide_incident(RecordRecurrence(recurred_at=recurred), record, recurred)
    assert event.incident.status == "open"


def test_given_a_closed_incident_when_it_recurs_25_hours_later_then_it_is_a_new_incident_not_a_reopening():
    record = closed_at_t()
    recurred = CLOSED_AT + timedelta(hours=25)
    assert reopens(record, recurred) is False
    rejection = refused(RecordRecurrence(recurred_at=recurred, new_incident_id="INC-2"), record, recurred)
    assert rejection.code == "recurrence_after_window"


def test_given_a_recurrence_after_the_window_when_the_new_incident_is_opened_then_it_refers_to_the_old_one():
    event, _ = open_incident(
        opening("INC-2", detected_at=CLOSED_AT + timedelta(hours=25), recurrence_of="INC-1"),
        False,
        SERVICE,
        CLOSED_AT + timedelta(hours=25, minutes=1),
    )
    assert event.incident.recurrence_of == "INC-1"
    assert event.incident.recurrences == 0
    assert event.incident.status == "open"


def test_given_an_open_incident_when_a_recurrence_is_recorded_then_refused_as_not_closed():
    rejection = refused(
        RecordRecurrence(recurred_at=at(2026, 9, 10, 11)), opened(at(2026, 9, 10, 10)), at(2026, 9, 10, 11)
    )
    assert rejection.code == "incident_not_closed"


def test_given_a_closed_incident_when_a_recurrence_before_the_close_is_recorded_then_refused():
    rejection = refused(RecordRecurrence(recurred_at=CLOSED_AT - timedelta(minutes=1)), closed_at_t(), CLOSED_AT)
    assert rejection.code == "recurred_before_close"


def test_given_a_closed_incident_when_a_recurrence_in_the_future_is_recorded_then_refused():
    rejection = refused(RecordRecurrence(recurred_at=CLOSED_AT + timedelta(hours=2)), closed_at_t(), CLOSED_AT)
    assert rejection.code == "time_in_future"


def test_given_closed_before_the_autumn_clock_change_when_it_recurs_24_5_real_hours_later_then_not_reopened():
    # Given closed 2026-10-31 12:30 EDT; recurring 2026-11-01 12:00 EST is 24 h 30 min later (the clock fell back)
    record = after(opened(at(2026, 10, 31, 11, 0)), restore(at(2026, 10, 31, 12, 0)), close(at(2026, 10, 31, 12, 30)))
    recurred = at(2026, 11, 1, 12, 0)
    assert recurred.timestamp() - at(2026, 10, 31, 12, 30).timestamp() == 24.5 * 3600
    # Then
    assert reopens(record, recurred) is False


# ---------------------------------------------------------------- exclusions (rule 25)


def exclusion(starts_at: datetime | None = None, ends_at: datetime | None = None, **more: Any) -> ApproveExclusion:
    fields: dict[str, Any] = {
        "reason": "client_service_failure",
        "approved_by": "Buyer",
        "approved_at": at(2026, 9, 11, 9),
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    return ApproveExclusion(**{**fields, **more})


def test_given_a_restored_incident_when_part_of_its_outage_is_excluded_then_the_exclusion_is_recorded():
    record = after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 11)))
    [event] = decide_incident(exclusion(at(2026, 9, 10, 10, 15), at(2026, 9, 10, 10, 35)), record, at(2026, 9, 11, 9))
    assert isinstance(event, OutageExclusionApproved)
    assert (event.exclusion.starts_at, event.exclusion.ends_at) == (at(2026, 9, 10, 10, 15), at(2026, 9, 10, 10, 35))
    assert event.incident.exclusions == (event.exclusion,)
    assert event.incident.status == "restored"


def test_given_a_closed_incident_when_an_exclusion_without_bounds_is_approved_then_it_covers_the_whole_outage():
    record = closed_incident(at(2026, 9, 10, 10), at(2026, 9, 10, 11))
    [event] = decide_incident(exclusion(reason="planned_downtime"), record, at(2026, 9, 11, 9))
    assert (event.exclusion.starts_at, event.exclusion.ends_at) == (at(2026, 9, 10, 10), at(2026, 9, 10, 11))
    assert event.incident.status == "closed"


def test_given_an_open_incident_when_an_exclusion_is_approved_then_refused_as_not_restored():
    rejection = refused(exclusion(), opened(at(2026, 9, 10, 10)), at(2026, 9, 11, 9))
    assert rejection.code == "incident_not_restored"


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        (at(2026, 9, 10, 9, 59), at(2026, 9, 10, 10, 30)),  # before the outage
        (at(2026, 9, 10, 10, 30), at(2026, 9, 10, 11, 1)),  # past its end
    ],
)
def test_given_an_exclusion_outside_the_outage_when_approved_then_refused(starts_at, ends_at):
    record = after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 11)))
    assert refused(exclusion(starts_at, ends_at), record, at(2026, 9, 11, 9)).code == "exclusion_outside_outage"


def test_given_an_inverted_exclusion_when_approved_then_refused():
    record = after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 11)))
    rejection = refused(exclusion(at(2026, 9, 10, 10, 30), at(2026, 9, 10, 10, 20)), record, at(2026, 9, 11, 9))
    assert rejection.code == "exclusion_inverted"


def test_given_an_approval_time_in_the_future_when_an_exclusion_is_approved_then_refused():
    record = after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 11)))
    assert refused(exclusion(), record, at(2026, 9, 10, 12)).code == "time_in_future"


# ---------------------------------------------------------------- assessing a month (rules 25 and credits)


def test_given_a_month_with_44_outage_minutes_when_assessed_then_missed_and_each_affected_organisation_credited_5():
    # Given September 2026 with one 44-minute outage for ESDC and CBC, monthly charge 1234.57
    record = closed_incident(at(2026, 9, 10, 10), at(2026, 9, 10, 10, 44))
    # When
    assessed = assess("2026-09", [record])
    # Then
    assert assessed.minutes_in_period == 43_200
    assert assessed.outage_minutes == D("44.000")
    assert assessed.availability_pct == D("99.898")
    assert assessed.met is False
    assert assessed.incidents == ("INC-1",)
    assert assessed.credit_pct == D("5")
    assert assessed.credits == (
        ServiceCredit(client_org="CBC", credit_id="mail-2026-09-CBC", amount=D("61.73")),
        ServiceCredit(client_org="ESDC", credit_id="mail-2026-09-ESDC", amount=D("61.73")),
    )


def test_given_a_month_below_99_000_when_assessed_then_10_percent_credit():
    # Given 500 minutes down: 98.842 %
    record = closed_incident(at(2026, 9, 10, 10), at(2026, 9, 10, 18, 20), organisations=("ESDC",))
    assessed = assess("2026-09", [record])
    assert assessed.availability_pct == D("98.842")
    assert assessed.credit_pct == D("10")
    assert assessed.credits == (ServiceCredit(client_org="ESDC", credit_id="mail-2026-09-ESDC", amount=D("123.46")),)


def test_given_a_met_month_when_assessed_then_no_credit():
    # Given exactly 43.2 minutes down in 30 days: 99.900 %
    record = closed_incident(at(2026, 9, 10, 10), datetime(2026, 9, 10, 10, 43, 12, tzinfo=ET))
    assessed = assess("2026-09", [record])
    assert assessed.availability_pct == D("99.900")
    assert assessed.met is True
    assert assessed.credit_pct == D("0")
    assert assessed.credits == ()


def test_given_43_21_outage_minutes_when_assessed_then_missed_though_the_figure_shown_is_99_899():
    record = closed_incident(at(2026, 9, 10, 10), datetime(2026, 9, 10, 10, 43, 12, 600_000, tzinfo=ET))
    assessed = assess("2026-09", [record])
    assert assessed.outage_minutes == D("43.210")
    assert assessed.availability_pct == D("99.899")
    assert assessed.met is False
    assert assessed.credit_pct == D("5")


def test_given_incidents_for_different_organisations_when_assessed_then_only_those_with_counted_outage_are_credited():
    # Given a 50-minute outage for CBC, and one for ESDC wholly inside a maintenance window
    svc = service((at(2026, 9, 12, 2), at(2026, 9, 12, 4)))
    cbc = closed_incident(at(2026, 9, 10, 10), at(2026, 9, 10, 10, 50), "INC-1", svc, organisations=("CBC",))
    esdc = closed_incident(at(2026, 9, 12, 2, 30), at(2026, 9, 12, 3, 30), "INC-2", svc, organisations=("ESDC",))
    # When
    assessed = assess("2026-09", [cbc, esdc], svc)
    # Then
    assert assessed.outage_minutes == D("50.000")
    assert assessed.maintenance_minutes == D("60.000")
    assert assessed.incidents == ("INC-1", "INC-2")
    assert [c.client_org for c in assessed.credits] == ["CBC"]


def test_given_an_outage_partly_past_a_maintenance_window_when_assessed_then_only_the_part_past_it_counts():
    # Given the window 02:00–04:00 and an outage 03:00–05:00
    svc = service((at(2026, 9, 10, 2), at(2026, 9, 10, 4)))
    record = closed_incident(at(2026, 9, 10, 3), at(2026, 9, 10, 5), svc=svc)
    assessed = assess("2026-09", [record], svc)
    assert assessed.maintenance_minutes == D("60.000")
    assert assessed.outage_minutes == D("60.000")
    assert assessed.availability_pct == D("99.861")
    assert assessed.met is False


def test_given_an_approved_exclusion_when_assessed_then_the_excluded_minutes_do_not_count():
    # Given 10:00–11:00 down, 10:00–10:30 approved as another service's failure
    record = after(
        opened(at(2026, 9, 10, 10)),
        restore(at(2026, 9, 10, 11)),
        (exclusion(at(2026, 9, 10, 10), at(2026, 9, 10, 10, 30), reason="other_service_failure"), at(2026, 9, 11, 9)),
        close(at(2026, 9, 11, 10)),
    )
    assessed = assess("2026-09", [record])
    assert assessed.excluded_minutes == D("30.000")
    assert assessed.outage_minutes == D("30.000")
    assert assessed.availability_pct == D("99.930")
    assert assessed.met is True


def test_given_two_overlapping_incidents_when_assessed_then_the_overlap_counts_once():
    first = closed_incident(at(2026, 9, 10, 10), at(2026, 9, 10, 10, 40), "INC-1")
    second = closed_incident(at(2026, 9, 10, 10, 20), at(2026, 9, 10, 11), "INC-2")
    assessed = assess("2026-09", [first, second])
    assert assessed.outage_minutes == D("60.000")
    assert assessed.availability_pct == D("99.861")


def test_given_an_outage_crossing_the_month_end_when_both_months_are_assessed_then_20_and_24_minutes():
    record = closed_incident(at(2026, 9, 30, 23, 40), at(2026, 10, 1, 0, 24))
    september = assess("2026-09", [record])
    october = assess("2026-10", [record])
    assert (september.outage_minutes, september.minutes_in_period) == (D("20.000"), 43_200)
    assert (october.outage_minutes, october.minutes_in_period) == (D("24.000"), 44_640)
    assert september.incidents == october.incidents == ("INC-1",)


def test_given_an_incident_of_another_month_when_a_month_is_assessed_then_it_is_ignored():
    record = closed_incident(at(2026, 8, 10, 10), at(2026, 8, 10, 12))
    assessed = assess("2026-09", [record])
    assert assessed.incidents == ()
    assert assessed.availability_pct == D("100.000")


def test_given_a_month_not_over_when_assessed_then_refused():
    with pytest.raises(CommandRejected) as rejection:
        assess("2026-09", [], now=at(2026, 9, 30, 23, 59))
    assert rejection.value.code == "month_not_over"


def test_given_the_first_minute_of_the_next_month_when_assessed_then_accepted():
    assert assess("2026-09", [], now=at(2026, 10, 1, 0, 0)).met is True


def test_given_an_assessed_month_when_assessed_again_then_refused_as_a_conflict():
    assessed = assess("2026-09", [])
    svc = fold_service([SERVICE.registered, assessed])
    assert svc is not None
    with pytest.raises(CommandRejected) as rejection:
        assess("2026-09", [], svc)
    assert (rejection.value.code, rejection.value.status) == ("month_assessed", 409)


def test_given_an_incident_touching_the_month_still_restored_not_closed_when_assessed_then_refused():
    record = after(opened(at(2026, 9, 10, 10)), restore(at(2026, 9, 10, 10, 44)))
    with pytest.raises(CommandRejected) as rejection:
        assess("2026-09", [record])
    assert rejection.value.code == "incidents_not_closed"
    assert "INC-1" in rejection.value.message


def test_given_an_incident_open_since_the_previous_month_when_the_month_is_assessed_then_refused():
    # Given an outage detected on 30 September and still open (no event since): its months are ("2026-09",)
    record = opened(at(2026, 9, 30, 23, 0))
    assert record.months == ("2026-09",)
    # When October is assessed on 1 November
    with pytest.raises(CommandRejected) as rejection:
        assess("2026-10", [record])
    # Then
    assert rejection.value.code == "incidents_not_closed"
