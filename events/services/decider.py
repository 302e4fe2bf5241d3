"""The service and incident deciders (rules 22–26). Pure: the clock arrives as `now`, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from events.kernel.errors import CommandRejected
from events.kernel.model import Fact
from events.kernel.money import cents
from events.services.availability import (
    as_minutes,
    credit_pct,
    elapsed,
    incident_duration,
    measure,
    month_of,
    month_span,
    months_between,
)
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
from events.services.facts import (
    DEFAULT_IMPACT,
    RECURRENCE_WINDOW_HOURS,
    ExcludedSpan,
    IncidentClosed,
    IncidentEvent,
    IncidentLogged,
    IncidentOpened,
    IncidentRecord,
    IncidentRecurred,
    IncidentUpdated,
    MaintenanceWindowScheduled,
    OutageExclusionApproved,
    OutageSpan,
    ServiceCredit,
    ServiceDeskCallsReported,
    ServiceEvent,
    ServiceMonthAssessed,
    ServiceRegistered,
    ServiceRestored,
    default_credit_terms,
)

# A clock a little ahead of ours is tolerated; a time further ahead is a typo, not a fact.
CLOCK_SKEW = timedelta(minutes=5)
MAX_WINDOW = timedelta(days=7)


class Service(Fact):
    """A service as its stream tells it: what was registered, its windows, incidents, reports and assessments."""

    registered: ServiceRegistered
    windows: tuple[MaintenanceWindowScheduled, ...] = ()
    incidents: dict[str, datetime] = Field(default_factory=dict)  # incident id -> outage start
    desk_reports: tuple[str, ...] = ()
    assessed: dict[str, ServiceMonthAssessed] = Field(default_factory=dict)


def evolve_service(service: Service | None, event: ServiceEvent) -> Service | None:
    match event:
        case ServiceRegistered():
            return Service(registered=event)
        case MaintenanceWindowScheduled() if service:
            return service.model_copy(update={"windows": (*service.windows, event)})
        case ServiceDeskCallsReported() if service:
            return service.model_copy(update={"desk_reports": (*service.desk_reports, event.report_id)})
        case IncidentLogged() if service:
            return service.model_copy(update={"incidents": {**service.incidents, event.incident_id: event.started_at}})
        case ServiceMonthAssessed() if service:
            return service.model_copy(update={"assessed": {**service.assessed, event.month: event}})
    return service


def fold_service(events: Iterable[ServiceEvent]) -> Service | None:
    service: Service | None = None
    for event in events:
        service = evolve_service(service, event)
    return service


def fold_incident(events: Iterable[IncidentEvent]) -> IncidentRecord | None:
    """Every incident event carries the incident as it stands after it: the last one is the incident."""
    incident: IncidentRecord | None = None
    for event in events:
        incident = event.incident
    return incident


# ---------------------------------------------------------------- services


def register_service(
    command: RegisterService, exists: bool, supplier: str | None, registered: set[str]
) -> list[ServiceRegistered]:
    """`supplier`: the supplier of the service's contract (None if the contract is unknown)."""
    if exists:
        raise CommandRejected("service_exists", f"service {command.service_id} is already registered", 409)
    if supplier is None:
        raise CommandRejected("unknown_contract", f"there is no registered contract {command.contract_id}")
    unknown = sorted(set(command.organisations) - registered)
    if unknown:
        raise CommandRejected("unknown_organisation", f"register these organisations first: {', '.join(unknown)}", 422)
    terms = command.credit_terms or default_credit_terms(command.target_pct)
    if any(tier.below_pct > command.target_pct for tier in terms):
        raise CommandRejected(
            "credit_terms_above_target",
            f"a credit tier cannot start above the target {command.target_pct} %:"
            " a month that meets the target earns no credit",
        )
    return [
        ServiceRegistered(
            service_id=command.service_id,
            name=command.name,
            name_fr=command.name_fr or command.name,
            contract_id=command.contract_id,
            supplier=supplier,
            organisations=tuple(sorted(set(command.organisations))),
            target_pct=command.target_pct,
            monthly_charge=command.monthly_charge,
            province=command.province,
            credit_terms=tuple(sorted(terms, key=lambda tier: -tier.below_pct)),
            registered_on=command.registered_on,
        )
    ]


def decide_service(command: ScheduleMaintenance | ReportDeskCalls, service: Service, now: datetime) -> list[Any]:
    match command:
        case ScheduleMaintenance():
            if command.ends_at <= command.starts_at:
                raise CommandRejected("window_inverted", "a maintenance window must end after it starts")
            if elapsed(command.starts_at, command.ends_at) > MAX_WINDOW:
                raise CommandRejected("window_too_long", "a maintenance window lasts at most 7 days")
            if any(w.window_id == command.window_id for w in service.windows):
                raise CommandRejected("window_exists", f"window {command.window_id} is already scheduled", 409)
            return [
                MaintenanceWindowScheduled(
                    window_id=command.window_id,
                    starts_at=command.starts_at,
                    ends_at=command.ends_at,
                    description=command.description,
                    months=months_between(command.starts_at, command.ends_at),
                )
            ]
        case ReportDeskCalls():
            if command.report_id in service.desk_reports:
                raise CommandRejected("report_exists", f"report {command.report_id} was already recorded", 409)
            if command.month > month_of(now):
                raise CommandRejected("month_not_started", f"{command.month} has not started yet")
            return [
                ServiceDeskCallsReported(
                    report_id=command.report_id,
                    month=command.month,
                    calls=command.calls,
                    reported_on=command.reported_on,
                )
            ]


def assess_month(
    command: AssessServiceMonth, service: Service, incidents: list[IncidentRecord], now: datetime
) -> ServiceMonthAssessed:
    """The month's figures, and when it missed the target, the credit each affected organisation earns.

    `incidents`: every incident of the service (the ones that do not touch the month are ignored).
    """
    start, end = month_span(command.month)
    if now < end:
        raise CommandRejected("month_not_over", f"{command.month} is not over yet: assess it from the 1st of the next")
    if command.month in service.assessed:
        raise CommandRejected("month_assessed", f"{command.month} was already assessed", 409)
    # An incident still open reaches past the months its events named: it touches every month since it began.
    touching = [
        i for i in incidents if command.month in i.months or (i.status == "open" and i.outages[-1].started_at < end)
    ]
    still_open = sorted(i.incident_id for i in touching if i.status != "closed")
    if still_open:
        raise CommandRejected(
            "incidents_not_closed",
            f"close these incidents first, their outage is not final: {', '.join(still_open)}",
        )
    registered = service.registered
    windows = [(w.starts_at, w.ends_at) for w in service.windows]
    level = measure((start, end), touching, windows, now, registered.target_pct)
    pct = credit_pct(registered.credit_terms, level)
    affected = sorted({org for share in level.shares if share.outage for org in share.incident.organisations})
    credits = (
        tuple(
            ServiceCredit(
                client_org=org,
                credit_id=f"{registered.service_id}-{command.month}-{org}",
                amount=cents(registered.monthly_charge * pct / 100),
            )
            for org in affected
        )
        if pct
        else ()
    )
    return ServiceMonthAssessed(
        month=command.month,
        assessed_on=command.assessed_on,
        minutes_in_period=level.minutes_in_period,
        outage_minutes=level.outage_minutes,
        excluded_minutes=level.excluded_minutes,
        maintenance_minutes=level.maintenance_minutes,
        availability_pct=level.availability_pct,
        target_pct=registered.target_pct,
        met=level.met,
        incidents=tuple(sorted(share.incident.incident_id for share in level.shares)),
        credit_pct=pct,
        credits=tuple(c for c in credits if c.amount > 0),
    )


# ---------------------------------------------------------------- incidents


def open_incident(
    command: OpenIncident, exists: bool, service: Service | None, now: datetime
) -> list[IncidentOpened | IncidentLogged]:
    """Opening appends the incident to its own stream and logs it on the service's."""
    if service is None:
        raise CommandRejected("service_not_found", f"there is no service {command.service_id}", 404)
    if exists:
        raise CommandRejected("incident_exists", f"incident {command.incident_id} already exists", 409)
    times = [t for t in (command.detected_at, command.reported_at) if t is not None]
    if not times:
        raise CommandRejected("outage_start_missing", "give detected_at or reported_at: the outage starts at the first")
    started = min(times)
    for moment in times:
        _not_ahead(moment, now, "the detection or report time")
    served = set(service.registered.organisations)
    outside = sorted(set(command.organisations) - served)
    if outside:
        raise CommandRejected(
            "organisation_not_served", f"{service.registered.service_id} does not serve {', '.join(outside)}"
        )
    record = IncidentRecord(
        incident_id=command.incident_id,
        service_id=command.service_id,
        title=command.title,
        priority=command.priority,
        impact=command.impact or DEFAULT_IMPACT[command.priority],
        organisations=tuple(sorted(set(command.organisations) or served)),
        status="open",
        outages=(OutageSpan(started_at=started),),
        recurrence_of=command.recurrence_of,
        months=months_between(started, max(started, now)),
    )
    return [
        IncidentOpened(
            opened_at=started, detected_at=command.detected_at, reported_at=command.reported_at, incident=record
        ),
        IncidentLogged(incident_id=command.incident_id, started_at=started),
    ]


def reopens(incident: IncidentRecord, recurred_at: datetime) -> bool:
    """Rule 24: a recurrence within 24 hours of closing reopens the incident; a later one is a new incident."""
    if incident.status != "closed" or incident.closed_at is None:
        raise CommandRejected(
            "incident_not_closed", f"{incident.incident_id} is not closed: its outage is still the same incident"
        )
    if recurred_at < incident.closed_at:
        raise CommandRejected("recurred_before_close", "the recurrence is earlier than the incident's closing")
    return elapsed(incident.closed_at, recurred_at) <= timedelta(hours=RECURRENCE_WINDOW_HOURS)


def decide_incident(command: IncidentCommand, incident: IncidentRecord | None, now: datetime) -> list[IncidentEvent]:
    if incident is None:
        raise CommandRejected("incident_not_found", "there is no such incident", 404)
    last = incident.outages[-1]
    match command:
        case ApproveExclusion():
            return [_exclusion(command, incident, now)]
        case RecordRecurrence():
            _not_ahead(command.recurred_at, now, "the recurrence")
            if not reopens(incident, command.recurred_at):
                raise CommandRejected(
                    "recurrence_after_window",
                    f"{incident.incident_id} closed more than {RECURRENCE_WINDOW_HOURS} h before: open a new incident",
                )
            assert incident.closed_at is not None
            record = _record(
                incident,
                command.recurred_at,
                status="open",
                outages=(*incident.outages, OutageSpan(started_at=command.recurred_at)),
                closed_at=None,
                recurrences=incident.recurrences + 1,
            )
            return [
                IncidentRecurred(
                    recurred_at=command.recurred_at, previous_closed_at=incident.closed_at, incident=record
                )
            ]
    if incident.status == "closed":
        raise CommandRejected(
            "incident_closed",
            f"{incident.incident_id} is closed: its outage duration is frozen (record a recurrence instead)",
            409,
        )
    match command:
        case UpdateIncident():
            _not_ahead(command.updated_at, now, "the update")
            changes: dict[str, Any] = {}
            if command.impact:
                changes["impact"] = command.impact
            if command.priority:
                changes["priority"] = command.priority
            record = _record(incident, command.updated_at, **changes)
            return [IncidentUpdated(updated_at=command.updated_at, note=command.note, incident=record)]
        case RestoreService():
            _not_ahead(command.restored_at, now, "the restore time")
            if command.restored_at < last.started_at:
                raise CommandRejected(
                    "restored_before_outage",
                    f"the service cannot be restored before the outage started ({last.started_at.isoformat()})",
                )
            restored = OutageSpan(started_at=last.started_at, ended_at=command.restored_at)
            record = _record(
                incident, command.restored_at, status="restored", outages=(*incident.outages[:-1], restored)
            )
            return [ServiceRestored(restored_at=command.restored_at, corrects=last.ended_at, incident=record)]
        case CloseIncident():
            if incident.status != "restored" or last.ended_at is None:
                raise CommandRejected(
                    "incident_not_restored", f"{incident.incident_id} is not restored yet: restore the service first"
                )
            if command.closed_at < last.ended_at:
                raise CommandRejected(
                    "closed_before_restore", "an incident cannot close before the service is restored"
                )
            _not_ahead(command.closed_at, now, "the closing time")
            record = _record(incident, command.closed_at, status="closed", closed_at=command.closed_at)
            return [
                IncidentClosed(
                    closed_at=command.closed_at,
                    outage_minutes=as_minutes(incident_duration(record, command.closed_at)),
                    incident=record,
                )
            ]
    raise AssertionError(f"unhandled command {type(command).__name__}")  # pragma: no cover


def _exclusion(command: ApproveExclusion, incident: IncidentRecord, now: datetime) -> OutageExclusionApproved:
    if incident.status == "open":
        raise CommandRejected(
            "incident_not_restored", f"{incident.incident_id} is not restored: its outage is reviewed once it ends"
        )
    _not_ahead(command.approved_at, now, "the approval")
    first = incident.outages[0].started_at
    end = incident.outages[-1].ended_at
    assert end is not None
    starts, ends = command.starts_at or first, command.ends_at or end
    if ends <= starts:
        raise CommandRejected("exclusion_inverted", "an exclusion must end after it starts")
    if starts < first or ends > end:
        raise CommandRejected(
            "exclusion_outside_outage",
            f"an exclusion covers part of the outage, between {first.isoformat()} and {end.isoformat()}",
        )
    exclusion = ExcludedSpan(
        reason=command.reason,
        approved_by=command.approved_by,
        approved_at=command.approved_at,
        starts_at=starts,
        ends_at=ends,
    )
    record = _record(incident, command.approved_at, exclusions=(*incident.exclusions, exclusion))
    return OutageExclusionApproved(approved_at=command.approved_at, exclusion=exclusion, incident=record)


def _record(incident: IncidentRecord, at: datetime, **changes: Any) -> IncidentRecord:
    """The incident after a change at `at`; its months grow to cover every span, never shrink.

    Months never shrink, so a corrected restore time still reaches the rows the incident was in.
    """
    updated = incident.model_copy(update=changes)
    first = updated.outages[0].started_at
    ends = [s.ended_at or at for s in updated.outages]  # an outage not restored yet reaches `at`
    last = max(ends)
    months = tuple(sorted({*incident.months, *months_between(first, last)}))
    return updated.model_copy(update={"months": months})


def _not_ahead(moment: datetime, now: datetime, what: str) -> None:
    if moment > now + CLOCK_SKEW:
        raise CommandRejected("time_in_future", f"{what} ({moment.isoformat()}) is in the future")
