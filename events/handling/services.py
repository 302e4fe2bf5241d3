"""Carry out service and incident commands: load the streams, decide, append through the desk.

Opening an incident appends to the incident's stream and logs it on the service's, in one batch:
the service's log is how a monthly assessment finds every incident it must weigh. An assessment
appends on condition that none of those incidents, nor the billing calendar, moved meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from events.billing.decider import CreditDue, grant_credit
from events.billing.facts import BILLING_PERIODS_STREAM
from events.handling.desk import CommandContext, CommandResult, Desk, Plan
from events.kernel.business_dates import check_dates
from events.kernel.errors import CommandRejected
from events.kernel.money import ZERO
from events.ledger import NO_STREAM
from events.ledger.catalogue import decode_incident_event, decode_service_event
from events.services.availability import month_span
from events.services.commands import (
    AssessServiceMonth,
    IncidentCommand,
    OpenIncident,
    RecordRecurrence,
    RegisterService,
    ReportDeskCalls,
    ScheduleMaintenance,
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
from events.services.facts import IncidentRecord


def service_stream(service_id: str) -> str:
    return f"service-{service_id}"


def incident_stream(incident_id: str) -> str:
    return f"incident-{incident_id}"


class ServiceDesk:
    """Service commands, carried out through the same desk (idempotency, conflicts) as orders."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.ledger = desk.ledger

    def load_service(self, service_id: str) -> tuple[Service | None, int]:
        recorded = self.ledger.read_stream(service_stream(service_id))
        service = fold_service(decode_service_event(r.data) for r in recorded)
        return service, recorded[-1].stream_version if recorded else NO_STREAM

    def load_incident(self, incident_id: str) -> tuple[IncidentRecord | None, int]:
        recorded = self.ledger.read_stream(incident_stream(incident_id))
        incident = fold_incident(decode_incident_event(r.data) for r in recorded)
        return incident, recorded[-1].stream_version if recorded else NO_STREAM

    # ------------------------------------------------------------ services

    def register_service(self, command: RegisterService, context: CommandContext) -> CommandResult:
        check_dates(command, context.now)

        def plan() -> Plan:
            _, version = self.load_service(command.service_id)
            contract, _ = self.desk.load_contract(command.contract_id)
            registered = {c for c in command.organisations if self.desk.load_organisation(c) is not None}
            events = register_service(
                command, version != NO_STREAM, contract.supplier if contract else None, registered
            )
            return Plan([(service_stream(command.service_id), "service", version, list(events))])

        return self.desk.run(plan, context)

    def execute_service(
        self, service_id: str, command: ScheduleMaintenance | ReportDeskCalls, context: CommandContext
    ) -> CommandResult:
        check_dates(command, context.now)

        def plan() -> Plan:
            service, version = self._service(service_id)
            return Plan(
                [(service_stream(service_id), "service", version, decide_service(command, service, context.now))]
            )

        return self.desk.run(plan, context)

    def assess(self, service_id: str, command: AssessServiceMonth, context: CommandContext) -> CommandResult:
        check_dates(command, context.now)

        def plan() -> Plan:
            service, version = self._service(service_id)
            calendar, calendar_version = self.desk.load_calendar()
            month_end = month_span(command.month)[1]
            loaded = {
                incident_id: self.load_incident(incident_id)
                for incident_id, started in service.incidents.items()
                if started < month_end
            }
            incidents = [record for record, _ in loaded.values() if record is not None]
            assessment = assess_month(command, service, incidents, context.now)
            enveloped = self.desk.envelope(assessment, "service", context)
            registered = service.registered
            contract, _ = self.desk.load_contract(registered.contract_id)
            credits: list[tuple[str, str, int, list[Any]]] = []
            for credit in assessment.credits:
                organisation = self.desk.load_organisation(credit.client_org)
                due = CreditDue(
                    credit_id=credit.credit_id,
                    kind="service_credit",
                    client_org=credit.client_org,
                    tax_status=organisation.tax_status if organisation else "federal",
                    reference=f"{service_id} {command.month}",
                    order_id=None,
                    contract_id=registered.contract_id,
                    supplier=registered.supplier,
                    province=registered.province,
                    amount=credit.amount,
                    reason=(
                        f"{registered.name}: availability {assessment.availability_pct} % in {command.month},"
                        f" below the target {registered.target_pct} % ({assessment.credit_pct} % of the monthly charge)"
                    ),
                    granted_on=command.assessed_on,
                    charge_period=command.month,
                    fee_rate=contract.fee_rate if contract else ZERO,
                    based_on=(enveloped.event_id,),
                )
                granted = grant_credit(due, self.desk.rates, calendar)
                credits.append((f"credit-{credit.credit_id}", "credit", NO_STREAM, [granted]))
            conditions = [(BILLING_PERIODS_STREAM, calendar_version)]
            conditions += [(incident_stream(i), v) for i, (_, v) in loaded.items()]
            return Plan([(service_stream(service_id), "service", version, [enveloped]), *credits], conditions)

        return self.desk.run(plan, context)

    def _service(self, service_id: str) -> tuple[Service, int]:
        service, version = self.load_service(service_id)
        if service is None:
            raise CommandRejected("service_not_found", f"there is no service {service_id}", 404)
        return service, version

    # ------------------------------------------------------------ incidents

    def open_incident(self, command: OpenIncident, context: CommandContext) -> CommandResult:
        check_dates(command, context.now)
        return self.desk.run(lambda: self._opening(command, context.now), context)

    def _opening(self, command: OpenIncident, now: datetime) -> Plan:
        service, service_version = self.load_service(command.service_id)
        _, version = self.load_incident(command.incident_id)
        if command.recurrence_of:
            earlier, _ = self.load_incident(command.recurrence_of)
            if earlier is None or earlier.service_id != command.service_id:
                raise CommandRejected(
                    "incident_not_found", f"{command.service_id} has no incident {command.recurrence_of}", 404
                )
        opened, logged = open_incident(command, version != NO_STREAM, service, now)
        return Plan(
            [
                (incident_stream(command.incident_id), "incident", version, [opened]),
                (service_stream(command.service_id), "service", service_version, [logged]),
            ]
        )

    def execute_incident(self, incident_id: str, command: IncidentCommand, context: CommandContext) -> CommandResult:
        check_dates(command, context.now)

        def plan() -> Plan:
            incident, version = self.load_incident(incident_id)
            if incident is None:
                raise CommandRejected("incident_not_found", f"there is no incident {incident_id}", 404)
            if isinstance(command, RecordRecurrence) and not reopens(incident, command.recurred_at):
                return self._opening(_recurrence(incident, command), context.now)
            return Plan(
                [(incident_stream(incident_id), "incident", version, decide_incident(command, incident, context.now))]
            )

        return self.desk.run(plan, context)


def _recurrence(incident: IncidentRecord, command: RecordRecurrence) -> OpenIncident:
    """A recurrence more than 24 h after closing: a new incident that refers to the old one (rule 24)."""
    return OpenIncident(
        incident_id=command.new_incident_id or f"{incident.incident_id}-R",
        service_id=incident.service_id,
        title=incident.title,
        priority=incident.priority,
        impact=incident.impact,
        detected_at=command.recurred_at,
        organisations=incident.organisations,
        recurrence_of=incident.incident_id,
    )
