"""Service and incident commands: register services, open and follow incidents, assess months."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from events.contracts.facts import Period
from events.kernel.model import Fact
from events.kernel.money import Amount
from events.kernel.rates import Province
from events.orders.facts import OrgCode, ShortText, Text
from events.services.facts import (
    DEFAULT_TARGET,
    CreditTier,
    DeskCall,
    ExclusionReason,
    Impact,
    IncidentId,
    Percent,
    Priority,
    ServiceId,
)


class RegisterService(Fact):
    service_id: ServiceId
    name: ShortText
    name_fr: ShortText | None = Field(default=None, description="default: the name")
    contract_id: ShortText
    organisations: tuple[OrgCode, ...] = Field(min_length=1, max_length=500)
    target_pct: Percent = DEFAULT_TARGET
    monthly_charge: Amount = Field(description="what each organisation pays a month, before tax: the credits' base")
    province: Province = "ON"
    credit_terms: tuple[CreditTier, ...] | None = Field(default=None, max_length=10)
    registered_on: date


class ScheduleMaintenance(Fact):
    window_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    description: Text = ""


class ReportDeskCalls(Fact):
    report_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    month: Period
    calls: tuple[DeskCall, ...] = Field(min_length=1, max_length=5000)
    reported_on: date


class AssessServiceMonth(Fact):
    month: Period
    assessed_on: date


class OpenIncident(Fact):
    incident_id: IncidentId
    service_id: ServiceId
    title: ShortText = "Service incident"
    priority: Priority
    impact: Impact | None = Field(default=None, description="default from the priority: P1 major, P2 partial")
    detected_at: AwareDatetime | None = None
    reported_at: AwareDatetime | None = None
    organisations: tuple[OrgCode, ...] = Field(default=(), description="default: every organisation served")
    recurrence_of: IncidentId | None = None


class UpdateIncident(Fact):
    updated_at: AwareDatetime
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    impact: Impact | None = None
    priority: Priority | None = None


class RestoreService(Fact):
    restored_at: AwareDatetime


class CloseIncident(Fact):
    closed_at: AwareDatetime


class RecordRecurrence(Fact):
    recurred_at: AwareDatetime
    new_incident_id: IncidentId | None = Field(default=None, description="after 24 h: the new incident's id")


class ApproveExclusion(Fact):
    reason: ExclusionReason
    approved_by: ShortText
    approved_at: AwareDatetime
    starts_at: AwareDatetime | None = Field(default=None, description="default: the whole outage")
    ends_at: AwareDatetime | None = None


ServiceCommand = RegisterService | ScheduleMaintenance | ReportDeskCalls | AssessServiceMonth


IncidentCommand = UpdateIncident | RestoreService | CloseIncident | RecordRecurrence | ApproveExclusion
