"""Service commands and events: subscription services, incidents, outages, exclusions, service levels (seed 002).

Each incident event carries the incident as it stands after it (`IncidentRecord`): its outage spans,
its approved exclusions and the months it touches. Projections copy that record; they never have to
fold an incident's history, so an outage that crosses a month end is complete in both months' rows.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from events.kernel.model import Fact
from events.kernel.money import Money, decimal_text

ServiceId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
IncidentId = ServiceId
Priority = Literal["P1", "P2", "P3", "P4"]
# How bad it is for users: what the status page says while the incident is open.
Impact = Literal["degraded", "partial_outage", "major_outage"]
DEFAULT_IMPACT: dict[str, Impact] = {"P1": "major_outage", "P2": "partial_outage", "P3": "degraded", "P4": "degraded"}
# Rule 25 / seed 002 (117): the only outages that may be excluded, each with the buyer's approval.
ExclusionReason = Literal[
    "security_mitigation",
    "other_service_failure",
    "planned_downtime",
    "client_service_failure",
    "ticket_suspended",
    "insufficient_client_capacity",
]
IncidentStatus = Literal["open", "restored", "closed"]
CallOutcome = Literal["answered", "abandoned"]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=6, decimal_places=3), decimal_text("a percentage")]
DEFAULT_TARGET = Decimal("99.900")
DESK_TARGET = Decimal("80.0")
DESK_ANSWER_SECONDS = Decimal("20.0")
RECURRENCE_WINDOW_HOURS = 24


class CreditTier(Fact):
    """A month whose availability is below `below_pct` earns a credit of `credit_pct` of the monthly charge."""

    below_pct: Percent
    credit_pct: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2), decimal_text("a percentage")]


def default_credit_terms(target: Decimal) -> tuple[CreditTier, ...]:
    """5 % of the month's charge below target, 10 % below 99.000 %, 25 % below 95.000 %.

    Seed 002 sets the target, not the credits; these are the broker's standard terms, used when a
    service is registered without its own.
    """
    tiers = [CreditTier(below_pct=target, credit_pct=Decimal("5"))]
    tiers += [
        CreditTier(below_pct=Decimal(below), credit_pct=Decimal(pct))
        for below, pct in (("99.000", "10"), ("95.000", "25"))
        if Decimal(below) < target
    ]
    return tuple(tiers)


# ---------------------------------------------------------------- parts


class OutageSpan(Fact):
    started_at: datetime
    ended_at: datetime | None = None  # None: not restored yet


class ExcludedSpan(Fact):
    reason: ExclusionReason
    approved_by: str
    approved_at: datetime
    starts_at: datetime
    ends_at: datetime


class IncidentRecord(Fact):
    """An incident as it stands after an event: what every projection copies."""

    incident_id: str
    service_id: str
    title: str
    priority: Priority
    impact: Impact
    organisations: tuple[str, ...]
    status: IncidentStatus
    outages: tuple[OutageSpan, ...]
    exclusions: tuple[ExcludedSpan, ...] = ()
    closed_at: datetime | None = None
    recurrence_of: str | None = None  # the incident this one recurs (opened more than 24 h after it closed)
    recurrences: int = 0  # times reopened within 24 h of closing
    months: tuple[str, ...]  # every month (Eastern Time) the incident has touched: the rows it lives in


class DeskCall(Fact):
    outcome: CallOutcome
    wait_seconds: Annotated[Decimal, Field(ge=0, le=86_400, max_digits=8, decimal_places=1), decimal_text("seconds")]


# ---------------------------------------------------------------- service commands and events


class ServiceRegistered(Fact):
    """A subscription service the broker measures: contract, organisations served, availability target, credits."""

    type: Literal["ServiceRegistered"] = "ServiceRegistered"
    schema_version: Literal[1] = 1
    service_id: str
    name: str
    name_fr: str
    contract_id: str
    supplier: str
    organisations: tuple[str, ...]
    target_pct: Decimal
    monthly_charge: Money
    province: str
    credit_terms: tuple[CreditTier, ...]
    registered_on: date


class MaintenanceWindowScheduled(Fact):
    """Downtime inside an approved window is planned; an outage past its end counts (seed 002, 53)."""

    type: Literal["MaintenanceWindowScheduled"] = "MaintenanceWindowScheduled"
    schema_version: Literal[1] = 1
    window_id: str
    starts_at: datetime
    ends_at: datetime
    description: str
    months: tuple[str, ...]


class ServiceDeskCallsReported(Fact):
    """Service-desk calls of a month, each answered or abandoned, with its wait in seconds."""

    type: Literal["ServiceDeskCallsReported"] = "ServiceDeskCallsReported"
    schema_version: Literal[1] = 1
    report_id: str
    month: str
    calls: tuple[DeskCall, ...]
    reported_on: date


class IncidentLogged(Fact):
    """The service's own list of its incidents: what a monthly assessment reads."""

    type: Literal["IncidentLogged"] = "IncidentLogged"
    schema_version: Literal[1] = 1
    incident_id: str
    started_at: datetime


class ServiceCredit(Fact):
    client_org: str
    credit_id: str
    amount: Money


class ServiceMonthAssessed(Fact):
    """A month's service level as the broker reports it; a missed month credits each affected organisation."""

    type: Literal["ServiceMonthAssessed"] = "ServiceMonthAssessed"
    schema_version: Literal[1] = 1
    month: str
    assessed_on: date
    minutes_in_period: int
    outage_minutes: Decimal
    excluded_minutes: Decimal
    maintenance_minutes: Decimal
    availability_pct: Decimal
    target_pct: Decimal
    met: bool
    incidents: tuple[str, ...]
    credit_pct: Decimal
    credits: tuple[ServiceCredit, ...]


# ---------------------------------------------------------------- incident commands and events


class IncidentOpened(Fact):
    """An incident opened; its outage starts when it was detected or reported, whichever came first."""

    type: Literal["IncidentOpened"] = "IncidentOpened"
    schema_version: Literal[1] = 1
    opened_at: datetime  # the outage start: detected or reported, whichever is first (rule 22)
    detected_at: datetime | None
    reported_at: datetime | None
    incident: IncidentRecord


class IncidentUpdated(Fact):
    """An update on an open incident's timeline (its impact or priority may change with it)."""

    type: Literal["IncidentUpdated"] = "IncidentUpdated"
    schema_version: Literal[1] = 1
    updated_at: datetime
    note: str
    incident: IncidentRecord


class ServiceRestored(Fact):
    """The service was fully restored: the outage ends (the time can be corrected until the incident is closed)."""

    type: Literal["ServiceRestored"] = "ServiceRestored"
    schema_version: Literal[1] = 1
    restored_at: datetime
    corrects: datetime | None = None  # a corrected restore time (only before the incident is closed)
    incident: IncidentRecord


class IncidentClosed(Fact):
    """From here the outage duration is frozen (rule 23)."""

    type: Literal["IncidentClosed"] = "IncidentClosed"
    schema_version: Literal[1] = 1
    closed_at: datetime
    outage_minutes: Decimal
    incident: IncidentRecord


class IncidentRecurred(Fact):
    """Recurred within 24 h of closing: reopened; its combined duration is the adjusted outage (rule 24)."""

    type: Literal["IncidentRecurred"] = "IncidentRecurred"
    schema_version: Literal[1] = 1
    recurred_at: datetime
    previous_closed_at: datetime
    incident: IncidentRecord


class OutageExclusionApproved(Fact):
    """(Part of) an incident's outage excluded from availability for one of the reasons of rule 25, and by whom."""

    type: Literal["OutageExclusionApproved"] = "OutageExclusionApproved"
    schema_version: Literal[1] = 1
    approved_at: datetime
    exclusion: ExcludedSpan
    incident: IncidentRecord


ServiceEvent = Annotated[
    ServiceRegistered | MaintenanceWindowScheduled | ServiceDeskCallsReported | IncidentLogged | ServiceMonthAssessed,
    Field(discriminator="type"),
]
IncidentEvent = Annotated[
    IncidentOpened | IncidentUpdated | ServiceRestored | IncidentClosed | IncidentRecurred | OutageExclusionApproved,
    Field(discriminator="type"),
]
SERVICE_EVENT_TYPES: tuple[type[Fact], ...] = (
    ServiceRegistered,
    MaintenanceWindowScheduled,
    ServiceDeskCallsReported,
    IncidentLogged,
    ServiceMonthAssessed,
)
INCIDENT_EVENT_TYPES: tuple[type[Fact], ...] = (
    IncidentOpened,
    IncidentUpdated,
    ServiceRestored,
    IncidentClosed,
    IncidentRecurred,
    OutageExclusionApproved,
)
