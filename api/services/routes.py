"""Service and incident endpoints: register services, open and follow incidents, service levels per month."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from api.app.access import App, Broker, LedgerRoute, ServiceReader
from api.app.commands import Accepted, IdempotencyKey, accepted, business_today, command_context, settle_all
from api.app.problems import Problem
from api.services.levels import availability_view, month_level, month_row, service_row, state_now
from events.contracts.facts import Period
from events.handling.desk import CommandResult
from events.kernel.business_dates import MONTH_PATTERN
from events.kernel.model import Fact
from events.kernel.money import Amount
from events.kernel.rates import Province
from events.orders.facts import OrgCode, ShortText
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
from events.services.facts import DEFAULT_TARGET, CreditTier, DeskCall, Percent, ServiceId
from processors.access_keys import Principal
from projections.incidents import INCIDENTS, IncidentView
from projections.service_status import SERVICE_STATUS, ServiceStatus

router = APIRouter(tags=["services"], route_class=LedgerRoute)
ServicePath = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
IncidentPath = ServicePath


class ServiceBody(Fact):
    service_id: ServiceId
    name: ShortText
    name_fr: ShortText | None = None
    contract_id: ShortText
    organisations: tuple[OrgCode, ...] = Field(min_length=1, max_length=500)
    target_pct: Percent = DEFAULT_TARGET
    monthly_charge: Amount = Field(description="per organisation and month, before tax: what service credits are of")
    province: Province = "ON"
    credit_terms: tuple[CreditTier, ...] | None = Field(
        default=None, max_length=10, description="default: 5 % below target, 10 % below 99.000 %, 25 % below 95.000 %"
    )
    registered_on: date | None = None


class DeskCallsBody(Fact):
    report_id: Annotated[str, Field(min_length=1, max_length=64)]
    month: Period
    calls: tuple[DeskCall, ...] = Field(min_length=1, max_length=5000)
    reported_on: date | None = None


class AssessmentBody(Fact):
    month: Period
    assessed_on: date | None = None


def incident_view(row: IncidentView) -> dict[str, Any]:
    return row.model_dump(mode="json", exclude={"position"})


def _incident_answer(app: App, response: Response, result: CommandResult) -> dict[str, Any]:
    settle_all(app, response, result)
    incident_id = result.stream_id.removeprefix("incident-")
    row = app.projections.get(INCIDENTS, incident_id)
    response.headers["Location"] = f"/v1/incidents/{incident_id}"
    return accepted(result).model_dump() | {"incident": incident_view(row) if row else None}


# ---------------------------------------------------------------- services


@router.post("/v1/services", status_code=201, response_model=Accepted, summary="Register a subscription service")
def register_service(
    body: ServiceBody,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    command = RegisterService(
        **body.model_dump(exclude={"registered_on"}), registered_on=body.registered_on or business_today(app)
    )
    result = app.services.register_service(command, command_context(request, app, caller, body, idempotency_key))
    settle_all(app, response, result)
    response.headers["Location"] = f"/v1/services/{body.service_id}"
    return accepted(result)


@router.post(
    "/v1/services/{service_id}/maintenance-windows",
    status_code=201,
    response_model=Accepted,
    summary="Schedule an approved maintenance window (downtime past its end counts)",
)
def schedule_maintenance(
    service_id: ServicePath,
    body: ScheduleMaintenance,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    return _service_command(request, response, app, caller, service_id, body, body, idempotency_key)


@router.post(
    "/v1/services/{service_id}/service-desk-calls",
    status_code=201,
    response_model=Accepted,
    summary="Report a month's service-desk calls: answered or abandoned, with the wait in seconds",
)
def report_desk_calls(
    service_id: ServicePath,
    body: DeskCallsBody,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    command = ReportDeskCalls(
        **body.model_dump(exclude={"reported_on"}), reported_on=body.reported_on or business_today(app)
    )
    return _service_command(request, response, app, caller, service_id, body, command, idempotency_key)


def _service_command(
    request: Request,
    response: Response,
    app: App,
    caller: Principal,
    service_id: str,
    body: Fact,
    command: ScheduleMaintenance | ReportDeskCalls,
    idempotency_key: str | None,
) -> Accepted:
    context = command_context(request, app, caller, body, idempotency_key)
    result = app.services.execute_service(service_id, command, context)
    settle_all(app, response, result)
    return accepted(result)


@router.post(
    "/v1/services/{service_id}/assessments",
    status_code=201,
    summary="Assess a month once it is over: its figures become the report; a missed month credits the organisations",
)
def assess_month(
    service_id: ServicePath,
    body: AssessmentBody,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    command = AssessServiceMonth(month=body.month, assessed_on=body.assessed_on or business_today(app))
    result = app.services.assess(service_id, command, command_context(request, app, caller, body, idempotency_key))
    settle_all(app, response, result)
    row = month_row(app, service_id, body.month)
    assessment = row.assessment if row else None
    return accepted(result).model_dump() | {
        "assessment": assessment.model_dump(mode="json", exclude={"type", "schema_version"}) if assessment else None
    }


def service_view(app: App, row: ServiceStatus) -> dict[str, Any]:
    registered = row.registered
    assert registered is not None
    return {
        **registered.model_dump(mode="json", exclude={"type", "schema_version"}),
        "state": state_now(row, app.clock()),
        "open_incidents": sorted(row.open_incidents),
        "maintenance_windows": [w.model_dump(mode="json", exclude={"type", "schema_version"}) for w in row.windows],
        "assessed_months": list(row.assessed_months),
    }


@router.get("/v1/services", summary="Every service with its state now")
def list_services(app: App, caller: ServiceReader) -> dict[str, Any]:
    rows = app.projections.query(SERVICE_STATUS, limit=10_000)
    services = [service_view(app, r) for r in rows if r.registered is not None]
    return {"services": [s for s in services if caller.may_see_shared(s["organisations"])]}


@router.get("/v1/services/{service_id}", summary="A service: its terms, state now, open incidents, windows")
def get_service(service_id: ServicePath, app: App, caller: ServiceReader) -> dict[str, Any]:
    view = service_view(app, service_row(app, service_id))
    if not caller.may_see_shared(view["organisations"]):
        raise Problem(404, "service_not_found", f"there is no service {service_id}")
    return view


@router.get("/v1/services/{service_id}/availability", summary="A month's availability and service-desk level")
def get_availability(
    service_id: ServicePath,
    app: App,
    caller: ServiceReader,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM, Eastern Time")],
) -> dict[str, Any]:
    service = service_row(app, service_id)
    assert service.registered is not None
    if not caller.may_see_shared(service.registered.organisations):
        raise Problem(404, "service_not_found", f"there is no service {service_id}")
    now = app.clock()
    row = month_row(app, service_id, month)
    view = {"service_id": service_id, **availability_view(month_level(service, row, month, now), row, month, now)}
    assessment = row.assessment if row else None
    if assessment is not None:
        shown = assessment.model_dump(mode="json", exclude={"type", "schema_version"})
        shown["credits"] = [c for c in shown["credits"] if caller.may_see(c["client_org"])]
        view["assessment"] = shown
    else:
        view["assessment"] = None
    return view


# ---------------------------------------------------------------- incidents


@router.post("/v1/incidents", status_code=201, summary="Open an incident (the outage starts when detected or reported)")
def open_incident(
    body: OpenIncident,
    request: Request,
    response: Response,
    app: App,
    caller: Broker,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    result = app.services.open_incident(body, command_context(request, app, caller, body, idempotency_key))
    return _incident_answer(app, response, result)


@router.get("/v1/incidents/{incident_id}", summary="An incident: its outage, exclusions and timeline")
def get_incident(incident_id: IncidentPath, app: App, caller: ServiceReader) -> dict[str, Any]:
    row: IncidentView | None = app.projections.get(INCIDENTS, incident_id)
    # A client sees the incidents of the services its organisation uses, as in their availability's exceptions.
    served = app.projections.get(SERVICE_STATUS, row.incident.service_id) if row else None
    organisations = served.registered.organisations if served and served.registered else ()
    if row is None or not caller.may_see_shared(organisations):
        raise Problem(404, "incident_not_found", f"there is no incident {incident_id}")
    return incident_view(row)


# path, body (the command itself), summary: what can happen to an incident (broker only).
INCIDENT_ACTIONS: tuple[tuple[str, type[Fact], str], ...] = (
    ("updates", UpdateIncident, "Add an update to the incident's timeline"),
    ("restore", RestoreService, "The service is fully restored: the outage ends (correctable until closed)"),
    ("close", CloseIncident, "Close the incident: its outage duration is frozen"),
    (
        "recurrence",
        RecordRecurrence,
        "The incident recurred: within 24 h of closing it reopens, later a new incident refers to it",
    ),
    ("exclusions", ApproveExclusion, "Approve excluding (part of) the outage, for one of the six reasons of rule 25"),
)


def _incident_endpoint(path: str, body_model: type[Fact]) -> Any:
    def endpoint(
        incident_id: IncidentPath,
        body: Any,
        request: Request,
        response: Response,
        app: App,
        caller: Broker,
        idempotency_key: IdempotencyKey = None,
    ) -> dict[str, Any]:
        command: IncidentCommand = body
        context = command_context(request, app, caller, body, idempotency_key)
        return _incident_answer(app, response, app.services.execute_incident(incident_id, command, context))

    endpoint.__annotations__ = {**endpoint.__annotations__, "body": body_model}
    endpoint.__name__ = f"incident_{path}"
    return endpoint


for _path, _body, _summary in INCIDENT_ACTIONS:
    router.post(f"/v1/incidents/{{incident_id}}/{_path}", summary=_summary)(_incident_endpoint(_path, _body))
